package rabbitmq

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/headroom/headroom/system"
)

// qchan is the AMQP channel one queue receives and acknowledges on. Delivery tags are
// per channel, so a receipt is "<channel id>.<delivery tag>": when the channel dies the
// broker requeues everything unacknowledged on it, and its receipts stop resolving.
//
// AMQP has no visibility timeout: an unacknowledged delivery stays with its channel until
// acked, rejected or the channel closes. The bus implements the timeout on the consumer
// side: every delivery it hands out gets a timer for the queue's visibility timeout, and
// when the timer fires before the ack the delivery is returned (see queue.expired).
type qchan struct {
	id uint64
	ch *amqp.Channel
	// rpcMu serializes synchronous methods: the library matches a reply to whichever
	// caller waits first, so two concurrent calls on one channel can swap replies. It also
	// keeps Qos and the Consume it is meant for together (a prefetch count applies to the
	// consumers created after it).
	rpcMu sync.Mutex
	qos   int // the prefetch count last set, guarded by rpcMu

	mu      sync.Mutex
	dead    bool
	pending map[uint64]*flight     // handed out, neither acked nor timed out
	delayed map[uint64]*time.Timer // released with a delay: hidden until then
	gone    chan struct{}          // closed when the channel dies
}

// flight is one handed-out delivery: its visibility timer and what to do when it ends.
type flight struct {
	timer  *time.Timer
	expire func()
}

func newQchan(id uint64, ch *amqp.Channel) *qchan {
	qc := &qchan{
		id: id, ch: ch,
		pending: make(map[uint64]*flight),
		delayed: make(map[uint64]*time.Timer),
		gone:    make(chan struct{}),
	}
	closed := ch.NotifyClose(make(chan *amqp.Error, 1))
	go func() {
		<-closed
		qc.kill()
	}()
	return qc
}

// kill forgets every delivery of a dead channel: the broker has requeued them.
func (qc *qchan) kill() {
	qc.mu.Lock()
	defer qc.mu.Unlock()
	if qc.dead {
		return
	}
	qc.dead = true
	for _, f := range qc.pending {
		f.timer.Stop()
	}
	for _, t := range qc.delayed {
		t.Stop()
	}
	qc.pending, qc.delayed = nil, nil
	close(qc.gone)
}

func (qc *qchan) alive() bool {
	qc.mu.Lock()
	defer qc.mu.Unlock()
	return !qc.dead
}

// hold starts the visibility timeout of a delivery handed out now and returns its receipt;
// expire runs if the timeout ends first. It returns "" when the channel is dead (the
// delivery is void: the broker requeued it).
func (qc *qchan) hold(tag uint64, vis time.Duration, expire func()) string {
	qc.mu.Lock()
	defer qc.mu.Unlock()
	if qc.dead {
		return ""
	}
	f := &flight{expire: expire}
	f.timer = time.AfterFunc(vis, func() {
		if qc.take(tag) != nil {
			expire()
		}
	})
	qc.pending[tag] = f
	return receipt(qc.id, tag)
}

// take removes tag from the pending deliveries and returns it, or nil if it was not there
// (acknowledged, released or timed out in the meantime).
func (qc *qchan) take(tag uint64) *flight {
	qc.mu.Lock()
	defer qc.mu.Unlock()
	f, ok := qc.pending[tag]
	if !ok {
		return nil
	}
	delete(qc.pending, tag)
	f.timer.Stop()
	return f
}

func (qc *qchan) ack(queue string, tag uint64) error {
	if qc.take(tag) == nil {
		return fmt.Errorf("queue %s: receipt %s: visibility timeout ended or already acknowledged: %w",
			queue, receipt(qc.id, tag), system.ErrNotFound)
	}
	if err := qc.ch.Ack(tag, false); err != nil {
		return fmt.Errorf("queue %s: ack %s: channel closed, the message will be delivered again: %v: %w",
			queue, receipt(qc.id, tag), err, system.ErrNotFound)
	}
	return nil
}

// release ends the visibility timeout of tag early: its expiry runs at once, or after
// delay, the delivery staying hidden on the channel until then.
func (qc *qchan) release(queue string, tag uint64, delay time.Duration) error {
	f := qc.take(tag)
	if f == nil {
		return fmt.Errorf("queue %s: receipt %s: visibility timeout ended or already acknowledged: %w",
			queue, receipt(qc.id, tag), system.ErrNotFound)
	}
	if delay <= 0 {
		f.expire()
		return nil
	}
	qc.mu.Lock()
	defer qc.mu.Unlock()
	if qc.dead {
		return nil // requeued by the broker already
	}
	qc.delayed[tag] = time.AfterFunc(delay, func() {
		qc.mu.Lock()
		_, ok := qc.delayed[tag]
		delete(qc.delayed, tag)
		qc.mu.Unlock()
		if ok {
			f.expire()
		}
	})
	return nil
}

func (qc *qchan) inFlight() int {
	qc.mu.Lock()
	defer qc.mu.Unlock()
	return len(qc.pending) + len(qc.delayed)
}

func receipt(chanID, tag uint64) string {
	var buf [40]byte
	b := strconv.AppendUint(buf[:0], chanID, 36)
	b = append(b, '.')
	b = strconv.AppendUint(b, tag, 36)
	return string(b)
}

func parseReceipt(r string) (chanID, tag uint64, ok bool) {
	a, b, found := strings.Cut(r, ".")
	if !found {
		return 0, 0, false
	}
	c, err1 := strconv.ParseUint(a, 36, 64)
	t, err2 := strconv.ParseUint(b, 36, 64)
	return c, t, err1 == nil && err2 == nil
}
