package validate

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/headroom/headroom/loadtest"
	"github.com/headroom/headroom/scenarios"
)

// Calibration measures, under light load, what the implementation takes where the
// scenario can only assume, and writes it into an override that extends the scenario — the
// API latency as percentiles, the others as lognormals fitted to the measurements
// (loadtest.LognormalFit: the exact mean, the logarithms' spread):
//
//	scenario                                  measured (light load: nothing queues)
//	gateway overhead                          the API latency the client sees, whole
//	synchronous function duration, its        0, and its table calls dropped: inside the
//	table calls, topic publish latency        API latency above
//	table write latency                       the processing effect (the store's
//	                                          conditional write), timed by the store probe
//	topic delivery latency                    the client's answer → the step's start
//	processor function duration               the step as it ran
//
// The system keeps running the scenario as written; only the model takes the override.
// Light load is what keeps queueing out of what is measured: every processor pool at most
// lightUtilisation busy, the gateway at most half its rate.
const (
	lightUtilisation = 0.2
	// fitMinRequests keeps the distributions' tails from resting on a handful of samples:
	// the run lasts long enough for this many, up to fitMaxDuration.
	fitMinRequests = 1000
	fitMaxDuration = time.Minute
)

// fit runs the light-load measurement of s and writes the override to file.
func fit(ctx context.Context, o *Options, s *scenarios.Scenario, cfg loadtest.Config, file, dir string) error {
	b := loadtest.Bind(s)
	rate := lightRate(s, b)
	d := o.FitDuration
	if d == 0 {
		d = DefaultFitDuration
	}
	d = min(fitMaxDuration, max(d, time.Duration(fitMinRequests/rate*float64(time.Second))))
	d = d.Round(time.Second)
	lightCfg := cfg
	lightCfg.Play = loadtest.Play{}
	lightCfg.Sets = append(append([]string(nil), cfg.Sets...),
		"workload.users=", "workload.requests_per_user_per_day=", "workload.profile=",
		"workload.rate_rps="+strconv.FormatFloat(rate, 'g', 6, 64),
		"horizon="+d.String(), "warmup=0s")
	if _, err := lightCfg.Load(); err != nil {
		return fmt.Errorf("the light-load scenario: %w", err)
	}
	r, err := play(ctx, o, s, lightCfg, nil, dir)
	if err != nil {
		return err
	}
	if r.out.ExitCode != 0 {
		return fmt.Errorf("the light-load run: k6 exited with status %d", r.out.ExitCode)
	}
	if len(r.joined) == 0 {
		return fmt.Errorf("the light-load run: no write was processed")
	}
	api, err := readLatency(loadtest.LatencyFile(r.out.ResultPath))
	if err != nil {
		return err
	}
	return writeFit(file, o, s, b, fitMeasurement{
		rate: rate, duration: d, requests: r.out.Result.Workload.Offered, api: api, joined: r.joined, effects: r.effects,
	})
}

// lightRate is the arrival rate at which nothing queues: every processor pool at most
// lightUtilisation busy and the gateway at most half its rate, but no more than the
// scenario's own mean.
func lightRate(s *scenarios.Scenario, b loadtest.Bindings) float64 {
	rate := s.Workload.MeanRPS()
	shares := map[string]float64{}
	for _, a := range s.Workload.Mix {
		if a.Name == loadtest.StateAttribute {
			for _, v := range a.Values {
				shares[v.Value] = v.P
			}
		}
	}
	for _, fn := range b.Functions() {
		share := 0.0
		for _, st := range b.StatesOf(fn) {
			share += shares[st]
		}
		capacity := float64(fn.Function.ReservedConcurrency)
		if capacity == 0 {
			if r := s.Region(fn.Region); r != nil {
				capacity = float64(r.LambdaConcurrency)
			}
		}
		mean := loadtest.DistMean(fn.Function.Duration).Seconds()
		if share > 0 && mean > 0 && capacity > 0 {
			rate = math.Min(rate, lightUtilisation*capacity/(share*mean))
		}
	}
	if g := b.Gateway; g != nil {
		limit := g.Gateway.RateRPS
		if r := s.Region(g.Region); r != nil && (limit == 0 || r.APIGatewayRateRPS < limit) {
			limit = r.APIGatewayRateRPS
		}
		if limit > 0 {
			rate = math.Min(rate, limit/2)
		}
	}
	return rate
}

type fitMeasurement struct {
	rate     float64
	duration time.Duration
	requests int64
	api      loadtest.LatencyDetail
	joined   []loadtest.Joined
	effects  []time.Duration
}

func readLatency(path string) (loadtest.LatencyDetail, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return loadtest.LatencyDetail{}, fmt.Errorf("the light-load run's latency: %w", err)
	}
	var side loadtest.LatencyDetail
	if err := json.Unmarshal(data, &side); err != nil {
		return loadtest.LatencyDetail{}, fmt.Errorf("%s: %w", path, err)
	}
	if side.APIFit.Count == 0 || len(side.APILatency) == 0 {
		return loadtest.LatencyDetail{}, fmt.Errorf("%s: no accepted request was measured", path)
	}
	return side, nil
}

// empirical writes measured percentiles as an empirical distribution.
func empirical(ps []loadtest.Percentile) string {
	var parts []string
	for _, p := range ps {
		key := "p" + strconv.FormatFloat(math.Round(p.Q*1e5)/1e3, 'f', -1, 64)
		parts = append(parts, key+": "+strconv.FormatFloat(math.Round(p.MS*1e4)/1e4, 'f', -1, 64))
	}
	return "{dist: empirical, percentiles_ms: {" + strings.Join(parts, ", ") + "}}"
}

