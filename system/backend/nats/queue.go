package nats

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/headroom/headroom/system"
)

const (
	// noWaitLimit is how long a no_wait request may go unanswered before it is written off
	// (and the consumer checked: the server answers every request of an existing one).
	noWaitLimit = 5 * time.Second
)

// lane is one durable pull consumer of a queue: the only one in standard mode, one per
// shard in FIFO mode. At most one pull request per lane is outstanding, so a lane can
// have delivered at most that request's batch beyond what receivers took.
type lane struct {
	idx      int
	consumer string
	next     string // the consumer's pull API subject
	req      *pullReq
}

// pullReq is an outstanding pull request: a no_wait one (answered at once: messages, then
// a 404/408 status unless the batch is full) or a standing one, batch 1 with no expiry,
// which waits until a message comes. Standing requests never expire because nats-server
// before 2.10.14 counts a redelivery it hands to an expired waiting request as delivered
// and sends nothing (nats-server#5338): the message would lose a receive and a timeout.
type pullReq struct {
	id       uint64
	left     int // messages still due
	noWait   bool
	deadline time.Time // no_wait only: written off when unanswered by then
	heard    bool      // the server answered at least once
}

// arrived is a delivered message no receiver has taken yet.
type arrived struct {
	m    *natsgo.Msg
	md   ackMeta
	at   time.Time // arrival, or the last in-progress signal that restarted its ack wait
	lane int
}

// queue is one declared queue: its lanes, the inbox every pull request of this bus
// answers to, and the messages delivered there and not yet handed out.
//
// The inbox is one long-lived subscription rather than one per Receive, so a message the
// server sends while a receiver is giving up is not lost in transit (it would come back
// only after the ack wait, counted as a delivery): it stays here and the next Receive
// takes it. Such leftovers have their ack wait restarted (+WPI) while this bus keeps
// receiving the queue, and are handed back (-NAK) once it has not for a visibility timeout
// and has no pull request out any more (so none can bring them straight back).
type queue struct {
	bus   *Bus
	tp    *topology
	spec  system.QueueSpec
	vis   time.Duration
	fifo  bool
	dlq   *queue
	lanes []*lane

	sem chan struct{} // one Receive at a time drives the lanes

	mu        sync.Mutex
	sub       *natsgo.Subscription
	inbox     string
	seq       uint64
	buf       []arrived
	signal    chan struct{}
	receiving bool
	lastRecv  time.Time
	refresh   *time.Timer
	held      map[string]*held // handed out, by receipt (the ack subject)
}

// held is a handed-out delivery. The receipt is live until its visibility timeout ends:
// Ack and Release spend it, and a stale or spent one fails with ErrNotFound instead of
// reaching the server (which would take a second -NAK as a fresh one).
type held struct {
	a     arrived
	timer *time.Timer
	last  bool // the last allowed receive: dead-lettered when its timeout ends
}

func newQueue(b *Bus, tp *topology, spec system.QueueSpec) *queue {
	vis := spec.VisibilityTimeout
	if vis == 0 {
		vis = system.DefaultVisibilityTimeout
	}
	q := &queue{bus: b, tp: tp, spec: spec, vis: vis, fifo: tp.spec.FIFO,
		sem: make(chan struct{}, 1), signal: make(chan struct{}, 1), held: make(map[string]*held)}
	for k := 0; k < tp.shards; k++ {
		name := consumerName(spec.Name, q.fifo, k)
		q.lanes = append(q.lanes, &lane{idx: k, consumer: name,
			next: "$JS.API.CONSUMER.MSG.NEXT." + tp.stream() + "." + name})
	}
	return q
}

