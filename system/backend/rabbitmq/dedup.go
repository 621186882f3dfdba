package rabbitmq

import (
	"sync"
	"time"
)

// dedupWindow remembers deduplication ids for a window. RabbitMQ has no deduplication of
// its own, so FIFO deduplication is done by the bus at both ends: the publisher skips an id
// it published itself within the window (any group, this process), and a FIFO queue's
// consumer drops a message whose id it already delivered within the window, measured in
// publish times (any process, but the consumer's memory: see doc.go).
type dedupWindow struct {
	window time.Duration

	mu    sync.Mutex
	ids   map[string]dedupEntry
	order []dedupKey // in insertion order, for pruning
}

type dedupEntry struct {
	msgID   string    // the message that first carried the id; its redeliveries are not duplicates
	expires time.Time // first publish + window
}

type dedupKey struct {
	id      string
	expires time.Time
}

func newDedupWindow(window time.Duration) *dedupWindow {
	return &dedupWindow{window: window, ids: make(map[string]dedupEntry)}
}

// prune drops ids whose window ended before now. Callers hold w.mu.
func (w *dedupWindow) prune(now time.Time) {
	i := 0
	for ; i < len(w.order) && w.order[i].expires.Before(now); i++ {
		k := w.order[i]
		if e, ok := w.ids[k.id]; ok && e.expires.Equal(k.expires) {
			delete(w.ids, k.id)
		}
	}
	if i > 0 {
		w.order = append(w.order[:0], w.order[i:]...)
	}
}

// published reports whether the publisher already published id within the window.
func (w *dedupWindow) published(id string, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.prune(now)
	e, ok := w.ids[id]
	return ok && now.Before(e.expires)
}

// record notes that id was published (or first delivered) at sent by message msgID.
func (w *dedupWindow) record(id, msgID string, sent time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.recordLocked(id, msgID, sent)
}

func (w *dedupWindow) recordLocked(id, msgID string, sent time.Time) {
	if e, ok := w.ids[id]; ok && sent.Before(e.expires) {
		return
	}
	exp := sent.Add(w.window)
	w.ids[id] = dedupEntry{msgID: msgID, expires: exp}
	w.order = append(w.order, dedupKey{id: id, expires: exp})
}

// duplicate reports whether a delivered message (msgID, published at sent) repeats an id
// first carried by another message within the window; otherwise it records the id.
func (w *dedupWindow) duplicate(id, msgID string, sent time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.prune(time.Now())
	if e, ok := w.ids[id]; ok && sent.Before(e.expires) {
		return e.msgID != msgID
	}
	w.recordLocked(id, msgID, sent)
	return false
}
