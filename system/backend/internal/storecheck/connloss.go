package storecheck

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/headroom/headroom/system"
	"github.com/headroom/headroom/system/backend/internal/netfault"
	"github.com/headroom/headroom/system/backend/memory"
	"github.com/headroom/headroom/system/conformance"
)

// ConnectionLoss checks that a store outlives its connections: s reaches its server (or,
// for a cache, its cache) through p, and every connection p carries is cut three times:
// after a request is created and read, in the middle of a run of creates, and before
// that first request, read again, is updated. Each write is retried until the store
// accepts it, for at most 30 s: a store must work again within seconds. A write whose
// reply was lost may have landed, so a retried Create that finds the id taken, or a
// retried Update that finds the version moved on by exactly one with its state, counts
// as accepted. At the end every accepted write must be there: nothing the store accepted
// is lost.
func ConnectionLoss(t *testing.T, p *netfault.Proxy, s system.Store) {
	c := ctx(t)
	first := must1[system.Request](t)(s.Create(c, system.Request{ID: "cut-first", State: "pending"}))
	must1[system.Request](t)(s.Get(c, first.ID)) // a cache holds it now
	cuts := p.Cut()
	if cuts == 0 {
		t.Fatal("the store had no connection through the proxy to cut")
	}
	// The later cuts find what the store has dialled since (a cache may have dialled
	// nothing for the creates, which go to the database alone).
	retry := func(what string, op func(retried bool) error) {
		t.Helper()
		start := time.Now()
		for attempt := 1; ; attempt++ {
			err := op(attempt > 1)
			if err == nil {
				return
			}
			if attempt <= 3 {
				t.Logf("%s, attempt %d: %v", what, attempt, err)
			}
			if time.Since(start) > 30*time.Second {
				t.Fatalf("%s still failing 30 s after the cut (%d attempts): %v", what, attempt, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	const n = 60
	ids := make([]string, n)
	for i := range n {
		if i == n/2 {
			cuts += p.Cut()
		}
		ids[i] = fmt.Sprint("cut-", i)
		retry("create "+ids[i], func(retried bool) error {
			_, err := s.Create(c, system.Request{ID: ids[i], State: "pending"})
			if retried && errors.Is(err, system.ErrExists) {
				return nil // the lost attempt landed
			}
			return err
		})
	}
	retry("read "+first.ID, func(bool) error { _, err := s.Get(c, first.ID); return err }) // cached again
	cuts += p.Cut()
	retry("update "+first.ID, func(retried bool) error {
		upd := first
		upd.State = "approved"
		_, err := s.Update(c, upd)
		if retried && errors.Is(err, system.ErrConflict) {
			if got, gerr := s.Get(c, first.ID); gerr == nil && got.Version == first.Version+1 && got.State == "approved" {
				return nil // the lost attempt landed
			}
		}
		return err
	})
	for _, id := range ids {
		got, err := s.Get(c, id)
		if err != nil || got.State != "pending" || got.Version != 1 {
			t.Fatalf("request %s, accepted across the cuts: %+v, %v", id, got, err)
		}
	}
	got := must1[system.Request](t)(s.Get(c, first.ID))
	if got.State != "approved" || got.Version != first.Version+1 {
		t.Fatalf("request %s, updated across a cut: state %q version %d, want approved, %d", first.ID, got.State, got.Version, first.Version+1)
	}
	t.Logf("%d connections cut", cuts)
}

// PipelineConnectionLoss runs conformance.PipelineConnectionLoss on s, reached through p,
// and the embedded bus: the store's connections are cut under a running pipeline.
func PipelineConnectionLoss(t *testing.T, p *netfault.Proxy, s system.Store) {
	bus := memory.NewBus()
	t.Cleanup(func() { _ = bus.Close() })
	conformance.PipelineConnectionLoss(t, s, bus, p.Cut)
}

// RunConnectionLoss runs ConnectionLoss and PipelineConnectionLoss as subtests, each on a
// store open opens through a proxy of its own.
func RunConnectionLoss(t *testing.T, open func(t *testing.T) (system.Store, *netfault.Proxy)) {
	t.Run("Store", func(t *testing.T) {
		s, p := open(t)
		ConnectionLoss(t, p, s)
	})
	t.Run("Pipeline", func(t *testing.T) {
		s, p := open(t)
		PipelineConnectionLoss(t, p, s)
	})
}
