package system

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestWorkStep(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []WorkMode{WorkSleep, WorkSpin} {
		step, err := NewWorkStep(Work{ServiceTime: Dist{Kind: DistConstant, Value: 3 * time.Millisecond}, Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := step(ctx, "pending", &Delivery{}); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if el := time.Since(start); el < 3*time.Millisecond {
			t.Fatalf("%s: a 3ms step took %v", mode, el)
		}
		// Cancellation cuts a long step short.
		long, _ := NewWorkStep(Work{ServiceTime: Dist{Kind: DistConstant, Value: time.Minute}, Mode: mode})
		cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		start = time.Now()
		err = long(cctx, "pending", &Delivery{})
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
			t.Fatalf("%s: cancelled step returned %v after %v", mode, err, time.Since(start))
		}
	}
	always, _ := NewWorkStep(Work{FailureRate: 1})
	never, _ := NewWorkStep(Work{})
	half, _ := NewWorkStep(Work{FailureRate: 0.5})
	fails := 0
	for i := 0; i < 4000; i++ {
		if err := always(ctx, "x", &Delivery{}); !errors.Is(err, ErrWorkFailed) {
			t.Fatalf("failure rate 1: %v", err)
		}
		if err := never(ctx, "x", &Delivery{}); err != nil {
			t.Fatalf("failure rate 0: %v", err)
		}
		if half(ctx, "x", &Delivery{}) != nil {
			fails++
		}
	}
	if fails < 1800 || fails > 2200 {
		t.Fatalf("failure rate 0.5: %d of 4000 failed", fails)
	}
}