// writeFit writes the override: a scenario that extends s's source and replaces the
// latencies it assumed with the ones measured.
func writeFit(file string, o *Options, s *scenarios.Scenario, b loadtest.Bindings, m fitMeasurement) error {
	// The processing step of the writes of some states, and the bus's delivery of all.
	service := func(states []string) []time.Duration {
		var out []time.Duration
		for _, j := range m.joined {
			if slices.Contains(states, j.State) {
				out = append(out, j.Service())
			}
		}
		return out
	}
	var delivery []time.Duration
	for _, j := range m.joined {
		delivery = append(delivery, j.Delivery())
	}

	extends := o.Scenario
	if !strings.HasPrefix(s.Source, "bundled:") {
		abs, err := filepath.Abs(s.Source)
		if err != nil {
			return err
		}
		extends = abs
	}
	var y strings.Builder
	fmt.Fprintf(&y, "# Written by headroom validate --fit on %s: what the system (%s) measured under\n", time.Now().UTC().Format(time.RFC3339), backendsOf(*o))
	fmt.Fprintf(&y, "# light load — %d requests at %.4g/s for %s, nothing queued — so that the model\n", m.requests, m.rate, m.duration)
	fmt.Fprintf(&y, "# describes the implementation it is validated against. The system itself still runs\n")
	fmt.Fprintf(&y, "# %s as written.\n", s.Name)
	fmt.Fprintf(&y, "name: %s-fit\n", s.Name)
	fmt.Fprintf(&y, "description: %s calibrated against the system (%s).\n", s.Name, backendsOf(*o))
	fmt.Fprintf(&y, "extends: %s\n", quote(extends))
	fmt.Fprintf(&y, "components:\n")

	zeroed := map[string][]string{} // component → keys set to 0
	extra := map[string][]string{}  // component → more lines
	if g := b.Gateway; g != nil {
		// Percentiles, not a lognormal: a loopback call's latency is a narrow body and a tail
		// of scheduler stalls, which no one family fits, and a light-load run has enough
		// requests for a table. It costs no capacity, so the table's mean does not matter.
		fmt.Fprintf(&y, "  %s:\n    # the API latency the client saw, synchronous path whole (%d requests)\n    overhead: %s\n", g.Name, m.api.APIFit.Count, empirical(m.api.APILatency))
	}
	if f := b.Sync; f != nil {
		zeroed[f.Name] = append(zeroed[f.Name], "duration")
		// Its table writes are inside the API latency: the calls keep only the publishes.
		var keep []string
		dropped := false
		for _, c := range f.Function.Calls {
			if t := s.Component(c.To); t != nil && t.Kind == scenarios.KindTable {
				dropped = true
				continue
			}
			keep = append(keep, fmt.Sprintf("{to: %s, op: %s}", c.To, c.Op))
		}
		if dropped {
			extra[f.Name] = append(extra[f.Name], "    # the store write is inside the API latency above", "    calls: ["+strings.Join(keep, ", ")+"]")
		}
	}
	effect, haveEffect := loadtest.FitDurations(m.effects)
	for _, c := range s.Components {
		switch c.Kind {
		case scenarios.KindTable:
			zeroed[c.Name] = append(zeroed[c.Name], "read_latency")
			if haveEffect {
				extra[c.Name] = append(extra[c.Name],
					fmt.Sprintf("    # the processing effect, the store's conditional write, as it ran (%d writes)", effect.Count),
					"    write_latency: "+effect.YAML())
			} else {
				zeroed[c.Name] = append(zeroed[c.Name], "write_latency")
			}
		case scenarios.KindTopic:
			zeroed[c.Name] = append(zeroed[c.Name], "publish_latency")
		}
	}
	for _, c := range s.Components {
		var lines []string
		for _, key := range zeroed[c.Name] {
			lines = append(lines, fmt.Sprintf("    %s: 0ms", key))
		}
		lines = append(lines, extra[c.Name]...)
		if c.Kind == scenarios.KindTopic && len(c.Topic.Routes) > 0 {
			if f, ok := loadtest.FitDurations(delivery); ok {
				lines = append(lines, fmt.Sprintf("    # the client's answer → the processing step's start, joined per write (%d messages)", f.Count),
					"    delivery_latency: "+f.YAML())
			}
		}
		for _, fn := range b.Functions() {
			if fn != c {
				continue
			}
			// Functions configured with the same duration run the same work step: their
			// measurements are one sample, and pooled they halve the noise of a fit.
			var states []string
			n := 0
			for _, other := range b.Functions() {
				if other == fn || reflect.DeepEqual(other.Function.Duration, fn.Function.Duration) {
					n++
					states = append(states, b.StatesOf(other)...)
				}
			}
			if f, ok := loadtest.FitDurations(service(states)); ok {
				pooled := ""
				if n > 1 {
					pooled = fmt.Sprintf(", pooled over the %d functions of this duration", n)
				}
				lines = append(lines, fmt.Sprintf("    # the processing step as it ran, the system's timers included (%d messages%s)", f.Count, pooled),
					"    duration: "+f.YAML())
			}
		}
		if len(lines) == 0 {
			continue
		}
		fmt.Fprintf(&y, "  %s:\n%s\n", c.Name, strings.Join(lines, "\n"))
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(file, []byte(y.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	// A fit that does not load is a bug here, not the user's: say so at once.
	if _, err := scenarios.Load(file); err != nil {
		return fmt.Errorf("the calibrated scenario %s does not load: %w", file, err)
	}
	return nil
}

func quote(s string) string {
	if strings.ContainsAny(s, ": #'\"{}[],&*!|>%@`") {
		return strconv.Quote(s)
	}
	return s
}
