package system

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Defaults of ServerConfig's zero fields. Loopback only: exposing the service is a
// deliberate act (an explicit address), never a default.
const (
	DefaultHTTPAddr     = "127.0.0.1:8080"
	DefaultDrainTimeout = 30 * time.Second
	DefaultBackend      = "memory"
)

// ServerConfig is what a Server runs: where it listens, which backends it opens, the
// gateway's throttle and tokens, and the pipeline. `headroom serve` reads it from a YAML
// file (LoadServerConfig) or derives it from a scenario, then applies its flags.
type ServerConfig struct {
	// HTTPAddr is the API's listen address; "" means DefaultHTTPAddr.
	HTTPAddr string
	// ThriftAddr is the Thrift service's listen address; "" runs no Thrift service.
	ThriftAddr string
	// APIViaThrift makes the HTTP API call the Thrift service (web → Thrift microservice
	// → store, the design's second architecture) instead of the pipeline directly. It
	// needs ThriftAddr, or ThriftUpstream to call a service in another process.
	APIViaThrift bool
	// ThriftUpstream is the address of a Thrift service run elsewhere; with it the API
	// calls that service and this process serves no pipeline of its own.
	ThriftUpstream string

	// Store and Bus name registered backends with their DSNs; "" means DefaultBackend.
	Store, StoreDSN string
	Bus, BusDSN     string

	// AdminTokens may change requests; ReaderTokens may only read. With no admin token
	// every change is refused with 401.
	AdminTokens, ReaderTokens []string
	// ThrottleRPS and ThrottleBurst are the gateway token bucket; ThrottleRPS <= 0 means
	// no throttle.
	ThrottleRPS   float64
	ThrottleBurst int
	// MaxBodyBytes bounds request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// DrainTimeout bounds a graceful shutdown; 0 means DefaultDrainTimeout.
	DrainTimeout time.Duration
	// DrainDelay is how long the API keeps serving after intake stops, /readyz answering
	// 503, so that load balancers and probes see it before the listener closes. It counts
	// within DrainTimeout; 0 closes at once.
	DrainDelay time.Duration

	Pipeline PipelineConfig
}

// withDefaults fills the zero fields and checks the combination.
func (c ServerConfig) withDefaults() (ServerConfig, error) {
	if c.HTTPAddr == "" {
		c.HTTPAddr = DefaultHTTPAddr
	}
	if c.Store == "" {
		c.Store = DefaultBackend
	}
	if c.Bus == "" {
		c.Bus = DefaultBackend
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = DefaultDrainTimeout
	}
	switch {
	case c.MaxBodyBytes < 0:
		return c, fmt.Errorf("server: max body bytes %d must be > 0: %w", c.MaxBodyBytes, ErrInvalid)
	case c.DrainTimeout < 0, c.DrainDelay < 0:
		return c, fmt.Errorf("server: drain timeout %v and delay %v must be >= 0: %w", c.DrainTimeout, c.DrainDelay, ErrInvalid)
	case c.ThrottleBurst < 0:
		return c, fmt.Errorf("server: throttle burst %d must be >= 0: %w", c.ThrottleBurst, ErrInvalid)
	case c.APIViaThrift && c.ThriftAddr == "" && c.ThriftUpstream == "":
		return c, fmt.Errorf("server: api_via_thrift needs thrift_addr or thrift_upstream: %w", ErrInvalid)
	case c.ThriftUpstream != "" && c.ThriftAddr != "":
		return c, fmt.Errorf("server: thrift_upstream (call a remote service) and thrift_addr (serve one) exclude each other: %w", ErrInvalid)
	}
	if c.ThriftUpstream != "" {
		c.APIViaThrift = true
	}
	return c, nil
}

