package sim

// dequeBlockBits sets the block size of a deque: 1,024 elements.
const dequeBlockBits = 10

// deque is a FIFO of values kept in fixed blocks. Unlike ring, which doubles its buffer
// (holding the old and the new array at once, and leaving the old one as garbage), it grows
// and shrinks a block at a time and never copies an element, so a queue that backs up to
// millions of messages costs their own memory and no more. A few emptied blocks are kept for
// reuse, so a queue that stays near its working size does not allocate.
type deque[T any] struct {
	blocks [][]T // blocks[first:] are in use
	first  int
	head   int // index of the oldest element in blocks[first]
	size   int
	spare  [][]T
}

const (
	dequeBlock    = 1 << dequeBlockBits
	dequeMaxSpare = 64
)

func (q *deque[T]) len() int { return q.size }

func (q *deque[T]) push(v T) {
	i := q.head + q.size
	b := q.first + i>>dequeBlockBits
	if b == len(q.blocks) {
		q.addBlock() // may slide the blocks down
		b = q.first + i>>dequeBlockBits
	}
	q.blocks[b][i&(dequeBlock-1)] = v
	q.size++
}

func (q *deque[T]) addBlock() {
	if q.first > 0 && q.first >= len(q.blocks)/2 {
		// Slide the blocks in use to the front; only block headers move.
		n := copy(q.blocks, q.blocks[q.first:])
		clear(q.blocks[n:])
		q.blocks, q.first = q.blocks[:n], 0
	}
	var blk []T
	if n := len(q.spare); n > 0 {
		blk, q.spare = q.spare[n-1], q.spare[:n-1]
	} else {
		blk = make([]T, dequeBlock)
	}
	q.blocks = append(q.blocks, blk)
}

// peek returns the oldest element; the deque must not be empty.
func (q *deque[T]) peek() *T { return &q.blocks[q.first][q.head] }

// at returns the i-th oldest element.
func (q *deque[T]) at(i int) *T {
	j := q.head + i
	return &q.blocks[q.first+j>>dequeBlockBits][j&(dequeBlock-1)]
}

func (q *deque[T]) pop() T {
	blk := q.blocks[q.first]
	v := blk[q.head]
	var zero T
	blk[q.head] = zero
	q.head++
	q.size--
	if q.head == dequeBlock || q.size == 0 {
		// The block is used up (or the deque is empty: start the next push at its front).
		if q.size == 0 && q.head < dequeBlock {
			q.head = 0
			return v
		}
		q.recycle(blk)
		q.blocks[q.first] = nil
		q.first++
		q.head = 0
	}
	return v
}

func (q *deque[T]) recycle(blk []T) {
	if len(q.spare) < dequeMaxSpare {
		q.spare = append(q.spare, blk)
	}
}
