package sim

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

type recorder struct {
	k   *Kernel
	got []int64
	at  []Time
}

func (r *recorder) Handle(op int32, arg int64) {
	r.got = append(r.got, arg)
	r.at = append(r.at, r.k.Now())
}

func TestKernelRunsEventsInTimeThenSchedulingOrder(t *testing.T) {
	k := NewKernel(0)
	r := &recorder{k: k}
	h := k.Register(r)
	k.Schedule(30, h, 0, 1)
	k.Schedule(10, h, 0, 2)
	k.Schedule(20, h, 0, 3)
	k.Schedule(10, h, 0, 4) // same time as 2, scheduled later: runs after it
	k.Run(25)
	require.Equal(t, []int64{2, 4, 3}, r.got)
	require.Equal(t, []Time{10, 10, 20}, r.at)
	require.Equal(t, Time(25), k.Now(), "the clock advances to the end of the run")
	k.Run(100)
	require.Equal(t, []int64{2, 4, 3, 1}, r.got)
	require.Equal(t, int64(4), k.Events())
}

func TestEventQueueMatchesSortOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var q eventQueue
	var seq uint64
	var last event
	popped := 0
	for i := 0; i < 100000; i++ {
		if r.IntN(3) > 0 || q.len() == 0 {
			seq++
			q.push(mkEvent(last.at+Time(r.IntN(1000)), seq, 0, 0, 0))
			continue
		}
		e := q.pop()
		require.False(t, e.before(&last), "popped %v after %v", e, last)
		last = e
		popped++
	}
	for q.len() > 0 {
		e := q.pop()
		require.False(t, e.before(&last))
		last = e
	}
	require.Greater(t, popped, 1000)
}

func TestStreamsAreIndependentOfOtherNames(t *testing.T) {
	a := Stream(42, "workers").Uint64()
	b := Stream(42, "workers").Uint64()
	c := Stream(42, "other").Uint64()
	d := Stream(43, "workers").Uint64()
	require.Equal(t, a, b)
	require.NotEqual(t, a, c)
	require.NotEqual(t, a, d)
	require.Equal(t, uint64(42), ReplicationSeed(42, 0))
	require.NotEqual(t, ReplicationSeed(42, 1), ReplicationSeed(42, 2))
}

