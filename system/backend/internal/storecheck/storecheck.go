package storecheck

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/headroom/headroom/system"
)

// Open returns a fresh, empty store for one test; it registers its own cleanup.
type Open func(t *testing.T) system.Store

// Run runs every check, each on its own store.
func Run(t *testing.T, open Open) {
	t.Run("RoundTrip", func(t *testing.T) { RoundTrip(t, open(t)) })
	t.Run("Conditional", func(t *testing.T) { Conditional(t, open(t)) })
	t.Run("IDsAreCaseSensitive", func(t *testing.T) { IDsAreCaseSensitive(t, open(t)) })
	t.Run("RacingUpdates", func(t *testing.T) { RacingUpdates(t, open(t)) })
	t.Run("MarkProcessed", func(t *testing.T) { MarkProcessed(t, open(t)) })
	t.Run("RacingMarkProcessed", func(t *testing.T) { RacingMarkProcessed(t, open(t)) })
	t.Run("ListUnderWrites", func(t *testing.T) { ListUnderWrites(t, open(t)) })
	t.Run("Outbox", func(t *testing.T) { Outbox(t, open(t)) })
	t.Run("Closed", func(t *testing.T) { Closed(t, open(t)) })
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// must1 turns a (value, error) pair into the value, failing the test on an error; Go
// passes a call's results straight through only to a function taking exactly them, hence
// the curried form: must1[system.Request](t)(s.Get(ctx, id)).
func must1[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want one wrapping %q", what, err, target)
	}
}

// sameRequest compares two requests field by field, times with Equal (a database hands
// back its own location).
func sameRequest(t *testing.T, what string, got, want system.Request) {
	t.Helper()
	if got.ID != want.ID || got.State != want.State || string(got.Payload) != string(want.Payload) ||
		got.Version != want.Version || got.ProcessedVersion != want.ProcessedVersion ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Fatalf("%s:\n got %+v (payload %q)\nwant %+v (payload %q)", what, got, got.Payload, want, want.Payload)
	}
}

// RoundTrip: what Create and Update return is exactly what Get reads back, including a
// payload whose white space and key order a JSON column type would rewrite, an absent
// payload, and times at nanosecond resolution (which the store may round, but then it
// must return the rounded value).
func RoundTrip(t *testing.T, s system.Store) {
	c := ctx(t)
	payload := []byte(`{"z": 1,   "a": [1, 2.50, "é"],"b":null}`)
	at := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.FixedZone("X", 3600))
	created := must1[system.Request](t)(s.Create(c, system.Request{ID: "rt-1", State: "pending", Payload: payload, CreatedAt: at}))
	if created.Version != 1 || created.ProcessedVersion != 0 {
		t.Fatalf("create: version %d processed %d, want 1 and 0", created.Version, created.ProcessedVersion)
	}
	if d := created.CreatedAt.Sub(at); d > time.Millisecond || d < -time.Millisecond {
		t.Fatalf("create: created at %v, gave %v", created.CreatedAt, at)
	}
	if !created.UpdatedAt.Equal(created.CreatedAt) {
		t.Fatalf("create: updated at %v, want the created time %v", created.UpdatedAt, created.CreatedAt)
	}
	sameRequest(t, "get after create", must1[system.Request](t)(s.Get(c, "rt-1")), created)

	bare := must1[system.Request](t)(s.Create(c, system.Request{ID: "rt-2", State: "approved"}))
	if bare.CreatedAt.IsZero() || time.Since(bare.CreatedAt) > time.Minute {
		t.Fatalf("create without times: created at %v, want now", bare.CreatedAt)
	}
	got := must1[system.Request](t)(s.Get(c, "rt-2"))
	if len(got.Payload) != 0 {
		t.Fatalf("get: payload %q, want none", got.Payload)
	}
	sameRequest(t, "get of a request without payload", got, bare)

	upd := created
	upd.State, upd.Payload, upd.UpdatedAt = "approved", []byte(`[ 3 ]`), time.Time{}
	updated := must1[system.Request](t)(s.Update(c, upd))
	if updated.Version != 2 || !updated.CreatedAt.Equal(created.CreatedAt) || updated.UpdatedAt.Before(created.UpdatedAt) {
		t.Fatalf("update: got %+v after %+v", updated, created)
	}
	sameRequest(t, "get after update", must1[system.Request](t)(s.Get(c, "rt-1")), updated)
}

