package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/headroom/headroom/reports"
	"github.com/headroom/headroom/result"
)

// K6ExitThresholds is k6's exit status when a threshold was crossed.
const K6ExitThresholds = 99

// K6Run is one run of the k6 binary on a generated script.
type K6Run struct {
	Binary string
	Script Script
	Config Config
	// Dir receives script.js and result.json.
	Dir string
	// Stdout and Stderr receive k6's own output (its end-of-test summary); nil discards.
	Stdout, Stderr io.Writer
	// Args are extra arguments to `k6 run`.
	Args []string
}

// K6Outcome is what a run produced.
type K6Outcome struct {
	// ExitCode is k6's: 0, K6ExitThresholds when a threshold failed, other codes on errors.
	ExitCode int
	// CPU is the k6 process's CPU use over the run, against the machine's.
	CPU CPUUsage
	// Result is the measured result the output wrote.
	Result *result.Result
	// ScriptPath and ResultPath are the files of the run.
	ScriptPath, ResultPath string
}

// Run writes the script, runs `k6 run --out headroom=result.json script.js` with the
// configuration in its environment, and reads the result back. An exit status of
// K6ExitThresholds is not an error: the outcome says it.
func (r K6Run) Run(ctx context.Context) (K6Outcome, error) {
	var out K6Outcome
	src, err := r.Script.Render()
	if err != nil {
		return out, err
	}
	out.ScriptPath = filepath.Join(r.Dir, "script.js")
	out.ResultPath = filepath.Join(r.Dir, "result.json")
	if err := os.WriteFile(out.ScriptPath, src, 0o644); err != nil {
		return out, fmt.Errorf("k6 script: %w", err)
	}
	os.Remove(out.ResultPath)
	args := append([]string{"run", "--quiet", "--no-usage-report", "--out", "headroom=" + out.ResultPath}, r.Args...)
	args = append(args, out.ScriptPath)
	cmd := exec.CommandContext(ctx, r.Binary, args...)
	cmd.Env = append(os.Environ(), r.Config.Resolved().Env()...)
	cmd.Stdout, cmd.Stderr = r.Stdout, r.Stderr
	if err := cmd.Start(); err != nil {
		return out, fmt.Errorf("k6: %w", err)
	}
	meter := StartCPUOf(cmd.Process.Pid)
	err = cmd.Wait()
	out.CPU = meter.Stop()
	if ps := cmd.ProcessState; ps != nil {
		// The child's own account, complete once it has been reaped.
		out.CPU.ProcessS = (ps.UserTime() + ps.SystemTime()).Seconds()
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		out.ExitCode = exit.ExitCode()
	default:
		return out, fmt.Errorf("k6: %w", err)
	}
	f, ferr := os.Open(out.ResultPath)
	if ferr != nil {
		if out.ExitCode != 0 {
			return out, fmt.Errorf("k6 exited with status %d and wrote no result (see its output above)", out.ExitCode)
		}
		return out, fmt.Errorf("k6 wrote no result: %w", ferr)
	}
	defer f.Close()
	res, err := reports.Read(f)
	if err != nil {
		return out, fmt.Errorf("k6 result %s: %w", out.ResultPath, err)
	}
	out.Result = res
	return out, nil
}

// LatencyFile is where the output writes the API latency distribution beside a result.
func LatencyFile(resultPath string) string { return resultPath + ".latency.json" }

// LatencyDetail is the content of the LatencyFile: the API latency of accepted writes as
// percentiles and as a lognormal fit.
type LatencyDetail struct {
	APILatency []Percentile `json:"api_latency"`
	APIFit     LognormalFit `json:"api_fit"`
}
