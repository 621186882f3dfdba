package system

import (
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestTokenBucketBurstThenRate(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	b := NewTokenBucket(10, 3, WithBucketClock(clk.now))
	for i := range 3 {
		if ok, _ := b.Allow(); !ok {
			t.Fatalf("request %d of the burst was refused", i)
		}
	}
	ok, wait := b.Allow()
	if ok {
		t.Fatal("fourth request admitted with burst 3 and no time elapsed")
	}
	if wait != 100*time.Millisecond {
		t.Fatalf("retry after = %v, want 100ms at 10 rps", wait)
	}
	clk.advance(50 * time.Millisecond)
	if ok, wait := b.Allow(); ok || wait != 50*time.Millisecond {
		t.Fatalf("after 50ms: ok=%v wait=%v, want refused with 50ms", ok, wait)
	}
	clk.advance(50 * time.Millisecond)
	if ok, _ := b.Allow(); !ok {
		t.Fatal("refused after a full token refilled")
	}
	// A long idle period refills to burst, never beyond.
	clk.advance(time.Hour)
	admitted := 0
	for range 10 {
		if ok, _ := b.Allow(); ok {
			admitted++
		}
	}
	if admitted != 3 {
		t.Fatalf("after an hour idle admitted %d, want burst 3", admitted)
	}
}

func TestTokenBucketLongRunRate(t *testing.T) {
	clk := &fakeClock{t: time.Unix(0, 0)}
	b := NewTokenBucket(100, 5, WithBucketClock(clk.now))
	admitted := 0
	// One attempt per millisecond for 10 s: 5 burst + 100/s × 10 s.
	for range 10_000 {
		if ok, _ := b.Allow(); ok {
			admitted++
		}
		clk.advance(time.Millisecond)
	}
	if admitted < 1000 || admitted > 1006 {
		t.Fatalf("admitted %d in 10s at 100 rps burst 5, want 1000..1005", admitted)
	}
}

func TestTokenBucketUnlimited(t *testing.T) {
	var nilBucket *TokenBucket
	for _, b := range []*TokenBucket{nilBucket, NewTokenBucket(0, 0)} {
		for range 1000 {
			if ok, _ := b.Allow(); !ok {
				t.Fatal("an unlimited bucket refused a request")
			}
		}
	}
}
