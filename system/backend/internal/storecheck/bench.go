package storecheck

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/headroom/headroom/system"
)

// benchSeq keeps ids unique across the repeated runs the testing package makes of one
// benchmark on one store.
var benchSeq atomic.Uint64

func benchID(prefix string) string {
	return prefix + strconv.FormatUint(benchSeq.Add(1), 36)
}

// BenchCreateGet measures one Create followed by one Get of the same request, one at a
// time: the round trips of the API's POST then GET.
func BenchCreateGet(b *testing.B, s system.Store) {
	ctx := context.Background()
	payload := []byte(`{"amount":125,"currency":"EUR","note":"benchmark"}`)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := benchID("bcg-")
		if _, err := s.Create(ctx, system.Request{ID: id, State: "pending", Payload: payload}); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Get(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, "requests/s")
}

// BenchGetHot measures Get of a small set of requests read over and over, which is what a
// cache is for.
func BenchGetHot(b *testing.B, s system.Store) {
	ctx := context.Background()
	ids := make([]string, 16)
	for i := range ids {
		ids[i] = benchID("bgh-")
		if _, err := s.Create(ctx, system.Request{ID: ids[i], State: "pending"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Get(ctx, ids[i%len(ids)]); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, "gets/s")
}

// BenchPipeline measures, from parallel goroutines, the store's share of one accepted and
// processed request: Create, MarkPublished (the publish path), MarkProcessed (the effect).
func BenchPipeline(b *testing.B, s system.Store) {
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := benchID("bpp-")
			if _, err := s.Create(ctx, system.Request{ID: id, State: "pending"}); err != nil {
				b.Error(err)
				return
			}
			if err := s.MarkPublished(ctx, id, 1); err != nil {
				b.Error(err)
				return
			}
			if o, err := s.MarkProcessed(ctx, id, 1); err != nil || o != system.Applied {
				b.Errorf("mark processed %s: %v %v", id, o, err)
				return
			}
		}
	})
	reportRate(b, "requests/s")
}

func reportRate(b *testing.B, unit string) {
	if el := b.Elapsed(); el > 0 {
		b.ReportMetric(float64(b.N)/el.Seconds(), unit)
	}
}
