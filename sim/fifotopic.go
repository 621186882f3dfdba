package sim

import (
	"fmt"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

// fifoTopic is what makes a topic an SNS FIFO topic. A publish needs a token from the
// publish quota (the region's FIFO quota, sns_fifo_publish_rps, shared by its FIFO topics
// and apart from the standard topics' one; or the topic's own publish_rps), from the
// topic's own FIFO throughput (fifo_topic_rps, 3,000/s) and from its message group's
// (group_rps, 300/s); failing any refuses it, and the publisher's invocation fails.
// Deliveries keep each group's publish order: a message is delivered to its queues no
// earlier than the group's previous one (equal times run in publish order), so a FIFO
// queue receives a group's messages in the order they were published.
//
// Group state: a dense table for a mix attribute; for users, an entry per user who
// published within the last burst window or has a delivery pending, found through a
// userTable and forgotten once idle (an idle group's bucket is full again and its
// deliveries are done, so it is the same as none) — O(1) amortised per publish; per-request
// groups publish once each, so they need none (their one publish always finds the group's
// full bucket). The per-user groups themselves make the ring they expire from: a new group
// joins the back, due a window later, and expiry looks only at the front, forgetting it or,
// if it published again or has a delivery pending, moving it to the back, due then. Most
// groups publish once and are forgotten where they stand: expiry reads the groups in the
// order they were written, where a ring of (due, group) entries would have to look up each
// due group wherever it was.
type fifoTopic struct {
	t    *topic
	key  groupKey
	slot int

	topicBucket          tokenBucket
	groupRate, groupCap  float64
	window               Time // a group's bucket refills completely within this
	byAttr               [256]int32
	attrPubs             []pubGroup
	byUser               userTable  // user → index in userPubs
	userPubs             []pubGroup // a ring: userHead is the front, nUsers long
	userHead, nUsers     int
	groupBy              string
	groupThr, topicThr   int64
	boundGroup, boundTop bool
}

// pubGroup is one message group's publishing state.
type pubGroup struct {
	bucket    tokenBucket
	lastDeliv Time
	lastPub   Time
	due       Time // a per-user group is looked at for expiry from then on
	user      uint32
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
		f.attrPubs = append(f.attrPubs, pubGroup{bucket: newTokenBucket(f.groupRate, f.groupCap)})
		g := int32(len(f.attrPubs) - 1)
		f.byAttr[v] = g + 1
		return g
	}
	f.expire(now)
	u := f.t.m.reqs.at(r).user
	ref, ok := f.byUser.ref(u)
	if ok {
		return *ref
	}
	// backUser may renumber the other groups (put, which moves no entry: ref stays valid).
	// The new group is written in place, field by field: a 64-byte pubGroup built and then
	// copied would wait on store forwarding (see tierCall).
	g := f.backUser()
	p := &f.userPubs[g]
	p.bucket = newTokenBucket(f.groupRate, f.groupCap)
	p.lastDeliv, p.lastPub, p.due, p.user = 0, now, now+f.window, u
	*ref = g
	return g
}

// pub returns group g's state.
func (f *fifoTopic) pub(g int32) *pubGroup {
	if f.key == keyAttr {
		return &f.attrPubs[g]
	}
	return &f.userPubs[g]
}

// pushUser puts p at the back of the per-user ring and returns its index there.
func (f *fifoTopic) pushUser(p pubGroup) int32 {
	i := f.backUser()
	f.userPubs[i] = p
	return i
}

// backUser adds a slot at the back of the per-user ring, for the caller to fill, and returns
// its index.
func (f *fifoTopic) backUser() int32 {
	if f.nUsers == len(f.userPubs) {
		// Unroll the ring into one twice the size; the groups' indices change with it.
		buf := make([]pubGroup, max(64, 2*len(f.userPubs)))
		k := copy(buf, f.userPubs[f.userHead:])
		copy(buf[k:], f.userPubs[:f.userHead])
		for i := range f.nUsers {
			f.byUser.put(buf[i].user, int32(i))
		}
		f.userPubs, f.userHead = buf, 0
	}
	i := f.userHead + f.nUsers
	if i >= len(f.userPubs) {
		i -= len(f.userPubs)
	}
	f.nUsers++
	return int32(i)
}

// expire forgets the per-user groups idle long enough to be as good as new: the bucket
// full again and no delivery pending. It stops at the front's first group not yet due. The
// ring is only roughly in due order (a group moved back may come due before those ahead of
// it, or, for a late delivery, after those behind it): that makes some groups wait longer
// to be forgotten, never less.
func (f *fifoTopic) expire(now Time) {
	for f.nUsers > 0 {
		p := &f.userPubs[f.userHead]
		if p.due > now {
			return
		}
		switch u := p.user; {
		case p.lastPub+f.window > p.due:
			p.due = p.lastPub + f.window // published again since
			f.byUser.put(u, f.pushUser(*p))
		case p.lastDeliv > now:
			p.due = p.lastDeliv
			f.byUser.put(u, f.pushUser(*p))
		default:
			f.byUser.del(u)
		}
		if f.userHead++; f.userHead == len(f.userPubs) {
			f.userHead = 0
		}
		f.nUsers--
	}
}

// admit takes the tokens a publish for r needs at now, or refuses it. It returns r's group.
func (f *fifoTopic) admit(now Time, r ReqID) (int32, bool) {
	t := f.t
	g := f.group(now, r)
	var gb *tokenBucket
	if g >= 0 {
		gb = &f.pub(g).bucket
	}
	switch {
	case !t.quota.has(now, 1):
		t.quotaRefused()
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
		f.pub(g).lastPub = now
	}
	return g, true
}

// deliverAt is when a message of group g sampled to arrive at 'at' is delivered: not
// before the group's previous delivery.
func (f *fifoTopic) deliverAt(g int32, at Time) Time {
	if g < 0 {
		return at
	}
	p := f.pub(g)
	at = max(at, p.lastDeliv)
	p.lastDeliv = at
	return at
}

func (f *fifoTopic) resetStats() { f.groupThr, f.topicThr = 0, 0 }

func (f *fifoTopic) report(c *result.Component) {
	c.FIFO = &result.FIFOFigures{GroupBy: f.groupBy, GroupThrottled: f.groupThr, TopicThrottled: f.topicThr}
}
