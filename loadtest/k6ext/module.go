package k6ext

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.k6.io/k6/js/modules"

	"github.com/headroom/headroom/loadtest"
	"github.com/headroom/headroom/scenarios"
)

// ModuleName is the import path of the JS module.
const ModuleName = "k6/x/headroom"

// RootModule is the JS module k6/x/headroom, one per test run. It caches what every VU
// shares (the loaded scenario, the compiled workload, the schedule), keyed by settings, so
// a hundred VUs load the scenario once.
type RootModule struct {
	mu    sync.Mutex
	cache map[string]*shared
}

// shared is what a workload's VUs have in common; it is immutable once built.
type shared struct {
	cfg      loadtest.Config
	sc       *scenarios.Scenario
	w        *loadtest.Workload
	executor loadtest.Executor
	seed     uint64
	err      error
}

// ModuleInstance is the module as one VU sees it.
type ModuleInstance struct {
	vu   modules.VU
	root *RootModule
}

var (
	_ modules.Module   = (*RootModule)(nil)
	_ modules.Instance = (*ModuleInstance)(nil)
)

// NewRootModule returns the module k6 registers.
func NewRootModule() *RootModule { return &RootModule{cache: map[string]*shared{}} }

// NewModuleInstance is called once per VU that imports the module.
func (r *RootModule) NewModuleInstance(vu modules.VU) modules.Instance {
	return &ModuleInstance{vu: vu, root: r}
}

// Exports are `import headroom from 'k6/x/headroom'` (default, with a workload method) and
// `import { workload } from 'k6/x/headroom'`.
func (mi *ModuleInstance) Exports() modules.Exports {
	return modules.Exports{Default: mi, Named: map[string]any{"workload": mi.Workload}}
}

// Workload returns this VU's view of the workload that env configures: env is the script's
// __ENV (the HEADROOM_* variables of loadtest.Config). Call it in the init context.
func (mi *ModuleInstance) Workload(env map[string]any) (*Workload, error) {
	get := func(k string) string {
		if v, ok := env[k]; ok && v != nil {
			return fmt.Sprint(v)
		}
		return ""
	}
	cfg, err := loadtest.ConfigFromEnv(get)
	if err != nil {
		return nil, err
	}
	sh := mi.root.load(cfg)
	if sh.err != nil {
		return nil, sh.err
	}
	return &Workload{vu: mi.vu, sh: sh}, nil
}

func (r *RootModule) load(cfg loadtest.Config) *shared {
	key := strings.Join(cfg.Env(), "\x00")
	r.mu.Lock()
	defer r.mu.Unlock()
	if sh, ok := r.cache[key]; ok {
		return sh
	}
	sh := &shared{cfg: cfg}
	r.cache[key] = sh
	sc, err := cfg.Load()
	if err != nil {
		sh.err = fmt.Errorf("headroom: scenario %s: %w", cfg.Scenario, err)
		return sh
	}
	sched, err := loadtest.NewSchedule(sc, cfg.Play)
	if err != nil {
		sh.err = fmt.Errorf("headroom: scenario %s: %w", cfg.Scenario, err)
		return sh
	}
	grid := cfg.GridOf(sc)
	w, err := loadtest.NewWorkload(sc, cfg.ArrivalsOf(sc), grid)
	if err != nil {
		sh.err = fmt.Errorf("headroom: scenario %s: %w", cfg.Scenario, err)
		return sh
	}
	sh.sc, sh.w, sh.seed = sc, w, cfg.SeedOf(sc)
	sh.executor = loadtest.Executor{Schedule: sched, Grid: grid}
	return sh
}

// Workload is one VU's handle on the workload: it draws the VU's requests from its own
// random stream and remembers the ids the VU created.
type Workload struct {
	vu   modules.VU
	sh   *shared
	gen  *loadtest.Generator
	sent time.Time // when the last Next's requests left
}

// journal is shared by the module (which fills it, from every VU) and the output (which
// writes it at the end): both run in the k6 process, and there is one test run per process.
var journal loadtest.Journal

// Next returns the requests of this iteration (see loadtest.Generator.Next): none, one or,
// for Poisson arrivals, several to be sent at once. The array is valid until the next call.
func (w *Workload) Next() []loadtest.Request {
	if w.gen == nil {
		var vu uint64
		if st := w.vu.State(); st != nil {
			vu = st.VUIDGlobal
		}
		w.gen = loadtest.NewGenerator(w.sh.w, w.sh.seed, vu)
	}
	w.sent = time.Now()
	return w.gen.Next()
}

// Done reports the outcome of request i of the last Next: its status and, for creates and
// updates, the response body (the id and version to reuse).
func (w *Workload) Done(i int, status int, body string) {
	if w.gen == nil {
		return
	}
	reqs := w.gen.Last()
	if i < 0 || i >= len(reqs) {
		return
	}
	id, version, written := w.gen.Done(reqs[i], status, body)
	if written && w.sh.cfg.Journal {
		journal.Add(id, version, w.sent, time.Now())
	}
}

// Options returns k6 options that play the workload: one scenario, "headroom", with the
// ramping-arrival-rate executor, plus whatever extra gives (thresholds, say), which may not
// redefine scenarios.
func (w *Workload) Options(extra map[string]any) (map[string]any, error) {
	out := map[string]any{
		"scenarios":         map[string]any{"headroom": w.sh.executor.K6()},
		"summaryTrendStats": []string{"avg", "min", "med", "p(90)", "p(95)", "p(99)", "max"},
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k == "scenarios" {
			return nil, fmt.Errorf("headroom: options: the workload defines the scenarios; remove scenarios from the extra options")
		}
		out[k] = extra[k]
	}
	return out, nil
}

// Target is the system's base URL (HEADROOM_TARGET).
func (w *Workload) Target() string { return w.sh.cfg.Target }

// Headers are the request headers: JSON, and the admin token when one is configured.
func (w *Workload) Headers() map[string]string {
	h := map[string]string{"Content-Type": "application/json"}
	if t := w.sh.cfg.Token; t != "" {
		h["Authorization"] = "Bearer " + t
	}
	return h
}

// Scenario is the loaded scenario's name.
func (w *Workload) Scenario() string { return w.sh.sc.Name }

// Info describes the schedule, for a script's setup or a log line.
func (w *Workload) Info() map[string]any {
	s := w.sh.executor.Schedule
	return map[string]any{
		"scenario":      w.sh.sc.Name,
		"duration_s":    s.Duration().Seconds(),
		"peak_rps":      s.PeakRPS(),
		"expected":      s.Expected(),
		"arrivals":      string(w.sh.cfg.ArrivalsOf(w.sh.sc)),
		"grid":          w.sh.executor.Grid,
		"stages":        len(s.Stages),
		"payload_bytes": w.sh.sc.Workload.PayloadBytes,
	}
}
