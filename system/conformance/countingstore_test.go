package conformance

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/headroom/headroom/system"
)

// lossyStore applies MarkProcessed as a store does, at most once per version, and fails
// the calls listed in lose: those listed as applied are applied before the reply is lost,
// the others fail without applying.
type lossyStore struct {
	system.Store
	processed map[string]int64
	calls     int
	lose      map[int]bool // call number (from 1) → applied before failing
}

func (l *lossyStore) MarkProcessed(_ context.Context, id string, version int64) (system.Outcome, error) {
	l.calls++
	applied, fails := l.lose[l.calls]
	if fails && !applied {
		return 0, errors.New("connection refused")
	}
	if l.processed[id] == version {
		return system.Duplicate, nil
	}
	l.processed[id] = version
	if fails {
		return 0, errors.New("unexpected EOF")
	}
	return system.Applied, nil
}

// An effect applied by a call whose reply was lost is counted once, when its redelivery
// finds it a duplicate; a call that failed without applying is not, and nothing is counted
// twice.
func TestCountingStoreCountsAnEffectWhoseReplyWasLost(t *testing.T) {
	ctx := context.Background()
	s := &lossyStore{processed: map[string]int64{}, lose: map[int]bool{1: true, 4: false}}
	cs := newCountingStore(s)
	mark := func(id string, v int64, want system.Outcome, wantErr bool) {
		t.Helper()
		o, err := cs.MarkProcessed(ctx, id, v)
		if (err != nil) != wantErr || err == nil && o != want {
			t.Fatalf("MarkProcessed(%s, %d) = %v, %v", id, v, o, err)
		}
	}
	mark("a", 1, 0, true)                 // applied, reply lost
	mark("a", 1, system.Duplicate, false) // the redelivery: counted as the application
	mark("a", 1, system.Duplicate, false) // a later one is a duplicate indeed
	mark("b", 1, 0, true)                 // failed without applying
	mark("b", 1, system.Applied, false)
	mark("b", 1, system.Duplicate, false)
	mark("a", 2, system.Applied, false)
	for key, want := range map[string]int{"a@1": 1, "a@2": 1, "b@1": 1} {
		if got := cs.appliedCount(key); got != want {
			t.Errorf("%s applied %d times, want %d", key, got, want)
		}
	}
	if !slices.Equal(cs.order["a"], []int64{1, 2}) || !slices.Equal(cs.order["b"], []int64{1}) {
		t.Errorf("order %v, want a: [1 2], b: [1]", cs.order)
	}
}