func BenchmarkEventQueueHold(b *testing.B) {
	// The classic "hold" model: a steady queue of n events, each pop followed by a push.
	for _, n := range []int{16, 1024, 65536} {
		b.Run(itoa(n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			var q eventQueue
			var seq uint64
			for i := 0; i < n; i++ {
				seq++
				q.push(mkEvent(Time(r.IntN(1<<20)), seq, 0, 0, 0))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e := q.pop()
				seq++
				q.push(mkEvent(e.at+Time(r.IntN(1<<20)), seq, 0, 0, 0))
			}
		})
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var buf [20]byte
	i := len(buf)
	for n > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return string(buf[i:])
}

// chain is a handler that schedules a random number of events (none to three) at random
// delays, some of them zero, so the kernel's replace-the-root path, its plain insertions
// and its removals all run; it records the order in which events arrive.
type chain struct {
	k      *Kernel
	id     HandlerID
	r      *rand.Rand
	order  []int64
	next   int64
	timers []TimerID
}

func (c *chain) Handle(op int32, arg int64) {
	c.order = append(c.order, arg)
	if c.k.Pending() < 0 {
		panic("negative pending")
	}
	for n := c.r.IntN(4); n > 0 && c.next < 20000; n-- {
		c.next++
		d := Time(c.r.IntN(50)) // coarse delays make equal times common
		if len(c.timers) > 0 && c.r.IntN(3) == 0 {
			// Re-arm a timer instead: its pending event, if any, is dropped.
			c.k.SetTimer(c.timers[c.r.IntN(len(c.timers))], c.k.Now()+d, 0, c.next)
			continue
		}
		c.k.After(d, c.id, 0, c.next)
	}
}

func TestKernelReplacingTheRootKeepsTimeAndSchedulingOrder(t *testing.T) {
	k := NewKernel(0)
	c := &chain{k: k, r: rand.New(rand.NewPCG(3, 4))}
	c.id = k.Register(c)
	c.timers = []TimerID{k.NewTimer(c.id), k.NewTimer(c.id), k.NewTimer(c.id)}
	// Reference order: every event's (time, seq) is known when it is scheduled; wrap the
	// handler to log them and check that they come out sorted.
	type stamp struct {
		at  Time
		arg int64
	}
	var seen []stamp
	w := &stampHandler{inner: c, log: func(arg int64) { seen = append(seen, stamp{k.Now(), arg}) }}
	k.handlers[c.id] = w
	for i := 0; i < 8; i++ {
		c.next++
		k.Schedule(Time(i), c.id, 0, c.next)
	}
	k.Run(1 << 40)
	require.Equal(t, 0, k.Pending())
	require.Greater(t, len(seen), 1000)
	for i := 1; i < len(seen); i++ {
		a, b := seen[i-1], seen[i]
		// Later events never run first; among equal times, a smaller arg was scheduled
		// earlier (args are handed out in scheduling order) and must run first.
		require.True(t, a.at < b.at || (a.at == b.at && a.arg < b.arg), "event %d: %+v then %+v", i, a, b)
	}
}

type stampHandler struct {
	inner Handler
	log   func(arg int64)
}

func (s *stampHandler) Handle(op int32, arg int64) {
	s.log(arg)
	s.inner.Handle(op, arg)
}

func TestTimersRunInOrderWithTheHeap(t *testing.T) {
	k := NewKernel(0)
	var got []int64
	h := k.Register(HandlerFunc(func(op int32, arg int64) { got = append(got, arg) }))
	tm := k.NewTimer(h)
	k.Schedule(10, h, 0, 1)
	k.SetTimer(tm, 10, 0, 2) // same time, scheduled later: runs after 1
	k.Schedule(10, h, 0, 3)
	k.Schedule(5, h, 0, 4)
	require.Equal(t, 4, k.Pending())
	k.Run(100)
	require.Equal(t, []int64{4, 1, 2, 3}, got)
	k.SetTimer(tm, 200, 0, 5)
	k.SetTimer(tm, 150, 0, 6) // replaces 5
	k.Run(175)
	require.Equal(t, []int64{4, 1, 2, 3, 6}, got)
	k.SetTimer(tm, 300, 0, 7)
	k.StopTimer(tm)
	require.Zero(t, k.Pending())
	k.Run(1000)
	require.Len(t, got, 5)
	require.Equal(t, Time(1000), k.Now())
}

func TestKernelPendingExcludesTheEventBeingHandled(t *testing.T) {
	k := NewKernel(0)
	var during []int
	h := k.Register(HandlerFunc(func(op int32, arg int64) {
		during = append(during, k.Pending())
	}))
	k.Schedule(1, h, 0, 0)
	k.Schedule(2, h, 0, 0)
	require.Equal(t, 2, k.Pending())
	k.Run(10)
	require.Equal(t, []int{1, 0}, during)
}

func TestEventsPackHandlerAndOpcode(t *testing.T) {
	e := mkEvent(123, 1<<39, maxHandlers-1, maxOps-1, -7)
	require.Equal(t, HandlerID(maxHandlers-1), e.handler())
	require.Equal(t, int32(maxOps-1), e.op())
	require.Equal(t, int64(-7), e.arg)
	// The sequence number decides before the handler and opcode do.
	a, b := mkEvent(5, 1, maxHandlers-1, maxOps-1, 0), mkEvent(5, 2, 0, 0, 0)
	require.True(t, a.before(&b))
	require.False(t, b.before(&a))
	require.True(t, b.before(&sentinel))
	k := NewKernel(0)
	h := k.Register(HandlerFunc(func(int32, int64) {}))
	require.Panics(t, func() { k.Schedule(1, h, maxOps, 0) })
	require.Panics(t, func() { k.Schedule(1, h, -1, 0) })
}
