package memory

import (
	"context"
	"fmt"
	"testing"

	"github.com/headroom/headroom/system"
)

// Deleted requests do not stay in the paging log: once a shard's dead entries pass
// compactAbove and half its log, the log is rebuilt without them, and a cursor taken
// before the rebuild still resumes where it stopped.
func TestListLogCompactsAfterDeletes(t *testing.T) {
	ctx := context.Background()
	s := NewStore()
	const n = 20000
	for i := range n {
		if _, err := s.Create(ctx, system.Request{ID: fmt.Sprint("r", i), State: "pending"}); err != nil {
			t.Fatal(err)
		}
	}
	first, err := s.List(ctx, "", 100)
	if err != nil || len(first.Items) != 100 || first.Next == "" {
		t.Fatalf("first page: %d items, next %q, %v", len(first.Items), first.Next, err)
	}
	// Keep one request in ten.
	keep := map[string]bool{}
	for i := range n {
		id := fmt.Sprint("r", i)
		if i%10 == 0 {
			keep[id] = true
			continue
		}
		if err := s.Delete(ctx, id, -1); err != nil {
			t.Fatal(err)
		}
	}
	logLen := 0
	for i := range s.shards {
		sh := &s.shards[i]
		logLen += len(sh.log)
		if len(sh.log)-sh.dead != len(sh.m) || !indexed(sh) {
			t.Fatalf("shard %d: %d log entries, %d dead, %d requests", i, len(sh.log), sh.dead, len(sh.m))
		}
		if sh.dead >= compactAbove && 2*sh.dead > len(sh.log) {
			t.Fatalf("shard %d: %d of %d log entries dead, not compacted", i, sh.dead, len(sh.log))
		}
	}
	// 2,000 live requests; at most compactAbove-1 dead entries per shard, or as many dead as live.
	if max := 2*len(keep) + shardCount*(compactAbove-1); logLen > max || logLen < len(keep) {
		t.Fatalf("log holds %d entries for %d requests after %d deletes, want %d to %d", logLen, len(keep), n-len(keep), len(keep), max)
	}
	seen := map[string]int{}
	for _, r := range first.Items {
		if keep[r.ID] {
			seen[r.ID]++
		}
	}
	for cursor := first.Next; cursor != ""; {
		p, err := s.List(ctx, cursor, 37)
		if err != nil {
			t.Fatalf("List(%q): %v", cursor, err)
		}
		for _, r := range p.Items {
			if !keep[r.ID] {
				t.Fatalf("deleted request %s listed", r.ID)
			}
			seen[r.ID]++
		}
		cursor = p.Next
	}
	for id := range keep {
		if seen[id] != 1 {
			t.Fatalf("%s listed %d times across a compaction, want once", id, seen[id])
		}
	}
}

// indexed reports whether every live record knows its entry in the log.
func indexed(sh *shard) bool {
	for i, e := range sh.log {
		if e.rec != nil && e.rec.idx != i {
			return false
		}
	}
	return true
}
