package loadtest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// K8sOptions describe a load test for the k6 operator: a TestRun whose runners use the
// image built from cmd/k6 (cmd/k6/Dockerfile) and read the script from a ConfigMap.
type K8sOptions struct {
	// Name names the TestRun; the ConfigMap is NAME-script.
	Name      string
	Namespace string
	// Image is the runner image built from cmd/k6.
	Image string
	// Parallelism is the number of runner pods; k6 splits the arrival rate between them
	// (execution segments), so the scenario's rate is the sum.
	Parallelism int
	Script      []byte
	Config      Config
	// ScenarioYAML is the scenario file's content when the scenario is a file (it goes into
	// the ConfigMap beside the script, and the runners load it from there); nil for a
	// bundled scenario, which is compiled into the image.
	ScenarioYAML []byte
}

// ScriptMount is where the k6 operator mounts the script's ConfigMap in a runner.
const ScriptMount = "/test"

var k8sName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// EmitK8s returns the ConfigMap (the script, and the scenario file if any) and the
// TestRun, as YAML documents.
func EmitK8s(o K8sOptions) (configMap, testRun []byte, err error) {
	if !k8sName.MatchString(o.Name) || len(o.Name) > 50 {
		return nil, nil, fmt.Errorf("name %q: a Kubernetes name is lower-case letters, digits and '-', at most 50 here", o.Name)
	}
	if o.Parallelism < 1 {
		return nil, nil, fmt.Errorf("parallelism must be at least 1, got %d", o.Parallelism)
	}
	if o.Image == "" {
		return nil, nil, fmt.Errorf("no runner image: build one from cmd/k6/Dockerfile and give it")
	}
	cfg := o.Config
	cfg.Token = "" // from a Secret, not in the manifest
	if o.ScenarioYAML != nil {
		cfg.Scenario = ScriptMount + "/scenario.yaml"
	}
	var cm strings.Builder
	cm.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n")
	fmt.Fprintf(&cm, "  name: %s-script\n", o.Name)
	if o.Namespace != "" {
		fmt.Fprintf(&cm, "  namespace: %s\n", o.Namespace)
	}
	cm.WriteString("  labels:\n    app.kubernetes.io/managed-by: headroom\ndata:\n")
	block := func(key string, data []byte) {
		fmt.Fprintf(&cm, "  %s: |\n", key)
		for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
			if line == "" {
				cm.WriteString("\n")
				continue
			}
			cm.WriteString("    " + line + "\n")
		}
	}
	block("script.js", o.Script)
	if o.ScenarioYAML != nil {
		block("scenario.yaml", o.ScenarioYAML)
	}

	var tr strings.Builder
	tr.WriteString("# A k6-operator TestRun: kubectl apply -f configmap.yaml -f testrun.yaml. The runners\n")
	tr.WriteString("# split the arrival rate between them (k6 execution segments). The admin token comes\n")
	fmt.Fprintf(&tr, "# from the Secret %s-token (key token): kubectl create secret generic %s-token --from-literal=token=...\n", o.Name, o.Name)
	tr.WriteString("apiVersion: k6.io/v1alpha1\nkind: TestRun\nmetadata:\n")
	fmt.Fprintf(&tr, "  name: %s\n", o.Name)
	if o.Namespace != "" {
		fmt.Fprintf(&tr, "  namespace: %s\n", o.Namespace)
	}
	tr.WriteString("spec:\n")
	fmt.Fprintf(&tr, "  parallelism: %d\n", o.Parallelism)
	fmt.Fprintf(&tr, "  script:\n    configMap:\n      name: %s-script\n      file: script.js\n", o.Name)
	tr.WriteString("  arguments: --no-usage-report\n")
	tr.WriteString("  runner:\n")
	fmt.Fprintf(&tr, "    image: %s\n", o.Image)
	tr.WriteString("    env:\n")
	for _, kv := range cfg.Env() {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&tr, "      - name: %s\n        value: %s\n", k, strconv.Quote(v))
	}
	fmt.Fprintf(&tr, "      - name: %s\n        valueFrom:\n          secretKeyRef:\n            name: %s-token\n            key: token\n", EnvToken, o.Name)
	return []byte(cm.String()), []byte(tr.String()), nil
}
