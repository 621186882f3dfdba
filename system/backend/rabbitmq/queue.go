package rabbitmq

import (
	"context"
	"fmt"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/headroom/headroom/system"
)

// maxPrefetch is AMQP's largest prefetch count (a short).
const maxPrefetch = 65535

// queue is one declared queue: its broker queue (or, in FIFO mode, its shards) and the
// channel this bus receives it on.
type queue struct {
	bus   *Bus
	spec  system.QueueSpec
	vis   time.Duration
	fifo  bool
	names []string // broker queues: one, or one per shard in FIFO mode

	mu sync.Mutex // guards qc and the start of FIFO consumers
	qc *qchan

	// FIFO mode: what the shard consumers have delivered and no receiver has taken yet.
	fmu    sync.Mutex
	ready  []*arrival
	signal chan struct{} // one pending wake-up for receivers
	dedup  *dedupWindow
}

// arrival is a FIFO delivery held by this process. Its receive count is kept here: a
// quorum queue puts a returned message at the back of the queue, which would break the
// group's order, so a FIFO delivery whose visibility timeout ends is not returned to the
// broker but made ready again locally, ahead of everything its shard has not delivered
// yet (the shard's prefetch of one is still taken by it).
type arrival struct {
	qc       *qchan
	d        amqp.Delivery
	receives int // deliveries so far, the broker's count of earlier returns included
}

func newQueue(b *Bus, tp *topology, spec system.QueueSpec) *queue {
	vis := spec.VisibilityTimeout
	if vis == 0 {
		vis = system.DefaultVisibilityTimeout
	}
	q := &queue{bus: b, spec: spec, vis: vis, fifo: tp.spec.FIFO}
	if q.fifo {
		for k := 0; k < tp.shards; k++ {
			q.names = append(q.names, shardName(tp.spec.Topic, spec.Name, k))
		}
		q.signal = make(chan struct{}, 1)
		q.dedup = newDedupWindow(tp.window)
	} else {
		q.names = []string{queueName(tp.spec.Topic, spec.Name)}
	}
	return q
}

// channel returns the live channel of the queue, opening a new one (and, in FIFO mode,
// starting the shard consumers on it) when there is none or the last one died.
func (q *queue) channel() (*qchan, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.qc != nil && q.qc.alive() {
		return q.qc, nil
	}
	qc, err := q.bus.openQchan()
	if err != nil {
		return nil, fmt.Errorf("queue %s: %w", q.spec.Name, err)
	}
	if q.fifo {
		if err := q.startShards(qc); err != nil {
			_ = qc.ch.Close()
			return nil, fmt.Errorf("queue %s: %w", q.spec.Name, err)
		}
	}
	q.qc = qc
	return qc, nil
}

// current returns the channel receipts are checked against, which may be nil or dead.
func (q *queue) current() *qchan {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.qc
}

