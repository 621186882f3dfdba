package snssqs

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/headroom/headroom/system"
)

// The visibility timeout is kept twice. SQS takes it in whole seconds, and moves a message
// to its dead-letter queue only when someone receives it once too often, while the
// contract (system.QueueSpec) wants any duration and the move when the last allowed
// receive times out. So the bus keeps each delivery's timeout itself, to the millisecond:
// one timer per received batch; when it fires, the deliveries still unacknowledged are
// made visible again (ChangeMessageVisibility 0), or, after their last allowed receive,
// sent to the dead-letter queue and deleted. SQS holds them for the backstop, the timeout
// rounded up to whole seconds plus one more, so it never races the bus's timer, and its
// RedrivePolicy (maxReceiveCount = MaxReceives) stays configured: if the process dies
// holding messages, SQS returns them a second or two late, and dead-letters them at the
// next receive.

// backstopFor is the whole seconds SQS hides a message for a timeout d kept by the bus: at
// least one second longer.
func backstopFor(d time.Duration) time.Duration {
	return (d/time.Second + 1 + min(d%time.Second, 1)) * time.Second
}

// lease is one received batch: its receipts share a deadline and a timer.
type lease struct {
	receipts []string
	pending  int // receipts still in flight
	timer    *time.Timer
}

// flight is one delivery in flight.
type flight struct {
	lease   *lease
	receipt string
	count   int
	// msg is the received message, kept only for a last allowed receive, which the bus
	// may have to send to the dead-letter queue.
	msg *types.Message
}

// final reports whether f is its message's last allowed receive.
func (q *queue) final(f *flight) bool { return f.msg != nil }

// hold converts received messages to deliveries appended to dst, and starts their
// visibility timeout. A message that cannot be converted (a body marked base64 that is
// not) is left to time out and, eventually, to the dead-letter queue.
func (q *queue) hold(dst []system.Delivery, msgs []types.Message) []system.Delivery {
	if len(msgs) == 0 {
		return dst
	}
	l := &lease{receipts: make([]string, 0, len(msgs))}
	q.mu.Lock()
	for i := range msgs {
		m := &msgs[i]
		d, err := delivery(q.spec.Name, m)
		f := &flight{lease: l, receipt: aws.ToString(m.ReceiptHandle), count: d.ReceiveCount}
		if q.dlq != nil && q.spec.MaxReceives > 0 && d.ReceiveCount >= q.spec.MaxReceives {
			f.msg = m
		}
		l.receipts = append(l.receipts, f.receipt)
		l.pending++
		q.flights[f.receipt] = f
		if err == nil {
			dst = append(dst, d)
		}
	}
	l.timer = time.AfterFunc(q.vis, func() { q.expire(l) })
	q.mu.Unlock()
	return dst
}

// take removes a receipt from the flights and returns it (nil when it is not in flight).
func (q *queue) take(receipt string) *flight {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.takeLocked(receipt)
}

func (q *queue) takeLocked(receipt string) *flight {
	f := q.flights[receipt]
	if f == nil {
		return nil
	}
	delete(q.flights, receipt)
	if f.lease.pending--; f.lease.pending == 0 {
		f.lease.timer.Stop()
	}
	return f
}

// settle takes the acknowledged receipts out of flight and returns one that was not in
// flight (timed out, released, acknowledged before, or never ours), or "".
func (q *queue) settle(receipts []string) (missing string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, r := range receipts {
		if q.takeLocked(r) == nil && missing == "" {
			missing = r
		}
	}
	return missing
}

// expire ends the visibility timeout of what is left of a batch.
func (q *queue) expire(l *lease) {
	var back []string
	var dead []*flight
	q.mu.Lock()
	for _, r := range l.receipts {
		f := q.flights[r]
		if f == nil || f.lease != l {
			continue
		}
		delete(q.flights, r)
		if q.final(f) {
			dead = append(dead, f)
		} else {
			back = append(back, r)
		}
	}
	l.pending = 0
	q.mu.Unlock()
	if q.bus.closed.Load() {
		return
	}
	if len(back) > 0 {
		q.redelivered.Add(int64(len(back)))
		q.changeVisibility(back, 0)
	}
	q.deadLetter(dead)
}

// deadLetter moves messages whose last allowed receive ended to the dead-letter queue: a
// copy sent there (group and deduplication id kept in FIFO mode, so a repeated move is
// dropped as a duplicate), then the original deleted. If the send fails the message is
// made visible instead, and SQS's redrive moves it at its next receive.
func (q *queue) deadLetter(dead []*flight) {
	if len(dead) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(q.bus.life, 10*time.Second)
	defer cancel()
	var failed []string
	for _, f := range dead {
		m := f.msg
		in := &sqs.SendMessageInput{QueueUrl: &q.dlq.url, MessageBody: m.Body, MessageAttributes: m.MessageAttributes}
		if q.fifo {
			in.MessageGroupId = aws.String(m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)])
			dedup := m.Attributes[string(types.MessageSystemAttributeNameMessageDeduplicationId)]
			if dedup == "" {
				dedup = aws.ToString(m.MessageId)
			}
			in.MessageDeduplicationId = &dedup
		}
		if _, err := q.bus.sqs.SendMessage(ctx, in); err != nil {
			failed = append(failed, f.receipt)
			continue
		}
		q.deadLettered.Add(1)
		_, _ = q.bus.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &q.url, ReceiptHandle: &f.receipt})
	}
	if len(failed) > 0 {
		q.changeVisibility(failed, 0)
	}
}

// after runs fn after d unless the bus closes first.
func (q *queue) after(d time.Duration, fn func()) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		q.mu.Lock()
		_, live := q.delayed[t]
		delete(q.delayed, t)
		q.mu.Unlock()
		if live && !q.bus.closed.Load() {
			fn()
		}
	})
	q.delayed[t] = struct{}{}
}

// stopTimers drops every pending expiry and delayed release: the bus is closing, and SQS's
// backstop timeout takes over.
func (q *queue) stopTimers() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for r, f := range q.flights {
		f.lease.timer.Stop()
		delete(q.flights, r)
	}
	for t := range q.delayed {
		t.Stop()
		delete(q.delayed, t)
	}
}
