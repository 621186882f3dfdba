package rabbitmq

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/headroom/headroom/system"
)

// Reserved header names. The headers exchange ignores binding arguments that start with
// "x-", so the bus keeps its own message headers there; the absence markers must be
// matchable, so they use a prefix of their own. Attributes may use neither prefix.
const (
	hdrAttrs     = "x-hr-attrs" // attribute names in publish order (headers are a map)
	hdrSent      = "x-hr-sent"  // publish time, Unix nanoseconds
	hdrGroup     = "x-hr-group"
	hdrDedup     = "x-hr-dedup"
	hdrDelivery  = "x-delivery-count" // set by quorum queues on redelivery
	absentPrefix = "hr-absent:"
	argMatch     = "x-match"
)

// maxBindings bounds the bindings one subscription expands to (the product of its any-of
// lists), so a careless policy cannot flood the broker.
const maxBindings = 1024

// topology is a declared system.Topology with the broker names derived from it.
type topology struct {
	spec   system.Topology
	window time.Duration
	shards int
	// absent lists the attributes some filter requires to be absent: the publisher marks
	// their absence with a header, since a headers exchange can only match presence.
	absent []string
	queues map[string]*queue
	order  []*queue
}

// exchange is the headers exchange the topic publishes to.
func (t *topology) exchange() string { return t.spec.Topic }

// queueName is the broker queue of a standard queue.
func queueName(topic, queue string) string { return topic + "." + queue }

// fifoExchange is the direct exchange that spreads a FIFO queue's messages over its shards.
func fifoExchange(topic, queue string) string { return topic + "." + queue }

// shardName is the broker queue of one shard of a FIFO queue.
func shardName(topic, queue string, shard int) string {
	return topic + "." + queue + "." + strconv.Itoa(shard)
}

// shardOf maps a message group to a shard: the same in every process, so a group's
// messages always share one sub-queue and keep their order.
func shardOf(group string, shards int) int {
	h := fnv.New32a()
	h.Write([]byte(group))
	return int(h.Sum32() % uint32(shards))
}

// queueArgs are the arguments of a broker queue: a quorum queue (durable, replicated,
// counts deliveries), with at-least-once dead-lettering to dlx/dlKey after MaxReceives
// deliveries, single active consumer for FIFO shards.
func queueArgs(q system.QueueSpec, fifo bool, dlx, dlKey string) amqp.Table {
	args := amqp.Table{"x-queue-type": "quorum"}
	if q.MaxReceives > 0 {
		// A quorum queue dead-letters a message when a return takes its delivery count
		// above the limit: the first delivery counts 0, so the limit is MaxReceives-1.
		// FIFO shards are dead-lettered by the bus itself (see queue.expired); their limit
		// is one higher, a backstop for consumers that die holding a message, because a
		// shard consumer may hold one it never handed out, which the close counts too.
		limit := q.MaxReceives - 1
		if fifo {
			limit = q.MaxReceives
		}
		args["x-delivery-limit"] = int64(limit)
		args["x-dead-letter-exchange"] = dlx
		args["x-dead-letter-routing-key"] = dlKey
		// at-least-once: the source keeps the message until the dead-letter queue has
		// confirmed it, so a crash while dead-lettering loses nothing. It requires
		// reject-publish overflow (no length limit is set, so it never triggers).
		args["x-dead-letter-strategy"] = "at-least-once"
		args["x-overflow"] = "reject-publish"
	}
	if fifo {
		args["x-single-active-consumer"] = true
	}
	return args
}

// bindings expands a filter policy into headers-exchange binding arguments. A binding
// matches with x-match=all (every key present, with the given value, or any value when
// the binding value is void), and the bindings between an exchange and a queue are
// alternatives, so the policy — an AND of conditions, each an OR of values — becomes its
// disjunctive normal form: one binding per combination of any-of values.
//   - any-of [a b]: one binding per value (a single value is an exact match);
//   - exists true: the key with a void value (presence, any value);
//   - exists false: the absence-marker key with a void value, which the publisher sets
//     when the attribute is missing.
//
// An empty policy is one binding with no keys, which matches every message.
func bindings(p system.FilterPolicy) ([]amqp.Table, error) {
	combos := []amqp.Table{{argMatch: "all"}}
	for _, c := range p {
		switch {
		case c.Exists != nil && *c.Exists:
			for _, b := range combos {
				b[c.Attribute] = nil
			}
		case c.Exists != nil:
			for _, b := range combos {
				b[absentPrefix+c.Attribute] = nil
			}
		default:
			if len(combos)*len(c.AnyOf) > maxBindings {
				return nil, fmt.Errorf("filter on %s: expands to more than %d bindings: %w",
					c.Attribute, maxBindings, system.ErrInvalid)
			}
			next := make([]amqp.Table, 0, len(combos)*len(c.AnyOf))
			for _, b := range combos {
				for _, v := range c.AnyOf {
					nb := make(amqp.Table, len(b)+1)
					for k, x := range b {
						nb[k] = x
					}
					nb[c.Attribute] = v
					next = append(next, nb)
				}
			}
			combos = next
		}
	}
	return combos, nil
}

// checkAttrName refuses attribute names the bus cannot carry or match faithfully.
func checkAttrName(name string) error {
	switch {
	case strings.HasPrefix(name, "x-"):
		return fmt.Errorf("attribute %q: names starting with \"x-\" are reserved by AMQP headers exchanges: %w",
			name, system.ErrInvalid)
	case strings.HasPrefix(name, absentPrefix):
		return fmt.Errorf("attribute %q: names starting with %q are reserved by the rabbitmq bus: %w",
			name, absentPrefix, system.ErrInvalid)
	}
	return nil
}

// checkTopology applies the broker's own limits on top of system.Topology.Validate.
func checkTopology(t system.Topology) error {
	for i, s := range t.Subscriptions {
		for _, c := range s.Filter {
			if err := checkAttrName(c.Attribute); err != nil {
				return fmt.Errorf("topology %s: subscriptions[%d] (%s): %w", t.Topic, i, s.Queue, err)
			}
		}
		if _, err := bindings(s.Filter); err != nil {
			return fmt.Errorf("topology %s: subscriptions[%d] (%s): %w", t.Topic, i, s.Queue, err)
		}
	}
	return nil
}

// absentAttrs lists, sorted, the attributes that some subscription requires to be absent.
func absentAttrs(t system.Topology) []string {
	var names []string
	for _, s := range t.Subscriptions {
		for _, c := range s.Filter {
			if c.Exists != nil && !*c.Exists && !slices.Contains(names, c.Attribute) {
				names = append(names, c.Attribute)
			}
		}
	}
	slices.Sort(names)
	return names
}
