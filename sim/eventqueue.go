package sim

// event is a value: scheduling one never allocates once the queue has grown to the run's
// working size. 32 bytes, so a cache line holds two.
type event struct {
	at  Time
	seq uint64 // tie-break: equal times run in scheduling order, which keeps runs deterministic
	h   HandlerID
	op  int32
	arg int64
}

func (a *event) before(b *event) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

// eventQueue is an implicit 4-ary min-heap of events. A 4-ary heap halves the depth of a
// binary one and keeps the four children of a node in one or two cache lines, which is what
// dominates at the sizes a simulation keeps pending (tens to tens of thousands).
type eventQueue struct {
	items []event
}

const arity = 4

func (q *eventQueue) push(e event) {
	q.items = append(q.items, e)
	items := q.items
	i := len(items) - 1
	for i > 0 {
		p := (i - 1) / arity
		if !e.before(&items[p]) {
			break
		}
		items[i] = items[p]
		i = p
	}
	items[i] = e
}

func (q *eventQueue) pop() event {
	items := q.items
	top := items[0]
	n := len(items) - 1
	last := items[n]
	q.items = items[:n]
	if n == 0 {
		return top
	}
	items = items[:n]
	i := 0
	for {
		c := i*arity + 1
		if c >= n {
			break
		}
		// Smallest of up to four children.
		m := c
		end := c + arity
		if end > n {
			end = n
		}
		for j := c + 1; j < end; j++ {
			if items[j].before(&items[m]) {
				m = j
			}
		}
		if !items[m].before(&last) {
			break
		}
		items[i] = items[m]
		i = m
	}
	items[i] = last
	return top
}
