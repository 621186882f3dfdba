package nats

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/headroom/headroom/system"
)

// Bus is a system.Bus on NATS JetStream: the topic is a stream, each queue a subject of it
// with a durable pull consumer. See doc.go.
type Bus struct {
	url    string
	cfg    config
	nc     *natsgo.Conn
	js     jetstream.JetStream
	done   chan struct{}
	closed sync.Once

	declareMu sync.Mutex
	topo      atomic.Pointer[topology]
	dedup     *dedupWindow // FIFO publisher-side deduplication across queues, set by Declare
}

var (
	_ system.Bus       = (*Bus)(nil)
	_ system.Releaser  = (*Bus)(nil)
	_ system.Inspector = (*Bus)(nil)
	_ system.Pinger    = (*Bus)(nil)
)

// startHint says how to start the server the tests and DefaultURL expect.
const startHint = "is nats-server running with JetStream? start it with: start-stop-daemon --start --oknodo --background " +
	"--exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log"

// Open connects to the server at dsn (a NATS URL; "" means DefaultURL) and checks that
// JetStream is enabled. It fails at once, naming the server, when it does not answer.
func Open(ctx context.Context, dsn string, opts ...Option) (*Bus, error) {
	if dsn == "" {
		dsn = DefaultURL
	}
	if _, err := url.Parse(dsn); err != nil {
		return nil, fmt.Errorf("nats: DSN %q: %v: %w", dsn, err, system.ErrInvalid)
	}
	cfg := config{shards: DefaultFIFOShards}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	timeout := 5 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, max(time.Until(dl), time.Millisecond))
	}
	b := &Bus{url: dsn, cfg: cfg, done: make(chan struct{})}
	nc, err := natsgo.Connect(dsn,
		natsgo.Name("headroom bus"),
		natsgo.Timeout(timeout),
		natsgo.MaxReconnects(-1),
		natsgo.ReconnectWait(250*time.Millisecond),
		natsgo.ReconnectHandler(func(*natsgo.Conn) { b.forgetRequests() }),
	)
	if err != nil {
		return nil, fmt.Errorf("nats: connect to %s: %w (%s)", redact(dsn), err, startHint)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats: %w", err)
	}
	if _, err := js.AccountInfo(ctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats: %s answers but JetStream does not: %w (%s)", redact(dsn), err, startHint)
	}
	b.nc, b.js = nc, js
	return b, nil
}

// forgetRequests runs after a reconnect: the pull requests died with the old connection.
func (b *Bus) forgetRequests() {
	if tp := b.topo.Load(); tp != nil {
		for _, q := range tp.order {
			q.forgetRequests()
		}
	}
}

// redact hides a password in a NATS URL for error messages.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxx")
	}
	return u.String()
}

func (b *Bus) usable() error {
	select {
	case <-b.done:
		return system.ErrClosed
	default:
		return nil
	}
}

// Declare implements system.Declarer: one stream for the topic with a subject per queue
// (per shard in FIFO mode), work-queue retention (a message is deleted once acked), file
// storage, and a durable pull consumer per subject. Creating an identical stream or
// consumer again is a no-op on the server; a stream of that name with other settings is
// refused. A bus hosts one topology: declaring the same one again is a no-op, a different
// one is refused.
func (b *Bus) Declare(ctx context.Context, t system.Topology) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if err := checkTopology(t); err != nil {
		return err
	}
	b.declareMu.Lock()
	defer b.declareMu.Unlock()
	if err := b.usable(); err != nil {
		return fmt.Errorf("declare: %w", err)
	}
	if cur := b.topo.Load(); cur != nil {
		if reflect.DeepEqual(cur.spec, t) {
			return nil
		}
		return fmt.Errorf("declare %s: a different topology (%s) is already declared on this bus: %w",
			t.Topic, cur.spec.Topic, system.ErrInvalid)
	}
	window := t.DedupWindow
	if window == 0 {
		window = system.DefaultDedupWindow
	}
	tp := &topology{spec: t, window: window, shards: 1, queues: make(map[string]*queue, len(t.Queues))}
	if t.FIFO {
		tp.shards = b.cfg.shards
	}
	for _, qs := range t.Queues {
		q := newQueue(b, tp, qs)
		tp.queues[qs.Name] = q
		tp.order = append(tp.order, q)
	}
	for _, q := range tp.order {
		if q.spec.DeadLetter != "" {
			q.dlq = tp.queues[q.spec.DeadLetter]
		}
	}
	for _, s := range t.Subscriptions {
		tp.routes = append(tp.routes, route{q: tp.queues[s.Queue], filter: s.Filter})
	}

	dup := standardDuplicates
	if t.FIFO {
		dup = window
	}
	_, err := b.js.CreateStream(ctx, jetstream.StreamConfig{
		Name:       tp.stream(),
		Subjects:   []string{t.Topic + ".>"},
		Retention:  jetstream.WorkQueuePolicy,
		Storage:    jetstream.FileStorage,
		Discard:    jetstream.DiscardOld,
		Duplicates: dup,
		Replicas:   1,
	})
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return fmt.Errorf("declare %s: stream %s exists with different settings (delete it or use another topic): %v: %w",
			t.Topic, tp.stream(), err, system.ErrInvalid)
	}
	if err != nil {
		return fmt.Errorf("declare %s: stream: %w", t.Topic, err)
	}
	for _, q := range tp.order {
		for _, l := range q.lanes {
			if _, err := b.js.CreateOrUpdateConsumer(ctx, tp.stream(), q.consumerConfig(l)); err != nil {
				return fmt.Errorf("declare %s: consumer %s: %w", t.Topic, l.consumer, err)
			}
		}
	}
	b.dedup = newDedupWindow(window)
	b.topo.Store(tp)
	return nil
}