// Conditional: every conditional write tells a missing request from a stale version.
func Conditional(t *testing.T, s system.Store) {
	c := ctx(t)
	r := must1[system.Request](t)(s.Create(c, system.Request{ID: "c-1", State: "pending"}))
	_, err := s.Create(c, system.Request{ID: "c-1", State: "approved"})
	wantErr(t, "create of a taken id", err, system.ErrExists)
	_, err = s.Create(c, system.Request{State: "approved"})
	wantErr(t, "create without id", err, system.ErrInvalid)

	stale := r
	stale.Version = 7
	_, err = s.Update(c, stale)
	wantErr(t, "update at a wrong version", err, system.ErrConflict)
	_, err = s.Update(c, system.Request{ID: "c-none", State: "pending", Version: 1})
	wantErr(t, "update of a missing request", err, system.ErrNotFound)

	wantErr(t, "delete at a wrong version", s.Delete(c, "c-1", 2), system.ErrConflict)
	wantErr(t, "delete of a missing request", s.Delete(c, "c-none", 1), system.ErrNotFound)
	wantErr(t, "delete any version of a missing request", s.Delete(c, "c-none", -1), system.ErrNotFound)
	if err := s.Delete(c, "c-1", 1); err != nil {
		t.Fatalf("delete at the current version: %v", err)
	}
	_, err = s.Get(c, "c-1")
	wantErr(t, "get after delete", err, system.ErrNotFound)

	must1[system.Request](t)(s.Create(c, system.Request{ID: "c-1", State: "pending"}))
	r2 := must1[system.Request](t)(s.Update(c, system.Request{ID: "c-1", State: "approved", Version: 1}))
	if err := s.Delete(c, "c-1", -1); err != nil {
		t.Fatalf("delete any version (current %d): %v", r2.Version, err)
	}
	_, err = s.Get(c, "c-1")
	wantErr(t, "get after delete of any version", err, system.ErrNotFound)
}

// IDsAreCaseSensitive: ids differing only in case are different requests, and List
// orders ids by bytes. A case-insensitive collation (MySQL's default) breaks both.
func IDsAreCaseSensitive(t *testing.T, s system.Store) {
	c := ctx(t)
	ids := []string{"Case", "case", "CASE", "cAse"}
	for i, id := range ids {
		must1[system.Request](t)(s.Create(c, system.Request{ID: id, State: fmt.Sprint("s", i)}))
	}
	for i, id := range ids {
		if got := must1[system.Request](t)(s.Get(c, id)); got.ID != id || got.State != fmt.Sprint("s", i) {
			t.Fatalf("get %q: got id %q state %q, want state s%d", id, got.ID, got.State, i)
		}
	}
	seen := map[string]bool{}
	for _, r := range listAll(t, s, 3) {
		if seen[r.ID] {
			t.Fatalf("list: %q twice", r.ID)
		}
		seen[r.ID] = true
	}
	if len(seen) != len(ids) {
		t.Fatalf("list: %d requests, want %d", len(seen), len(ids))
	}
}

func listAll(t *testing.T, s system.Store, limit int) []system.Request {
	t.Helper()
	var all []system.Request
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 100000 {
			t.Fatal("list: the walk does not end")
		}
		p := must1[system.Page](t)(s.List(ctx(t), cursor, limit))
		if len(p.Items) > limit {
			t.Fatalf("list: page of %d, limit %d", len(p.Items), limit)
		}
		all = append(all, p.Items...)
		if p.Next == "" {
			return all
		}
		cursor = p.Next
	}
}

// RacingUpdates: many writers update one request at the version they read; exactly one
// wins each round, the others see a conflict, and the version counts the winners.
func RacingUpdates(t *testing.T, s system.Store) {
	c := ctx(t)
	must1[system.Request](t)(s.Create(c, system.Request{ID: "race", State: "pending"}))
	const writers, rounds = 8, 5
	for round := 1; round <= rounds; round++ {
		var wg sync.WaitGroup
		var mu sync.Mutex
		won, lost := 0, 0
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Update(c, system.Request{ID: "race", State: fmt.Sprint("w", w), Version: int64(round)})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case errors.Is(err, system.ErrConflict):
					lost++
				default:
					t.Errorf("round %d writer %d: %v", round, w, err)
				}
			}()
		}
		wg.Wait()
		if won != 1 || lost != writers-1 {
			t.Fatalf("round %d: %d updates won and %d conflicted, want 1 and %d", round, won, lost, writers-1)
		}
	}
	if got := must1[system.Request](t)(s.Get(c, "race")); got.Version != rounds+1 {
		t.Fatalf("version %d after %d rounds, want %d", got.Version, rounds, rounds+1)
	}
}

