package sim

import (
	"fmt"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

// fifoTopic is what makes a topic an SNS FIFO topic. A publish needs a token from the
// region's publish quota (as any topic's), from the topic's own FIFO throughput
// (fifo_topic_rps, 3,000/s) and from its message group's (group_rps, 300/s); failing any
// refuses it, and the publisher's invocation fails. Deliveries keep each group's publish
// order: a message is delivered to its queues no earlier than the group's previous one
// (equal times run in publish order), so a FIFO queue receives a group's messages in the
// order they were published.
//
// Group state: a dense table for a mix attribute; for users, a slab entry per user who
// published within the last burst window or has a delivery pending, found through a userTable and
// expired from a FIFO ring in publish order (an idle group's bucket is full again and its
// deliveries are done, so it is the same as none) — O(1) amortised per publish; per-request
// groups publish once each, so they need none (their one publish always finds the group's
// full bucket).
type fifoTopic struct {
	t    *topic
	key  groupKey
	slot int

	topicBucket          tokenBucket
	groupRate, groupCap  float64
	window               Time // a group's bucket refills completely within this
	byAttr               [256]int32
	byUser               userTable
	pubs                 []pubGroup
	freePubs             []int32
	expiry               ring[pubExpiry]
	groupBy              string
	groupThr, topicThr   int64
	boundGroup, boundTop bool
}

// pubGroup is one message group's publishing state.
type pubGroup struct {
	bucket    tokenBucket
	lastDeliv Time
	lastPub   Time
	user      uint32
	live      bool
}

type pubExpiry struct {
	at Time
	g  int32
}

func newFIFOTopic(t *topic, spec *scenarios.Topic) (*fifoTopic, error) {
	if spec.GroupRPS <= 0 || spec.FifoTopicRPS <= 0 {
		return nil, fmt.Errorf("a FIFO topic needs group_rps and fifo_topic_rps > 0")
	}
	reg := t.region.spec
	f := &fifoTopic{t: t, groupBy: spec.GroupBy, groupRate: spec.GroupRPS, groupCap: snsBurst(reg, spec.GroupRPS)}
	f.topicBucket = newTokenBucket(spec.FifoTopicRPS, snsBurst(reg, spec.FifoTopicRPS))
	f.window = Time(f.groupCap / f.groupRate * float64(Second))
	switch spec.GroupBy {
	case scenarios.KeyUser:
		f.key = keyUser
	case scenarios.KeyRequest:
		f.key = keyRequest
	case "":
		return nil, fmt.Errorf("group_by: a FIFO topic needs a message group key")
	default:
		slot, _, ok := t.m.attrSlot(spec.GroupBy)
		if !ok {
			return nil, fmt.Errorf("group_by: %q is not a workload.mix attribute, request or user", spec.GroupBy)
		}
		f.key, f.slot = keyAttr, slot
	}
	return f, nil
}

// group returns r's group state (-1 for per-request groups), creating it if needed.
func (f *fifoTopic) group(now Time, r ReqID) int32 {
	switch f.key {
	case keyRequest:
		return -1
	case keyAttr:
		v := f.t.m.reqs.at(r).attrs[f.slot]
		if g := f.byAttr[v]; g > 0 {
			return g - 1
		}
		g := f.newPub(0)
		f.byAttr[v] = g + 1
		return g
	}
	f.expire(now)
	u := f.t.m.reqs.at(r).user
	ref, ok := f.byUser.ref(u)
	if ok {
		return *ref
	}
	g := f.newPub(u)
	*ref = g
	f.pubs[g].lastPub = now
	f.expiry.push(pubExpiry{at: now + f.window, g: g})
	return g
}

func (f *fifoTopic) newPub(u uint32) int32 {
	var g int32
	if n := len(f.freePubs); n > 0 {
		g = f.freePubs[n-1]
		f.freePubs = f.freePubs[:n-1]
	} else {
		f.pubs = append(f.pubs, pubGroup{})
		g = int32(len(f.pubs) - 1)
	}
	f.pubs[g] = pubGroup{bucket: newTokenBucket(f.groupRate, f.groupCap), user: u, lastPub: -1, live: true}
	return g
}

// expire forgets the per-user groups idle long enough to be as good as new: the bucket
// full again and no delivery pending.
func (f *fifoTopic) expire(now Time) {
	for f.expiry.len() > 0 && f.expiry.peek().at <= now {
		e := f.expiry.pop()
		p := &f.pubs[e.g]
		switch {
		case !p.live:
			// already forgotten (an entry re-queued for a late delivery outlived it)
		case p.lastPub+f.window > e.at:
			// published again since: a later entry of the ring covers it
		case p.lastDeliv > now:
			f.expiry.push(pubExpiry{at: p.lastDeliv, g: e.g})
		default:
			f.byUser.del(p.user)
			p.live = false
			f.freePubs = append(f.freePubs, e.g)
		}
	}
}

// admit takes the tokens a publish for r needs at now, or refuses it. It returns r's group.
func (f *fifoTopic) admit(now Time, r ReqID) (int32, bool) {
	t := f.t
	g := f.group(now, r)
	var gb *tokenBucket
	if g >= 0 {
		gb = &f.pubs[g].bucket
	}
	switch {
	case !t.quota.has(now, 1):
		t.refused(&t.node)
		t.m.bindOnce(&t.boundQuota, &t.node, "publish quota", func() string {
			return fmt.Sprintf("the SNS publish quota of region %s, %g/s", t.region.spec.Name, t.region.spec.SNSPublishRPS)
		})
		return g, false
	case !f.topicBucket.has(now, 1):
		t.refused(&t.node)
		f.topicThr++
		t.m.bindOnce(&f.boundTop, &t.node, "FIFO topic throughput", func() string {
			return fmt.Sprintf("a FIFO topic takes %g messages/s (fifo_topic_rps)", t.spec.Topic.FifoTopicRPS)
		})
		return g, false
	case gb != nil && !gb.has(now, 1):
		t.refused(&t.node)
		f.groupThr++
		t.m.bindOnce(&f.boundGroup, &t.node, "FIFO group throughput", func() string {
			return fmt.Sprintf("a FIFO topic takes %g messages/s per message group (group_rps; groups by %s)", f.groupRate, f.groupBy)
		})
		return g, false
	}
	t.quota.spend(1)
	f.topicBucket.spend(1)
	if gb != nil {
		gb.spend(1)
		if p := &f.pubs[g]; f.key == keyUser && p.lastPub != now {
			p.lastPub = now
			f.expiry.push(pubExpiry{at: now + f.window, g: g})
		}
	}
	return g, true
}

// deliverAt is when a message of group g sampled to arrive at 'at' is delivered: not
// before the group's previous delivery.
func (f *fifoTopic) deliverAt(g int32, at Time) Time {
	if g < 0 {
		return at
	}
	p := &f.pubs[g]
	at = max(at, p.lastDeliv)
	p.lastDeliv = at
	return at
}

func (f *fifoTopic) resetStats() { f.groupThr, f.topicThr = 0, 0 }

func (f *fifoTopic) report(c *result.Component) {
	c.FIFO = &result.FIFOFigures{GroupBy: f.groupBy, GroupThrottled: f.groupThr, TopicThrottled: f.topicThr}
}
