package validate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/headroom/headroom/loadtest"
	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
	"github.com/headroom/headroom/system"
)

// ServerConfigFunc sets what a scenario says about the real system on a base
// configuration — `headroom serve --scenario`'s mapping, passed in so that validation runs
// the system exactly as serve would.
type ServerConfigFunc func(s *scenarios.Scenario, base system.ServerConfig) (system.ServerConfig, error)

// server is the system running in this process for one measured run.
type server struct {
	srv    *system.Server
	probe  *Probe
	target string
	token  string
	key    string
}

// startServer starts the system configured from s on a free loopback port, with the probe
// on its processing steps and in its /metrics.
func startServer(ctx context.Context, o *Options, s *scenarios.Scenario) (*server, error) {
	token, err := randomToken()
	if err != nil {
		return nil, err
	}
	base := system.ServerConfig{
		HTTPAddr: "127.0.0.1:0", Store: o.Store, StoreDSN: o.StoreDSN, Bus: o.Bus, BusDSN: o.BusDSN,
		AdminTokens: []string{token}, DrainTimeout: 10 * time.Second,
	}
	cfg, err := o.ServerConfig(s, base)
	if err != nil {
		return nil, err
	}
	// A topic of its own per run: a durable bus keeps what an earlier run left in its
	// queues (a backlog cut off at the end of the measured period), which must not be
	// counted in this one.
	key := token[:12]
	cfg.Pipeline.Topic = "validate-" + key
	probe, err := NewProbe(cfg.Pipeline)
	if err != nil {
		return nil, err
	}
	timedStoreConfig(&cfg, probe, key)
	logw := io.Discard
	if o.ServerLog != nil {
		logw = o.ServerLog
	}
	log := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := system.NewServer(ctx, cfg, system.WithServerLogger(log),
		system.WithPipelineOptions(system.WithWorkFunc(probe.WorkFunc())))
	if err != nil {
		forgetProbe(key)
		return nil, fmt.Errorf("start the system: %w", err)
	}
	for _, c := range probe.Collectors() {
		if err := srv.Registry().Register(c); err != nil {
			srv.Shutdown(context.Background())
			return nil, fmt.Errorf("register the probe: %w", err)
		}
	}
	if err := srv.Start(ctx); err != nil {
		return nil, fmt.Errorf("start the system: %w", err)
	}
	return &server{srv: srv, probe: probe, target: "http://" + srv.HTTPAddr(), token: token, key: key}, nil
}

// stop drains the system for a moment and closes it. What a backlog leaves unprocessed
// does not matter any more: the measured period is over.
func (s *server) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.srv.Shutdown(ctx)
	forgetProbe(s.key)
}

// measure runs the system configured from s and plays the workload of ref + sets against
// it with k6, returning the measured result and the writes joined with their processing.
func measure(ctx context.Context, o *Options, s *scenarios.Scenario, cfg loadtest.Config, slos []scenarios.SLO, dir string) (loadtest.K6Outcome, []loadtest.Joined, error) {
	r, err := play(ctx, o, s, cfg, slos, dir)
	if err != nil {
		return r.out, nil, err
	}
	if r.out.ExitCode != 0 && r.out.ExitCode != loadtest.K6ExitThresholds {
		return r.out, nil, fmt.Errorf("k6 exited with status %d", r.out.ExitCode)
	}
	return r.out, r.joined, nil
}

// played is what one run against the system gave: k6's outcome, the client's writes joined
// with their processing, and how long each processing effect took.
type played struct {
	out     loadtest.K6Outcome
	joined  []loadtest.Joined
	effects []time.Duration
}

// play runs the system configured from s, plays cfg's workload against it with k6 (with the
// journal on) and joins the client's writes with the probe's processing.
func play(ctx context.Context, o *Options, s *scenarios.Scenario, cfg loadtest.Config, slos []scenarios.SLO, dir string) (played, error) {
	var r played
	srv, err := startServer(ctx, o, s)
	if err != nil {
		return r, err
	}
	defer srv.stop()
	cfg.Target, cfg.Token, cfg.Journal = srv.target, srv.token, true
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return r, err
	}
	run := loadtest.K6Run{
		Binary: o.k6, Config: cfg, Dir: dir,
		Script: loadtest.Script{Scenario: s.Name, Thresholds: loadtest.Thresholds(slos)},
		Stdout: o.K6Output, Stderr: o.K6Output,
	}
	if r.out, err = run.Run(ctx); err != nil {
		return r, err
	}
	sent, err := loadtest.ReadJournal(loadtest.JournalFile(r.out.ResultPath))
	if err != nil {
		return r, err
	}
	r.joined = loadtest.Join(sent, srv.probe.Processed())
	r.effects = srv.probe.Effects()
	return r, nil
}

// clientEndToEnd is the end-to-end latency as the simulator defines it — from the client's
// send to the end of the processing — of the writes sent and finished within the measured
// period (which starts with the first send).
func clientEndToEnd(joined []loadtest.Joined, horizon time.Duration) (result.Stats, int) {
	if len(joined) == 0 {
		return result.Stats{}, 0
	}
	start := joined[0].SentNs
	for _, j := range joined {
		start = min(start, j.SentNs)
	}
	end := start + int64(horizon)
	var ds []time.Duration
	for _, j := range joined {
		if j.EndNs <= end {
			ds = append(ds, j.EndToEnd())
		}
	}
	return loadtest.DurationStats(ds), len(ds)
}

func randomToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
