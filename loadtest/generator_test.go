package loadtest

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
)

func TestGeneratorStateMixAndPayload(t *testing.T) {
	s := load(t, "validate-below", "workload.payload_bytes=512")
	w, err := NewWorkload(s, ArrivalsUniform, 0)
	if err != nil {
		t.Fatal(err)
	}
	g := NewGenerator(w, 1, 7)
	counts := map[string]int{}
	const n = 20000
	for range n {
		reqs := g.Next()
		if len(reqs) != 1 {
			t.Fatalf("uniform arrivals: %d requests in an iteration, want 1", len(reqs))
		}
		r := reqs[0]
		if r.Op != OpCreate || r.Method != "POST" || r.Path != "/v1/requests" {
			t.Fatalf("request %+v, want a create", r)
		}
		var body struct {
			State   string          `json:"state"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
			t.Fatalf("body is not JSON: %v", err)
		}
		if body.State != r.State || len(body.Payload) != 512 {
			t.Fatalf("state %q (request %q), payload %d bytes, want 512", body.State, r.State, len(body.Payload))
		}
		counts[r.State]++
	}
	// Binomial: 4 standard deviations.
	for st, p := range map[string]float64{"pending": 0.7, "approved": 0.3} {
		sd := math.Sqrt(n * p * (1 - p))
		if d := math.Abs(float64(counts[st]) - n*p); d > 4*sd {
			t.Errorf("%s: %d of %d, want %g ± %.0f", st, counts[st], n, n*p, 4*sd)
		}
	}
}

func TestGeneratorPoissonCounts(t *testing.T) {
	s := load(t, "validate-backlog")
	w, err := NewWorkload(s, ArrivalsPoisson, 2)
	if err != nil {
		t.Fatal(err)
	}
	g := NewGenerator(w, 1, 1)
	var sum, sumSq float64
	const n = 100000
	for range n {
		k := float64(len(g.Next()))
		sum += k
		sumSq += k * k
	}
	mean, variance := sum/n, sumSq/n-(sum/n)*(sum/n)
	// Poisson(0.5): mean and variance 0.5.
	if math.Abs(mean-0.5) > 0.01 || math.Abs(variance-0.5) > 0.02 {
		t.Errorf("requests per iteration: mean %.4f variance %.4f, want 0.5 and 0.5", mean, variance)
	}
}

// TestGeneratorCRUD follows a CRUD mix through a stand-in for the API's answers: creates
// are remembered with their versions, updates carry and advance the version, deletes
// forget, and reads or updates before any create fall back to a create.
func TestGeneratorCRUD(t *testing.T) {
	s := load(t, "validate-below", "workload.mix.op={create: 0.4, read: 0.3, update: 0.2, delete: 0.1}")
	w, err := NewWorkload(s, ArrivalsUniform, 0)
	if err != nil {
		t.Fatal(err)
	}
	g := NewGenerator(w, 3, 3)
	versions := map[string]int64{} // what the "server" holds
	next := 0
	seen := map[string]int{}
	for range 5000 {
		r := g.Next()[0]
		seen[r.Op]++
		switch r.Op {
		case OpCreate:
			id := fmt.Sprintf("r-%d", next)
			next++
			versions[id] = 1
			g.Done(r, 201, fmt.Sprintf(`{"id":%q,"state":%q,"version":1}`, id, r.State))
		case OpRead:
			if _, ok := versions[r.ID]; !ok || r.Path != "/v1/requests/"+r.ID {
				t.Fatalf("read of %q (%s), which does not exist", r.ID, r.Path)
			}
			g.Done(r, 200, "")
		case OpUpdate:
			var body struct {
				Version int64 `json:"version"`
			}
			if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
				t.Fatal(err)
			}
			if cur, ok := versions[r.ID]; !ok || body.Version != cur {
				t.Fatalf("update of %q at version %d, server has %d (exists %v)", r.ID, body.Version, cur, ok)
			}
			versions[r.ID]++
			g.Done(r, 200, fmt.Sprintf(`{"id":%q,"version":%d}`, r.ID, versions[r.ID]))
		case OpDelete:
			if _, ok := versions[r.ID]; !ok {
				t.Fatalf("delete of %q, which does not exist", r.ID)
			}
			delete(versions, r.ID)
			g.Done(r, 204, "")
		}
	}
	for _, op := range []string{OpCreate, OpRead, OpUpdate, OpDelete} {
		if seen[op] == 0 {
			t.Errorf("no %s in 5000 requests: %v", op, seen)
		}
	}
	if g.Tracked() != len(versions) {
		t.Errorf("generator tracks %d ids, the server holds %d", g.Tracked(), len(versions))
	}
}

func TestWorkloadRejectsUnknownOp(t *testing.T) {
	s := load(t, "validate-below", "workload.mix.op={create: 0.5, upsert: 0.5}")
	if _, err := NewWorkload(s, ArrivalsUniform, 0); err == nil {
		t.Fatal("an op mix with upsert was accepted")
	}
}