// consumerConfig is the durable pull consumer of one lane. AckWait is the visibility
// timeout. MaxDeliver stays unlimited: the bus dead-letters itself (see deadLetter),
// because a consumer that stops at MaxDeliver leaves the message in the stream with only
// an at-most-once advisory to say so, and a missed advisory would strand it.
func (q *queue) consumerConfig(l *lane) jetstream.ConsumerConfig {
	cfg := jetstream.ConsumerConfig{
		Durable:       l.consumer,
		FilterSubject: subject(q.tp.spec.Topic, q.spec.Name, q.fifo, l.idx),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       q.vis,
		MaxDeliver:    -1,
		MaxAckPending: -1,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
	if q.fifo {
		// One unacknowledged message per shard, server-enforced across every process:
		// the next one of the shard is only delivered once it is acked, and an unacked
		// one is redelivered before anything after it.
		cfg.MaxAckPending = 1
	}
	return cfg
}

func (q *queue) wake() {
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// ensureSub subscribes the inbox on first use.
func (q *queue) ensureSub() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.sub != nil {
		return nil
	}
	q.inbox = q.bus.nc.NewInbox()
	sub, err := q.bus.nc.Subscribe(q.inbox+".*.*", q.onMsg)
	if err != nil {
		return fmt.Errorf("queue %s: subscribe inbox: %w", q.spec.Name, err)
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		_ = sub.Unsubscribe()
		return fmt.Errorf("queue %s: inbox limits: %w", q.spec.Name, err)
	}
	q.sub = sub
	return nil
}

// onMsg takes what the server sends to the inbox: a delivery (it has an ack subject as
// reply, naming the consumer, hence the lane; its subject is the stream's) or a status
// ending a pull request (404 nothing to deliver now, 408 expired, 409 and others; sent to
// the request's own reply subject, which names lane and request).
func (q *queue) onMsg(m *natsgo.Msg) {
	if m.Reply != "" {
		md, ok := parseAck(m.Reply)
		if !ok {
			return
		}
		q.mu.Lock()
		if l := q.laneOf(md.consumer); l != nil {
			q.buf = append(q.buf, arrived{m: m, md: md, at: time.Now(), lane: l.idx})
			if l.req != nil {
				l.req.heard = true
				if l.req.left--; l.req.left <= 0 {
					l.req = nil
				}
			}
			if !q.receiving && q.refresh == nil {
				q.refresh = time.AfterFunc(q.vis/3, q.refreshLeftovers)
			}
		}
		q.mu.Unlock()
		q.wake()
		return
	}
	q.mu.Lock()
	laneTok, idTok, ok := strings.Cut(strings.TrimPrefix(m.Subject, q.inbox+"."), ".")
	li, err1 := strconv.Atoi(laneTok)
	id, err2 := strconv.ParseUint(idTok, 10, 64)
	if ok && err1 == nil && err2 == nil && li >= 0 && li < len(q.lanes) {
		if l := q.lanes[li]; l.req != nil && l.req.id == id && m.Header.Get("Status") != "100" { // 100: heartbeat
			l.req = nil
		}
	}
	q.mu.Unlock()
	q.wake()
}

func (q *queue) laneOf(consumer string) *lane {
	for _, l := range q.lanes {
		if l.consumer == consumer {
			return l
		}
	}
	return nil
}

// pull sends a pull request for l: no_wait with the given batch, or a standing batch of
// one. Callers hold q.mu.
func (q *queue) pull(l *lane, batch int, noWait bool) error {
	q.seq++
	r := &pullReq{id: q.seq, left: batch, noWait: noWait}
	body := `{"batch":1}`
	if noWait {
		r.deadline = time.Now().Add(noWaitLimit)
		body = `{"batch":` + strconv.Itoa(batch) + `,"no_wait":true}`
	} else {
		r.left = 1
	}
	reply := q.inbox + "." + strconv.Itoa(l.idx) + "." + strconv.FormatUint(r.id, 10)
	if err := q.bus.nc.PublishRequest(l.next, reply, []byte(body)); err != nil {
		return fmt.Errorf("queue %s: pull request: %w", q.spec.Name, err)
	}
	l.req = r
	return nil
}

// busy reports whether l has a request out. A no_wait request unanswered by its deadline
// is written off, and reported silent: the consumer may be gone. Callers hold q.mu.
func (q *queue) busy(l *lane, now time.Time) (busy, silent bool) {
	if l.req == nil {
		return false, false
	}
	if l.req.noWait && now.After(l.req.deadline) {
		silent = !l.req.heard
		l.req = nil
		return false, silent
	}
	return true, false
}

// forgetRequests drops the bookkeeping of every request: after a reconnect the server
// has none of them any more. It wakes the Receive waiting on them, if any, to send new
// ones: nothing else would, since no answer to the lost ones will ever come.
func (q *queue) forgetRequests() {
	q.mu.Lock()
	for _, l := range q.lanes {
		l.req = nil
	}
	q.mu.Unlock()
	q.wake()
}

// receive implements system.Receiver for the queue. Standard mode: hand out what the inbox
// holds; when that is not enough, ask with a no_wait request for what is available now
// (the server answers at once, ending with a status, so "available" is exact), then leave
// a standing request and wait; after a message arrives, top up with another no_wait
// request and return (no window), or keep a standing request out until the window ends.
// FIFO mode: a no_wait request to a shard whose message is unacknowledged waits for it
// (MaxAckPending 1), so every idle shard gets a standing request and Receive returns what
// has arrived once something has (or the window ends). Messages are taken from the inbox
// only when Receive returns, so their visibility timeout starts as the caller gets them. A
// standing request outlives the Receive; what it brings in is a leftover for the next one.
func (q *queue) receive(ctx context.Context, opt system.ReceiveOptions, dst []system.Delivery) ([]system.Delivery, error) {
	select {
	case q.sem <- struct{}{}:
	case <-ctx.Done():
		return dst, ctx.Err()
	case <-q.bus.done:
		return dst, fmt.Errorf("receive %s: %w", q.spec.Name, system.ErrClosed)
	}
	defer func() { <-q.sem }()
	if err := q.ensureSub(); err != nil {
		return dst, err
	}
	q.mu.Lock()
	q.receiving = true
	q.mu.Unlock()
	defer q.doneReceiving()

	want := max(opt.Max, 1)
	finish := func(ctx context.Context) []system.Delivery {
		var dead []arrived
		dst, dead = q.take(dst, want)
		q.deadLetterAll(ctx, dead)
		return dst
	}
	var windowEnd time.Time
	// toppedUp: a no_wait request has been answered since the last standing request
	// brought something in, so what is available now has been asked for.
	probed, toppedUp := false, false
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		avail, dead := q.prune()
		if len(dead) > 0 {
			q.deadLetterAll(ctx, dead)
			continue
		}
		got := min(avail, want)
		if got >= want {
			return finish(ctx), nil
		}
		now := time.Now()
		if got > 0 && opt.Window > 0 && windowEnd.IsZero() {
			windowEnd = now.Add(opt.Window)
		}
		collecting := got > 0 && opt.Window > 0 && now.Before(windowEnd)

		q.mu.Lock()
		var silent, noWaitOut, standing bool
		var err error
		for _, l := range q.lanes {
			b, s := q.busy(l, now)
			silent = silent || s
			if b {
				noWaitOut = noWaitOut || l.req.noWait
				standing = standing || !l.req.noWait
				continue
			}
			if err != nil {
				continue
			}
			switch {
			case !q.fifo && (!probed || (!toppedUp && got > 0)):
				err = q.pull(l, want-got, true)
				noWaitOut = true
			case got == 0 || collecting:
				err = q.pull(l, 1, false)
				standing = true
			}
		}
		if noWaitOut {
			toppedUp = true
		}
		if standing {
			toppedUp = false
		}
		probed = true
		q.mu.Unlock()
		if err != nil {
			return finish(ctx), err
		}
		if silent {
			if err := q.checkConsumers(ctx); err != nil {
				return finish(ctx), err
			}
		}
		if got > 0 && !noWaitOut && !collecting {
			return finish(ctx), nil
		}
		var wake time.Time
		if collecting {
			wake = windowEnd
		}
		if noWaitOut {
			if d := now.Add(noWaitLimit); wake.IsZero() || d.Before(wake) {
				wake = d
			}
		}
		if !wake.IsZero() {
			timer.Reset(time.Until(wake))
		}
		select {
		case <-q.signal:
		case <-timer.C:
		case <-ctx.Done():
			n := len(dst)
			if dst = finish(context.Background()); len(dst) > n {
				return dst, nil
			}
			return dst, ctx.Err()
		case <-q.bus.done:
			return dst, fmt.Errorf("receive %s: %w", q.spec.Name, system.ErrClosed)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// checkConsumers turns a lane whose requests go unanswered into an error: the server
// answers every pull request of an existing consumer, even if only when it expires.
func (q *queue) checkConsumers(ctx context.Context) error {
	for _, l := range q.lanes {
		if _, err := q.bus.js.Consumer(ctx, q.tp.stream(), l.consumer); err != nil {
			if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
				return fmt.Errorf("receive %s: consumer %s of stream %s is gone: %v: %w",
					q.spec.Name, l.consumer, q.tp.stream(), err, system.ErrNotFound)
			}
			return fmt.Errorf("receive %s: consumer %s: %w", q.spec.Name, l.consumer, err)
		}
	}
	return nil
}

func (q *queue) doneReceiving() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.receiving = false
	q.lastRecv = time.Now()
	if len(q.buf) > 0 && q.refresh == nil {
		q.refresh = time.AfterFunc(q.vis/3, q.refreshLeftovers)
	}
}

// refreshLeftovers keeps the leftovers hidden while this bus receives the queue, and
// hands them back when it has stopped.
func (q *queue) refreshLeftovers() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.refresh = nil
	select {
	case <-q.bus.done:
		return
	default:
	}
	now := time.Now()
	idle := !q.receiving && now.Sub(q.lastRecv) > q.vis
	keep := q.buf[:0]
	for _, a := range q.buf {
		if b, _ := q.busy(q.lanes[a.lane], now); idle && !b {
			// No request of this bus can bring it straight back: hand it back.
			_ = q.bus.nc.Publish(a.m.Reply, ackNak)
			continue
		}
		if now.Sub(a.at) > q.vis/3 {
			_ = q.bus.nc.Publish(a.m.Reply, ackProgress)
			a.at = now
		}
		keep = append(keep, a)
	}
	clear(q.buf[len(keep):])
	q.buf = keep
	if len(q.buf) > 0 {
		q.refresh = time.AfterFunc(q.vis/3, q.refreshLeftovers)
	}
}