// MarkProcessed: each outcome, and that the effect changes neither version nor updated
// time (so it never conflicts with an administrator's update).
func MarkProcessed(t *testing.T, s system.Store) {
	c := ctx(t)
	r := must1[system.Request](t)(s.Create(c, system.Request{ID: "mp", State: "pending"}))
	steps := []struct {
		what    string
		version int64
		want    system.Outcome
	}{
		{"first", 1, system.Applied},
		{"redelivery", 1, system.Duplicate},
		{"a version not reached", 3, system.Superseded},
	}
	for _, st := range steps {
		if got := must1[system.Outcome](t)(s.MarkProcessed(c, "mp", st.version)); got != st.want {
			t.Fatalf("%s (version %d): %v, want %v", st.what, st.version, got, st.want)
		}
	}
	got := must1[system.Request](t)(s.Get(c, "mp"))
	if got.ProcessedVersion != 1 || got.Version != 1 || !got.UpdatedAt.Equal(r.UpdatedAt) {
		t.Fatalf("after the effect: %+v, want processed 1, version 1, updated at %v", got, r.UpdatedAt)
	}
	r2 := must1[system.Request](t)(s.Update(c, system.Request{ID: "mp", State: "approved", Version: 1}))
	if r2.ProcessedVersion != 1 {
		t.Fatalf("update: processed version %d, want it kept at 1", r2.ProcessedVersion)
	}
	must1[system.Request](t)(s.Update(c, system.Request{ID: "mp", State: "rejected", Version: 2}))
	if got := must1[system.Outcome](t)(s.MarkProcessed(c, "mp", 2)); got != system.Superseded {
		t.Fatalf("stale version 2 of 3: %v, want superseded", got)
	}
	if got := must1[system.Outcome](t)(s.MarkProcessed(c, "mp", 3)); got != system.Applied {
		t.Fatalf("current version 3: %v, want applied", got)
	}
	if got := must1[system.Outcome](t)(s.MarkProcessed(c, "mp", 1)); got != system.Superseded {
		t.Fatalf("version 1 after 3 was processed: %v, want superseded", got)
	}
	if err := s.Delete(c, "mp", -1); err != nil {
		t.Fatal(err)
	}
	if got := must1[system.Outcome](t)(s.MarkProcessed(c, "mp", 3)); got != system.Gone {
		t.Fatalf("after delete: %v, want gone", got)
	}
}

