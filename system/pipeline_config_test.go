package system

import (
	"errors"
	"strings"
	"testing"
)

func TestPipelineConfigDefaults(t *testing.T) {
	c, err := PipelineConfig{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.AccountConcurrency != 1000 || c.UnreservedMin != 100 || c.MaxReceives != DefaultMaxReceives ||
		c.BatchSize != DefaultBatchSize || c.Topic != DefaultTopic || len(c.States) != 4 {
		t.Fatalf("defaults: %+v", c)
	}
	c, _ = PipelineConfig{AccountConcurrency: 20}.withDefaults()
	if c.UnreservedMin != 2 {
		t.Fatalf("unreserved minimum for an account of 20: %d, want the Lambda proportion 2", c.UnreservedMin)
	}
	tp, err := PipelineConfig{}.Topology()
	if err != nil {
		t.Fatal(err)
	}
	if len(tp.Queues) != 5 || tp.Queues[4].Name != DeadLetterQueue || len(tp.Subscriptions) != 4 {
		t.Fatalf("topology: %+v", tp)
	}
	for i, s := range tp.Subscriptions {
		st := DefaultStates[i]
		if s.Queue != st || !s.Filter.Match(Attributes{{StateAttribute, st}}) || s.Filter.Match(Attributes{{StateAttribute, "x"}}) {
			t.Fatalf("subscription %d: %+v", i, s)
		}
		if tp.Queues[i].DeadLetter != DeadLetterQueue || tp.Queues[i].MaxReceives != DefaultMaxReceives {
			t.Fatalf("queue %d: %+v", i, tp.Queues[i])
		}
	}
}

func TestPipelineConfigRefusals(t *testing.T) {
	tests := []struct {
		name string
		cfg  PipelineConfig
		msg  string
	}{
		{"reservations leave too little", PipelineConfig{Processors: []ProcessorConfig{
			{State: "pending", ReservedConcurrency: 500}, {State: "approved", ReservedConcurrency: 401}}},
			"leaves 99 unreserved, below the minimum 100"},
		{"custom minimum", PipelineConfig{AccountConcurrency: 50, UnreservedMin: 10, Processors: []ProcessorConfig{
			{State: "pending", ReservedConcurrency: 41}}}, "below the minimum 10"},
		{"negative reservation", PipelineConfig{Processors: []ProcessorConfig{{State: "pending", ReservedConcurrency: -1}}}, "must be >= 0"},
		{"unknown state", PipelineConfig{Processors: []ProcessorConfig{{State: "lost"}}}, `state "lost" is not configured`},
		{"state twice", PipelineConfig{Processors: []ProcessorConfig{{State: "pending"}, {State: "pending"}}}, "configured twice"},
		{"state named like the DLQ", PipelineConfig{States: States{"a", DeadLetterQueue}}, "dead-letter"},
		{"bad failure rate", PipelineConfig{Work: Work{FailureRate: 1.5}}, "failure rate"},
		{"bad mode", PipelineConfig{Work: Work{Mode: "nap"}}, "mode"},
		{"bad distribution", PipelineConfig{Work: Work{ServiceTime: Dist{Kind: DistExponential}}}, "exponential"},
		{"bad processor work", PipelineConfig{Processors: []ProcessorConfig{{State: "pending", Work: &Work{FailureRate: -1}}}}, "processors.pending"},
		{"minimum above the account", PipelineConfig{AccountConcurrency: 10, UnreservedMin: 11}, "unreserved minimum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cfg.withDefaults()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("withDefaults() = %v, want ErrInvalid mentioning %q", err, tt.msg)
			}
		})
	}
	ok := PipelineConfig{Processors: []ProcessorConfig{{State: "pending", ReservedConcurrency: 900}}}
	if _, err := ok.withDefaults(); err != nil {
		t.Fatalf("reserving 900 of 1000 leaves exactly the minimum 100: %v", err)
	}
}
