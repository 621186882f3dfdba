// Package k6ext holds Headroom's k6 extensions, registered when the package is imported —
// cmd/k6 blank-imports it into a k6 binary, which is what the xk6 builder would generate:
//
//   - the JS module k6/x/headroom (module.go): workload(__ENV) loads a scenario (a bundled
//     name or a file, with --set overrides, from the HEADROOM_* variables of
//     loadtest.Config) and gives each VU the workload's requests — the state mix, payloads
//     of payload_bytes, the ids a CRUD mix reads, updates and deletes — and the k6 options
//     that play its arrival profile as a ramping-arrival-rate scenario, scaled and
//     time-compressed;
//   - the output headroom (output.go): `--out headroom=result.json` records latencies in
//     HDR histograms, polls the system's /metrics and writes the run as a Headroom result
//     marked measured.
//
// `headroom loadtest` generates the script that uses both (loadtest.Script) and runs the
// binary.
package k6ext

import (
	"go.k6.io/k6/js/modules"
	"go.k6.io/k6/output"
)

func init() {
	modules.Register(ModuleName, NewRootModule())
	output.RegisterExtension(OutputName, NewOutput)
}
