package sim

import (
	"fmt"

	"github.com/headroom/headroom/result"
)

// Usage: what each kind consumed that a provider bills, as result.Usage items keyed by the
// price that bills them (sim/cost's prices.yaml). A kind reports usage by implementing
// metered; the cost model multiplies. A new kind adds its usage() beside its model, with
// prices of the same keys in the price table (instance-based kinds: instanceUsage).

// metered is implemented by kinds whose usage is billed. span is the measured period.
type metered interface {
	usage(span Time) []result.Usage
}

var (
	_ metered = (*function)(nil)
	_ metered = (*gateway)(nil)
	_ metered = (*queue)(nil)
	_ metered = (*topic)(nil)
	_ metered = (*table)(nil)
)

// chunkBytes is the payload unit SQS and SNS bill as one request: 64 KB.
const chunkBytes = 64 * 1024

// chunks is the number of 64 KB chunks of n bytes, at least 1 (an empty request is billed).
func chunks(n int64) int64 { return max(1, (n+chunkBytes-1)/chunkBytes) }

func (m *Model) payloadBytes() int64 { return int64(max(0, m.sc.Workload.PayloadBytes)) }

// instanceUsage is count instances of an instance type over span, priced per
// instance-hour under price (ec2.m5.large, rds.mysql.db.m5.large,
// elasticache.cache.m5.large). Fixed: a fixed fleet does not follow the load.
func instanceUsage(price string, count int, span Time) result.Usage {
	return result.Usage{
		Price:    price,
		Item:     fmt.Sprintf("%d × %s", count, price),
		Quantity: float64(count) * span.Seconds() / 3600,
		Fixed:    true,
	}
}

// Lambda bills every invocation that ran (throttled ones are not) and its duration, INIT
// included, rounded up to the millisecond, × memory (function.billedMBms).
func (f *function) usage(span Time) []result.Usage {
	arch := f.spec.Function.Architecture
	if arch == "" {
		arch = "x86"
	}
	return []result.Usage{
		{Price: "lambda.requests", Item: "invocations", Quantity: float64(f.invocations)},
		{Price: "lambda.compute." + arch, Item: fmt.Sprintf("duration × %d MB, INIT included", f.memoryMB),
			Quantity: float64(f.billedMBms) / 1024 / 1000},
	}
}

// API Gateway bills the requests it admitted; a throttled request (429) is assumed free.
func (g *gateway) usage(span Time) []result.Usage {
	api := g.spec.Gateway.API
	if api == "" {
		api = "rest"
	}
	return []result.Usage{{Price: "apigateway." + api + ".requests", Item: "requests admitted", Quantity: float64(g.st.accepted)}}
}

// SNS bills each publish per 64 KB chunk; deliveries to SQS are listed (the table prices
// them at nothing).
func (t *topic) usage(span Time) []result.Usage {
	return []result.Usage{
		{Price: "sns." + t.kindName() + ".publishes", Item: "publishes (64 KB chunks)", Quantity: float64(t.published * chunks(t.m.payloadBytes()))},
		{Price: "sns.deliveries.sqs", Item: "deliveries to SQS", Quantity: float64(t.delivered)},
	}
}

// DynamoDB on demand bills the capacity units consumed; provisioned bills the capacity
// set, per hour, used or not.
func (t *table) usage(span Time) []result.Usage {
	if t.rep != nil {
		return t.rep.usage(span)
	}
	return t.ownUsage(span)
}

func (t *table) ownUsage(span Time) []result.Usage {
	if t.provisioned {
		h := span.Seconds() / 3600
		spec := t.spec.Table
		return []result.Usage{
			{Price: "dynamodb.provisioned.wcu_hours", Item: fmt.Sprintf("%g WCU provisioned", spec.ProvisionedWCU), Quantity: spec.ProvisionedWCU * h, Fixed: true},
			{Price: "dynamodb.provisioned.rcu_hours", Item: fmt.Sprintf("%g RCU provisioned", spec.ProvisionedRCU), Quantity: spec.ProvisionedRCU * h, Fixed: true},
		}
	}
	return []result.Usage{
		{Price: "dynamodb.on_demand.write_units", Item: "write request units", Quantity: t.wUnits},
		{Price: "dynamodb.on_demand.read_units", Item: "read request units", Quantity: t.rUnits},
	}
}

