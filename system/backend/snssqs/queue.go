package snssqs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/headroom/headroom/system"
)

// queue is one declared SQS queue and the deliveries of it this bus has handed out.
type queue struct {
	bus     *Bus
	spec    system.QueueSpec
	sqsName string
	url     string
	arn     string
	fifo    bool
	dlq     *queue
	// vis is the visibility timeout as specified, kept by the bus's own timers; backstop
	// the longer one SQS keeps, for a consumer that dies (lease.go).
	vis, backstop time.Duration

	redelivered, deadLettered, givenBack atomic.Int64

	mu      sync.Mutex
	flights map[string]*flight // by receipt handle
	delayed map[*time.Timer]struct{}
}

func newQueue(b *Bus, spec system.QueueSpec, sqsName string, fifo bool) *queue {
	vis := spec.VisibilityTimeout
	if vis == 0 {
		vis = system.DefaultVisibilityTimeout
	}
	return &queue{
		bus: b, spec: spec, sqsName: sqsName, fifo: fifo,
		vis: vis, backstop: backstopFor(vis),
		flights: make(map[string]*flight),
		delayed: make(map[*time.Timer]struct{}),
	}
}

func (q *queue) fail(op string, err error) error {
	var missing *types.QueueDoesNotExist
	if errors.As(err, &missing) {
		return fmt.Errorf("sns+sqs: %s %s (%s): queue gone: %v: %w", op, q.spec.Name, q.sqsName, err, system.ErrNotFound)
	}
	if q.bus.closed.Load() {
		return fmt.Errorf("sns+sqs: %s %s: %w", op, q.spec.Name, system.ErrClosed)
	}
	return fmt.Errorf("sns+sqs: %s %s (%s): %w", op, q.spec.Name, q.sqsName, err)
}

// receiveAttrs are the system attributes a delivery is made of.
var receiveAttrs = []types.MessageSystemAttributeName{
	types.MessageSystemAttributeNameApproximateReceiveCount,
	types.MessageSystemAttributeNameSentTimestamp,
	types.MessageSystemAttributeNameMessageGroupId,
	types.MessageSystemAttributeNameMessageDeduplicationId,
}

// shortPollPause spaces the short polls a receive makes when less than a second is left
// of its context or batching window (SQS long polls in whole seconds).
const shortPollPause = 10 * time.Millisecond

// Receive implements system.Receiver: SQS long polls of at most 10 messages each, as long
// as the context and the batching window allow, in whole seconds; short polls for the
// last fraction of a second.
func (b *Bus) Receive(ctx context.Context, name string, opt system.ReceiveOptions, dst []system.Delivery) ([]system.Delivery, error) {
	q, err := b.queue("receive", name)
	if err != nil {
		return dst, err
	}
	return q.receive(ctx, opt, dst)
}

func (q *queue) receive(ctx context.Context, opt system.ReceiveOptions, dst []system.Delivery) ([]system.Delivery, error) {
	want := max(opt.Max, 1)
	start := len(dst)
	var windowEnd time.Time
	lastFull := false
	for {
		got := len(dst) - start
		if got >= want {
			return dst, nil
		}
		if err := ctx.Err(); err != nil {
			if got > 0 {
				return dst, nil
			}
			return dst, err
		}
		if err := q.bus.usable("receive"); err != nil {
			return dst, err
		}
		now := time.Now()
		limit := q.bus.cfg.Wait
		if dl, ok := ctx.Deadline(); ok {
			limit = min(limit, dl.Sub(now))
		}
		if got > 0 {
			if opt.Window <= 0 {
				if !lastFull {
					return dst, nil // what was available at once
				}
				limit = 0 // a full batch: there may be more at once
			} else {
				if windowEnd.IsZero() {
					windowEnd = now.Add(opt.Window)
				}
				if rem := windowEnd.Sub(now); rem <= 0 {
					return dst, nil
				} else {
					limit = min(limit, rem)
				}
			}
		}
		n := min(10, want-got)
		wait := int32(max(limit, 0) / time.Second)
		msgs, err := q.poll(ctx, n, wait)
		if err != nil {
			if ctx.Err() != nil {
				if got > 0 {
					return dst, nil
				}
				return dst, ctx.Err()
			}
			if got > 0 {
				return dst, nil // keep what is in hand; the error comes back on the next call
			}
			return dst, q.fail("receive", err)
		}
		dst = q.hold(dst, msgs)
		lastFull = len(msgs) == n
		if len(msgs) == 0 && wait == 0 && limit > 0 {
			pause := time.NewTimer(min(shortPollPause, limit))
			select {
			case <-pause.C:
			case <-ctx.Done():
				pause.Stop()
			}
		}
	}
}

