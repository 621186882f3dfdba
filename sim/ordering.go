package sim

import (
	"fmt"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

// Ordering: a queue counts, per key, the messages processed out of the order it received
// them. A message is processed when its batch succeeds (a batch's messages one after
// another, in the batch's order); it is out of order when a message of the same key that
// the queue received after it was processed before it. Per key the check keeps only the
// latest queue arrival processed so far (maxDone): a message received before that is a
// violation. Concurrent batches of a standard queue, and messages that come back after a
// failure, make violations; a FIFO queue makes none per its group key, by construction,
// but may per another key (per state, when grouped per user). The order is the queue's
// arrival order — the order SQS received the messages, which for a FIFO topic is the
// order they were published.

// orderCount counts one key's checks.
type orderCount struct {
	key                 string
	checked, violations int64
}

// done checks a message received at sent against the key's maxDone, and moves it on.
func (o *orderCount) done(sent Time, maxDone *Time) {
	o.checked++
	if sent < *maxDone {
		o.violations++
		return
	}
	*maxDone = sent
}

func (o *orderCount) reset() { o.checked, o.violations = 0, 0 }

func (o *orderCount) result() result.Ordering {
	return result.Ordering{Key: o.key, Checked: o.checked, Violations: o.violations}
}

// orderTracker counts the order of one key of a queue's order_keys.
//
//   - a mix attribute: maxDone per value, a dense table.
//   - user: maxDone per user, kept only while the user has messages in the queue (the count
//     of them is kept with it): once they are all processed, any later message arrived
//     after every processed one, so the mark can be forgotten. The table holds the users
//     with messages in the queue, not all users.
//   - request: one message per request and queue, so never out of order; counted only.
type orderTracker struct {
	count  orderCount
	kind   groupKey
	slot   int
	byAttr [256]Time
	byUser userTable // user → index in users
	users  []userOrder
	free   []int32
}

type userOrder struct {
	present int32
	maxDone Time
}

func newOrderTracker(m *Model, key string) (*orderTracker, error) {
	o := &orderTracker{count: orderCount{key: key}}
	switch key {
	case scenarios.KeyUser:
		o.kind = keyUser
	case scenarios.KeyRequest:
		o.kind = keyRequest
	default:
		slot, _, ok := m.attrSlot(key)
		if !ok {
			return nil, fmt.Errorf("order_keys: %q is not a workload.mix attribute, request or user", key)
		}
		o.kind, o.slot = keyAttr, slot
	}
	return o, nil
}

// arrive notes a message for r entering the queue.
func (o *orderTracker) arrive(m *Model, r ReqID) {
	if o.kind != keyUser {
		return
	}
	u := m.reqs.at(r).user
	i, ok := o.byUser.get(u)
	if !ok {
		if n := len(o.free); n > 0 {
			i, o.free = o.free[n-1], o.free[:n-1]
			o.users[i] = userOrder{}
		} else {
			o.users = append(o.users, userOrder{})
			i = int32(len(o.users) - 1)
		}
		o.byUser.put(u, i)
	}
	o.users[i].present++
}

// done checks a processed message for r, received at sent.
func (o *orderTracker) done(m *Model, r ReqID, sent Time) {
	switch o.kind {
	case keyAttr:
		o.count.done(sent, &o.byAttr[m.reqs.at(r).attrs[o.slot]])
	case keyUser:
		u := m.reqs.at(r).user
		i, _ := o.byUser.get(u)
		o.count.done(sent, &o.users[i].maxDone)
		o.leave(u, i)
	default:
		o.count.checked++
	}
}

// drop notes a message for r leaving unprocessed (dead-lettered).
func (o *orderTracker) drop(m *Model, r ReqID) {
	if o.kind == keyUser {
		u := m.reqs.at(r).user
		i, _ := o.byUser.get(u)
		o.leave(u, i)
	}
}

// leave counts a message of user u (entry i) out, forgetting the user at its last.
func (o *orderTracker) leave(u uint32, i int32) {
	if o.users[i].present--; o.users[i].present <= 0 {
		o.byUser.del(u)
		o.free = append(o.free, i)
	}
}

// queueOrder holds a queue's order trackers (order_keys), nil when it has none.
type queueOrder []*orderTracker

func newQueueOrder(q *queue, spec *scenarios.Queue) (queueOrder, error) {
	var out queueOrder
	for _, k := range spec.OrderKeys {
		if q.fifo != nil && k == q.fifo.order.key {
			continue // the FIFO groups count it already
		}
		dup := false
		for _, o := range out {
			dup = dup || o.count.key == k
		}
		if dup {
			continue
		}
		o, err := newOrderTracker(q.m, k)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

func (qo queueOrder) arrive(m *Model, r ReqID) {
	for _, o := range qo {
		o.arrive(m, r)
	}
}

// batchDone checks the messages of a batch that succeeded, in the batch's order.
func (qo queueOrder) batchDone(m *Model, msgs []qmsg) {
	for _, o := range qo {
		for _, msg := range msgs {
			o.done(m, msg.r, msg.sent)
		}
	}
}

func (qo queueOrder) drop(m *Model, r ReqID) {
	for _, o := range qo {
		o.drop(m, r)
	}
}

func (qo queueOrder) reset() {
	for _, o := range qo {
		o.count.reset()
	}
}

func (qo queueOrder) report(c *result.Component) {
	for _, o := range qo {
		if o.count.checked == 0 && c.Completed == 0 {
			continue // a sink: nothing processed, no order to count
		}
		c.Ordering = append(c.Ordering, o.count.result())
	}
}