// serverFile is the YAML form of ServerConfig: snake_case keys, durations as strings
// ("30s"), unknown keys refused.
type serverFile struct {
	HTTPAddr       string        `yaml:"http_addr"`
	ThriftAddr     string        `yaml:"thrift_addr"`
	APIViaThrift   bool          `yaml:"api_via_thrift"`
	ThriftUpstream string        `yaml:"thrift_upstream"`
	Store          string        `yaml:"store"`
	StoreDSN       string        `yaml:"store_dsn"`
	Bus            string        `yaml:"bus"`
	BusDSN         string        `yaml:"bus_dsn"`
	AdminTokens    []string      `yaml:"admin_tokens"`
	ReaderTokens   []string      `yaml:"reader_tokens"`
	Throttle       throttleFile  `yaml:"throttle"`
	MaxBodyBytes   int64         `yaml:"max_body_bytes"`
	DrainTimeout   time.Duration `yaml:"drain_timeout"`
	DrainDelay     time.Duration `yaml:"drain_delay"`
	Pipeline       pipelineFile  `yaml:"pipeline"`
}

type throttleFile struct {
	RateRPS float64 `yaml:"rate_rps"`
	Burst   int     `yaml:"burst"`
}

type pipelineFile struct {
	States             []string        `yaml:"states"`
	Topic              string          `yaml:"topic"`
	FIFO               bool            `yaml:"fifo"`
	DedupWindow        time.Duration   `yaml:"dedup_window"`
	VisibilityTimeout  time.Duration   `yaml:"visibility_timeout"`
	MaxReceives        int             `yaml:"max_receives"`
	AccountConcurrency int             `yaml:"account_concurrency"`
	UnreservedMin      int             `yaml:"unreserved_min"`
	BatchSize          int             `yaml:"batch_size"`
	BatchWindow        time.Duration   `yaml:"batch_window"`
	Pollers            int             `yaml:"pollers"`
	Work               workFile        `yaml:"work"`
	CreateWork         workFile        `yaml:"create_work"`
	Processors         []processorFile `yaml:"processors"`
	RelayInterval      time.Duration   `yaml:"relay_interval"`
	RelayGrace         time.Duration   `yaml:"relay_grace"`
}

type processorFile struct {
	State               string        `yaml:"state"`
	ReservedConcurrency int           `yaml:"reserved_concurrency"`
	Pollers             int           `yaml:"pollers"`
	BatchSize           int           `yaml:"batch_size"`
	BatchWindow         time.Duration `yaml:"batch_window"`
	Work                *workFile     `yaml:"work"`
}

type workFile struct {
	ServiceTime distFile `yaml:"service_time"`
	Mode        string   `yaml:"mode"`
	FailureRate float64  `yaml:"failure_rate"`
}

// distFile is a distribution as in a scenario, with duration strings:
// {dist: exponential, mean: 5ms}, {dist: empirical, percentiles: {p0: 1ms, p50: 4ms, p100: 20ms}}.
type distFile struct {
	Dist        string                   `yaml:"dist"`
	Value       time.Duration            `yaml:"value"`
	Mean        time.Duration            `yaml:"mean"`
	Min         time.Duration            `yaml:"min"`
	Max         time.Duration            `yaml:"max"`
	Median      time.Duration            `yaml:"median"`
	P99         time.Duration            `yaml:"p99"`
	Sigma       float64                  `yaml:"sigma"`
	Percentiles map[string]time.Duration `yaml:"percentiles"`
}

// LoadServerConfig reads a YAML server configuration. Errors name the file and, where
// the YAML decoder knows it, the line.
func LoadServerConfig(path string) (ServerConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return ServerConfig{}, fmt.Errorf("server config: %w", err)
	}
	return ParseServerConfig(path, b)
}