// poll is one ReceiveMessage. A caller whose context ends mid-poll gets ctx's error at
// once; the poll itself runs on, since SQS may already have handed it messages, which
// would stay invisible for the backstop timeout, and whatever it brings is made visible
// again at once (giveBack).
func (q *queue) poll(ctx context.Context, n int, wait int32) ([]types.Message, error) {
	in := &sqs.ReceiveMessageInput{
		QueueUrl:                    &q.url,
		MaxNumberOfMessages:         int32(n),
		WaitTimeSeconds:             wait,
		VisibilityTimeout:           int32(q.backstop / time.Second),
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: receiveAttrs,
	}
	if ctx.Done() == nil {
		out, err := q.bus.sqs.ReceiveMessage(q.bus.life, in)
		if err != nil {
			return nil, err
		}
		return out.Messages, nil
	}
	p := &pendingPoll{done: make(chan struct{})}
	go func() {
		pctx, cancel := context.WithTimeout(q.bus.life, time.Duration(wait)*time.Second+30*time.Second)
		defer cancel()
		out, err := q.bus.sqs.ReceiveMessage(pctx, in)
		p.mu.Lock()
		if p.abandoned {
			p.mu.Unlock()
			if err == nil && len(out.Messages) > 0 {
				q.giveBack(out.Messages)
			}
			return
		}
		if err == nil {
			p.msgs = out.Messages
		}
		p.err = err
		close(p.done)
		p.mu.Unlock()
	}()
	select {
	case <-p.done:
		return p.msgs, p.err
	case <-ctx.Done():
		p.mu.Lock()
		defer p.mu.Unlock()
		select {
		case <-p.done: // finished meanwhile: keep its messages
			return p.msgs, p.err
		default:
			p.abandoned = true
			return nil, ctx.Err()
		}
	}
}

type pendingPoll struct {
	mu        sync.Mutex
	abandoned bool
	done      chan struct{}
	msgs      []types.Message
	err       error
}

// giveBack makes messages received for a caller that left visible again.
func (q *queue) giveBack(msgs []types.Message) {
	receipts := make([]string, 0, len(msgs))
	for i := range msgs {
		receipts = append(receipts, aws.ToString(msgs[i].ReceiptHandle))
	}
	q.givenBack.Add(int64(len(receipts)))
	q.changeVisibility(receipts, 0)
}

// changeVisibility sets the visibility timeout of receipts, ten per request; failures are
// left to the backstop timeout.
func (q *queue) changeVisibility(receipts []string, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(q.bus.life, 10*time.Second)
	defer cancel()
	for len(receipts) > 0 {
		chunk := receipts[:min(10, len(receipts))]
		receipts = receipts[len(chunk):]
		entries := make([]types.ChangeMessageVisibilityBatchRequestEntry, len(chunk))
		for i := range chunk {
			entries[i] = types.ChangeMessageVisibilityBatchRequestEntry{
				Id: aws.String(strconv.Itoa(i)), ReceiptHandle: &chunk[i], VisibilityTimeout: int32(timeout / time.Second),
			}
		}
		_, _ = q.bus.sqs.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: &q.url, Entries: entries})
	}
}

// Ack implements system.Acker: DeleteMessageBatch, ten receipts per request. A receipt
// whose visibility timeout ended is still deleted (SQS deletes the message if nobody
// received it since), and reported as ErrNotFound, since the message may come back.
func (b *Bus) Ack(ctx context.Context, name string, receipts ...string) error {
	q, err := b.queue("ack", name)
	if err != nil {
		return err
	}
	var first error
	if expired := q.settle(receipts); expired != "" {
		first = fmt.Errorf("sns+sqs: ack %s: receipt %.20s…: visibility timeout ended or already acknowledged: %w",
			name, expired, system.ErrNotFound)
	}
	for len(receipts) > 0 {
		chunk := receipts[:min(10, len(receipts))]
		receipts = receipts[len(chunk):]
		entries := make([]types.DeleteMessageBatchRequestEntry, len(chunk))
		for i := range chunk {
			entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: &chunk[i]}
		}
		out, err := b.sqs.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &q.url, Entries: entries})
		if err != nil {
			if first == nil {
				first = q.fail("ack", err)
			}
			continue
		}
		for _, f := range out.Failed {
			if first == nil {
				first = fmt.Errorf("sns+sqs: ack %s: %s: %s: %w", name, aws.ToString(f.Code), aws.ToString(f.Message), system.ErrNotFound)
			}
		}
	}
	return first
}

// Release implements system.Releaser with ChangeMessageVisibility. A delay in whole
// seconds is SQS's; a fraction is the bus's timer (the message hidden meanwhile for the
// delay plus the backstop margin). Releasing a message's last allowed receive
// dead-letters it once the delay is over, as its timeout would have.
func (b *Bus) Release(ctx context.Context, name, receipt string, delay time.Duration) error {
	q, err := b.queue("release", name)
	if err != nil {
		return err
	}
	f := q.take(receipt)
	if f == nil {
		return fmt.Errorf("sns+sqs: release %s: receipt %.20s…: visibility timeout ended or already acknowledged: %w",
			name, receipt, system.ErrNotFound)
	}
	delay = max(delay, 0)
	final := q.final(f)
	if !final && delay%time.Second == 0 {
		_, err := b.sqs.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl: &q.url, ReceiptHandle: &receipt, VisibilityTimeout: int32(delay / time.Second)})
		if err != nil {
			return q.fail("release", err)
		}
		q.redelivered.Add(1)
		return nil
	}
	if delay == 0 { // final
		q.deadLetter([]*flight{f})
		return nil
	}
	if _, err := b.sqs.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: &q.url, ReceiptHandle: &receipt, VisibilityTimeout: int32(backstopFor(delay) / time.Second)}); err != nil {
		return q.fail("release", err)
	}
	q.after(delay, func() {
		if final {
			q.deadLetter([]*flight{f})
			return
		}
		q.redelivered.Add(1)
		q.changeVisibility([]string{receipt}, 0)
	})
	return nil
}
