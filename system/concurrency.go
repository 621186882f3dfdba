package system

import (
	"fmt"
	"sync/atomic"
)

// Concurrency follows the Lambda model the simulator's `function` kind uses: an account
// limit shared by every state's processors, from which a state may reserve concurrency.
// A reservation both guarantees and caps that state; the states without one share what is
// left, and the configuration is refused when what is left falls below a minimum (AWS
// keeps 100 of the default 1000 unreserved).
//
// A slot pool is a counting semaphore (a buffered channel) plus counters that make the
// caps observable: the number in use and its high-water mark, kept with atomics so that
// a test can assert a cap was never exceeded rather than read it in a log.
type slotPool struct {
	name     string
	slots    chan struct{}
	jobs     chan job
	inflight atomic.Int64
	high     atomic.Int64
}

func newSlotPool(name string, size int) *slotPool {
	return &slotPool{name: name, slots: make(chan struct{}, size), jobs: make(chan job)}
}

func (p *slotPool) size() int { return cap(p.slots) }

// raise lifts the high-water mark hw to v if v is higher.
func raise(hw *atomic.Int64, v int64) {
	for {
		cur := hw.Load()
		if v <= cur || hw.CompareAndSwap(cur, v) {
			return
		}
	}
}

// DefaultAccountConcurrency is Lambda's default account concurrency limit.
const DefaultAccountConcurrency = 1000

// checkReservations refuses reservations that exceed the account limit or leave fewer
// than unreservedMin unreserved.
func checkReservations(account, unreservedMin int, procs []ProcessorConfig) error {
	if account <= 0 {
		return fmt.Errorf("account concurrency %d must be > 0: %w", account, ErrInvalid)
	}
	if unreservedMin < 0 || unreservedMin > account {
		return fmt.Errorf("unreserved minimum %d must be in [0, account concurrency %d]: %w", unreservedMin, account, ErrInvalid)
	}
	reserved := 0
	for _, pc := range procs {
		if pc.ReservedConcurrency < 0 {
			return fmt.Errorf("processors.%s: reserved concurrency %d must be >= 0: %w", pc.State, pc.ReservedConcurrency, ErrInvalid)
		}
		reserved += pc.ReservedConcurrency
	}
	if left := account - reserved; left < unreservedMin {
		return fmt.Errorf("reserved concurrency %d of account limit %d leaves %d unreserved, below the minimum %d: %w",
			reserved, account, left, unreservedMin, ErrInvalid)
	}
	return nil
}
