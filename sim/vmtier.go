package sim

import (
	"fmt"
	"time"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

func init() { register(scenarios.KindVMTier, newVMTier) }

// vmtier is a tier of identical VMs, each running one server process with a number of
// workers, in front of its next (a tier, cache or database it calls). A request goes to one
// instance (picked by the load balancer in front, or by the tier's own balance), waits there
// for a worker (FIFO), then for a vCPU of the VM (FIFO, shared by every tier on that VM),
// runs its CPU time, and calls next. The worker is held until next answers when io is
// blocking (a thread per request), and only during the CPU time when io is async (an event
// loop, free while the request waits on I/O). The tier answers its caller when next has.
//
// A request that waits longer than queue_timeout for a worker is abandoned when it reaches
// the head of the line (its client gave up); a real server would often still serve it, so
// the model is, if anything, kind to an overloaded tier.
//
// Events: one per request, at the end of its CPU time — none for a blocking tier calling a
// cache, which takes the call timed to start at the end of the CPU time.
type vmtier struct {
	node
	cpuTime  Sampler
	workers  int
	blocking bool
	balance  balanceAlg
	timeout  Time
	inst     []vmInstance
	hosts    []*vmHost // the VMs: its own, or its host tier's
	hostTier *vmtier   // the tier whose VMs it runs on, nil when its own
	down     callee
	late     lateCallee // down, when it takes calls that start later
	ops      opReader
	calls    callSlab[tierCall] // calls holding a worker, or gone down (async)
	callers  callers            // who called: tierCall.from numbers them
	rr       int

	timedOut, errors    int64
	boundWait, boundSat bool
}

var (
	_ component  = (*vmtier)(nil)
	_ linker     = (*vmtier)(nil)
	_ resetter   = (*vmtier)(nil)
	_ callee     = (*vmtier)(nil)
	_ caller     = (*vmtier)(nil)
	_ metered    = (*vmtier)(nil)
	_ bottleneck = (*vmtier)(nil)
)

// vmHost is one VM: its vCPUs, shared by the tiers that run on it. CPU time is served first
// come, first served in the order workers ask for it, which is time order, so a burst's start
// and end are known when it is asked for (freeTimes) and cost no event of their own.
type vmHost struct {
	cores freeTimes
	busy  Time     // vCPU-time in the measured period
	_     [32]byte // whole cache lines: see TestHotObjectsOwnTheirCacheLines
}

// run books d of CPU time asked for at now and returns when it ends.
func (h *vmHost) run(m *Model, now, d Time) Time {
	start := h.cores.take(now, d)
	h.busy += m.busyIn(start, start+d)
	return start + d
}

// vmInstance is the tier's process on one VM.
type vmInstance struct {
	host        *vmHost
	free        int            // idle workers
	wait        ring[tierCall] // calls waiting for a worker
	outstanding int            // calls at this instance, waiting or in progress
}

// tierCall is one request at the tier. A call waiting for a worker is kept in its instance's
// line itself, not in the slab: an overloaded tier holds a minute of arrivals there, read
// back in the order they were written, where slab slots would be touched one by one. It is
// 24 bytes, its caller a number rather than an interface, so that more calls share a cache
// line.
//
// It has four fields, its small ones grouped in an embedded struct, so that the compiler
// keeps a tierCall in registers (Go does for structs of up to four fields and 32 bytes) and
// copies it field by field. A struct of seven fields lives in memory and is copied 16
// bytes at a time, a load that the CPU cannot forward from the narrower stores that have
// just built the value: each such copy stalls until those stores reach the cache. On an
// Intel Xeon (family 6 model 167) those stalls were 29% of vm-cache's time
// (TestHotRecordsStayInRegisters keeps the shape).
type tierCall struct {
	at    Time
	r     ReqID
	token int32
	callPlace
}

// callPlace is where a tier's call is and who made it.
type callPlace struct {
	inst    int32
	from    uint16 // 1 + the caller's index in vmtier.callers, 0 when none (the client)
	op      crudOp
	working bool // holds a worker
}

type balanceAlg uint8

const (
	balanceRoundRobin balanceAlg = iota
	balanceLeast
)

func parseBalance(s string) (balanceAlg, error) {
	switch s {
	case "", "round_robin":
		return balanceRoundRobin, nil
	case "least_outstanding":
		return balanceLeast, nil
	}
	return 0, fmt.Errorf("%q is not round_robin or least_outstanding", s)
}

const opTierCPU int32 = 0

func newVMTier(m *Model, n *node, c *scenarios.Component) (component, error) {
	spec := c.VMTier
	if spec == nil {
		return nil, fmt.Errorf("no vmtier settings")
	}
	if spec.Workers < 1 {
		return nil, fmt.Errorf("workers: must be >= 1")
	}
	cpu, err := NewSampler(spec.CPUTime)
	if err != nil {
		return nil, fmt.Errorf("cpu_time: %w", err)
	}
	bal, err := parseBalance(spec.Balance)
	if err != nil {
		return nil, fmt.Errorf("balance: %w", err)
	}
	t := &vmtier{node: *n, cpuTime: cpu, workers: spec.Workers, blocking: spec.IO != "async",
		balance: bal, timeout: Dur(spec.QueueTimeout.D()), ops: newOpReader(m)}
	if t.timeout <= 0 {
		return nil, fmt.Errorf("queue_timeout: must be > 0")
	}
	if spec.Host == "" {
		it := m.sc.InstanceType(spec.InstanceType)
		if it == nil {
			return nil, fmt.Errorf("instance_type: no instance type %q", spec.InstanceType)
		}
		if spec.Instances < 1 {
			return nil, fmt.Errorf("instances: must be >= 1")
		}
		for range spec.Instances {
			t.hosts = append(t.hosts, &vmHost{cores: newFreeTimes(it.VCPUs)})
		}
		t.placeInstances()
	}
	return t, nil
}

// placeInstances puts one instance of the tier on each of its VMs.
func (t *vmtier) placeInstances() {
	t.inst = make([]vmInstance, len(t.hosts))
	for i, h := range t.hosts {
		t.inst[i] = vmInstance{host: h, free: t.workers}
	}
	t.st.capacity = int64(t.workers * len(t.hosts))
}

func (t *vmtier) link() error {
	if name := t.spec.VMTier.Host; name != "" {
		h, ok := t.m.component(name).(*vmtier)
		if !ok || h.hostTier != nil || len(h.hosts) == 0 {
			return fmt.Errorf("host: %q is not a vmtier with VMs of its own", name)
		}
		t.hostTier, t.hosts = h, h.hosts
		t.placeInstances()
	}
	if t.next != nil {
		d, ok := t.next.(callee)
		if !ok {
			return fmt.Errorf("next: %s is a %s; a vmtier calls a vmtier, cache or database", t.next.base().name, t.next.base().kind)
		}
		t.down = d
		t.late, _ = t.next.(lateCallee)
	}
	return nil
}

// vms is the number of VMs the tier runs on (known before link, from the scenario).
func (t *vmtier) vms() int {
	spec := t.spec.VMTier
	if spec.Host != "" {
		if h := t.m.sc.Component(spec.Host); h != nil && h.VMTier != nil {
			return h.VMTier.Instances
		}
	}
	return spec.Instances
}

// pick chooses the instance for a new request.
func (t *vmtier) pick(alg balanceAlg) int {
	n := len(t.inst)
	i := t.rr
	t.rr++
	if t.rr == n {
		t.rr = 0
	}
	if alg == balanceLeast {
		best := i
		for k := 1; k < n; k++ {
			j := i + k
			if j >= n {
				j -= n
			}
			if t.inst[j].outstanding < t.inst[best].outstanding {
				best = j
			}
		}
		return best
	}
	return i
}

func (t *vmtier) accept(r ReqID) { t.call(r, t.ops.of(t.m, r), nil, 0) }

func (t *vmtier) call(r ReqID, op crudOp, from caller, token int32) {
	t.enter(r, op, from, token, t.pick(t.balance))
}

// enter admits request r, of operation op, at instance i.
func (t *vmtier) enter(r ReqID, op crudOp, from caller, token int32, i int) {
	now := t.m.k.now
	t.st.offer()
	t.st.admit(now)
	c := tierCall{r: r, token: token, at: now, callPlace: callPlace{from: t.callers.number(from), inst: int32(i), op: op}}
	in := &t.inst[i]
	in.outstanding++
	if in.free > 0 {
		in.free--
		t.startWork(c, now)
		return
	}
	in.wait.push(c)
}

// startWork gives call c a worker, takes it a slot, and books its CPU time on the VM. A
// blocking tier whose next can take a call that starts later hands the call over at once,
// timed to start when the CPU time ends (its worker is held until the answer anyway);
// otherwise an event at the end of the CPU time passes it on.
func (t *vmtier) startWork(c tierCall, now Time) {
	c.working = true
	slot := t.calls.alloc(c)
	t.st.start(now, now-c.at)
	end := t.inst[c.inst].host.run(t.m, now, t.cpuTime.Sample(&t.rng))
	if t.blocking && t.late != nil {
		t.late.callAt(c.r, c.op, t, slot, end)
		return
	}
	t.m.k.Schedule(end, t.id, opTierCPU, int64(slot))
}

// Handle ends the CPU time of a call: the vCPU goes to the next job, an async worker is
// free, and the call goes down (or is done, for a tier with no next).
func (t *vmtier) Handle(_ int32, arg int64) {
	now := t.m.k.now
	slot := int32(arg)
	c := t.calls.at(slot)
	r, op, inst := c.r, c.op, c.inst
	if !t.blocking {
		c.working = false
		t.releaseWorker(inst, now)
	}
	if t.down != nil {
		t.down.call(r, op, t, slot)
		return
	}
	t.finish(slot, true)
}

// releaseWorker frees a worker of instance i and gives it to the next call waiting there,
// abandoning those that waited past the queue timeout.
func (t *vmtier) releaseWorker(i int32, now Time) {
	t.st.busy.Add(now, -1)
	in := &t.inst[i]
	for in.wait.len() > 0 {
		in.wait.prefetchAhead(waitAhead)
		c := in.wait.pop()
		if now-c.at > t.timeout {
			t.abandon(c, now)
			continue
		}
		t.startWork(c, now)
		return
	}
	in.free++
}

// waitAhead is how many calls behind the head of a waiting line releaseWorker asks the CPU
// for: far enough that the line has arrived when that call's turn comes.
const waitAhead = 8

// abandon drops call c, which waited too long for a worker.
func (t *vmtier) abandon(c tierCall, now Time) {
	t.inst[c.inst].outstanding--
	t.st.gaveUp(now, now-c.at)
	leave(&t.st, now, c.at)
	t.timedOut++
	if !t.boundWait {
		t.bindWait()
	}
	t.m.reply(c.r, c.at, t.callers.of(c.from), c.token, false)
}

// bindWait records, once, why requests time out waiting at the tier: the deepest saturated
// component below it when its workers are held waiting on them (blocking io), else its own
// vCPUs or workers.
func (t *vmtier) bindWait() {
	t.boundWait = true
	cause := fmt.Sprintf("requests waited more than %v for a worker of %s and were abandoned", time.Duration(t.timeout), t.name)
	if t.blocking && t.m.bindBelow(t.next, false, cause+", their workers held waiting on it") {
		return
	}
	t.m.bind(&t.node, t.waitLimit(), cause+"; "+t.state())
}

// queued is the requests waiting for a worker now (an async tier's requests waiting on
// their downstream answers hold none and are not queued).
func (t *vmtier) queued() int64 {
	n := 0
	for i := range t.inst {
		n += t.inst[i].wait.len()
	}
	return int64(n)
}

// state describes the tier's workers and vCPUs now.
func (t *vmtier) state() string {
	now := t.m.k.now
	busy, queued := 0, t.queued()
	for i := range t.inst {
		busy += t.workers - t.inst[i].free
	}
	busyCPU, cores, backlog := 0, 0, Time(0)
	for _, h := range t.hosts {
		for _, f := range h.cores {
			cores++
			if f > now {
				busyCPU++
				backlog += f - now
			}
		}
	}
	return fmt.Sprintf("%d of %d × %d workers (%s) busy, %d requests queued; vCPUs of the %d VMs: %d of %d busy with %v of CPU time booked",
		busy, len(t.inst), t.workers, t.ioName(), queued, len(t.hosts), busyCPU, cores, time.Duration(backlog).Round(time.Millisecond))
}

// bindIfSaturated: a tier is saturated when its VMs' vCPUs have bursts waiting, or when
// requests queue for its workers at every instance.
func (t *vmtier) bindIfSaturated(cause string) bool {
	limit := ""
	if t.waitLimit() == "vCPUs" {
		limit = "vCPUs"
	} else {
		limit = "workers"
		for i := range t.inst {
			if t.inst[i].free > 0 || t.inst[i].wait.len() == 0 {
				return false
			}
		}
	}
	t.m.bindOnce(&t.boundSat, &t.node, limit, func() string { return cause + "; " + t.state() })
	return true
}

// waitLimit names what a request waiting too long ran into: the VMs' vCPUs when all of
// them are busy, the workers otherwise.
func (t *vmtier) waitLimit() string {
	now := t.m.k.now
	for _, h := range t.hosts {
		if h.cores.next() <= now {
			return "workers"
		}
	}
	return "vCPUs"
}

func (t *vmtier) ioName() string {
	if t.blocking {
		return "blocking"
	}
	return "async"
}

// answered is next's answer to call token: the tier is done with it.
func (t *vmtier) answered(token int32, _ Time, ok bool) { t.finish(token, ok) }

// finish ends a call: a blocking worker is freed, the caller answered.
func (t *vmtier) finish(slot int32, ok bool) {
	now := t.m.k.now
	c := *t.calls.at(slot)
	if c.working {
		t.releaseWorker(c.inst, now)
	}
	t.inst[c.inst].outstanding--
	leave(&t.st, now, c.at)
	if ok {
		t.st.completed++
	} else {
		t.errors++
	}
	t.calls.release(slot)
	t.m.reply(c.r, c.at, t.callers.of(c.from), c.token, ok)
}

func (t *vmtier) resetStats(now Time) { t.timedOut, t.errors = 0, 0 }

// cpuUtilization is the busy share of the vCPUs of the tier's VMs over the measured period.
func (t *vmtier) cpuUtilization() float64 {
	busy, cores := Time(0), 0
	for _, h := range t.hosts {
		busy += h.busy
		cores += len(h.cores)
	}
	if cores == 0 {
		return 0
	}
	return float64(busy) / float64(t.m.horizon-t.m.warmup) / float64(cores)
}

func (t *vmtier) report(c *result.Component) {
	c.TimedOut = t.timedOut
	c.Errors = t.errors
	c.CPUUtilization = round6(t.cpuUtilization())
}

// A tier is billed for its VMs, whether busy or not; a tier on another tier's VMs adds none.
func (t *vmtier) usage(span Time) []result.Usage {
	if t.hostTier != nil {
		return nil
	}
	return []result.Usage{instanceUsage("ec2."+t.spec.VMTier.InstanceType, len(t.hosts), span)}
}
