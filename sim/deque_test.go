package sim

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// The deque behaves as a FIFO under any mix of pushes and pops, across block boundaries,
// and keeps memory to the blocks in use (plus a bounded spare list).
func TestDequeIsAFIFO(t *testing.T) {
	var q deque[int]
	var want []int
	r := rand.New(rand.NewPCG(1, 2))
	next := 0
	for step := range 300000 {
		// Phases that grow the deque to ~50,000 and drain it again.
		grow := (step/50000)%2 == 0
		if (grow && r.IntN(10) < 7) || (!grow && r.IntN(10) < 3) || len(want) == 0 {
			q.push(next)
			want = append(want, next)
			next++
		} else {
			require.Equal(t, want[0], *q.peek())
			require.Equal(t, want[0], q.pop())
			want = want[1:]
		}
		require.Equal(t, len(want), q.len())
		if step%9973 == 0 && len(want) > 0 {
			i := r.IntN(len(want))
			require.Equal(t, want[i], *q.at(i))
		}
		require.LessOrEqual(t, len(q.blocks)-q.first, len(want)/dequeBlock+2)
	}
	require.LessOrEqual(t, len(q.spare), dequeMaxSpare)

	// A steady state far from empty: the blocks in use keep moving up and are slid down.
	var s deque[int]
	for i := range 10000 {
		s.push(i)
	}
	for i := range 200000 {
		require.Equal(t, i, s.pop())
		s.push(10000 + i)
		require.LessOrEqual(t, len(s.blocks), 2*(10000/dequeBlock+2))
	}
}

func BenchmarkDequePushPop(b *testing.B) {
	var q deque[qmsg]
	for i := range 5000 {
		q.push(qmsg{r: ReqID(i)})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		q.push(qmsg{r: ReqID(i)})
		q.pop()
	}
}
