package scenarios

import (
	"strings"
	"time"
)

// The keys a message group (group_by) or an ordering check (order_keys, order_preserved
// claims) can be per, besides the workload's mix attributes.
const (
	KeyRequest = "request" // every request its own group: no two messages share one
	KeyUser    = "user"    // the user who sent the request (users-based workloads)
)

// maxFIFOBatch is the largest batch Lambda takes from a FIFO queue.
const maxFIFOBatch = 10

// key checks a message-group or ordering key: a mix attribute, request or user.
func (v *validator) key(path, k string) {
	switch k {
	case KeyRequest:
		return
	case KeyUser:
		if v.s.Workload.Users <= 0 {
			v.fail(path, "per user needs a users-based workload (workload.users); a rate_rps workload has no users")
		}
		return
	}
	var names []string
	for _, a := range v.s.Workload.Mix {
		if a.Name == k {
			return
		}
		names = append(names, a.Name)
	}
	have := "workload.mix has none"
	if len(names) > 0 {
		have = "workload.mix has " + strings.Join(names, ", ")
	}
	v.fail(path, "unknown key %q: a mix attribute (%s), %s or %s", k, have, KeyRequest, KeyUser)
}

// fifo checks the FIFO topics and queues against each other and against SNS's and SQS's
// rules: a FIFO topic delivers only to FIFO queues and a FIFO queue subscribes only to FIFO
// topics; a FIFO queue's dead-letter queue is FIFO too; Lambda reads a FIFO queue in
// batches of at most 10 with no batching window. A FIFO queue subscribed to a FIFO topic
// takes the topic's message group key; one reached directly must say its own.
func (v *validator) fifo() {
	fedBy := map[string]*Component{} // FIFO queue → the FIFO topic that sets its group
	for _, c := range v.s.Components {
		t := c.Topic
		if t == nil {
			continue
		}
		if !t.FIFO {
			if v.given(compKey(c, "group_by")) {
				v.fail(compKey(c, "group_by"), "applies to a FIFO topic (fifo: true)")
			}
		} else {
			if t.GroupBy == "" {
				v.missing(compKey(c, "group_by"), "a FIFO topic needs group_by, the message group ID its publisher sets: a mix attribute (one group per value), %s or %s", KeyRequest, KeyUser)
			} else {
				v.key(compKey(c, "group_by"), t.GroupBy)
			}
			v.positive(compKey(c, "group_rps"), t.GroupRPS)
			v.positive(compKey(c, "fifo_topic_rps"), t.FifoTopicRPS)
		}
		for i, r := range t.Routes {
			q := v.s.Component(r.To)
			if q == nil || q.Queue == nil {
				continue
			}
			p := index(compKey(c, "routes"), i) + ".to"
			switch {
			case t.FIFO && !q.Queue.FIFO:
				v.fail(p, "%s is a standard queue; a FIFO topic delivers only to FIFO queues (fifo: true)", q.Name)
			case !t.FIFO && q.Queue.FIFO:
				v.fail(p, "%s is a FIFO queue; FIFO queues subscribe only to FIFO topics (fifo: true on %s)", q.Name, c.Name)
			case t.FIFO:
				if prev := fedBy[q.Name]; prev != nil && prev.Topic.GroupBy != t.GroupBy {
					v.fail(p, "%s also gets messages from %s, grouped by %s; a queue has one message group key", q.Name, prev.Name, prev.Topic.GroupBy)
				}
				fedBy[q.Name] = c
			}
		}
	}
	direct := map[string]bool{v.s.Workload.Entry: true}
	for _, c := range v.s.Components {
		if c.Next != "" && c.Queue == nil {
			direct[c.Next] = true
		}
		if c.Router != nil {
			for _, r := range c.Router.Routes {
				direct[r.To] = true
			}
		}
	}
	for _, c := range v.s.Components {
		q := c.Queue
		if q == nil {
			continue
		}
		for i, k := range q.OrderKeys {
			v.key(index(compKey(c, "order_keys"), i), k)
		}
		dl := v.s.Component(q.DeadLetter)
		if !q.FIFO {
			for _, k := range []string{"group_by", "high_throughput"} {
				if v.given(compKey(c, k)) && (k != "high_throughput" || q.HighThroughput) {
					v.fail(compKey(c, k), "applies to a FIFO queue (fifo: true)")
				}
			}
			if dl != nil && dl.Queue != nil && dl.Queue.FIFO {
				v.fail(compKey(c, "dead_letter"), "%s is a FIFO queue; a standard queue's dead-letter queue is standard", dl.Name)
			}
			continue
		}
		if dl != nil && dl.Queue != nil && !dl.Queue.FIFO {
			v.fail(compKey(c, "dead_letter"), "%s is a standard queue; a FIFO queue's dead-letter queue must be FIFO (fifo: true)", dl.Name)
		}
		if q.BatchSize > maxFIFOBatch {
			v.fail(compKey(c, "batch_size"), "must be at most %d for a FIFO queue, got %d", maxFIFOBatch, q.BatchSize)
		}
		if q.BatchingWindow > 0 {
			v.fail(compKey(c, "batching_window"), "Lambda supports no batching window on a FIFO queue, got %s", time.Duration(q.BatchingWindow))
		}
		topic := fedBy[c.Name]
		switch {
		case q.GroupBy != "" && topic != nil && q.GroupBy != topic.Topic.GroupBy:
			v.fail(compKey(c, "group_by"), "%s delivers messages grouped by %s, and SNS passes its message group ID on: leave group_by out, or make it %s", topic.Name, topic.Topic.GroupBy, topic.Topic.GroupBy)
		case q.GroupBy != "":
			v.key(compKey(c, "group_by"), q.GroupBy)
		case direct[c.Name]:
			v.missing(compKey(c, "group_by"), "%s is sent messages directly, which need a message group ID: group_by (a mix attribute, %s or %s)", c.Name, KeyRequest, KeyUser)
		case topic != nil:
			q.GroupBy = topic.Topic.GroupBy
		default:
			// Reached only as a dead-letter queue: messages keep the group they had.
			q.GroupBy = deadLetterGroup(v.s, c.Name)
			if q.GroupBy == "" {
				q.GroupBy = KeyRequest
			}
		}
	}
}

// deadLetterGroup is the group key of the FIFO queues that dead-letter into name (the first
// that has one), since a moved message keeps its group ID.
func deadLetterGroup(s *Scenario, name string) string {
	for _, c := range s.Components {
		if c.Queue != nil && c.Queue.DeadLetter == name && c.Queue.GroupBy != "" {
			return c.Queue.GroupBy
		}
	}
	for _, c := range s.Components {
		if c.Topic == nil || !c.Topic.FIFO {
			continue
		}
		for _, r := range c.Topic.Routes {
			if q := s.Component(r.To); q != nil && q.Queue != nil && q.Queue.DeadLetter == name {
				return c.Topic.GroupBy
			}
		}
	}
	return ""
}