// ParseServerConfig parses a YAML server configuration; name is used in errors.
func ParseServerConfig(name string, b []byte) (ServerConfig, error) {
	var f serverFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	// An empty document is a valid, all-defaults configuration.
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return ServerConfig{}, yamlError(name, err)
	}
	c := ServerConfig{
		HTTPAddr: f.HTTPAddr, ThriftAddr: f.ThriftAddr, APIViaThrift: f.APIViaThrift, ThriftUpstream: f.ThriftUpstream,
		Store: f.Store, StoreDSN: f.StoreDSN, Bus: f.Bus, BusDSN: f.BusDSN,
		AdminTokens: f.AdminTokens, ReaderTokens: f.ReaderTokens,
		ThrottleRPS: f.Throttle.RateRPS, ThrottleBurst: f.Throttle.Burst,
		MaxBodyBytes: f.MaxBodyBytes, DrainTimeout: f.DrainTimeout, DrainDelay: f.DrainDelay,
	}
	p := f.Pipeline
	c.Pipeline = PipelineConfig{
		Topic: p.Topic, FIFO: p.FIFO, DedupWindow: p.DedupWindow,
		VisibilityTimeout: p.VisibilityTimeout, MaxReceives: p.MaxReceives,
		AccountConcurrency: p.AccountConcurrency, UnreservedMin: p.UnreservedMin,
		BatchSize: p.BatchSize, BatchWindow: p.BatchWindow, Pollers: p.Pollers,
		RelayInterval: p.RelayInterval, RelayGrace: p.RelayGrace,
	}
	if p.States != nil {
		c.Pipeline.States = States(p.States)
	}
	var err error
	if c.Pipeline.Work, err = p.Work.work(); err != nil {
		return c, fmt.Errorf("%s: pipeline.work: %w", name, err)
	}
	if c.Pipeline.CreateWork, err = p.CreateWork.work(); err != nil {
		return c, fmt.Errorf("%s: pipeline.create_work: %w", name, err)
	}
	for i, pf := range p.Processors {
		pc := ProcessorConfig{State: pf.State, ReservedConcurrency: pf.ReservedConcurrency,
			Pollers: pf.Pollers, BatchSize: pf.BatchSize, BatchWindow: pf.BatchWindow}
		if pf.Work != nil {
			w, err := pf.Work.work()
			if err != nil {
				return c, fmt.Errorf("%s: pipeline.processors[%d].work: %w", name, i, err)
			}
			pc.Work = &w
		}
		c.Pipeline.Processors = append(c.Pipeline.Processors, pc)
	}
	if _, err := c.withDefaults(); err != nil {
		return c, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// yamlError rewrites the YAML decoder's "line N: ..." messages as "file:N: ...", and its
// unknown-field message in the file's own terms.
func yamlError(name string, err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	for i, m := range msgs {
		if rest, ok := strings.CutPrefix(m, "line "); ok {
			if n, text, ok := strings.Cut(rest, ": "); ok {
				m = name + ":" + n + ": " + text
			}
		} else {
			m = name + ": " + m
		}
		if before, after, ok := strings.Cut(m, "field "); ok && strings.Contains(after, " not found in type ") {
			key, _, _ := strings.Cut(after, " ")
			m = before + "unknown key " + key
		}
		msgs[i] = m
	}
	return fmt.Errorf("%s: %w", strings.Join(msgs, "; "), ErrInvalid)
}

func (w workFile) work() (Work, error) {
	d, err := w.ServiceTime.dist()
	if err != nil {
		return Work{}, err
	}
	out := Work{ServiceTime: d, Mode: WorkMode(w.Mode), FailureRate: w.FailureRate}
	if err := out.Validate(); err != nil {
		return Work{}, err
	}
	return out, nil
}

func (d distFile) dist() (Dist, error) {
	out := Dist{Kind: DistKind(d.Dist), Value: d.Value, Mean: d.Mean, Min: d.Min, Max: d.Max,
		Median: d.Median, P99: d.P99, Sigma: d.Sigma}
	for key, v := range d.Percentiles {
		q, err := strconv.ParseFloat(strings.TrimPrefix(key, "p"), 64)
		if !strings.HasPrefix(key, "p") || err != nil || q < 0 || q > 100 {
			return Dist{}, fmt.Errorf("service_time.percentiles.%s: key must be p0..p100: %w", key, ErrInvalid)
		}
		out.Percentiles = append(out.Percentiles, Percentile{Q: q / 100, V: v})
	}
	// The map's order is random; the distribution's is by quantile.
	slices.SortFunc(out.Percentiles, func(a, b Percentile) int { return cmpFloat(a.Q, b.Q) })
	return out, nil
}