// RacingMarkProcessed: the same message delivered to many processors at once is applied
// exactly once.
func RacingMarkProcessed(t *testing.T, s system.Store) {
	c := ctx(t)
	const ids, workers = 20, 6
	for i := 0; i < ids; i++ {
		must1[system.Request](t)(s.Create(c, system.Request{ID: fmt.Sprint("rmp-", i), State: "pending"}))
	}
	var mu sync.Mutex
	applied := map[string]int{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < ids; i++ {
				id := fmt.Sprint("rmp-", (i+w)%ids)
				o, err := s.MarkProcessed(c, id, 1)
				if err != nil {
					t.Error(err)
					return
				}
				if o != system.Applied && o != system.Duplicate {
					t.Errorf("%s: %v, want applied or duplicate", id, o)
				}
				mu.Lock()
				if o == system.Applied {
					applied[id]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for i := 0; i < ids; i++ {
		if n := applied[fmt.Sprint("rmp-", i)]; n != 1 {
			t.Fatalf("rmp-%d applied %d times, want once", i, n)
		}
	}
}

// ListUnderWrites: while other requests are created and deleted, a paged walk returns
// every request that existed for the whole walk exactly once.
func ListUnderWrites(t *testing.T, s system.Store) {
	c := ctx(t)
	const stable = 120
	for i := 0; i < stable; i++ {
		must1[system.Request](t)(s.Create(c, system.Request{ID: fmt.Sprintf("st-%03d", i), State: "pending"}))
	}
	stop := make(chan struct{})
	done := make(chan error)
	go func() {
		// Churn ids that sort before, between and after the stable ones.
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			for _, p := range []string{"a", "st-05", "zz"} {
				id := fmt.Sprintf("%s-churn-%d", p, i)
				if _, err := s.Create(c, system.Request{ID: id, State: "pending"}); err != nil {
					done <- err
					return
				}
				if i%2 == 0 {
					if err := s.Delete(c, id, -1); err != nil {
						done <- err
						return
					}
				}
			}
		}
	}()
	walk := listAll(t, s, 7)
	close(stop)
	if err := <-done; err != nil {
		t.Fatalf("churn: %v", err)
	}
	seen := map[string]int{}
	for _, r := range walk {
		seen[r.ID]++
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("list: %s returned %d times", id, n)
		}
	}
	for i := 0; i < stable; i++ {
		if id := fmt.Sprintf("st-%03d", i); seen[id] != 1 {
			t.Fatalf("list: %s, which existed for the whole walk, returned %d times", id, seen[id])
		}
	}
}

// Outbox: a write is unpublished until its version is marked published; the grace period
// hides fresh writes; marking an older version or a gone request changes nothing.
func Outbox(t *testing.T, s system.Store) {
	c := ctx(t)
	old := time.Now().Add(-time.Hour)
	must1[system.Request](t)(s.Create(c, system.Request{ID: "ob-1", State: "pending", CreatedAt: old}))
	must1[system.Request](t)(s.Create(c, system.Request{ID: "ob-2", State: "pending", CreatedAt: old.Add(time.Minute)}))
	must1[system.Request](t)(s.Create(c, system.Request{ID: "ob-fresh", State: "pending"}))
	pending := func(olderThan time.Time) map[string]int64 {
		t.Helper()
		rs := must1[[]system.Request](t)(s.Unpublished(c, olderThan, 100))
		m := map[string]int64{}
		for _, r := range rs {
			m[r.ID] = r.Version
		}
		return m
	}
	grace := time.Now().Add(-10 * time.Minute)
	if got := pending(grace); len(got) != 2 || got["ob-1"] != 1 || got["ob-2"] != 1 {
		t.Fatalf("unpublished before %v: %v, want ob-1 and ob-2 at version 1", grace, got)
	}
	if got := pending(time.Now().Add(time.Minute)); len(got) != 3 {
		t.Fatalf("unpublished with no grace: %v, want 3", got)
	}
	if got := must1[[]system.Request](t)(s.Unpublished(c, grace, 1)); len(got) != 1 {
		t.Fatalf("unpublished limit 1: %d requests", len(got))
	}
	if err := s.MarkPublished(c, "ob-1", 1); err != nil {
		t.Fatal(err)
	}
	if got := pending(grace); len(got) != 1 || got["ob-2"] != 1 {
		t.Fatalf("after publishing ob-1: %v, want only ob-2", got)
	}
	must1[system.Request](t)(s.Update(c, system.Request{ID: "ob-1", State: "approved", Version: 1, UpdatedAt: old}))
	if got := pending(grace); got["ob-1"] != 2 {
		t.Fatalf("after updating ob-1: %v, want ob-1 at version 2", got)
	}
	if err := s.MarkPublished(c, "ob-1", 1); err != nil {
		t.Fatal(err)
	}
	if got := pending(grace); got["ob-1"] != 2 {
		t.Fatalf("publishing the older version 1 must not clear version 2: %v", got)
	}
	if err := s.MarkPublished(c, "ob-1", 2); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkPublished(c, "ob-gone", 1); err != nil {
		t.Fatalf("mark published of a missing request: %v, want a no-op", err)
	}
	if err := s.Delete(c, "ob-2", -1); err != nil {
		t.Fatal(err)
	}
	if got := pending(grace); len(got) != 0 {
		t.Fatalf("after publishing and deleting: %v, want none", got)
	}
}

// Closed: after Close every call fails with ErrClosed.
func Closed(t *testing.T, s system.Store) {
	c := ctx(t)
	closer, ok := s.(io.Closer)
	if !ok {
		t.Fatalf("%T does not implement io.Closer", s)
	}
	if err := closer.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := s.Get(c, "x")
	wantErr(t, "get after close", err, system.ErrClosed)
	_, err = s.Create(c, system.Request{ID: "x", State: "pending"})
	wantErr(t, "create after close", err, system.ErrClosed)
	_, err = s.MarkProcessed(c, "x", 1)
	wantErr(t, "mark processed after close", err, system.ErrClosed)
	if err := closer.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}
