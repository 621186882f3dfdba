package sim

import (
	"fmt"
	"time"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

func init() { register(scenarios.KindFunction, newFunction) }

// function is a Lambda function. An invocation needs, in this order:
//
//  1. a unit of concurrency: from the function's reservation when it has one (reserved
//     concurrency both guarantees and caps), otherwise from the region's shared pool (the
//     account limit less every reservation);
//  2. an execution environment: the most recently idled one if it has been idle for less
//     than the idle lifetime (warm), else a new one (cold start), which takes a token from
//     the function's scaling bucket (1,000 environments per 10 s).
//
// Failing either is a throttle: a synchronous caller gets an error, an event source mapping
// gets its batch back. Idle environments are a LIFO stack of the times they went idle.
// Completions happen in time order, so the stack is sorted: when the top has expired, all
// below it have too, and the stack is cleared — expiry is decided when an environment is
// looked at and costs no event.
//
// An invocation runs INIT (cold starts only), then, per request or per message of a batch,
// the function's own duration followed by its calls in order (table reads and writes, topic
// publishes), whose latencies add up. Capacity a call consumes (table units, publish quota)
// is charged at the start of the invocation, where the events are; a throttled call fails
// the invocation at that point. One event ends the invocation however many messages it had.
type function struct {
	node
	duration, init Sampler
	reserved       int64 // 0: draws from the region's shared pool
	inUse          int64
	idleLifetime   Time
	timeout        Time
	errorRate      float64
	memoryMB       int64
	scale          tokenBucket
	idle           []Time // LIFO: the times environments went idle
	calls          []fnCall
	inv            []invocation
	freeInv        []int32

	coldStarts, errors, invocations, billedMBms int64

	boundAccount, boundReserved, boundScaling, boundTimeout bool
}

var (
	_ component = (*function)(nil)
	_ linker    = (*function)(nil)
	_ resetter  = (*function)(nil)
)

// fnCall is one resolved call of a function.
type fnCall struct {
	table *table
	topic *topic
	write bool
}

// invocation is one running invocation: a synchronous request, or a batch of a queue. Its
// four fields keep it in registers (see tierCall).
type invocation struct {
	start  Time
	src    *queue // the queue of a batch, nil for a synchronous request
	id     int32  // the request (src nil) or src's batch
	failed bool
}

const opFunctionDone int32 = 0

func newFunction(m *Model, n *node, c *scenarios.Component) (component, error) {
	spec := c.Function
	if spec == nil {
		return nil, fmt.Errorf("no function settings")
	}
	reg := n.region
	if reg.lambdaLimit <= 0 {
		return nil, fmt.Errorf("region %s: lambda_concurrency must be > 0", reg.spec.Name)
	}
	dur, err := NewSampler(spec.Duration)
	if err != nil {
		return nil, fmt.Errorf("duration: %w", err)
	}
	init, err := NewSampler(spec.Init)
	if err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	if spec.IdleLifetime <= 0 {
		return nil, fmt.Errorf("idle_lifetime: must be > 0")
	}
	f := &function{
		node: *n, duration: dur, init: init,
		reserved:     int64(spec.ReservedConcurrency),
		idleLifetime: Dur(spec.IdleLifetime.D()),
		timeout:      Dur(spec.Timeout.D()),
		errorRate:    spec.ErrorRate,
		memoryMB:     int64(spec.MemoryMB),
		scale:        newTokenBucket(reg.spec.LambdaScalingRefillRate, float64(reg.spec.LambdaScalingBurst)),
	}
	if f.reserved > 0 {
		if err := reg.reserve(f.reserved); err != nil {
			return nil, err
		}
	}
	reg.functions++
	return f, nil
}

func (f *function) link() error {
	for i, c := range f.spec.Function.Calls {
		target := f.m.component(c.To)
		switch t := target.(type) {
		case *table:
			if c.Op != "read" && c.Op != "write" && c.Op != "" {
				return fmt.Errorf("calls[%d].op: a table call is read or write, got %q", i, c.Op)
			}
			f.calls = append(f.calls, fnCall{table: t, write: c.Op != "read"})
		case *topic:
			if c.Op != "publish" && c.Op != "" {
				return fmt.Errorf("calls[%d].op: a topic call is publish, got %q", i, c.Op)
			}
			f.calls = append(f.calls, fnCall{topic: t})
		case nil:
			return fmt.Errorf("calls[%d].to: no component %q", i, c.To)
		default:
			return fmt.Errorf("calls[%d].to: %s is a %s; a call goes to a table or a topic", i, c.To, target.base().kind)
		}
	}
	// The shared pool's size is known once every function has reserved its part.
	if f.reserved > 0 {
		f.st.capacity = f.reserved
	} else {
		f.st.capacity = f.region.unreservedCap()
	}
	return nil
}

// start admits an invocation at now, or returns the limit that throttles it ("" when
// admitted) and whether it starts cold.
func (f *function) start(now Time) (limit string, cold bool) {
	reg := f.region
	if f.reserved > 0 {
		if f.inUse >= f.reserved {
			return "reserved concurrency", false
		}
	} else if reg.unreservedUsed >= reg.lambdaLimit-reg.reserved {
		return "account concurrency", false
	}
	cold = true
	if n := len(f.idle); n > 0 {
		if now-f.idle[n-1] < f.idleLifetime {
			f.idle, cold = f.idle[:n-1], false
		} else {
			f.idle = f.idle[:0] // the most recent has expired, so have all the others
		}
	}
	if cold && !f.scale.take(now, 1) {
		return "scaling rate", true
	}
	f.inUse++
	if f.reserved == 0 {
		reg.unreservedUsed++
	}
	f.st.admit(now)
	f.st.busy.Add(now, 1) // an admitted invocation starts at once: no wait
	return "", cold
}

// throttled counts a refused invocation and records the limit the first time it binds.
func (f *function) throttled(now Time, limit string, q *queue) {
	f.st.refuse(now)
	f.st.throttled++
	var flag *bool
	switch limit {
	case "account concurrency":
		flag = &f.boundAccount
	case "reserved concurrency":
		flag = &f.boundReserved
	default:
		flag = &f.boundScaling
	}
	f.m.bindOnce(flag, &f.node, limit, func() string {
		reg := f.region
		caller := "synchronous invocations get an error"
		if q != nil {
			caller = fmt.Sprintf("batches from %s return to the queue after its %v visibility timeout", q.name, time.Duration(q.vt))
		}
		switch limit {
		case "account concurrency":
			return fmt.Sprintf("%d of %d unreserved executions in region %s busy (%d functions share the pool); %s",
				reg.unreservedUsed, reg.unreservedCap(), reg.spec.Name, reg.functions, caller)
		case "reserved concurrency":
			return fmt.Sprintf("all %d reserved executions busy; %s", f.reserved, caller)
		}
		return fmt.Sprintf("no scaling token for a new environment (%d per burst, %g per second); %s",
			reg.spec.LambdaScalingBurst, reg.spec.LambdaScalingRefillRate, caller)
	})
}

// accept is a synchronous invocation for request r.
func (f *function) accept(r ReqID) {
	m := f.m
	now := m.k.now
	f.st.offer()
	limit, cold := f.start(now)
	if limit != "" {
		f.throttled(now, limit, nil)
		m.reject(r)
		return
	}
	end, failed := f.run(now, cold, r, nil)
	f.schedule(invocation{start: now, id: int32(r), failed: failed}, end)
}

// invokeBatch invokes the function with batch b of queue q (event source mapping). It
// returns false when the invocation is throttled; the queue then takes the batch back.
func (f *function) invokeBatch(q *queue, b int32) bool {
	now := f.m.k.now
	f.st.offer()
	limit, cold := f.start(now)
	if limit != "" {
		f.throttled(now, limit, q)
		return false
	}
	end, failed := f.run(now, cold, -1, q.batches[b].msgs)
	f.schedule(invocation{start: now, src: q, id: b, failed: failed}, end)
	return true
}

// run computes when an invocation started at now ends and whether it fails: INIT when cold,
// then the work of request r, or of each message of a batch, cut short by the timeout.
func (f *function) run(now Time, cold bool, r ReqID, msgs []qmsg) (end Time, failed bool) {
	t := now
	if cold {
		f.coldStarts++
		t += f.init.Sample(&f.rng)
	}
	deadline := Time(1<<62 - 1)
	if f.timeout > 0 {
		deadline = t + f.timeout
	}
	if msgs == nil {
		t, failed = f.work(now, t, deadline, r)
	} else {
		for i := range msgs {
			if t, failed = f.work(now, t, deadline, msgs[i].r); failed {
				break
			}
		}
	}
	if !failed && f.errorRate > 0 && f.rng.Float64() < f.errorRate {
		failed = true
	}
	return t, failed
}

// work adds the function's own duration and its calls for request r to t. A throttled call
// fails the invocation there; so does the deadline (the timeout), and the calls it cuts off
// are not made.
func (f *function) work(now, t, deadline Time, r ReqID) (Time, bool) {
	t += f.duration.Sample(&f.rng)
	for i := range f.calls {
		if t > deadline {
			break
		}
		c := &f.calls[i]
		var lat Time
		var ok bool
		if c.table != nil {
			lat, ok = c.table.call(now, c.write)
		} else {
			lat, ok = c.topic.publish(now, t, r)
		}
		t += lat
		if !ok {
			return min(t, deadline), true
		}
	}
	if t > deadline {
		f.m.bindOnce(&f.boundTimeout, &f.node, "timeout", func() string {
			return fmt.Sprintf("an invocation ran past the function's %v timeout", time.Duration(f.timeout))
		})
		return deadline, true
	}
	return t, false
}

// schedule records a running invocation and its completion event.
func (f *function) schedule(inv invocation, end Time) {
	var i int32
	if n := len(f.freeInv); n > 0 {
		i = f.freeInv[n-1]
		f.freeInv = f.freeInv[:n-1]
		f.inv[i] = inv
	} else {
		f.inv = append(f.inv, inv)
		i = int32(len(f.inv) - 1)
	}
	f.m.k.Schedule(end, f.id, opFunctionDone, int64(i))
}

// Handle ends an invocation: the environment goes idle, the concurrency returns to its pool,
// and the request is answered or the batch settled with its queue.
func (f *function) Handle(op int32, arg int64) {
	now := f.m.k.now
	inv := f.inv[arg]
	f.freeInv = append(f.freeInv, int32(arg))
	f.st.done(now, now-inv.start)
	f.invocations++
	ms := (now - inv.start + Millisecond - 1) / Millisecond
	f.billedMBms += int64(ms) * f.memoryMB
	if inv.failed {
		f.errors++
	}
	f.inUse--
	if f.reserved == 0 {
		f.region.unreservedUsed--
	}
	f.idle = append(f.idle, now)
	switch {
	case inv.src != nil:
		inv.src.batchDone(inv.id, !inv.failed)
	case inv.failed:
		f.m.reject(ReqID(inv.id))
	default:
		f.forward(ReqID(inv.id))
	}
}

func (f *function) resetStats(now Time) {
	f.coldStarts, f.errors, f.invocations, f.billedMBms = 0, 0, 0, 0
}

func (f *function) report(c *result.Component) {
	c.ColdStarts = f.coldStarts
	c.Errors = f.errors
	c.Invocations = f.invocations
	c.BilledGBS = round6(float64(f.billedMBms) / 1024 / 1000)
}
