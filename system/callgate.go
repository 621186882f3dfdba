package system

import (
	"context"
	"sync"
)

// callGate counts calls in progress and refuses new ones once closing, so a server can
// stop intake and then wait for what it already accepted.
type callGate struct {
	mu      sync.Mutex
	n       int
	closing bool
	idle    chan struct{} // closed when closing and n reaches 0
}

func (f *callGate) enter() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closing {
		return false
	}
	f.n++
	return true
}

func (f *callGate) leave() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	if f.closing && f.n == 0 {
		close(f.idle)
	}
}

// drain refuses new calls and waits for the current ones until ctx ends; it returns how
// many were still running then.
func (f *callGate) drain(ctx context.Context) int {
	f.mu.Lock()
	if !f.closing {
		f.closing = true
		f.idle = make(chan struct{})
		if f.n == 0 {
			close(f.idle)
		}
	}
	idle := f.idle
	f.mu.Unlock()
	select {
	case <-idle:
		return 0
	case <-ctx.Done():
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.n
	}
}
