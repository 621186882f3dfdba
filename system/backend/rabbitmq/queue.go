package rabbitmq

import (
	"context"
	"errors"
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

	mu sync.Mutex // guards qc, byID and the start of FIFO consumers
	qc *qchan     // FIFO mode: the channel of the shard consumers
	// Standard mode: a pool of channels, one per concurrent receive, so that their
	// consume and cancel round trips (each a Raft command of the quorum queue) overlap
	// and share the queue's log writes instead of queueing behind one another.
	idle  chan *qchan
	nPool int               // pool channels open or being opened, at most maxReceiveChannels
	byID  map[uint64]*qchan // every channel receipts may name

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
	q := &queue{bus: b, spec: spec, vis: vis, fifo: tp.spec.FIFO,
		idle: make(chan *qchan, maxReceiveChannels), byID: make(map[uint64]*qchan)}
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

// maxReceiveChannels bounds a queue's pool of receive channels (standard mode).
const maxReceiveChannels = 8

// acquire takes a live channel of the pool for one receive, opening one while the pool is
// below its bound, else waiting for one to be released.
func (q *queue) acquire(ctx context.Context) (*qchan, error) {
	for {
		select {
		case qc := <-q.idle:
			if qc.alive() {
				return qc, nil
			}
			q.forget(qc)
			continue
		default:
		}
		q.mu.Lock()
		open := q.nPool < maxReceiveChannels
		if open {
			q.nPool++ // reserved before opening, so concurrent receives cannot overshoot
		}
		q.mu.Unlock()
		if open {
			qc, err := q.bus.openQchan()
			q.mu.Lock()
			if err != nil {
				q.nPool--
			} else {
				q.byID[qc.id] = qc
			}
			q.mu.Unlock()
			if err != nil {
				return nil, fmt.Errorf("queue %s: %w", q.spec.Name, err)
			}
			return qc, nil
		}
		select {
		case qc := <-q.idle:
			if qc.alive() {
				return qc, nil
			}
			q.forget(qc)
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-q.bus.done:
			return nil, system.ErrClosed
		}
	}
}

// putBack returns a channel to the pool; a dead one is dropped.
func (q *queue) putBack(qc *qchan) {
	if !qc.alive() {
		q.forget(qc)
		return
	}
	q.idle <- qc // never blocks: at most maxReceiveChannels exist
}

// forget drops a dead pool channel.
func (q *queue) forget(qc *qchan) {
	q.mu.Lock()
	if _, ok := q.byID[qc.id]; ok {
		delete(q.byID, qc.id)
		q.nPool--
	}
	q.mu.Unlock()
}

// channel returns the live FIFO channel of the queue, opening a new one and starting the
// shard consumers on it when there is none or the last one died.
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
	if err := q.startShards(qc); err != nil {
		_ = qc.ch.Close()
		return nil, fmt.Errorf("queue %s: %w", q.spec.Name, err)
	}
	if q.qc != nil {
		delete(q.byID, q.qc.id)
	}
	q.qc = qc
	q.byID[qc.id] = qc
	return qc, nil
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

// receiveOnce is one standard-mode receive, built so that a message leaves the broker
// only for a receiver that takes it at once:
//   - basic.get, up to the batch size, takes what is available now (a get-empty says
//     exactly when nothing is);
//   - on an empty queue, a consumer with a prefetch of one long-polls; once it has its
//     message its credit is spent, so cancelling it cannot race a second delivery (a
//     quorum queue counts a delivery that meets a cancelled consumer as a return, which
//     brings a message closer to the dead-letter queue without anyone having seen it);
//     gets then top the batch up;
//   - with a batching window, gets are repeated every windowPoll until the window ends.
//
// A consumer with a larger prefetch would be cheaper per message but would either race
// its cancel as just described or, kept open, hold messages hidden from every other
// receiver with no visibility timeout running.
func (q *queue) receiveOnce(ctx context.Context, want int, window time.Duration, dst []system.Delivery) (_ []system.Delivery, retry bool, _ error) {
	if err := q.bus.usable(); err != nil {
		return dst, false, fmt.Errorf("receive %s: %w", q.spec.Name, err)
	}
	qc, err := q.acquire(ctx)
	if err != nil {
		if errors.Is(err, system.ErrClosed) {
			return dst, false, fmt.Errorf("receive %s: %w", q.spec.Name, err)
		}
		return dst, false, err
	}
	defer q.putBack(qc)
	start := len(dst)
	dst, err = q.gets(qc, want, dst)
	if err != nil {
		return dst, len(dst) == start && !qc.alive(), q.receiveErr(qc, err, len(dst) > start)
	}
	if len(dst) == start {
		d, waitErr, err := q.longPoll(ctx, qc)
		if err != nil {
			return dst, !qc.alive(), q.receiveErr(qc, err, false)
		}
		if d == nil {
			return dst, false, waitErr
		}
		dst = q.handOut(qc, d, dst)
		if len(dst) == start {
			return dst, true, nil // its channel died: the broker requeued it
		}
		if dst, err = q.gets(qc, want-(len(dst)-start), dst); err != nil {
			return dst, false, nil // what is in hand is delivered; the next receive reopens
		}
	}
	if window > 0 && len(dst)-start < want {
		end := time.Now().Add(window)
		t := time.NewTimer(windowPoll)
		defer t.Stop()
		for len(dst)-start < want && time.Now().Before(end) {
			select {
			case <-t.C:
			case <-ctx.Done():
				return dst, false, nil
			case <-q.bus.done:
				return dst, false, nil
			}
			if dst, err = q.gets(qc, want-(len(dst)-start), dst); err != nil {
				return dst, false, nil
			}
			t.Reset(min(windowPoll, max(time.Until(end), 0)))
		}
	}
	return dst, false, nil
}

// windowPoll is how often a receive with a batching window looks for more messages.
const windowPoll = 5 * time.Millisecond

func (q *queue) receiveErr(qc *qchan, err error, got bool) error {
	if got || !qc.alive() {
		return nil
	}
	return fmt.Errorf("receive %s: %w", q.spec.Name, err)
}

// gets takes up to n messages with basic.get, stopping at the first get-empty.
func (q *queue) gets(qc *qchan, n int, dst []system.Delivery) ([]system.Delivery, error) {
	for ; n > 0; n-- {
		qc.rpcMu.Lock()
		d, ok, err := qc.ch.Get(q.names[0], false)
		qc.rpcMu.Unlock()
		if err != nil {
			return dst, err
		}
		if !ok {
			break
		}
		dst = q.handOut(qc, &d, dst)
	}
	return dst, nil
}

// longPoll waits for one message with a consumer of prefetch one. It returns the message,
// or nil and why the wait ended (ctx, bus closed), or an error of the channel.
func (q *queue) longPoll(ctx context.Context, qc *qchan) (*amqp.Delivery, error, error) {
	tag := q.bus.consumerTag()
	qc.rpcMu.Lock()
	var err error
	if qc.qos != 1 {
		if err = qc.ch.Qos(1, 0, false); err == nil {
			qc.qos = 1
		}
	}
	var deliveries <-chan amqp.Delivery
	if err == nil {
		deliveries, err = qc.ch.Consume(q.names[0], tag, false, false, false, false, nil)
	}
	qc.rpcMu.Unlock()
	if err != nil {
		return nil, nil, fmt.Errorf("consume: %w", err)
	}
	var got *amqp.Delivery
	var waitErr error
	select {
	case d, ok := <-deliveries:
		if ok {
			got = &d
		}
	case <-ctx.Done():
		// A message arriving now may meet the cancel and be counted (see receiveOnce);
		// only a receive that gives up on an empty queue runs that risk.
		waitErr = ctx.Err()
	case <-q.bus.done:
		waitErr = fmt.Errorf("receive %s: %w", q.spec.Name, system.ErrClosed)
	}
	qc.rpcMu.Lock()
	_ = qc.ch.Cancel(tag, false)
	qc.rpcMu.Unlock()
	for d := range deliveries { // closed after cancel-ok; at most the prefetch of one
		if got == nil {
			d := d
			got = &d
		} else {
			_ = d.Nack(false, true) // unreachable with a prefetch of one; never strand one
		}
	}
	if got == nil && waitErr == nil {
		if err := q.bus.usable(); err != nil {
			return nil, fmt.Errorf("receive %s: %w", q.spec.Name, err), nil
		}
		return nil, nil, errors.New("channel closed")
	}
	return got, waitErr, nil
}

// handOut starts the visibility timeout of a standard-mode delivery: when it ends, the
// delivery is returned to the quorum queue, which counts it and, past the delivery limit,
// dead-letters it.
func (q *queue) handOut(qc *qchan, d *amqp.Delivery, dst []system.Delivery) []system.Delivery {
	tag := d.DeliveryTag
	r := qc.hold(tag, q.vis, func() { _ = qc.ch.Nack(tag, false, true) })
	if r == "" {
		return dst // the channel died: the broker requeued it
	}
	out := q.delivery(d, r)
	out.ReceiveCount = brokerReceives(d) + 1
	return append(dst, out)
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
	q.mu.Lock()
	qc := q.byID[id]
	q.mu.Unlock()
	if !ok || qc == nil {
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
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, qc := range q.byID {
		n += qc.inFlight()
	}
	return n
}
