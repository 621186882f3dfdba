package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroom/headroom/system"
)

// StoreFactory returns a fresh, empty store for one test; the factory registers its
// cleanup with t.Cleanup. A store that cannot be opened must fail the test, not skip it.
type StoreFactory func(t *testing.T) system.Store

// RunStoreSuite runs the store conformance tests.
func RunStoreSuite(t *testing.T, newStore StoreFactory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s system.Store)
	}{
		{"CreateGet", testCreateGet},
		{"CreateExists", testCreateExists},
		{"Update", testUpdate},
		{"Delete", testDelete},
		{"ConcurrentUpdatesLoseNothing", testConcurrentUpdates},
		{"ListPagination", testListPagination},
		{"ListWithDeletes", testListWithDeletes},
		{"MarkProcessed", testMarkProcessed},
		{"MarkProcessedConcurrent", testMarkProcessedConcurrent},
		{"Outbox", testOutbox},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}
}

// timeSlack absorbs backends that keep microseconds (PostgreSQL, MySQL DATETIME(6)).
const timeSlack = time.Millisecond

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func sameTime(a, b time.Time) bool {
	d := a.Sub(b)
	return d < timeSlack && d > -timeSlack
}

func jsonEqual(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func mustCreate(t *testing.T, s system.Store, r system.Request) system.Request {
	t.Helper()
	got, err := s.Create(ctxFor(t), r)
	if err != nil {
		t.Fatalf("Create(%s): %v", r.ID, err)
	}
	return got
}

func testCreateGet(t *testing.T, s system.Store) {
	ctx := ctxFor(t)
	id := unique(t, "r")
	created := time.Now().Add(-time.Minute).UTC().Truncate(time.Microsecond)
	in := system.Request{ID: id, State: "pending", Payload: json.RawMessage(`{"amount": 3, "note": "ü"}`),
		CreatedAt: created, Version: 99, ProcessedVersion: 7}
	got := mustCreate(t, s, in)
	if got.ID != id || got.State != "pending" || got.Version != 1 || got.ProcessedVersion != 0 {
		t.Fatalf("Create returned %+v, want id %s, state pending, version 1, processed 0", got, id)
	}
	if !jsonEqual(got.Payload, in.Payload) {
		t.Fatalf("Create payload %s, want %s", got.Payload, in.Payload)
	}
	if !sameTime(got.CreatedAt, created) || !sameTime(got.UpdatedAt, created) {
		t.Fatalf("Create times %v/%v, want both %v (given CreatedAt, zero UpdatedAt)", got.CreatedAt, got.UpdatedAt, created)
	}
	read, err := s.Get(ctx, id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	if read.ID != id || read.State != "pending" || read.Version != 1 || !jsonEqual(read.Payload, in.Payload) ||
		!sameTime(read.CreatedAt, created) || !sameTime(read.UpdatedAt, created) {
		t.Fatalf("Get returned %+v, want what Create returned %+v", read, got)
	}

	// A zero CreatedAt is set to now; no payload stays no payload.
	before := time.Now()
	bare := mustCreate(t, s, system.Request{ID: unique(t, "bare"), State: "approved"})
	if bare.CreatedAt.Before(before.Add(-time.Second)) || bare.CreatedAt.After(time.Now().Add(time.Second)) {
		t.Fatalf("Create with zero CreatedAt set %v, want about now (%v)", bare.CreatedAt, before)
	}
	if r, err := s.Get(ctx, bare.ID); err != nil || len(r.Payload) != 0 && string(r.Payload) != "null" {
		t.Fatalf("Get(no payload) = %+v, %v; want an empty payload", r, err)
	}

	if _, err := s.Get(ctx, unique(t, "missing")); !errors.Is(err, system.ErrNotFound) {
		t.Fatalf("Get(missing) error %v, want ErrNotFound", err)
	}
}

func testCreateExists(t *testing.T, s system.Store) {
	id := unique(t, "dup")
	mustCreate(t, s, system.Request{ID: id, State: "pending", Payload: json.RawMessage(`1`)})
	_, err := s.Create(ctxFor(t), system.Request{ID: id, State: "approved", Payload: json.RawMessage(`2`)})
	if !errors.Is(err, system.ErrExists) {
		t.Fatalf("second Create(%s) error %v, want ErrExists", id, err)
	}
	got, err := s.Get(ctxFor(t), id)
	if err != nil || got.State != "pending" || got.Version != 1 || string(got.Payload) != "1" {
		t.Fatalf("after a refused Create: %+v, %v; want the first request unchanged", got, err)
	}
}

func testUpdate(t *testing.T, s system.Store) {
	ctx := ctxFor(t)
	id := unique(t, "upd")
	v1 := mustCreate(t, s, system.Request{ID: id, State: "pending", Payload: json.RawMessage(`{"a":1}`)})
	v2, err := s.Update(ctx, system.Request{ID: id, State: "approved", Payload: json.RawMessage(`{"a":2}`), Version: 1})
	if err != nil {
		t.Fatalf("Update v1: %v", err)
	}
	if v2.Version != 2 || v2.State != "approved" || !jsonEqual(v2.Payload, json.RawMessage(`{"a":2}`)) ||
		!sameTime(v2.CreatedAt, v1.CreatedAt) || v2.UpdatedAt.Before(v1.UpdatedAt.Add(-timeSlack)) {
		t.Fatalf("Update returned %+v, want version 2, state approved, payload {a:2}, created %v kept", v2, v1.CreatedAt)
	}
	// A stale version conflicts and changes nothing.
	_, err = s.Update(ctx, system.Request{ID: id, State: "rejected", Version: 1})
	if !errors.Is(err, system.ErrConflict) {
		t.Fatalf("Update with stale version 1: error %v, want ErrConflict", err)
	}
	_, err = s.Update(ctx, system.Request{ID: id, State: "rejected", Version: 3})
	if !errors.Is(err, system.ErrConflict) {
		t.Fatalf("Update with future version 3: error %v, want ErrConflict", err)
	}
	got, err := s.Get(ctx, id)
	if err != nil || got.Version != 2 || got.State != "approved" {
		t.Fatalf("after conflicts: %+v, %v; want version 2 approved", got, err)
	}
	// An explicit UpdatedAt is kept.
	at := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	v3, err := s.Update(ctx, system.Request{ID: id, State: "cancelled", Version: 2, UpdatedAt: at})
	if err != nil || v3.Version != 3 || !sameTime(v3.UpdatedAt, at) || len(v3.Payload) != 0 && string(v3.Payload) != "null" {
		t.Fatalf("Update v2 with UpdatedAt: %+v, %v; want version 3, updated %v, payload cleared", v3, err, at)
	}
	if _, err := s.Update(ctx, system.Request{ID: unique(t, "nope"), State: "pending", Version: 1}); !errors.Is(err, system.ErrNotFound) {
		t.Fatalf("Update(missing) error %v, want ErrNotFound", err)
	}
}

func testDelete(t *testing.T, s system.Store) {
	ctx := ctxFor(t)
	id := unique(t, "del")
	mustCreate(t, s, system.Request{ID: id, State: "pending"})
	if _, err := s.Update(ctx, system.Request{ID: id, State: "approved", Version: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, id, 1); !errors.Is(err, system.ErrConflict) {
		t.Fatalf("Delete with stale version: %v, want ErrConflict", err)
	}
	if err := s.Delete(ctx, id, 2); err != nil {
		t.Fatalf("Delete with current version: %v", err)
	}
	if _, err := s.Get(ctx, id); !errors.Is(err, system.ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, id, -1); !errors.Is(err, system.ErrNotFound) {
		t.Fatalf("Delete twice: %v, want ErrNotFound", err)
	}
	any := unique(t, "any")
	mustCreate(t, s, system.Request{ID: any, State: "pending"})
	if err := s.Delete(ctx, any, -1); err != nil {
		t.Fatalf("Delete with version -1 (any): %v", err)
	}
	// The id is free again.
	if got := mustCreate(t, s, system.Request{ID: id, State: "rejected"}); got.Version != 1 {
		t.Fatalf("re-Create after Delete: version %d, want 1", got.Version)
	}
}

// testConcurrentUpdates: writers race read-modify-write cycles on one request; optimistic
// concurrency must make every successful update a distinct version, with none lost.
func testConcurrentUpdates(t *testing.T, s system.Store) {
	ctx := ctxFor(t)
	id := unique(t, "race")
	mustCreate(t, s, system.Request{ID: id, State: "pending", Payload: json.RawMessage(`0`)})
	const writers, each = 8, 25
	var (
		mu        sync.Mutex
		versions  = map[int64]int{}
		wg        sync.WaitGroup
		conflicts atomic.Int64
	)
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < each; {
				cur, err := s.Get(ctx, id)
				if err != nil {
					errs <- err
					return
				}
				var n int
				_ = json.Unmarshal(cur.Payload, &n)
				next, err := s.Update(ctx, system.Request{ID: id, State: "approved", Version: cur.Version,
					Payload: json.RawMessage(fmt.Sprint(n + 1))})
				if errors.Is(err, system.ErrConflict) {
					conflicts.Add(1)
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				versions[next.Version]++
				mu.Unlock()
				done++
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent update: %v", err)
	}
	final, err := s.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	_ = json.Unmarshal(final.Payload, &n)
	if final.Version != 1+writers*each || n != writers*each {
		t.Fatalf("after %d updates: version %d counter %d, want version %d counter %d (lost updates)",
			writers*each, final.Version, n, 1+writers*each, writers*each)
	}
	for v := int64(2); v <= final.Version; v++ {
		if versions[v] != 1 {
			t.Fatalf("version %d returned to %d writers, want exactly 1", v, versions[v])
		}
	}
	t.Logf("%d updates, %d conflicts retried", writers*each, conflicts.Load())
}

// listAll pages through the store and returns the ids seen (with repeats) and the pages.
func listAll(t *testing.T, s system.Store, limit int, during func(page int)) ([]string, int) {
	t.Helper()
	ctx := ctxFor(t)
	var ids []string
	cursor, pages := "", 0
	for {
		p, err := s.List(ctx, cursor, limit)
		if err != nil {
			t.Fatalf("List(%q, %d): %v", cursor, limit, err)
		}
		if limit > 0 && len(p.Items) > limit {
			t.Fatalf("List returned %d items, limit %d", len(p.Items), limit)
		}
		for _, r := range p.Items {
			ids = append(ids, r.ID)
			if r.Version < 1 || r.State == "" {
				t.Fatalf("List item %+v: missing version or state", r)
			}
		}
		pages++
		if during != nil {
			during(pages)
		}
		if p.Next == "" {
			return ids, pages
		}
		if pages > 10000 {
			t.Fatalf("List did not end after %d pages", pages)
		}
		cursor = p.Next
	}
}

func testListPagination(t *testing.T, s system.Store) {
	const n = 123
	want := map[string]bool{}
	for i := 0; i < n; i++ {
		id := unique(t, fmt.Sprint("p", i))
		mustCreate(t, s, system.Request{ID: id, State: "pending"})
		want[id] = true
	}
	for _, limit := range []int{1, 7, 50, 1000, 0} {
		ids, pages := listAll(t, s, limit, nil)
		seen := map[string]int{}
		for _, id := range ids {
			seen[id]++
		}
		for id := range want {
			if seen[id] != 1 {
				t.Fatalf("limit %d: %s listed %d times, want once", limit, id, seen[id])
			}
		}
		if len(seen) != len(want) {
			t.Fatalf("limit %d: %d distinct ids listed, want %d", limit, len(seen), len(want))
		}
		if limit > 0 && limit < n && pages < (n+limit-1)/limit {
			t.Fatalf("limit %d: %d pages for %d items", limit, pages, n)
		}
	}
	if _, err := s.List(ctxFor(t), "!!not-a-cursor!!", 10); err == nil {
		t.Fatalf("List with a garbage cursor succeeded, want an error")
	}
}

// testListWithDeletes: requests deleted and created during a walk may or may not appear,
// but every request present for the whole walk appears exactly once.
func testListWithDeletes(t *testing.T, s system.Store) {
	ctx := ctxFor(t)
	var stable, doomed []string
	for i := 0; i < 60; i++ {
		id := unique(t, fmt.Sprint("w", i))
		mustCreate(t, s, system.Request{ID: id, State: "pending"})
		if i%3 == 0 {
			doomed = append(doomed, id)
		} else {
			stable = append(stable, id)
		}
	}
	ids, _ := listAll(t, s, 8, func(page int) {
		if page == 2 {
			for _, id := range doomed {
				if err := s.Delete(ctx, id, -1); err != nil {
					t.Fatalf("Delete during List: %v", err)
				}
			}
			for i := 0; i < 10; i++ {
				mustCreate(t, s, system.Request{ID: unique(t, "new"), State: "approved"})
			}
		}
	})
	seen := map[string]int{}
	for _, id := range ids {
		seen[id]++
	}
	for _, id := range stable {
		if seen[id] != 1 {
			t.Fatalf("%s (present throughout) listed %d times, want once", id, seen[id])
		}
	}
	for id, c := range seen {
		if c > 1 {
			t.Fatalf("%s listed %d times", id, c)
		}
	}
}

func testMarkProcessed(t *testing.T, s system.Store) {
	ctx := ctxFor(t)
	id := unique(t, "fx")
	mustCreate(t, s, system.Request{ID: id, State: "pending"})
	check := func(version int64, want system.Outcome) {
		t.Helper()
		got, err := s.MarkProcessed(ctx, id, version)
		if err != nil || got != want {
			t.Fatalf("MarkProcessed(%s, v%d) = %v, %v; want %v", id, version, got, err, want)
		}
	}
	check(1, system.Applied)
	check(1, system.Duplicate)
	if r, _ := s.Get(ctx, id); r.ProcessedVersion != 1 || r.Version != 1 {
		t.Fatalf("after the effect: processed %d version %d, want 1 and 1 (the effect does not bump the version)",
			r.ProcessedVersion, r.Version)
	}
	// The effect never conflicts with an administrator's update, and survives it.
	v2, err := s.Update(ctx, system.Request{ID: id, State: "approved", Version: 1})
	if err != nil || v2.ProcessedVersion != 1 {
		t.Fatalf("Update after the effect: %+v, %v; want processed version 1 kept", v2, err)
	}
	v3, err := s.Update(ctx, system.Request{ID: id, State: "rejected", Version: 2})
	if err != nil {
		t.Fatal(err)
	}
	check(2, system.Superseded) // v2's message arrives after v3 was written
	check(3, system.Applied)
	check(2, system.Superseded) // and after v3 was processed
	check(3, system.Duplicate)
	if r, _ := s.Get(ctx, id); r.ProcessedVersion != 3 || r.Version != v3.Version {
		t.Fatalf("final: processed %d version %d, want 3 and 3", r.ProcessedVersion, r.Version)
	}
	if err := s.Delete(ctx, id, -1); err != nil {
		t.Fatal(err)
	}
	check(3, system.Gone)
	if got, err := s.MarkProcessed(ctx, unique(t, "never"), 1); err != nil || got != system.Gone {
		t.Fatalf("MarkProcessed(never created) = %v, %v; want gone", got, err)
	}
}

// testMarkProcessedConcurrent: redeliveries racing each other apply the effect once.
func testMarkProcessedConcurrent(t *testing.T, s system.Store) {
	ctx := ctxFor(t)
	const requests, racers = 20, 8
	for i := 0; i < requests; i++ {
		id := unique(t, fmt.Sprint("cx", i))
		mustCreate(t, s, system.Request{ID: id, State: "pending"})
		var applied, other atomic.Int64
		var wg sync.WaitGroup
		for r := 0; r < racers; r++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				o, err := s.MarkProcessed(ctx, id, 1)
				switch {
				case err != nil:
					t.Errorf("MarkProcessed: %v", err)
				case o == system.Applied:
					applied.Add(1)
				case o == system.Duplicate:
					other.Add(1)
				default:
					t.Errorf("MarkProcessed racing on v1: %v, want applied or duplicate", o)
				}
			}()
		}
		wg.Wait()
		if applied.Load() != 1 || other.Load() != racers-1 {
			t.Fatalf("%d racers: %d applied, %d duplicate; want exactly 1 applied", racers, applied.Load(), other.Load())
		}
	}
}

func testOutbox(t *testing.T, s system.Store) {
	ctx := ctxFor(t)
	far := time.Now().Add(time.Hour)
	pendingOf := func() map[string]int64 {
		t.Helper()
		rs, err := s.Unpublished(ctx, far, 10000)
		if err != nil {
			t.Fatalf("Unpublished: %v", err)
		}
		m := map[string]int64{}
		for _, r := range rs {
			m[r.ID] = r.Version
		}
		return m
	}
	a, b := unique(t, "oa"), unique(t, "ob")
	ra := mustCreate(t, s, system.Request{ID: a, State: "pending"})
	mustCreate(t, s, system.Request{ID: b, State: "approved"})
	if p := pendingOf(); p[a] != 1 || p[b] != 1 {
		t.Fatalf("after two creates, unpublished %v; want %s and %s at version 1", p, a, b)
	}
	// The grace period: nothing written after olderThan is returned.
	if rs, err := s.Unpublished(ctx, ra.CreatedAt.Add(-time.Minute), 10000); err != nil {
		t.Fatal(err)
	} else {
		for _, r := range rs {
			if r.ID == a || r.ID == b {
				t.Fatalf("Unpublished(olderThan before the write) returned %s", r.ID)
			}
		}
	}
	if err := s.MarkPublished(ctx, a, 1); err != nil {
		t.Fatal(err)
	}
	if p := pendingOf(); p[a] != 0 || p[b] != 1 {
		t.Fatalf("after publishing %s: unpublished %v", a, p)
	}
	if _, err := s.Update(ctx, system.Request{ID: a, State: "approved", Version: 1}); err != nil {
		t.Fatal(err)
	}
	if p := pendingOf(); p[a] != 2 {
		t.Fatalf("after updating %s: unpublished %v, want it at version 2", a, p)
	}
	// Marking an older version leaves the newer one pending.
	if err := s.MarkPublished(ctx, a, 1); err != nil {
		t.Fatal(err)
	}
	if p := pendingOf(); p[a] != 2 {
		t.Fatalf("after marking the stale version 1: unpublished %v, want %s still at 2", p, a)
	}
	if err := s.MarkPublished(ctx, a, 2); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, b, -1); err != nil {
		t.Fatal(err)
	}
	if p := pendingOf(); p[a] != 0 || p[b] != 0 {
		t.Fatalf("after publishing %s v2 and deleting %s: unpublished %v, want neither", a, b, p)
	}
	if err := s.MarkPublished(ctx, b, 1); err != nil {
		t.Fatalf("MarkPublished of a deleted request must be a no-op, got %v", err)
	}
	// The limit is respected.
	for i := 0; i < 5; i++ {
		mustCreate(t, s, system.Request{ID: unique(t, fmt.Sprint("ol", i)), State: "pending"})
	}
	if rs, err := s.Unpublished(ctx, far, 3); err != nil || len(rs) != 3 {
		t.Fatalf("Unpublished(limit 3) returned %d, %v; want 3", len(rs), err)
	}
}
