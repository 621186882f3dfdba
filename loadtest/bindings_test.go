package loadtest

import (
	"strings"
	"testing"
)

func TestBindValidationScenario(t *testing.T) {
	s := load(t, "validate-below")
	b := Bind(s)
	if b.Gateway == nil || b.Gateway.Name != "api" || b.Sync == nil || b.Sync.Name != "request" {
		t.Fatalf("gateway %v sync %v", b.Gateway, b.Sync)
	}
	var got []string
	for _, st := range b.States {
		got = append(got, st.State+":"+st.Queue.Name+":"+st.Function.Name)
	}
	if strings.Join(got, ",") != "pending:q_pending:p_pending,approved:q_approved:p_approved" {
		t.Errorf("states %v", got)
	}
	if len(b.DeadLetters) != 1 || b.DeadLetters[0].Name != "dlq" {
		t.Errorf("dead letters %v", b.DeadLetters)
	}
}

// TestValidationScenariosAreFair: the bundled validation scenarios are written so that the
// simulator and the system behave alike; no note may say they differ where it counts.
func TestValidationScenariosAreFair(t *testing.T) {
	for _, name := range []string{"validate-below", "validate-throttle", "validate-backlog"} {
		s := load(t, name)
		for _, n := range Bind(s).Notes(s) {
			if n.Differs {
				t.Errorf("%s: %s", name, n)
			}
		}
	}
}

// TestBaselineNotesTheDifferences: the baseline is not written for validation, and the notes
// say why its figures would differ.
func TestBaselineNotesTheDifferences(t *testing.T) {
	s := load(t, "baseline")
	var text []string
	for _, n := range Bind(s).Notes(s) {
		if n.Differs {
			text = append(text, n.String())
		}
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{
		"processor: cold starts cost INIT",
		"q_pending: the simulator's pollers start at 5",
		"processor: its mappings may run 5000 batches at once but it has 1000 executions",
		"request: draws from the region's unreserved pool",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no note %q in:\n%s", want, all)
		}
	}
}