var (
	ackAck      = []byte("+ACK")
	ackNak      = []byte("-NAK")
	ackProgress = []byte("+WPI")
	ackTerm     = []byte("+TERM")
)

// prune drops from the inbox what can no longer be handed out (its ack wait is ending:
// the server redelivers it anyway), takes out what is due for the dead-letter queue
// (delivered more than MaxReceives times), and counts the rest.
func (q *queue) prune() (avail int, dead []arrived) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	maxR := uint64(q.spec.MaxReceives)
	keep := q.buf[:0]
	for _, a := range q.buf {
		switch {
		case maxR > 0 && q.dlq != nil && a.md.delivered > maxR:
			dead = append(dead, a)
		case now.Sub(a.at) >= q.vis*9/10:
		default:
			keep = append(keep, a)
		}
	}
	clear(q.buf[len(keep):])
	q.buf = keep
	return len(keep), dead
}

// take hands out up to n buffered messages and returns those due for the dead-letter
// queue (delivered more than MaxReceives times) separately.
func (q *queue) take(dst []system.Delivery, n int) ([]system.Delivery, []arrived) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var dead []arrived
	now := time.Now()
	maxR := uint64(q.spec.MaxReceives)
	keep := q.buf[:0]
	for _, a := range q.buf {
		switch {
		case n <= 0:
			keep = append(keep, a)
			continue
		case maxR > 0 && q.dlq != nil && a.md.delivered > maxR:
			dead = append(dead, a)
			continue
		case now.Sub(a.at) >= q.vis*9/10:
			continue // its ack wait is ending: the server redelivers it anyway
		}
		deadline := a.at.Add(q.vis)
		if now.Sub(a.at) > time.Millisecond {
			// It waited here: restart its ack wait so the receiver gets a whole timeout.
			_ = q.bus.nc.Publish(a.m.Reply, ackProgress)
			deadline = now.Add(q.vis)
		}
		r := a.m.Reply
		h := &held{a: a, last: maxR > 0 && q.dlq != nil && a.md.delivered == maxR}
		h.timer = time.AfterFunc(time.Until(deadline), func() { q.timedOut(r, h) })
		q.held[r] = h
		d := decode(a.m)
		d.Queue, d.Receipt, d.ReceiveCount = q.spec.Name, r, int(a.md.delivered)
		dst = append(dst, d)
		n--
	}
	clear(q.buf[len(keep):])
	q.buf = keep
	return dst, dead
}