// receive implements system.Receiver for the queue.
func (q *queue) receive(ctx context.Context, opt system.ReceiveOptions, dst []system.Delivery) ([]system.Delivery, error) {
	want := min(max(opt.Max, 1), maxPrefetch)
	if q.fifo {
		return q.receiveFIFO(ctx, want, opt.Window, dst)
	}
	for {
		n := len(dst)
		var retry bool
		var err error
		dst, retry, err = q.receiveOnce(ctx, want, opt.Window, dst)
		if !retry || len(dst) > n {
			return dst, err
		}
		// The channel died under us: wait a little (the broker or the network is in
		// trouble) and receive on a new one.
		select {
		case <-ctx.Done():
			return dst, ctx.Err()
		case <-q.bus.done:
			return dst, fmt.Errorf("receive %s: %w", q.spec.Name, system.ErrClosed)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// receiveOnce is one standard-mode receive. It creates a consumer whose prefetch is the
// batch size, waits for the first delivery, collects more for the batching window, then
// cancels the consumer. Everything the broker sent before the cancel-ok arrives before it
// and is returned, and the prefetch caps that at want, so no delivery is ever left
// stranded in this process between receives (a long-lived consumer would keep up to its
// prefetch hidden from every other receiver without a visibility timeout running).
func (q *queue) receiveOnce(ctx context.Context, want int, window time.Duration, dst []system.Delivery) (_ []system.Delivery, retry bool, _ error) {
	if err := q.bus.usable(); err != nil {
		return dst, false, fmt.Errorf("receive %s: %w", q.spec.Name, err)
	}
	qc, err := q.channel()
	if err != nil {
		return dst, false, fmt.Errorf("receive: %w", err)
	}
	tag := q.bus.consumerTag()
	qc.rpcMu.Lock()
	if qc.qos != want {
		if err = qc.ch.Qos(want, 0, false); err == nil {
			qc.qos = want
		}
	}
	var deliveries <-chan amqp.Delivery
	if err == nil {
		deliveries, err = qc.ch.Consume(q.names[0], tag, false, false, false, false, nil)
	}
	qc.rpcMu.Unlock()
	if err != nil {
		if !qc.alive() {
			return dst, true, nil
		}
		return dst, false, fmt.Errorf("receive %s: consume: %w", q.spec.Name, err)
	}

	var got []amqp.Delivery
	var waitErr error
	select {
	case d, ok := <-deliveries:
		if ok {
			got = append(got, d)
		}
	case <-ctx.Done():
		waitErr = ctx.Err()
	case <-q.bus.done:
		waitErr = fmt.Errorf("receive %s: %w", q.spec.Name, system.ErrClosed)
	}
	if len(got) > 0 && len(got) < want && window > 0 {
		t := time.NewTimer(window)
	collect:
		for len(got) < want {
			select {
			case d, ok := <-deliveries:
				if !ok {
					break collect
				}
				got = append(got, d)
			case <-t.C:
				break collect
			case <-ctx.Done():
				break collect
			case <-q.bus.done:
				break collect
			}
		}
		t.Stop()
	}
	// After cancel-ok the library closes deliveries; whatever the broker pushed before it
	// (at most the prefetch) is still in there.
	qc.rpcMu.Lock()
	_ = qc.ch.Cancel(tag, false)
	qc.rpcMu.Unlock()
	for d := range deliveries {
		got = append(got, d)
	}
	if len(got) == 0 {
		if waitErr == nil {
			// deliveries closed without a message: the channel died (or the bus closed).
			if err := q.bus.usable(); err != nil {
				return dst, false, fmt.Errorf("receive %s: %w", q.spec.Name, err)
			}
			return dst, true, nil
		}
		return dst, false, waitErr
	}
	for i := range got {
		tag := got[i].DeliveryTag
		// The timeout returns the delivery to the quorum queue, which counts it and,
		// past the delivery limit, dead-letters it.
		r := qc.hold(tag, q.vis, func() { _ = qc.ch.Nack(tag, false, true) })
		if r == "" {
			continue // the channel died: the broker requeued it
		}
		d := q.delivery(&got[i], r)
		d.ReceiveCount = brokerReceives(&got[i]) + 1
		dst = append(dst, d)
	}
	return dst, len(dst) == 0, nil
}

// brokerReceives is how many times the broker has had the delivery back before: the
// quorum queue's x-delivery-count on a redelivery. A first delivery is the first whatever
// the header says, since dead-lettering copies the source's count along.
func brokerReceives(d *amqp.Delivery) int {
	if !d.Redelivered {
		return 0
	}
	if n, ok := headerInt(d.Headers[hdrDelivery]); ok {
		return int(n)
	}
	return 1
}

func (q *queue) delivery(d *amqp.Delivery, receipt string) system.Delivery {
	out := decode(d)
	out.Queue = q.spec.Name
	out.Receipt = receipt
	return out
}

// startShards starts one consumer per shard on qc. Each shard is a single-active-consumer
// quorum queue and each consumer has a prefetch of one, so across every process at most
// one message per shard, hence per group, is out of the broker at a time; a returned
// message goes back to the head of its quorum queue, so the order holds through
// redeliveries.
func (q *queue) startShards(qc *qchan) error {
	qc.rpcMu.Lock()
	defer qc.rpcMu.Unlock()
	if err := qc.ch.Qos(1, 0, false); err != nil {
		return fmt.Errorf("qos: %w", err)
	}
	qc.qos = 1
	for _, name := range q.names {
		deliveries, err := qc.ch.Consume(name, q.bus.consumerTag(), false, false, false, false, nil)
		if err != nil {
			return fmt.Errorf("consume %s: %w", name, err)
		}
		go q.pump(qc, deliveries)
	}
	return nil
}

// pump moves a shard consumer's deliveries into the ready list until the channel ends.
func (q *queue) pump(qc *qchan, deliveries <-chan amqp.Delivery) {
	for d := range deliveries {
		if id := headerString(d.Headers[hdrDedup]); id != "" {
			sent := decode(&d).SentAt
			if q.dedup.duplicate(id, d.MessageId, sent) {
				_ = d.Ack(false) // accepted by the topic, not delivered again
				continue
			}
		}
		q.fmu.Lock()
		q.ready = append(q.ready, &arrival{qc: qc, d: d, receives: brokerReceives(&d)})
		q.fmu.Unlock()
		q.wake()
	}
}

func (q *queue) wake() {
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// takeReady hands out up to n ready FIFO deliveries of qc, dropping those of dead channels.
func (q *queue) takeReady(qc *qchan, dst []system.Delivery, n int) []system.Delivery {
	q.fmu.Lock()
	defer q.fmu.Unlock()
	keep := q.ready[:0]
	for _, a := range q.ready {
		if a.qc != qc {
			continue // its channel died and the broker requeued it
		}
		if n <= 0 {
			keep = append(keep, a)
			continue
		}
		if q.spec.MaxReceives > 0 && a.receives >= q.spec.MaxReceives {
			// Returned by consumers that died holding it as often as it may be received:
			// dead-letter it instead of delivering it once more, as SQS does.
			_ = qc.ch.Reject(a.d.DeliveryTag, false)
			continue
		}
		a.receives++ // before hold, whose lock orders it before the timer's read
		r := qc.hold(a.d.DeliveryTag, q.vis, func() { q.expired(a) })
		if r == "" {
			continue
		}
		d := q.delivery(&a.d, r)
		d.ReceiveCount = a.receives
		dst = append(dst, d)
		n--
	}
	clear(q.ready[len(keep):])
	q.ready = keep
	return dst
}

// expired takes back a FIFO delivery whose visibility timeout ended (or that was
// released): ready again at the head of its shard, or, after MaxReceives receives,
// rejected, which the quorum queue's dead-letter exchange routes to the dead-letter
// queue's shard (at least once: the source keeps it until the target confirms).
func (q *queue) expired(a *arrival) {
	if q.spec.MaxReceives > 0 && a.receives >= q.spec.MaxReceives {
		_ = a.qc.ch.Reject(a.d.DeliveryTag, false)
		return
	}
	q.fmu.Lock()
	q.ready = append(q.ready, nil)
	copy(q.ready[1:], q.ready)
	q.ready[0] = a
	q.fmu.Unlock()
	q.wake()
}

func (q *queue) readyCount() int {
	q.fmu.Lock()
	defer q.fmu.Unlock()
	return len(q.ready)
}

// receiveFIFO waits for the shard consumers' deliveries: each shard holds at most one
// message and a shard's next message is only delivered after the previous one is acked or
// returned, which is what keeps one message per group in flight.
func (q *queue) receiveFIFO(ctx context.Context, want int, window time.Duration, dst []system.Delivery) ([]system.Delivery, error) {
	start := len(dst)
	var wt *time.Timer
	defer func() {
		if wt != nil {
			wt.Stop()
		}
		if q.readyCount() > 0 {
			q.wake() // a wake-up this receiver consumed may be owed to another one
		}
	}()
	for {
		if err := q.bus.usable(); err != nil {
			return dst, fmt.Errorf("receive %s: %w", q.spec.Name, err)
		}
		qc, err := q.channel()
		if err != nil {
			return dst, fmt.Errorf("receive: %w", err)
		}
		dst = q.takeReady(qc, dst, want-(len(dst)-start))
		got := len(dst) - start
		if got >= want || (got > 0 && window <= 0) {
			return dst, nil
		}
		if got > 0 && wt == nil {
			wt = time.NewTimer(window)
		}
		var windowC <-chan time.Time
		if wt != nil {
			windowC = wt.C
		}
		select {
		case <-q.signal:
		case <-qc.gone:
		case <-windowC:
			return q.takeReady(qc, dst, want-(len(dst)-start)), nil
		case <-ctx.Done():
			if len(dst) > start {
				return dst, nil
			}
			return dst, ctx.Err()
		case <-q.bus.done:
			return dst, fmt.Errorf("receive %s: %w", q.spec.Name, system.ErrClosed)
		}
	}
}

// receiptChannel resolves the channel part of a receipt.
func (q *queue) receiptChannel(r string) (*qchan, uint64, error) {
	id, tag, ok := parseReceipt(r)
	qc := q.current()
	if !ok || qc == nil || qc.id != id {
		return nil, 0, fmt.Errorf("queue %s: receipt %q: unknown, or its channel closed (the message will be delivered again): %w",
			q.spec.Name, r, system.ErrNotFound)
	}
	return qc, tag, nil
}

func (q *queue) ack(receipts []string) error {
	var first error
	for _, r := range receipts {
		qc, tag, err := q.receiptChannel(r)
		if err == nil {
			err = qc.ack(q.spec.Name, tag)
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (q *queue) release(r string, delay time.Duration) error {
	qc, tag, err := q.receiptChannel(r)
	if err != nil {
		return err
	}
	return qc.release(q.spec.Name, tag, delay)
}

func (q *queue) inFlight() int {
	if qc := q.current(); qc != nil {
		return qc.inFlight()
	}
	return 0
}
