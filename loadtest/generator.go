package loadtest

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/headroom/headroom/scenarios"
)

// The attributes of workload.mix the generator gives a meaning to. Every other attribute
// is written into the payload, so the requests carry it as the simulator's do.
const (
	// StateAttribute is the request's state: the system routes by it (system.StateAttribute).
	StateAttribute = "state"
	// OpAttribute, when the mix has it, makes the workload a CRUD mix: its values are
	// operations (create, read, update, delete, list). Without it every request creates.
	OpAttribute = "op"
)

// The operations of a CRUD mix.
const (
	OpCreate = "create"
	OpRead   = "read"
	OpUpdate = "update"
	OpDelete = "delete"
	OpList   = "list"
)

var ops = []string{OpCreate, OpRead, OpUpdate, OpDelete, OpList}

// defaultState is the state of requests when the mix has none: the system's first default
// state (system.DefaultStates), which every system configured without states accepts.
const defaultState = "pending"

// maxTracked bounds the ids one generator remembers for reads, updates and deletes; the
// oldest are forgotten first.
const maxTracked = 10000

// Workload is a scenario's workload compiled for the generator: immutable, shared by every
// VU's Generator.
type Workload struct {
	states  choice
	ops     choice // empty: every request creates
	payload string
	// perIteration is the mean number of requests one k6 iteration sends (1/Grid, Poisson),
	// or 0 for exactly one (uniform arrivals).
	perIteration float64
}

// choice draws one value from a distribution given in file order.
type choice struct {
	values []string
	cum    []float64
}

func newChoice(a scenarios.Attribute) choice {
	c := choice{}
	s := 0.0
	for _, v := range a.Values {
		s += v.P
		c.values = append(c.values, v.Value)
		c.cum = append(c.cum, s)
	}
	if n := len(c.cum); n > 0 {
		c.cum[n-1] = math.Inf(1) // rounding never leaves a draw unassigned
	}
	return c
}

func (c choice) draw(rng *rand.Rand) string {
	u := rng.Float64()
	for i, x := range c.cum {
		if u <= x {
			return c.values[i]
		}
	}
	return c.values[len(c.values)-1]
}

// NewWorkload compiles s's workload for arrivals a (with grid iterations per arrival when
// a is ArrivalsPoisson).
func NewWorkload(s *scenarios.Scenario, a Arrivals, grid float64) (*Workload, error) {
	w := &Workload{states: choice{values: []string{defaultState}, cum: []float64{math.Inf(1)}}}
	switch a {
	case ArrivalsUniform:
	case ArrivalsPoisson, "":
		if grid <= 0 {
			grid = DefaultGrid
		}
		w.perIteration = 1 / grid
	default:
		return nil, fmt.Errorf("arrivals: %q is not %s or %s", a, ArrivalsPoisson, ArrivalsUniform)
	}
	var extra []scenarios.Attribute
	for _, attr := range s.Workload.Mix {
		switch attr.Name {
		case StateAttribute:
			w.states = newChoice(attr)
		case OpAttribute:
			for _, v := range attr.Values {
				if !slices.Contains(ops, v.Value) {
					return nil, fmt.Errorf("workload.mix.op: %q is not an operation; one of %s", v.Value, strings.Join(ops, ", "))
				}
			}
			w.ops = newChoice(attr)
		default:
			extra = append(extra, attr)
		}
	}
	w.payload = payload(s.Workload.PayloadBytes, extra)
	return w, nil
}

// payload builds a JSON object of exactly n bytes where it can (at least the attributes'
// own size): the request's other attributes, their most likely value each — the payload is
// opaque to the system, its size is what costs — and padding.
func payload(n int, attrs []scenarios.Attribute) string {
	var b strings.Builder
	b.WriteByte('{')
	for _, a := range attrs {
		if len(a.Values) == 0 {
			continue
		}
		best := a.Values[0]
		for _, v := range a.Values[1:] {
			if v.P > best.P {
				best = v
			}
		}
		k, _ := json.Marshal(a.Name)
		v, _ := json.Marshal(best.Value)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
		b.WriteByte(',')
	}
	const pad = `"pad":""}`
	if fill := n - b.Len() - len(pad); fill > 0 {
		b.WriteString(`"pad":"`)
		b.WriteString(strings.Repeat("x", fill))
		b.WriteString(`"}`)
		return b.String()
	}
	s := strings.TrimSuffix(b.String(), ",")
	if s == "{" {
		return "{}"
	}
	return s + "}"
}

// Request is one HTTP request of the workload, as the k6 script sends it.
type Request struct {
	Op     string `js:"op"`
	Method string `js:"method"`
	Path   string `js:"path"`
	// Route is the path's pattern, the k6 "name" tag, so that per-id URLs are one series.
	Route string `js:"route"`
	Body  string `js:"body"`
	ID    string `js:"id"`
	State string `js:"state"`
}