// longPoll is how long a poller's ReceiveMessage waits for a message (Lambda's pollers
// long-poll with the maximum WaitTimeSeconds, 20 s) before it returns empty.
const longPoll = 20 * Second

// SQS bills every API request, each 64 KB chunk of its payload as one more:
//
//   - a SendMessage per message sent through the API (the synchronous path), per chunk;
//   - for messages SNS delivered, the send on the queue (priced separately, see
//     prices.yaml); a redrive to a dead-letter queue is SQS's own move and free;
//   - a ReceiveMessage per batch the pollers take (up to 10 messages a request, and at least
//     one request per 64 KB of the batch), and a DeleteMessageBatch per 10 messages of a
//     batch that succeeded (a failed or throttled batch is not deleted: it reappears);
//   - empty receives: while no message arrives, each of the mapping's pollers (poller_start,
//     the pool it falls back to when idle) long-polls for 20 s and comes back empty, so a gap
//     of g between arrivals costs poller_start × ⌊g / 20 s⌋ empty receives. Gaps that long
//     only occur at low rates, when nothing is queued, so backlog is not deducted.
func (q *queue) usage(span Time) []result.Usage {
	kind := "standard"
	if q.fifo != nil {
		kind = "fifo"
	}
	per := chunks(q.m.payloadBytes())
	fromSNS := q.st.offered - q.apiSends - q.fromDLQ
	if q.fifo != nil {
		fromSNS -= q.fifo.sendThrottled // refused SendMessage calls: offered, but neither sent nor delivered
	}
	out := []result.Usage{}
	if q.apiSends > 0 {
		out = append(out, result.Usage{Price: "sqs." + kind + ".requests", Item: "SendMessage", Quantity: float64(q.apiSends * per)})
	}
	if fromSNS > 0 {
		out = append(out, result.Usage{Price: "sqs." + kind + ".sns_deliveries", Item: "messages delivered by SNS", Quantity: float64(fromSNS * per)})
	}
	if q.esm != nil {
		empty := q.emptyReceives + q.idleReceives(q.m.k.now)
		out = append(out,
			result.Usage{Price: "sqs." + kind + ".requests", Item: "ReceiveMessage", Quantity: float64(q.receives)},
			result.Usage{Price: "sqs." + kind + ".requests", Item: "DeleteMessageBatch", Quantity: float64(q.deletes)},
			result.Usage{Price: "sqs." + kind + ".requests", Item: fmt.Sprintf("ReceiveMessage, empty (%d pollers × 20 s long polls while idle)", int(q.esm.start)), Quantity: float64(empty)},
		)
	}
	if q.pull != nil { // a deployment's pods: their empty long polls are in its own usage
		out = append(out,
			result.Usage{Price: "sqs." + kind + ".requests", Item: "ReceiveMessage", Quantity: float64(q.receives)},
			result.Usage{Price: "sqs." + kind + ".requests", Item: "DeleteMessageBatch", Quantity: float64(q.deletes)},
		)
	}
	return out
}

// receiveRequests is the ReceiveMessage requests a batch of n messages takes.
func (q *queue) receiveRequests(n int) int64 {
	return max(int64(n+9)/10, chunks(int64(n)*q.m.payloadBytes()))
}

// idleGap counts the empty receives of the gap that an arrival at now ends.
func (q *queue) idleGap(now Time) {
	q.emptyReceives += q.idleReceives(now)
	q.lastArrival = now
}

// idleReceives is the empty receives of the idle pollers since the last arrival.
func (q *queue) idleReceives(now Time) int64 {
	if q.esm == nil || now-q.lastArrival < longPoll {
		return 0
	}
	return int64(q.esm.start) * int64((now-q.lastArrival)/longPoll)
}

// kindName is the topic's kind in price keys: standard or fifo.
func (t *topic) kindName() string {
	if t.fifo != nil {
		return "fifo"
	}
	return "standard"
}
