package nats

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/headroom/headroom/system"
)

// Reserved headers. Attributes travel as headers of their own name; the bus's own headers
// start with "Hr-", and "Nats-" belongs to the server, so attributes may use neither.
const (
	hdrAttrs = "Hr-Attrs" // attribute names in publish order, one value each (headers are a map)
	hdrSent  = "Hr-Sent"  // publish time, Unix nanoseconds (kept by dead-lettering)
	hdrGroup = "Hr-Group"
	hdrDedup = "Hr-Dedup"
	hdrMsgID = "Nats-Msg-Id" // the stream's deduplication key
)

// standardDuplicates is the stream's duplicate window when the topic is not FIFO; it only
// serves to make dead-lettering idempotent (see deadLetter).
const standardDuplicates = 2 * time.Minute

// topology is a declared system.Topology with the JetStream names derived from it.
type topology struct {
	spec   system.Topology
	window time.Duration
	shards int // subjects per FIFO queue; 1 in standard mode
	queues map[string]*queue
	order  []*queue
	// routes lists, per subscription, the queue it feeds: the filter is evaluated by the
	// publisher, since a JetStream consumer can only filter on the subject.
	routes []route
}

type route struct {
	q      *queue
	filter system.FilterPolicy
}

// stream is the JetStream stream that holds every queue of the topic.
func (t *topology) stream() string { return t.spec.Topic }

// subject is where a message for queue (and, in FIFO mode, shard) is published.
func subject(topic, queue string, fifo bool, shard int) string {
	if !fifo {
		return topic + "." + queue
	}
	return topic + "." + queue + "." + strconv.Itoa(shard)
}

// consumerName is the durable pull consumer of a queue (or of one FIFO shard: the shard
// is what follows the last '_', so two queues' shard consumers never share a name).
func consumerName(queue string, fifo bool, shard int) string {
	if !fifo {
		return queue
	}
	return queue + "_" + strconv.Itoa(shard)
}

// shardOf maps a message group to a shard, identically in every process, so a group's
// messages share one subject and one consumer and keep their order.
func shardOf(group string, shards int) int {
	h := fnv.New32a()
	h.Write([]byte(group))
	return int(h.Sum32() % uint32(shards))
}

// checkAttr refuses attributes that cannot travel as NATS headers, or that would clash
// with the server's or the bus's own.
func checkAttr(name, value string) error {
	if name == "" {
		return fmt.Errorf("attribute name is empty: %w", system.ErrInvalid)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c == ':' || c == 0x7f {
			return fmt.Errorf("attribute %q: a NATS header name cannot hold spaces, control characters or ':': %w",
				name, system.ErrInvalid)
		}
	}
	if l := strings.ToLower(name); strings.HasPrefix(l, "nats-") || strings.HasPrefix(l, "hr-") {
		return fmt.Errorf("attribute %q: names starting with \"Nats-\" or \"Hr-\" are reserved: %w", name, system.ErrInvalid)
	}
	if strings.ContainsAny(value, "\r\n") {
		return fmt.Errorf("attribute %q: a NATS header value cannot hold line breaks: %w", name, system.ErrInvalid)
	}
	return nil
}

// checkTopology applies the server's limits on top of system.Topology.Validate.
func checkTopology(t system.Topology) error {
	for i, s := range t.Subscriptions {
		for _, c := range s.Filter {
			if err := checkAttr(c.Attribute, ""); err != nil {
				return fmt.Errorf("topology %s: subscriptions[%d] (%s): %w", t.Topic, i, s.Queue, err)
			}
		}
	}
	return nil
}
