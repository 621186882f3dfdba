package loadtest

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/headroom/headroom/scenarios"
)

// Config is one load test's settings, shared by the k6 script (the JS module reads them
// from __ENV) and the output (from k6's environment). They travel as environment variables
// — the same on one machine and in a k6-operator TestRun's runner pods — named below.
type Config struct {
	// Scenario is a bundled name or a file, with --set overrides.
	Scenario string
	Sets     []string
	// Play scales and compresses the workload.
	Play Play
	// Arrivals overrides how iterations become arrivals; "" follows the scenario's
	// workload.arrival. Grid is the iterations per arrival in Poisson mode (0: DefaultGrid).
	Arrivals Arrivals
	Grid     float64
	// Seed seeds the request generators (each VU its own stream); 0 means the scenario's.
	Seed uint64
	// Target is the system's base URL, Token its admin bearer token.
	Target string
	Token  string
	// MetricsURL is where the output polls the system's metrics; "" means Target/metrics.
	// Poll is the polling interval (0: DefaultPoll).
	MetricsURL string
	Poll       time.Duration
	// Journal makes the module record every accepted write's send and answer times and the
	// output write them beside the result (JournalFile), for validate's join.
	Journal bool
}

// DefaultPoll is how often the output polls /metrics: often enough for a queue's depth to
// be seen near its peak, rarely enough to cost the system little.
const DefaultPoll = 250 * time.Millisecond

// The environment variables of a Config.
const (
	EnvScenario = "HEADROOM_SCENARIO"
	EnvSets     = "HEADROOM_SETS" // a JSON list of "key=value"
	EnvScale    = "HEADROOM_SCALE"
	EnvCompress = "HEADROOM_COMPRESS"
	EnvArrivals = "HEADROOM_ARRIVALS"
	EnvGrid     = "HEADROOM_GRID"
	EnvSeed     = "HEADROOM_SEED"
	EnvTarget   = "HEADROOM_TARGET"
	EnvToken    = "HEADROOM_TOKEN"
	EnvMetrics  = "HEADROOM_METRICS"
	EnvPoll     = "HEADROOM_POLL"
	EnvJournal  = "HEADROOM_JOURNAL" // "1" to keep the journal
)

// Env returns the configuration as environment variables, in a fixed order.
func (c Config) Env() []string {
	sets, _ := json.Marshal(c.Sets)
	if c.Sets == nil {
		sets = []byte("[]")
	}
	out := []string{
		EnvScenario + "=" + c.Scenario,
		EnvSets + "=" + string(sets),
		EnvScale + "=" + strconv.FormatFloat(c.Play.scale(), 'g', -1, 64),
		EnvCompress + "=" + strconv.FormatFloat(c.Play.compress(), 'g', -1, 64),
		EnvTarget + "=" + c.Target,
	}
	if c.Arrivals != "" {
		out = append(out, EnvArrivals+"="+string(c.Arrivals))
	}
	if c.Grid > 0 {
		out = append(out, EnvGrid+"="+strconv.FormatFloat(c.Grid, 'g', -1, 64))
	}
	if c.Seed != 0 {
		out = append(out, EnvSeed+"="+strconv.FormatUint(c.Seed, 10))
	}
	if c.Token != "" {
		out = append(out, EnvToken+"="+c.Token)
	}
	if c.MetricsURL != "" {
		out = append(out, EnvMetrics+"="+c.MetricsURL)
	}
	if c.Poll > 0 {
		out = append(out, EnvPoll+"="+c.Poll.String())
	}
	if c.Journal {
		out = append(out, EnvJournal+"=1")
	}
	return out
}

// ConfigFromEnv reads a Config from environment variables through get; errors name the
// variable.
func ConfigFromEnv(get func(string) string) (Config, error) {
	c := Config{
		Scenario: get(EnvScenario), Target: strings.TrimRight(get(EnvTarget), "/"), Token: get(EnvToken),
		MetricsURL: get(EnvMetrics), Arrivals: Arrivals(get(EnvArrivals)), Journal: get(EnvJournal) == "1",
	}
	if c.Scenario == "" {
		return c, fmt.Errorf("%s: no scenario given (a bundled name or a file)", EnvScenario)
	}
	if s := get(EnvSets); s != "" {
		if err := json.Unmarshal([]byte(s), &c.Sets); err != nil {
			return c, fmt.Errorf("%s: want a JSON list of \"key=value\" strings: %w", EnvSets, err)
		}
	}
	num := func(name string, dst *float64) error {
		s := get(name)
		if s == "" {
			return nil
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%s: want a number, got %q", name, s)
		}
		*dst = v
		return nil
	}
	for _, f := range []struct {
		name string
		dst  *float64
	}{{EnvScale, &c.Play.Scale}, {EnvCompress, &c.Play.Compress}, {EnvGrid, &c.Grid}} {
		if err := num(f.name, f.dst); err != nil {
			return c, err
		}
	}
	if err := c.Play.Validate(); err != nil {
		return c, fmt.Errorf("%s/%s: %w", EnvScale, EnvCompress, err)
	}
	if s := get(EnvSeed); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return c, fmt.Errorf("%s: want a whole number, got %q", EnvSeed, s)
		}
		c.Seed = v
	}
	if s := get(EnvPoll); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("%s: want a positive duration such as 100ms, got %q", EnvPoll, s)
		}
		c.Poll = d
	}
	switch c.Arrivals {
	case "", ArrivalsPoisson, ArrivalsUniform:
	default:
		return c, fmt.Errorf("%s: %q is not %s or %s", EnvArrivals, c.Arrivals, ArrivalsPoisson, ArrivalsUniform)
	}
	return c, nil
}

// Resolved returns the configuration with a scenario file's path made absolute, so that
// k6 finds it whatever its working directory.
func (c Config) Resolved() Config {
	for _, b := range scenarios.Bundled() {
		if b.Name == c.Scenario {
			return c
		}
	}
	if abs, err := filepath.Abs(c.Scenario); err == nil {
		c.Scenario = abs
	}
	return c
}

// Load loads the configured scenario.
func (c Config) Load() (*scenarios.Scenario, error) {
	return scenarios.Load(c.Scenario, scenarios.WithSets(c.Sets))
}

// ArrivalsOf returns the arrival mode for s: the configured one, else the scenario's.
func (c Config) ArrivalsOf(s *scenarios.Scenario) Arrivals {
	if c.Arrivals != "" {
		return c.Arrivals
	}
	return ArrivalsFor(s.Workload.Arrival)
}

// GridOf returns the iterations per arrival: 1 for uniform arrivals.
func (c Config) GridOf(s *scenarios.Scenario) float64 {
	if c.ArrivalsOf(s) == ArrivalsUniform {
		return 1
	}
	if c.Grid > 0 {
		return c.Grid
	}
	return DefaultGrid
}

// Metrics returns the URL of the system's metrics.
func (c Config) Metrics() string {
	if c.MetricsURL != "" {
		return c.MetricsURL
	}
	return c.Target + "/metrics"
}

// PollInterval returns the /metrics polling interval.
func (c Config) PollInterval() time.Duration {
	if c.Poll > 0 {
		return c.Poll
	}
	return DefaultPoll
}

// SeedOf returns the generators' seed for s.
func (c Config) SeedOf(s *scenarios.Scenario) uint64 {
	if c.Seed != 0 {
		return c.Seed
	}
	return s.Seed
}