const (
	routeRequests = "/v1/requests"
	routeRequest  = "/v1/requests/{id}"
)

// Generator draws one VU's requests. It is not safe for concurrent use: k6 runs one
// iteration of a VU at a time, and each VU has its own.
type Generator struct {
	w   *Workload
	rng *rand.Rand
	ids []tracked
	buf []Request
}

type tracked struct {
	id      string
	version int64
}

// NewGenerator returns a generator drawing from w with its own random stream.
func NewGenerator(w *Workload, seed, stream uint64) *Generator {
	return &Generator{w: w, rng: rand.New(rand.NewPCG(seed, stream^0x9e3779b97f4a7c15))}
}

// Next returns the requests of one iteration: exactly one for uniform arrivals, a
// Poisson-distributed number (often none) for Poisson arrivals. The slice is reused by the
// next call.
func (g *Generator) Next() []Request {
	n := 1
	if m := g.w.perIteration; m > 0 {
		n = poisson(g.rng, m)
	}
	g.buf = g.buf[:0]
	for range n {
		g.buf = append(g.buf, g.one())
	}
	return g.buf
}

// Last returns what the last Next returned.
func (g *Generator) Last() []Request { return g.buf }

// poisson draws from Poisson(m) by multiplying uniforms (Knuth): m is below 1 here.
func poisson(rng *rand.Rand, m float64) int {
	l, k, p := math.Exp(-m), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func (g *Generator) one() Request {
	op := OpCreate
	if len(g.w.ops.values) > 0 {
		op = g.w.ops.draw(g.rng)
	}
	// An operation on an existing request needs one; before this VU has created any, it
	// creates instead.
	if op == OpRead || op == OpUpdate || op == OpDelete {
		if len(g.ids) == 0 {
			op = OpCreate
		}
	}
	switch op {
	case OpRead:
		t := g.ids[g.rng.IntN(len(g.ids))]
		return Request{Op: op, Method: "GET", Path: "/v1/requests/" + t.id, Route: routeRequest, ID: t.id}
	case OpUpdate:
		t := g.ids[g.rng.IntN(len(g.ids))]
		st := g.w.states.draw(g.rng)
		body := `{"state":` + strconv.Quote(st) + `,"version":` + strconv.FormatInt(t.version, 10) + `}`
		return Request{Op: op, Method: "PUT", Path: "/v1/requests/" + t.id, Route: routeRequest, Body: body, ID: t.id, State: st}
	case OpDelete:
		t := g.ids[g.rng.IntN(len(g.ids))]
		return Request{Op: op, Method: "DELETE", Path: "/v1/requests/" + t.id, Route: routeRequest, ID: t.id}
	case OpList:
		return Request{Op: op, Method: "GET", Path: "/v1/requests?limit=100", Route: routeRequests}
	}
	st := g.w.states.draw(g.rng)
	return Request{Op: OpCreate, Method: "POST", Path: "/v1/requests", Route: routeRequests, State: st,
		Body: `{"state":` + strconv.Quote(st) + `,"payload":` + g.w.payload + `}`}
}

// Done tells the generator how a request ended, so that it knows the ids it may read,
// update and delete: a created request is remembered with its version, an update moves the
// version on, a delete (or a 404) forgets the id. For an accepted write it returns the id
// and the version written (what the system's message for it carries).
func (g *Generator) Done(r Request, status int, body string) (id string, version int64, written bool) {
	switch {
	case r.Op == OpCreate && status == 201, r.Op == OpUpdate && status == 200:
		var got struct {
			ID      string `json:"id"`
			Version int64  `json:"version"`
		}
		if json.Unmarshal([]byte(body), &got) != nil || got.ID == "" {
			return "", 0, false
		}
		if r.Op == OpUpdate {
			g.setVersion(got.ID, got.Version)
			return got.ID, got.Version, true
		}
		if len(g.ids) >= maxTracked {
			g.ids = append(g.ids[:0], g.ids[1:]...)
		}
		g.ids = append(g.ids, tracked{id: got.ID, version: got.Version})
		return got.ID, got.Version, true
	case r.Op == OpDelete && (status == 204 || status == 404), r.ID != "" && status == 404:
		g.forget(r.ID)
	case r.Op == OpUpdate && status == 409:
		// Someone else moved it on: read the current version next time it is picked.
		g.forget(r.ID)
	}
	return "", 0, false
}

func (g *Generator) setVersion(id string, v int64) {
	for i := range g.ids {
		if g.ids[i].id == id {
			g.ids[i].version = v
			return
		}
	}
}

func (g *Generator) forget(id string) {
	for i := range g.ids {
		if g.ids[i].id == id {
			g.ids = append(g.ids[:i], g.ids[i+1:]...)
			return
		}
	}
}

// Tracked is the number of ids the generator remembers.
func (g *Generator) Tracked() int { return len(g.ids) }