func (b *Bus) queue(name string) (*queue, error) {
	tp := b.topo.Load()
	if tp == nil {
		return nil, fmt.Errorf("queue %s: no topology declared: %w", name, system.ErrNotFound)
	}
	q := tp.queues[name]
	if q == nil {
		return nil, fmt.Errorf("queue %s: %w", name, system.ErrNotFound)
	}
	return q, nil
}

// Publish implements system.Publisher. JetStream consumers filter on subjects only, so the
// filter policies are evaluated here and the message is published once to the subject of
// every queue it matches (a queue gets one copy however many of its subscriptions match),
// each publish waiting for the stream's ack. In FIFO mode each copy carries
// Nats-Msg-Id "<dedup id>/<queue>", so the stream drops a repeat within its duplicate
// window (the deduplication window) for every queue alike, in any process.
func (b *Bus) Publish(ctx context.Context, m system.Message) error {
	if err := b.usable(); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	tp := b.topo.Load()
	if tp == nil {
		return fmt.Errorf("publish: no topology declared: %w", system.ErrNotFound)
	}
	now := time.Now()
	shard := 0
	if tp.spec.FIFO {
		if m.GroupID == "" {
			return fmt.Errorf("publish to FIFO topic %s: group id is required: %w", tp.spec.Topic, system.ErrInvalid)
		}
		if m.DedupID != "" && b.dedup.published(m.DedupID, now) {
			return nil
		}
		shard = shardOf(m.GroupID, tp.shards)
	}
	h, err := encode(&m, now)
	if err != nil {
		return fmt.Errorf("publish to %s: %w", tp.spec.Topic, err)
	}
	var targets []*queue
	for _, r := range tp.routes {
		if r.filter.Match(m.Attributes) && !containsQueue(targets, r.q) {
			targets = append(targets, r.q)
		}
	}
	msgs := make([]*natsgo.Msg, len(targets))
	for i, q := range targets {
		hh := h
		if tp.spec.FIFO && m.DedupID != "" {
			hh = make(natsgo.Header, len(h)+1)
			for k, v := range h {
				hh[k] = v
			}
			hh[hdrMsgID] = []string{m.DedupID + "/" + q.spec.Name}
		}
		msgs[i] = &natsgo.Msg{Subject: subject(tp.spec.Topic, q.spec.Name, tp.spec.FIFO, shard), Header: hh, Data: m.Body}
	}
	switch len(msgs) {
	case 0:
		// Matches no subscription: dropped, as SNS does.
	case 1:
		if err := b.publishOne(ctx, msgs[0]); err != nil {
			return fmt.Errorf("publish to %s: %w", msgs[0].Subject, err)
		}
	default:
		futures := make([]jetstream.PubAckFuture, len(msgs))
		for i, msg := range msgs {
			if futures[i], err = b.js.PublishMsgAsync(msg); err != nil {
				return fmt.Errorf("publish to %s: %w", msg.Subject, err)
			}
		}
		for i, f := range futures {
			select {
			case <-f.Ok():
			case err := <-f.Err():
				return fmt.Errorf("publish to %s: %w", msgs[i].Subject, err)
			case <-time.After(replyWait):
				// No ack: the copy may have died with the connection. Send it again.
				if err := b.publishOne(ctx, msgs[i]); err != nil {
					return fmt.Errorf("publish to %s: %w", msgs[i].Subject, err)
				}
			case <-ctx.Done():
				return fmt.Errorf("publish to %s: waiting for the ack: %w", msgs[i].Subject, ctx.Err())
			}
		}
	}
	if tp.spec.FIFO && m.DedupID != "" {
		b.dedup.record(m.DedupID, now)
	}
	return nil
}

// replyWait bounds how long a publish waits for the stream's ack, or an acknowledgement
// for the server's reply, before the request is sent again, and attempts how many times it
// is sent. A request written into a connection that dies is never answered; without a
// bound, it would wait as long as the caller's context allows, though the client
// reconnects within a second. Sending again is safe: a message whose ack alone was lost
// is stored twice, which at-least-once delivery allows (a FIFO message with a
// deduplication id is dropped by the stream instead), and a message acknowledged twice
// stays acknowledged.
const (
	replyWait = 2 * time.Second
	attempts  = 3
)

