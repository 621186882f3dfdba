package loadtest

import (
	"bytes"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestEmitK8s(t *testing.T) {
	script, err := Script{Scenario: "baseline", Thresholds: Thresholds(ScenarioSLOs(load(t, "baseline")))}.Render()
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Scenario: "/work/my.yaml", Sets: []string{"workload.users=1000"}, Play: Play{Compress: 1440}, Target: "https://api.example.com", Token: "secret"}
	cm, tr, err := EmitK8s(K8sOptions{Name: "headroom-baseline", Namespace: "load", Image: "registry/headroom-k6:1",
		Parallelism: 8, Script: script, Config: cfg, ScenarioYAML: []byte("name: my\nhorizon: 1h\n")})
	if err != nil {
		t.Fatal(err)
	}
	var configMap struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string
		Metadata   struct{ Name, Namespace string }
		Data       map[string]string
	}
	if err := yaml.Unmarshal(cm, &configMap); err != nil {
		t.Fatalf("configmap is not YAML: %v\n%s", err, cm)
	}
	if configMap.Kind != "ConfigMap" || configMap.Metadata.Name != "headroom-baseline-script" ||
		!strings.Contains(configMap.Data["script.js"], "import headroom from 'k6/x/headroom'") ||
		configMap.Data["scenario.yaml"] != "name: my\nhorizon: 1h\n" {
		t.Errorf("configmap %+v", configMap)
	}
	var run struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string
		Metadata   struct{ Name string }
		Spec       struct {
			Parallelism int
			Script      struct {
				ConfigMap struct{ Name, File string } `yaml:"configMap"`
			}
			Runner struct {
				Image string
				Env   []struct {
					Name, Value string
					ValueFrom   map[string]any `yaml:"valueFrom"`
				}
			}
		}
	}
	if err := yaml.Unmarshal(tr, &run); err != nil {
		t.Fatalf("testrun is not YAML: %v\n%s", err, tr)
	}
	if run.APIVersion != "k6.io/v1alpha1" || run.Kind != "TestRun" || run.Spec.Parallelism != 8 ||
		run.Spec.Script.ConfigMap.Name != "headroom-baseline-script" || run.Spec.Script.ConfigMap.File != "script.js" ||
		run.Spec.Runner.Image != "registry/headroom-k6:1" {
		t.Errorf("testrun %+v", run)
	}
	env := map[string]string{}
	for _, e := range run.Spec.Runner.Env {
		env[e.Name] = e.Value
		if e.Name == EnvToken && e.ValueFrom == nil {
			t.Error("the token is written into the manifest instead of a secret reference")
		}
	}
	if env[EnvScenario] != "/test/scenario.yaml" || env[EnvCompress] != "1440" || env[EnvTarget] != "https://api.example.com" {
		t.Errorf("runner env %v", env)
	}
	if bytes.Contains(tr, []byte("secret")) && !bytes.Contains(tr, []byte("secretKeyRef")) {
		t.Error("token leaked")
	}
	if _, _, err := EmitK8s(K8sOptions{Name: "Bad_Name", Image: "x", Parallelism: 1}); err == nil {
		t.Error("an invalid Kubernetes name was accepted")
	}
}