// timedOut ends a delivery's visibility timeout: the server redelivers it by itself (its
// ack wait is the same timeout), except after the last allowed receive, which the bus
// dead-letters now, like SQS, rather than when some receiver next pulls it.
func (q *queue) timedOut(r string, h *held) {
	q.mu.Lock()
	cur := q.held[r] == h
	if cur {
		delete(q.held, r)
	}
	q.mu.Unlock()
	if cur && h.last {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// On failure the server redelivers it after the ack wait and the next receive
		// dead-letters it.
		_ = q.deadLetter(ctx, h.a)
	}
}

func (q *queue) deadLetterAll(ctx context.Context, dead []arrived) {
	if len(dead) == 0 {
		return
	}
	for _, a := range dead {
		_ = q.deadLetter(ctx, a) // on failure it is delivered again and retried
	}
}

// deadLetter moves a message to the dead-letter queue: publish a copy there and wait for
// the stream's ack, then acknowledge the original. A crash between the two leaves the
// original to be delivered again and dead-lettered again; the copy's message id (the
// original's stream sequence) makes the stream drop the second copy within its duplicate
// window. Nothing is removed before its copy is stored, so nothing is lost.
func (q *queue) deadLetter(ctx context.Context, a arrived) error {
	h := make(natsgo.Header, len(a.m.Header)+1)
	for k, v := range a.m.Header {
		if !strings.HasPrefix(strings.ToLower(k), "nats-") {
			h[k] = v
		}
	}
	h[hdrMsgID] = []string{"dl." + q.tp.stream() + "." + strconv.FormatUint(a.md.streamSeq, 10)}
	shard := 0
	if q.fifo {
		shard = shardOf(h.Get(hdrGroup), q.tp.shards)
	}
	m := &natsgo.Msg{Subject: subject(q.tp.spec.Topic, q.dlq.spec.Name, q.fifo, shard), Header: h, Data: a.m.Data}
	if err := q.bus.publishOne(ctx, m); err != nil {
		return fmt.Errorf("queue %s: dead-letter to %s: %w", q.spec.Name, q.dlq.spec.Name, err)
	}
	if err := q.bus.request(ctx, a.m.Reply, ackTerm); err != nil {
		return fmt.Errorf("queue %s: remove dead-lettered message: %w", q.spec.Name, err)
	}
	return nil
}

