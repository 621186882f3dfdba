package sim

import "unsafe"

// ring is a growable FIFO of values. It reuses its buffer, so a queue that has reached its
// working size pushes and pops without allocating.
type ring[T any] struct {
	buf        []T
	head, size int
}

func (q *ring[T]) len() int { return q.size }

func (q *ring[T]) push(v T) {
	if q.size == len(q.buf) {
		n := 2 * len(q.buf)
		if n == 0 {
			n = 16
		}
		buf := make([]T, n)
		k := copy(buf, q.buf[q.head:])
		copy(buf[k:], q.buf[:q.head])
		q.buf, q.head = buf, 0
	}
	i := q.head + q.size
	if i >= len(q.buf) {
		i -= len(q.buf)
	}
	q.buf[i] = v
	q.size++
}

// peek returns the oldest element; the ring must not be empty.
func (q *ring[T]) peek() *T { return &q.buf[q.head] }

func (q *ring[T]) pop() T {
	v := q.buf[q.head]
	var zero T
	q.buf[q.head] = zero
	q.head++
	if q.head == len(q.buf) {
		q.head = 0
	}
	q.size--
	return v
}

// prefetchAhead asks the CPU for the element k places behind the oldest, if there is one,
// without waiting for it. A long line read back slowly (an overloaded tier's waiting calls,
// popped one per freed worker) has left the cache long before its head is read; touching
// each element a few pops early hides that miss.
func (q *ring[T]) prefetchAhead(k int) {
	if k >= q.size {
		return
	}
	i := q.head + k
	if i >= len(q.buf) {
		i -= len(q.buf)
	}
	prefetch(unsafe.Pointer(&q.buf[i]))
}
