package rabbitmq

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/headroom/headroom/system"
)

// Bus is a system.Bus on RabbitMQ: the topic is a headers exchange, each queue a quorum
// queue bound to it with the subscription's filter policy as header matches. See doc.go.
type Bus struct {
	url    string
	cfg    config
	done   chan struct{}
	closed sync.Once

	mu    sync.Mutex // guards the connection and the shared channels
	conn  *amqp.Connection
	admin *amqp.Channel // declarations and inspection; a failed one closes it
	pub   *amqp.Channel // confirm mode

	declareMu sync.Mutex
	topo      atomic.Pointer[topology]

	chanSeq  atomic.Uint64
	tagSeq   atomic.Uint64
	idPrefix string
	dedup    *dedupWindow // FIFO publisher-side deduplication, set by Declare
}

var (
	_ system.Bus       = (*Bus)(nil)
	_ system.Releaser  = (*Bus)(nil)
	_ system.Inspector = (*Bus)(nil)
	_ system.Pinger    = (*Bus)(nil)
)

// Open connects to the broker at dsn (an AMQP URI; "" means DefaultURL). It fails at once,
// naming the broker, when RabbitMQ does not answer.
func Open(ctx context.Context, dsn string, opts ...Option) (*Bus, error) {
	if dsn == "" {
		dsn = DefaultURL
	}
	if _, err := amqp.ParseURI(dsn); err != nil {
		return nil, fmt.Errorf("rabbitmq: DSN %q: %v: %w", redact(dsn), err, system.ErrInvalid)
	}
	cfg := config{shards: DefaultFIFOShards}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, fmt.Errorf("rabbitmq: random id: %w", err)
	}
	b := &Bus{url: dsn, cfg: cfg, done: make(chan struct{}), idPrefix: hex.EncodeToString(rnd[:])}
	b.mu.Lock()
	_, err := b.connLocked(ctx)
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return b, nil
}

// redact hides the password of an AMQP URI for error messages.
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