// withReplyWait runs call with a context bounded by replyWait, again while the reply does
// not come in time, up to attempts times or until ctx ends.
func withReplyWait(ctx context.Context, call func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, replyWait)
		err := call(actx)
		cancel()
		if err == nil || ctx.Err() != nil || attempt == attempts ||
			!(errors.Is(err, context.DeadlineExceeded) || errors.Is(err, natsgo.ErrTimeout)) {
			if err != nil && attempt > 1 {
				err = fmt.Errorf("no reply to %d attempts of %v each: %w", attempt, replyWait, err)
			}
			return err
		}
	}
}

// publishOne publishes msg and waits for the stream's ack (withReplyWait).
func (b *Bus) publishOne(ctx context.Context, msg *natsgo.Msg) error {
	return withReplyWait(ctx, func(ctx context.Context) error {
		_, err := b.js.PublishMsg(ctx, msg)
		return err
	})
}

// request sends body to subj and waits for the server's reply (withReplyWait): the
// acknowledgements of a received message.
func (b *Bus) request(ctx context.Context, subj string, body []byte) error {
	return withReplyWait(ctx, func(ctx context.Context) error {
		_, err := b.nc.RequestWithContext(ctx, subj, body)
		return err
	})
}

func containsQueue(qs []*queue, q *queue) bool {
	for _, x := range qs {
		if x == q {
			return true
		}
	}
	return false
}

// Receive implements system.Receiver.
func (b *Bus) Receive(ctx context.Context, name string, opt system.ReceiveOptions, dst []system.Delivery) ([]system.Delivery, error) {
	if err := b.usable(); err != nil {
		return dst, fmt.Errorf("receive %s: %w", name, err)
	}
	q, err := b.queue(name)
	if err != nil {
		return dst, err
	}
	return q.receive(ctx, opt, dst)
}

// Ack implements system.Acker: an acknowledgement the server confirms, per receipt.
func (b *Bus) Ack(ctx context.Context, name string, receipts ...string) error {
	if err := b.usable(); err != nil {
		return fmt.Errorf("ack %s: %w", name, err)
	}
	q, err := b.queue(name)
	if err != nil {
		return err
	}
	return q.ack(ctx, receipts)
}

// Release implements system.Releaser with a negative acknowledgement carrying the delay.
func (b *Bus) Release(ctx context.Context, name, receipt string, delay time.Duration) error {
	if err := b.usable(); err != nil {
		return fmt.Errorf("release %s: %w", name, err)
	}
	q, err := b.queue(name)
	if err != nil {
		return err
	}
	return q.release(ctx, receipt, delay)
}

// QueueStats implements system.Inspector from the consumers' counts, which cover every
// process: Visible is what the server has not delivered yet, InFlight what it delivered
// and awaits an ack for (redeliveries due included).
func (b *Bus) QueueStats(ctx context.Context, name string) (system.QueueStats, error) {
	if err := b.usable(); err != nil {
		return system.QueueStats{}, fmt.Errorf("stats %s: %w", name, err)
	}
	q, err := b.queue(name)
	if err != nil {
		return system.QueueStats{}, err
	}
	return q.stats(ctx)
}

// Ping implements system.Pinger: connected, and JetStream answers.
func (b *Bus) Ping(ctx context.Context) error {
	if err := b.usable(); err != nil {
		return err
	}
	if _, err := b.js.AccountInfo(ctx); err != nil {
		return fmt.Errorf("nats: JetStream: %w", err)
	}
	return nil
}

// Close hands undelivered leftovers back and closes the connection; what receivers hold
// unacknowledged is redelivered after its ack wait. Waiting receivers return ErrClosed.
func (b *Bus) Close() error {
	b.closed.Do(func() {
		close(b.done)
		if tp := b.topo.Load(); tp != nil {
			for _, q := range tp.order {
				q.close()
			}
		}
		_ = b.nc.Flush()
		b.nc.Close()
	})
	return nil
}

// DeleteTopology deletes the topic's stream, with its consumers and messages, over a
// connection of its own, so it works on a closed bus too. It is for tests and teardown
// tooling; a running deployment never calls it.
func (b *Bus) DeleteTopology(ctx context.Context) error {
	tp := b.topo.Load()
	if tp == nil {
		return nil
	}
	nc, err := natsgo.Connect(b.url, natsgo.Name("headroom teardown"))
	if err != nil {
		return fmt.Errorf("nats: connect to %s: %w", redact(b.url), err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	if err := js.DeleteStream(ctx, tp.stream()); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("delete topology %s: %w", tp.spec.Topic, err)
	}
	return nil
}
