package nats

import (
	"sync"
	"time"
)

// dedupWindow remembers, for a window, the deduplication ids this bus published. The
// stream deduplicates each queue's copy by its message id in every process; this adds the
// topic-wide scope of SQS FIFO within the process: an id repeated with other attributes
// (so routed to other queues) is dropped too.
type dedupWindow struct {
	window time.Duration

	mu    sync.Mutex
	ids   map[string]time.Time // id → end of its window
	order []dedupKey           // in publish order, for pruning
}

type dedupKey struct {
	id      string
	expires time.Time
}

func newDedupWindow(window time.Duration) *dedupWindow {
	return &dedupWindow{window: window, ids: make(map[string]time.Time)}
}

// published reports whether id was published within the window before now.
func (w *dedupWindow) published(id string, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	i := 0
	for ; i < len(w.order) && !now.Before(w.order[i].expires); i++ {
		if exp, ok := w.ids[w.order[i].id]; ok && exp.Equal(w.order[i].expires) {
			delete(w.ids, w.order[i].id)
		}
	}
	if i > 0 {
		w.order = append(w.order[:0], w.order[i:]...)
	}
	exp, ok := w.ids[id]
	return ok && now.Before(exp)
}

// record notes that id was published at sent; only a publish that succeeded is recorded,
// so a failed one may be retried.
func (w *dedupWindow) record(id string, sent time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if exp, ok := w.ids[id]; ok && sent.Before(exp) {
		return
	}
	exp := sent.Add(w.window)
	w.ids[id] = exp
	w.order = append(w.order, dedupKey{id: id, expires: exp})
}
