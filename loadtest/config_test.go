package loadtest

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestConfigEnvRoundTrip(t *testing.T) {
	c := Config{
		Scenario: "validate-below", Sets: []string{"workload.rate_rps=20", "components.api.rate_rps=5"},
		Play: Play{Scale: 0.5, Compress: 1440}, Arrivals: ArrivalsPoisson, Grid: 4, Seed: 7,
		Target: "http://127.0.0.1:8080", Token: "tok", MetricsURL: "http://127.0.0.1:9090/metrics", Poll: 50 * time.Millisecond,
		Journal: true,
	}
	env := map[string]string{}
	for _, kv := range c.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	got, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, c)
	}
	for _, bad := range []map[string]string{
		{},
		{EnvScenario: "x", EnvSets: "workload.rate_rps=1"},
		{EnvScenario: "x", EnvScale: "fast"},
		{EnvScenario: "x", EnvCompress: "-2"},
		{EnvScenario: "x", EnvArrivals: "bursty"},
		{EnvScenario: "x", EnvPoll: "0s"},
	} {
		if _, err := ConfigFromEnv(func(k string) string { return bad[k] }); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestConfigResolvedMakesFilesAbsolute(t *testing.T) {
	if got := (Config{Scenario: "validate-below"}).Resolved().Scenario; got != "validate-below" {
		t.Errorf("a bundled name became %q", got)
	}
	got := (Config{Scenario: "testdata/x.yaml"}).Resolved().Scenario
	if !filepath.IsAbs(got) || !strings.HasSuffix(got, "loadtest/testdata/x.yaml") {
		t.Errorf("a relative file became %q", got)
	}
}