// connLocked returns the connection, dialling again if it is gone. Callers hold b.mu.
func (b *Bus) connLocked(ctx context.Context) (*amqp.Connection, error) {
	if err := b.usable(); err != nil {
		return nil, err
	}
	if b.conn != nil && !b.conn.IsClosed() {
		return b.conn, nil
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := amqp.DialConfig(b.url, amqp.Config{
		Heartbeat: 10 * time.Second,
		Locale:    "en_US",
		Dial: func(network, addr string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
		Properties: amqp.Table{"connection_name": "headroom bus " + b.idPrefix},
	})
	if err != nil {
		return nil, fmt.Errorf("rabbitmq: connect to %s: %w (is RabbitMQ running? start it with 'rabbitmq-server -detached')",
			redact(b.url), err)
	}
	b.conn = conn
	return conn, nil
}

// openQchan opens a channel for one queue's receives.
func (b *Bus) openQchan() (*qchan, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	conn, err := b.connLocked(context.Background())
	if err != nil {
		return nil, err
	}
	ch, err := conn.Channel()
	if err != nil {
		return nil, fmt.Errorf("rabbitmq: open channel: %w", err)
	}
	return newQchan(b.chanSeq.Add(1), ch), nil
}

// adminChannel returns the channel for declarations and inspection. A refused declaration
// closes it, so it is reopened on demand.
func (b *Bus) adminChannel(ctx context.Context) (*amqp.Channel, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.admin != nil && !b.admin.IsClosed() {
		return b.admin, nil
	}
	conn, err := b.connLocked(ctx)
	if err != nil {
		return nil, err
	}
	ch, err := conn.Channel()
	if err != nil {
		return nil, fmt.Errorf("rabbitmq: open channel: %w", err)
	}
	b.admin = ch
	return ch, nil
}

// pubChannel returns the publishing channel, in confirm mode.
func (b *Bus) pubChannel(ctx context.Context) (*amqp.Channel, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// A dead connection closes its channels a little after it knows itself closed: ask both.
	if b.pub != nil && !b.pub.IsClosed() && b.conn != nil && !b.conn.IsClosed() {
		return b.pub, nil
	}
	conn, err := b.connLocked(ctx)
	if err != nil {
		return nil, err
	}
	ch, err := conn.Channel()
	if err != nil {
		return nil, fmt.Errorf("rabbitmq: open channel: %w", err)
	}
	if err := ch.Confirm(false); err != nil {
		_ = ch.Close()
		return nil, fmt.Errorf("rabbitmq: confirm mode: %w", err)
	}
	b.pub = ch
	return ch, nil
}

// dropPub forgets ch as the publishing channel after it failed, so that the next publish
// opens another (on a new connection if this one died).
func (b *Bus) dropPub(ch *amqp.Channel) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pub == ch {
		b.pub = nil
		_ = ch.Close()
	}
}

func (b *Bus) consumerTag() string {
	return "hr-" + b.idPrefix + "-" + strconv.FormatUint(b.tagSeq.Add(1), 36)
}

func (b *Bus) messageID() string {
	return b.idPrefix + "-" + strconv.FormatUint(b.tagSeq.Add(1), 36)
}

// brokerErr classifies a broker refusal: PRECONDITION_FAILED means the resource exists
// with other arguments, which is bad configuration.
func brokerErr(what string, err error) error {
	var ae *amqp.Error
	if errors.As(err, &ae) && ae.Code == amqp.PreconditionFailed {
		return fmt.Errorf("%s: exists with different settings (delete it or use another topic): %v: %w",
			what, ae.Reason, system.ErrInvalid)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Declare implements system.Declarer: the topic's headers exchange, one quorum queue per
// queue (or, in FIFO mode, a direct exchange and one single-active-consumer quorum queue
// per shard), dead-letter arguments, and the bindings that encode the filter policies.
// Every declaration is idempotent on the broker. A bus hosts one topology: declaring the
// same one again is a no-op, a different one is refused.
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
	tp := &topology{spec: t, window: window, shards: b.cfg.shards, absent: absentAttrs(t),
		queues: make(map[string]*queue, len(t.Queues))}
	if err := b.declareBroker(ctx, tp); err != nil {
		return fmt.Errorf("declare %s: %w", t.Topic, err)
	}
	for _, qs := range t.Queues {
		q := newQueue(b, tp, qs)
		tp.queues[qs.Name] = q
		tp.order = append(tp.order, q)
	}
	b.dedup = newDedupWindow(window)
	b.topo.Store(tp)
	return nil
}

func (b *Bus) declareBroker(ctx context.Context, tp *topology) error {
	ch, err := b.adminChannel(ctx)
	if err != nil {
		return err
	}
	t := &tp.spec
	if err := ch.ExchangeDeclare(tp.exchange(), amqp.ExchangeHeaders, true, false, false, false, nil); err != nil {
		return brokerErr("exchange "+tp.exchange(), err)
	}
	for _, q := range t.Queues {
		if !t.FIFO {
			name := queueName(t.Topic, q.Name)
			args := queueArgs(q, false, "", queueName(t.Topic, q.DeadLetter))
			if _, err := ch.QueueDeclare(name, true, false, false, false, args); err != nil {
				return brokerErr("queue "+name, err)
			}
			continue
		}
		ex := fifoExchange(t.Topic, q.Name)
		if err := ch.ExchangeDeclare(ex, amqp.ExchangeDirect, true, false, false, false, nil); err != nil {
			return brokerErr("exchange "+ex, err)
		}
		for k := 0; k < tp.shards; k++ {
			name := shardName(t.Topic, q.Name, k)
			// A dead letter keeps its shard: the dead-letter queue's shards are keyed alike.
			args := queueArgs(q, true, fifoExchange(t.Topic, q.DeadLetter), strconv.Itoa(k))
			if _, err := ch.QueueDeclare(name, true, false, false, false, args); err != nil {
				return brokerErr("queue "+name, err)
			}
			if err := ch.QueueBind(name, strconv.Itoa(k), ex, false, nil); err != nil {
				return brokerErr("bind "+name, err)
			}
		}
	}
	for _, s := range t.Subscriptions {
		bs, err := bindings(s.Filter)
		if err != nil {
			return err
		}
		for _, args := range bs {
			if t.FIFO {
				err = ch.ExchangeBind(fifoExchange(t.Topic, s.Queue), "", tp.exchange(), false, args)
			} else {
				err = ch.QueueBind(queueName(t.Topic, s.Queue), "", tp.exchange(), false, args)
			}
			if err != nil {
				return brokerErr("bind "+s.Queue, err)
			}
		}
	}
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

// Publish implements system.Publisher: one publish to the headers exchange, which routes
// it to every queue whose bindings match (a queue gets one copy however many of its
// bindings match), and nothing returns before the broker's publisher confirm, which a
// quorum queue sends once the message is written by a majority (here: the one node).
func (b *Bus) Publish(ctx context.Context, m system.Message) error {
	if err := b.usable(); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	tp := b.topo.Load()
	if tp == nil {
		return fmt.Errorf("publish: no topology declared: %w", system.ErrNotFound)
	}
	now := time.Now()
	key := ""
	if tp.spec.FIFO {
		if m.GroupID == "" {
			return fmt.Errorf("publish to FIFO topic %s: group id is required: %w", tp.spec.Topic, system.ErrInvalid)
		}
		if m.DedupID != "" && b.dedup.published(m.DedupID, now) {
			return nil
		}
		key = strconv.Itoa(shardOf(m.GroupID, tp.shards))
	}
	headers, err := encode(&m, tp.absent, now)
	if err != nil {
		return fmt.Errorf("publish to %s: %w", tp.spec.Topic, err)
	}
	msgID := b.messageID()
	var dc *amqp.DeferredConfirmation
	// A channel found closed as the message is handed to it has not sent it: the publish
	// goes again on a fresh channel, once (the connection may have just died).
	for attempt := 1; ; attempt++ {
		ch, err := b.pubChannel(ctx)
		if err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		dc, err = ch.PublishWithDeferredConfirmWithContext(ctx, tp.exchange(), key, false, false, amqp.Publishing{
			Headers:      headers,
			DeliveryMode: amqp.Persistent,
			MessageId:    msgID,
			Timestamp:    now,
			Body:         m.Body,
		})
		if err == nil {
			break
		}
		if !errors.Is(err, amqp.ErrClosed) {
			// The channel is shared: another publisher's confirm may still be due on it.
			return fmt.Errorf("publish to %s: %w", tp.spec.Topic, err)
		}
		b.dropPub(ch)
		if attempt == 2 {
			return fmt.Errorf("publish to %s: %w", tp.spec.Topic, err)
		}
	}
	acked, err := dc.WaitContext(ctx)
	if err != nil {
		return fmt.Errorf("publish to %s: waiting for the confirm: %w", tp.spec.Topic, err)
	}
	if !acked {
		// Nacked, or the channel closed before the confirm (then the next publish opens
		// another: pubChannel sees it closed).
		return fmt.Errorf("publish to %s: the broker refused the message (nack or channel closed)", tp.spec.Topic)
	}
	if tp.spec.FIFO && m.DedupID != "" {
		b.dedup.record(m.DedupID, msgID, now)
	}
	return nil
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

// Ack implements system.Acker.
func (b *Bus) Ack(ctx context.Context, name string, receipts ...string) error {
	if err := b.usable(); err != nil {
		return fmt.Errorf("ack %s: %w", name, err)
	}
	q, err := b.queue(name)
	if err != nil {
		return err
	}
	return q.ack(receipts)
}

// Release implements system.Releaser: a nack with requeue, at once or after delay (the
// delivery stays hidden on its channel until then).
func (b *Bus) Release(ctx context.Context, name, receipt string, delay time.Duration) error {
	if err := b.usable(); err != nil {
		return fmt.Errorf("release %s: %w", name, err)
	}
	q, err := b.queue(name)
	if err != nil {
		return err
	}
	return q.release(receipt, delay)
}

// QueueStats implements system.Inspector. Visible is the broker's count of ready messages
// (plus, in FIFO mode, those this process's shard consumers hold but have not handed out);
// InFlight is what this bus has handed out and not yet seen acknowledged or timed out —
// AMQP reports no unacknowledged count, so other processes' deliveries are not included.
func (b *Bus) QueueStats(ctx context.Context, name string) (system.QueueStats, error) {
	if err := b.usable(); err != nil {
		return system.QueueStats{}, fmt.Errorf("stats %s: %w", name, err)
	}
	q, err := b.queue(name)
	if err != nil {
		return system.QueueStats{}, err
	}
	ch, err := b.adminChannel(ctx)
	if err != nil {
		return system.QueueStats{}, fmt.Errorf("stats %s: %w", name, err)
	}
	var st system.QueueStats
	for _, n := range q.names {
		bq, err := ch.QueueDeclarePassive(n, true, false, false, false, nil)
		if err != nil {
			return system.QueueStats{}, brokerErr("stats "+n, err)
		}
		st.Visible += int64(bq.Messages)
	}
	if q.fifo {
		st.Visible += int64(q.readyCount())
	}
	st.InFlight = int64(q.inFlight())
	return st, nil
}

// Ping implements system.Pinger: the connection is up (re-dialled if it dropped).
func (b *Bus) Ping(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, err := b.connLocked(ctx)
	return err
}

// Close closes the connection. The broker requeues every delivery not acknowledged yet
// (a quorum queue counts that as a delivery); waiting receivers return ErrClosed.
func (b *Bus) Close() error {
	var err error
	b.closed.Do(func() {
		close(b.done)
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.conn != nil && !b.conn.IsClosed() {
			err = b.conn.Close()
		}
	})
	return err
}

// DeleteTopology deletes the broker objects of the declared topology (queues with their
// messages, exchanges) over a connection of its own, so it works on a closed bus too. It
// is for tests and teardown tooling; a running deployment never calls it.
func (b *Bus) DeleteTopology(ctx context.Context) error {
	tp := b.topo.Load()
	if tp == nil {
		return nil
	}
	conn, err := amqp.DialConfig(b.url, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)})
	if err != nil {
		return fmt.Errorf("rabbitmq: connect to %s: %w", redact(b.url), err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("rabbitmq: open channel: %w", err)
	}
	var first error
	note := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	for _, q := range tp.order {
		for _, n := range q.names {
			_, err := ch.QueueDelete(n, false, false, false)
			note(err)
		}
		if tp.spec.FIFO {
			note(ch.ExchangeDelete(fifoExchange(tp.spec.Topic, q.spec.Name), false, false))
		}
	}
	note(ch.ExchangeDelete(tp.exchange(), false, false))
	if first != nil {
		return fmt.Errorf("delete topology %s: %w", tp.spec.Topic, first)
	}
	return nil
}
