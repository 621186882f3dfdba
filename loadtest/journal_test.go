package loadtest

import (
	"path/filepath"
	"testing"
	"time"
)

func TestJournalJoin(t *testing.T) {
	var j Journal
	t0 := time.Unix(100, 0)
	j.Add("a", 1, t0, t0.Add(2*time.Millisecond))
	j.Add("b", 1, t0.Add(time.Millisecond), t0.Add(3*time.Millisecond))
	j.Add("a", 2, t0.Add(10*time.Millisecond), t0.Add(12*time.Millisecond)) // an update
	path := filepath.Join(t.TempDir(), "j.json")
	if err := j.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	sent, err := ReadJournal(path)
	if err != nil || len(sent) != 3 {
		t.Fatalf("%d records, %v", len(sent), err)
	}
	ns := func(d time.Duration) int64 { return t0.Add(d).UnixNano() }
	processed := []Processed{
		{ID: "a", Version: 1, State: "pending", StartNs: ns(1 * time.Millisecond), StepEndNs: ns(39 * time.Millisecond), EndNs: ns(40 * time.Millisecond)}, // before the answer
		{ID: "a", Version: 2, State: "approved", StartNs: ns(20 * time.Millisecond), StepEndNs: ns(30 * time.Millisecond), EndNs: ns(30 * time.Millisecond)},
		{ID: "a", Version: 2, State: "approved", StartNs: ns(60 * time.Millisecond), StepEndNs: ns(70 * time.Millisecond), EndNs: ns(70 * time.Millisecond)}, // redelivered
		{ID: "c", Version: 1, State: "pending", StartNs: ns(5 * time.Millisecond), StepEndNs: ns(6 * time.Millisecond), EndNs: ns(6 * time.Millisecond)},     // sent by no one here
	}
	got := Join(sent, processed)
	if len(got) != 2 {
		t.Fatalf("joined %d, want a v1 and a v2 (b was never processed)", len(got))
	}
	if got[0].EndToEnd() != 40*time.Millisecond || got[0].Delivery() != 0 || got[0].Service() != 38*time.Millisecond {
		t.Errorf("a v1: e2e %v delivery %v service %v", got[0].EndToEnd(), got[0].Delivery(), got[0].Service())
	}
	if got[1].EndToEnd() != 60*time.Millisecond || got[1].Delivery() != 48*time.Millisecond || got[1].State != "approved" {
		t.Errorf("a v2: e2e %v delivery %v state %s, want its last processing", got[1].EndToEnd(), got[1].Delivery(), got[1].State)
	}
	st := DurationStats([]time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond})
	if st.Count != 3 || st.P50 != 2 || st.Max < 3 || st.Max > 3.003 { // HDR: 3 significant digits
		t.Errorf("stats %+v", st)
	}
	f, ok := FitDurations([]time.Duration{10 * time.Millisecond, 10 * time.Millisecond})
	if !ok || f.MeanMS != 10 || f.Sigma != 0 || f.YAML() != "{dist: constant, value_ms: 10}" {
		t.Errorf("fit %+v %s", f, f.YAML())
	}
}
