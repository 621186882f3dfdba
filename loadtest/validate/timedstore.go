package validate

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroom/headroom/system"
)

// The processing effect — the version-conditional store write after the step — holds the
// processor's concurrency slot like the step itself, as the processor function's table
// write does in the simulator (calls: [{to: requests, op: write}]). On the memory store it
// takes microseconds; on a database, milliseconds, enough to move a pool near its cap into
// a backlog. The probe cannot see it from inside the step, so validation opens the store
// through a decorator that times MarkProcessed: the effect's latency (for --fit's table
// write latency) and the moment each write's effect was applied (the end of its end to end,
// as the simulator's ends after the processor's calls).

// timedStoreName is the store backend validation registers: its DSN names the probe and the
// real backend, "PROBE|NAME|DSN".
const timedStoreName = "validate-timed"

var (
	registerTimed sync.Once
	probesMu      sync.Mutex
	probes        = map[string]*Probe{}
)

// timedStoreConfig points cfg's store at the decorator around the configured backend.
func timedStoreConfig(cfg *system.ServerConfig, p *Probe, key string) {
	registerTimed.Do(func() {
		system.RegisterStore(timedStoreName, openTimedStore)
	})
	probesMu.Lock()
	probes[key] = p
	probesMu.Unlock()
	name := cfg.Store
	if name == "" {
		name = system.DefaultBackend
	}
	cfg.Store, cfg.StoreDSN = timedStoreName, key+"|"+name+"|"+cfg.StoreDSN
}

func forgetProbe(key string) {
	probesMu.Lock()
	delete(probes, key)
	probesMu.Unlock()
}

func openTimedStore(ctx context.Context, dsn string) (system.Store, error) {
	key, rest, ok1 := strings.Cut(dsn, "|")
	name, inner, ok2 := strings.Cut(rest, "|")
	probesMu.Lock()
	p := probes[key]
	probesMu.Unlock()
	if !ok1 || !ok2 || p == nil {
		return nil, fmt.Errorf("store %s: for validation's own use: %w", timedStoreName, system.ErrInvalid)
	}
	s, err := system.OpenStore(ctx, name, inner)
	if err != nil {
		return nil, err
	}
	return &timedStore{Store: s, probe: p}, nil
}

// timedStore is a system.Store whose MarkProcessed is timed; its optional capabilities are
// the wrapped store's.
type timedStore struct {
	system.Store
	probe *Probe
}

var (
	_ system.Store         = (*timedStore)(nil)
	_ system.Pinger        = (*timedStore)(nil)
	_ system.MetricsSource = (*timedStore)(nil)
	_ io.Closer            = (*timedStore)(nil)
)

func (s *timedStore) MarkProcessed(ctx context.Context, id string, version int64) (system.Outcome, error) {
	start := time.Now()
	out, err := s.Store.MarkProcessed(ctx, id, version)
	end := time.Now()
	if err == nil {
		s.probe.effect(id, version, out == system.Applied, start, end)
	}
	return out, err
}

func (s *timedStore) Ping(ctx context.Context) error {
	if p, ok := s.Store.(system.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (s *timedStore) Collectors() []prometheus.Collector {
	if m, ok := s.Store.(system.MetricsSource); ok {
		return m.Collectors()
	}
	return nil
}

func (s *timedStore) Close() error {
	if c, ok := s.Store.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// effectKey identifies a write's effect.
func effectKey(id string, version int64) string { return id + "\x00" + strconv.FormatInt(version, 10) }