// claim spends a live receipt.
func (q *queue) claim(r string) (*held, error) {
	q.mu.Lock()
	h := q.held[r]
	delete(q.held, r)
	q.mu.Unlock()
	if h == nil {
		return nil, fmt.Errorf("queue %s: receipt %q: unknown, visibility timeout ended, or already acknowledged or released: %w",
			q.spec.Name, r, system.ErrNotFound)
	}
	h.timer.Stop()
	return h, nil
}

// ack acknowledges with a reply from the server for each (AckSync), all in flight at once.
func (q *queue) ack(ctx context.Context, receipts []string) error {
	var first error
	note := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	replies := make([]string, 0, len(receipts))
	for _, r := range receipts {
		h, err := q.claim(r)
		note(err)
		if err == nil {
			replies = append(replies, h.a.m.Reply)
		}
	}
	if len(replies) == 1 {
		note(wrapAckErr(q.spec.Name, q.bus.request(ctx, replies[0], ackAck)))
		return first
	}
	errs := make([]error, len(replies))
	var wg sync.WaitGroup
	for i, reply := range replies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = wrapAckErr(q.spec.Name, q.bus.request(ctx, reply, ackAck))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		note(err)
	}
	return first
}

func wrapAckErr(queue string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("queue %s: ack: %w", queue, err)
}

// release makes a received message visible again after delay (-NAK with a delay). The
// last allowed receive goes to the dead-letter queue after the delay instead, since a
// release counts as a receive.
func (q *queue) release(ctx context.Context, r string, delay time.Duration) error {
	h, err := q.claim(r)
	if err != nil {
		return err
	}
	if h.last {
		time.AfterFunc(delay, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = q.deadLetter(ctx, h.a)
		})
		return nil
	}
	body := ackNak
	if delay > 0 {
		body = []byte(`-NAK {"delay":` + strconv.FormatInt(int64(delay), 10) + `}`)
	}
	if err := q.bus.request(ctx, h.a.m.Reply, body); err != nil {
		return fmt.Errorf("queue %s: release: %w", q.spec.Name, err)
	}
	return nil
}

// stats sums the lanes' consumer counts; leftovers count as visible, not in flight.
func (q *queue) stats(ctx context.Context) (system.QueueStats, error) {
	var st system.QueueStats
	for _, l := range q.lanes {
		c, err := q.bus.js.Consumer(ctx, q.tp.stream(), l.consumer)
		if err != nil {
			return st, fmt.Errorf("stats %s: %w", q.spec.Name, err)
		}
		ci, err := c.Info(ctx)
		if err != nil {
			return st, fmt.Errorf("stats %s: %w", q.spec.Name, err)
		}
		st.Visible += int64(ci.NumPending)
		st.InFlight += int64(ci.NumAckPending)
	}
	q.mu.Lock()
	n := int64(len(q.buf))
	q.mu.Unlock()
	st.Visible += n
	st.InFlight = max(st.InFlight-n, 0)
	return st, nil
}

// close hands the leftovers back and stops the timers.
func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, a := range q.buf {
		_ = q.bus.nc.Publish(a.m.Reply, ackNak)
	}
	q.buf = nil
	for r, h := range q.held {
		h.timer.Stop()
		delete(q.held, r)
	}
	if q.refresh != nil {
		q.refresh.Stop()
	}
	if q.sub != nil {
		_ = q.sub.Unsubscribe()
	}
}
