package sim

import (
	"fmt"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

func init() { register(scenarios.KindTopic, newTopic) }

// topic is an SNS standard topic. A publish takes a token from the publish quota (the
// region's, shared by its standard topics, or the topic's own), the publisher waits the
// publish latency, and each subscription whose filter policy matches the request's
// attributes gets a copy after the delivery latency: one event per delivered message, which
// is the arrival at the subscribed queue. Each copy holds the request until its queue is
// done with it. A message no filter matches is dropped (counted as unrouted), as SNS does.
//
// Filters are compiled to bit masks over the workload mix's value indices, so routing a
// message compares no strings.
type topic struct {
	node
	delay
	pubLat, delLat Sampler
	quota          *tokenBucket // the region's (its FIFO quota for a FIFO topic), or own
	own            tokenBucket
	routes         []topicRoute
	fifo           *fifoTopic // nil: a standard topic (fifotopic.go)

	published, delivered, unrouted int64
	boundQuota                     bool
}

var (
	_ component = (*topic)(nil)
	_ linker    = (*topic)(nil)
	_ resetter  = (*topic)(nil)
)

// topicRoute is one subscription: all conds must match.
type topicRoute struct {
	q     *queue
	conds []routeCond
}

// routeCond is one compiled filter key: the request's value in attribute slot matches when
// its bit is set in mask. An Exists condition compiles to all bits (true) or none (false),
// since every request carries a value for every attribute of the mix.
type routeCond struct {
	slot int
	mask [4]uint64 // 256 value indices
}

func (c *routeCond) match(v uint8) bool { return c.mask[v>>6]&(1<<(v&63)) != 0 }

const opTopicDeliver int32 = 0

func newTopic(m *Model, n *node, c *scenarios.Component) (component, error) {
	spec := c.Topic
	if spec == nil {
		return nil, fmt.Errorf("no topic settings")
	}
	pub, err := NewSampler(spec.PublishLatency)
	if err != nil {
		return nil, fmt.Errorf("publish_latency: %w", err)
	}
	del, err := NewSampler(spec.DeliveryLatency)
	if err != nil {
		return nil, fmt.Errorf("delivery_latency: %w", err)
	}
	t := &topic{node: *n, pubLat: pub, delLat: del}
	reg := n.region
	switch {
	case spec.PublishRPS > 0:
		t.own = newTokenBucket(spec.PublishRPS, snsBurst(reg.spec, spec.PublishRPS))
		t.quota = &t.own
	case spec.FIFO:
		// FIFO topics have a regional quota of their own (region.go).
		if reg.spec.SNSFifoPublishRPS <= 0 {
			return nil, fmt.Errorf("region %s: sns_fifo_publish_rps must be > 0", reg.spec.Name)
		}
		t.quota = &reg.snsFIFO
		reg.fifoTopics++
	default:
		if reg.spec.SNSPublishRPS <= 0 {
			return nil, fmt.Errorf("region %s: sns_publish_rps must be > 0", reg.spec.Name)
		}
		t.quota = &reg.sns
		reg.topics++
	}
	if spec.FIFO {
		f, err := newFIFOTopic(t, spec)
		if err != nil {
			return nil, err
		}
		t.fifo = f
	}
	return t, nil
}

func (t *topic) link() error {
	if err := notNext(&t.node, "a function publishes to a topic through calls"); err != nil {
		return err
	}
	for i, r := range t.spec.Topic.Routes {
		q, ok := t.m.component(r.To).(*queue)
		if !ok {
			return fmt.Errorf("routes[%d].to: %q is not a queue", i, r.To)
		}
		route := topicRoute{q: q}
		for _, f := range r.Filter {
			c, err := t.compile(f)
			if err != nil {
				return fmt.Errorf("routes[%d].filter.%s: %w", i, f.Attribute, err)
			}
			route.conds = append(route.conds, c)
		}
		t.routes = append(t.routes, route)
	}
	return nil
}

// compile turns one filter key into a mask over the attribute's value indices.
func (t *topic) compile(f scenarios.FilterCond) (routeCond, error) {
	slot, vals, ok := t.m.attrSlot(f.Attribute)
	if !ok {
		// No request carries the attribute: only {exists: false} matches.
		if f.Exists != nil && !*f.Exists {
			return routeCond{slot: -1}, nil
		}
		return routeCond{}, fmt.Errorf("no request carries attribute %q (it is not in workload.mix)", f.Attribute)
	}
	c := routeCond{slot: slot}
	if f.Exists != nil {
		if *f.Exists {
			c.mask = [4]uint64{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
		}
		return c, nil
	}
	for _, v := range f.AnyOf {
		j, ok := vals[v]
		if !ok {
			return c, fmt.Errorf("%q is not a value of %s in workload.mix", v, f.Attribute)
		}
		c.mask[j>>6] |= 1 << (j & 63)
	}
	return c, nil
}

// accept is never called: link refuses a topic as anyone's next.
func (t *topic) accept(r ReqID) { t.m.reject(r) }

// quotaRefused counts a publish the publish quota refused, and binds the quota: the topic's
// own limit, or the region's quota its kind draws on (FIFO topics have their own).
func (t *topic) quotaRefused() {
	t.refused(&t.node)
	t.m.bindOnce(&t.boundQuota, &t.node, "publish quota", func() string {
		reg := t.region
		switch {
		case t.quota == &t.own:
			return fmt.Sprintf("the topic's publish limit of %g/s", t.spec.Topic.PublishRPS)
		case t.quota == &reg.snsFIFO:
			return fmt.Sprintf("the SNS FIFO publish quota of region %s, %g/s shared by %d FIFO topic(s) (sns_fifo_publish_rps)",
				reg.spec.Name, reg.spec.SNSFifoPublishRPS, reg.fifoTopics)
		}
		return fmt.Sprintf("the SNS publish quota of region %s, %g/s shared by %d standard topic(s)",
			reg.spec.Name, reg.spec.SNSPublishRPS, reg.topics)
	})
}

// publish is a publish for request r, charged to the quota at now (the invocation's start)
// and made at 'at' within the invocation. It returns the latency the publisher waits, or
// false when the quota throttles it (nothing is delivered then).
func (t *topic) publish(now, at Time, r ReqID) (Time, bool) {
	group := int32(-1)
	if t.fifo != nil {
		var ok bool
		if group, ok = t.fifo.admit(now, r); !ok {
			return 0, false
		}
	} else if !t.quota.take(now, 1) {
		t.quotaRefused()
		return 0, false
	}
	lat := t.pubLat.Sample(&t.rng)
	t.served(&t.node, now, lat)
	t.published++
	sent := at + lat
	m := t.m
	q := m.reqs.at(r)
	routed := false
	for i := range t.routes {
		rt := &t.routes[i]
		ok := true
		for j := range rt.conds {
			c := &rt.conds[j]
			if c.slot >= 0 && !c.match(q.attrs[c.slot]) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		routed = true
		m.hold(r)
		deliver := sent + t.delLat.Sample(&t.rng)
		if t.fifo != nil {
			deliver = t.fifo.deliverAt(group, deliver)
		}
		m.k.Schedule(deliver, t.id, opTopicDeliver, int64(i)<<32|int64(r))
	}
	if !routed {
		t.unrouted++
	}
	return lat, true
}

// Handle delivers one message to its subscribed queue.
func (t *topic) Handle(op int32, arg int64) {
	t.delivered++
	t.routes[arg>>32].q.enqueue(ReqID(uint32(arg)))
}

func (t *topic) resetStats(now Time) {
	t.delay.resetStats(now)
	t.published, t.delivered, t.unrouted = 0, 0, 0
	if t.fifo != nil {
		t.fifo.resetStats()
	}
}

func (t *topic) report(c *result.Component) {
	t.reportDelay(&t.node, c)
	c.Published = t.published
	c.Delivered = t.delivered
	c.Unrouted = t.unrouted
	if t.fifo != nil {
		t.fifo.report(c)
	}
}
