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
		if r.IntN(3) > 0 || len(q.items) == 0 {
			seq++
			q.push(event{at: last.at + Time(r.IntN(1000)), seq: seq})
			continue
		}
		e := q.pop()
		require.False(t, e.before(&last), "popped %v after %v", e, last)
		last = e
		popped++
	}
	for len(q.items) > 0 {
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
				q.push(event{at: Time(r.IntN(1 << 20)), seq: seq})
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e := q.pop()
				seq++
				q.push(event{at: e.at + Time(r.IntN(1<<20)), seq: seq})
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
