package system

import (
	"errors"
	"testing"
)

func TestFilterPolicyMatch(t *testing.T) {
	yes, no := true, false
	attrs := func(kv ...string) Attributes {
		var a Attributes
		for i := 0; i < len(kv); i += 2 {
			a = append(a, Attr{Name: kv[i], Value: kv[i+1]})
		}
		return a
	}
	tests := []struct {
		name   string
		policy FilterPolicy
		attrs  Attributes
		want   bool
	}{
		{"empty policy matches all", nil, attrs("state", "x"), true},
		{"empty policy, no attributes", nil, nil, true},
		{"exact hit", Equals("state", "pending"), attrs("state", "pending"), true},
		{"exact miss", Equals("state", "pending"), attrs("state", "approved"), false},
		{"exact, attribute absent", Equals("state", "pending"), attrs("other", "pending"), false},
		{"exact is case-sensitive", Equals("state", "pending"), attrs("state", "Pending"), false},
		{"any-of hit", FilterPolicy{{Attribute: "state", AnyOf: []string{"a", "b"}}}, attrs("state", "b"), true},
		{"any-of miss", FilterPolicy{{Attribute: "state", AnyOf: []string{"a", "b"}}}, attrs("state", "c"), false},
		{"exists hit", FilterPolicy{{Attribute: "p", Exists: &yes}}, attrs("p", ""), true},
		{"exists miss", FilterPolicy{{Attribute: "p", Exists: &yes}}, attrs("q", "1"), false},
		{"not exists hit", FilterPolicy{{Attribute: "p", Exists: &no}}, attrs("q", "1"), true},
		{"not exists miss", FilterPolicy{{Attribute: "p", Exists: &no}}, attrs("p", "1"), false},
		{"and of two, both", FilterPolicy{{Attribute: "state", AnyOf: []string{"a"}}, {Attribute: "p", Exists: &yes}},
			attrs("state", "a", "p", "1"), true},
		{"and of two, one", FilterPolicy{{Attribute: "state", AnyOf: []string{"a"}}, {Attribute: "p", Exists: &yes}},
			attrs("state", "a"), false},
	}
	for _, tt := range tests {
		if got := tt.policy.Match(tt.attrs); got != tt.want {
			t.Errorf("%s: Match(%v) = %v, want %v", tt.name, tt.attrs, got, tt.want)
		}
	}
}

func TestFilterPolicyValidate(t *testing.T) {
	yes := true
	bad := []FilterPolicy{
		{{AnyOf: []string{"x"}}},
		{{Attribute: "a"}},
		{{Attribute: "a", AnyOf: []string{"x"}, Exists: &yes}},
		{{Attribute: "a", AnyOf: []string{"x"}}, {Attribute: "a", Exists: &yes}},
	}
	for _, p := range bad {
		if err := p.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("Validate(%+v) = %v, want ErrInvalid", p, err)
		}
	}
	if err := (FilterPolicy{{Attribute: "a", Exists: &yes}, {Attribute: "b", AnyOf: []string{"1"}}}).Validate(); err != nil {
		t.Errorf("valid policy refused: %v", err)
	}
}

func TestFilterPolicySNSJSON(t *testing.T) {
	no := false
	p := FilterPolicy{{Attribute: "state", AnyOf: []string{"approved", "rejected"}}, {Attribute: "flag", Exists: &no}}
	got, err := p.SNSJSON()
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"flag":[{"exists":false}],"state":["approved","rejected"]}`
	if string(got) != want {
		t.Fatalf("SNSJSON = %s, want %s", got, want)
	}
}

func TestTopologyValidate(t *testing.T) {
	ok := Topology{Topic: "t", Queues: []QueueSpec{{Name: "a", MaxReceives: 2, DeadLetter: "d"}, {Name: "d"}},
		Subscriptions: []Subscription{{Queue: "a", Filter: Equals("state", "a")}}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid topology refused: %v", err)
	}
	mutate := []func(*Topology){
		func(t *Topology) { t.Topic = "" },
		func(t *Topology) { t.Queues = nil },
		func(t *Topology) { t.Queues[1].Name = "a" },
		func(t *Topology) { t.Queues[0].DeadLetter = "" },
		func(t *Topology) { t.Queues[0].DeadLetter = "a" },
		func(t *Topology) { t.Queues[0].DeadLetter = "nope" },
		func(t *Topology) { t.Queues[0].VisibilityTimeout = -1 },
		func(t *Topology) { t.Subscriptions[0].Queue = "nope" },
		func(t *Topology) { t.Subscriptions[0].Filter = FilterPolicy{{Attribute: "x"}} },
		func(t *Topology) { t.DedupWindow = -1 },
	}
	for i, m := range mutate {
		bad := ok
		bad.Queues = append([]QueueSpec(nil), ok.Queues...)
		bad.Subscriptions = append([]Subscription(nil), ok.Subscriptions...)
		m(&bad)
		if err := bad.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("mutation %d: Validate = %v, want ErrInvalid", i, err)
		}
	}
}
