package system

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// WorkMode says how a processing step spends its service time.
type WorkMode string

const (
	// WorkSleep waits: the step holds a concurrency slot but no CPU, like a function
	// waiting on a downstream call. The default.
	WorkSleep WorkMode = "sleep"
	// WorkSpin burns CPU for the service time, like a compute-bound function; on a small
	// machine this caps throughput at cores / mean service time.
	WorkSpin WorkMode = "spin"
)

// Work is the configurable processing step: a service time drawn per message, spent
// sleeping or spinning, and a probability that the step fails (the message is then not
// acknowledged, so it comes back after the visibility timeout).
type Work struct {
	ServiceTime Dist
	Mode        WorkMode
	FailureRate float64
}

// Validate checks the mode and the failure rate, and compiles the distribution.
func (w Work) Validate() error {
	_, err := NewWorkStep(w)
	return err
}

// ErrWorkFailed is the error of a step that failed by its configured failure rate.
var ErrWorkFailed = errors.New("work step failed (injected)")

// WorkFunc is a processing step for one delivery of a state's queue. A nil error lets the
// processor apply the effect and acknowledge; an error leaves the message unacknowledged.
// It is called concurrently, up to the state's concurrency cap.
type WorkFunc func(ctx context.Context, state string, d *Delivery) error

// NewWorkStep compiles w into a WorkFunc: the configured step, for a custom WorkFunc to
// wrap.
func NewWorkStep(w Work) (WorkFunc, error) {
	st, err := NewServiceTime(w.ServiceTime)
	if err != nil {
		return nil, fmt.Errorf("work: service time: %w", err)
	}
	if w.FailureRate < 0 || w.FailureRate > 1 {
		return nil, fmt.Errorf("work: failure rate %g must be in [0, 1]: %w", w.FailureRate, ErrInvalid)
	}
	spin := false
	switch w.Mode {
	case "", WorkSleep:
	case WorkSpin:
		spin = true
	default:
		return nil, fmt.Errorf("work: mode %q must be %q or %q: %w", w.Mode, WorkSleep, WorkSpin, ErrInvalid)
	}
	failure := w.FailureRate
	return func(ctx context.Context, _ string, _ *Delivery) error {
		if d := st.Sample(nil); d > 0 {
			var err error
			if spin {
				err = spinFor(ctx, d)
			} else {
				err = sleepFor(ctx, d)
			}
			if err != nil {
				return err
			}
		}
		if failure > 0 && rand.Float64() < failure {
			return ErrWorkFailed
		}
		return nil
	}, nil
}

// sleepFor waits d or until ctx ends.
func sleepFor(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// spinFor keeps a CPU busy for d, looking at ctx every few microseconds of work.
func spinFor(ctx context.Context, d time.Duration) error {
	end := time.Now().Add(d)
	x := uint64(1)
	for i := 0; ; i++ {
		// A xorshift keeps the loop from being optimised away without touching memory.
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		if i&255 == 0 {
			if !time.Now().Before(end) {
				break
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	spinSink.Store(x)
	return nil
}

// spinSink receives the spin loop's result so the compiler must compute it.
var spinSink atomic.Uint64
