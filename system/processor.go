package system

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// A state's processors work like Lambda's SQS event source mapping: a few pollers
// receive batches from the state's queue; each batch needs a concurrency slot (from the
// state's reservation, or from the shared unreserved pool) before a worker invokes the
// processing step on it. A poller that finds no free slot counts a throttle and waits,
// holding its batch in flight; if the wait outlasts the visibility timeout the messages
// reappear, as they do on AWS. Workers are long-lived goroutines, one per slot, so a batch
// costs a channel hand-off and no goroutine.

// stateProc is one state's processor pool and its counters.
type stateProc struct {
	state    string
	pool     *slotPool
	reserved int
	work     WorkFunc
	recv     ReceiveOptions
	pollers  int
	latency  prometheus.Observer
	batches  sync.Pool // *[]Delivery

	inflight, high                                          atomic.Int64
	received, applied, duplicates, superseded, gone         atomic.Int64
	failed, effectErrors, malformed, redelivered, throttles atomic.Int64
	receiveErrors, ackErrors                                atomic.Int64
}

// job is one batch handed from a poller to a worker; the poller already holds its slot.
type job struct {
	sp    *stateProc
	batch *[]Delivery
}

func (p *Pipeline) buildProcessors() error {
	reservedTotal := 0
	for _, pc := range p.cfg.Processors {
		reservedTotal += pc.ReservedConcurrency
	}
	var shared *slotPool
	for _, st := range p.cfg.States {
		pc := p.cfg.processor(st)
		sp := &stateProc{state: st, reserved: pc.ReservedConcurrency, latency: p.latency.WithLabelValues(st)}
		if pc.ReservedConcurrency > 0 {
			sp.pool = newSlotPool(st, pc.ReservedConcurrency)
			p.pools = append(p.pools, sp.pool)
		} else {
			if shared == nil {
				shared = newSlotPool("unreserved", p.cfg.AccountConcurrency-reservedTotal)
				p.pools = append(p.pools, shared)
			}
			sp.pool = shared
		}
		work := p.cfg.Work
		if pc.Work != nil {
			work = *pc.Work
		}
		sp.work = p.work
		if sp.work == nil {
			fn, err := NewWorkStep(work)
			if err != nil {
				return err // checked in withDefaults; kept for safety
			}
			sp.work = fn
		}
		sp.recv = ReceiveOptions{Max: firstPositive(pc.BatchSize, p.cfg.BatchSize), Window: pc.BatchWindow}
		if sp.recv.Window == 0 {
			sp.recv.Window = p.cfg.BatchWindow
		}
		sp.pollers = firstPositive(pc.Pollers, p.cfg.Pollers)
		if sp.pollers == 0 {
			sp.pollers = min(DefaultPollers, sp.pool.size())
		}
		size := sp.recv.Max
		sp.batches.New = func() any { b := make([]Delivery, 0, size); return &b }
		p.states = append(p.states, sp)
	}
	return nil
}

func firstPositive(vs ...int) int {
	for _, v := range vs {
		if v > 0 {
			return v
		}
	}
	return 0
}

func (p *Pipeline) startProcessors(intakeCtx context.Context) {
	for _, pool := range p.pools {
		for range pool.size() {
			p.workersWG.Add(1)
			go p.worker(pool)
		}
	}
	for _, sp := range p.states {
		for range sp.pollers {
			p.pollersWG.Add(1)
			go p.poller(intakeCtx, sp)
		}
	}
}

// poller receives batches for one state and hands each to a worker once it has a slot.
func (p *Pipeline) poller(ctx context.Context, sp *stateProc) {
	defer p.pollersWG.Done()
	var backoff *time.Timer
	for {
		bp := sp.batches.Get().(*[]Delivery)
		batch, err := p.bus.Receive(ctx, sp.state, sp.recv, (*bp)[:0])
		*bp = batch
		if len(batch) == 0 {
			sp.batches.Put(bp)
			if ctx.Err() != nil || errors.Is(err, ErrClosed) {
				return
			}
			if err != nil {
				// The bus failed (a broker outage): back off rather than spin on errors.
				sp.receiveErrors.Add(1)
				if backoff == nil {
					backoff = time.NewTimer(100 * time.Millisecond)
				} else {
					backoff.Reset(100 * time.Millisecond)
				}
				select {
				case <-backoff.C:
				case <-ctx.Done():
					return
				}
			}
			continue
		}
		sp.received.Add(int64(len(batch)))
		select {
		case sp.pool.slots <- struct{}{}:
		default:
			sp.throttles.Add(1)
			select {
			case sp.pool.slots <- struct{}{}:
			case <-ctx.Done():
				// Shutting down with a batch in hand: it stays unacknowledged and reappears
				// after its visibility timeout (for a durable bus, at the next start).
				clear(batch)
				sp.batches.Put(bp)
				return
			}
		}
		raise(&sp.pool.high, sp.pool.inflight.Add(1))
		raise(&sp.high, sp.inflight.Add(1))
		raise(&p.high, p.inflight.Add(1))
		sp.pool.jobs <- job{sp: sp, batch: bp}
	}
}

// worker invokes the processing step on the batches of one slot pool.
func (p *Pipeline) worker(pool *slotPool) {
	defer p.workersWG.Done()
	receipts := make([]string, 0, 16)
	for j := range pool.jobs {
		receipts = p.invoke(j, receipts[:0])
		clear(receipts)
	}
}

// invoke processes one batch: the step, then the effect, for each message in order;
// failures stay unacknowledged. The slot is released when the step is done, before the
// acknowledgement, as Lambda's concurrency ends with the invocation.
func (p *Pipeline) invoke(j job, receipts []string) []string {
	sp, batch := j.sp, *j.batch
	ctx := p.workCtx
	for i := range batch {
		d := &batch[i]
		if d.ReceiveCount > 1 {
			sp.redelivered.Add(1)
		}
		ref, err := parseMessageBody(d.Body)
		if err != nil {
			// Never processable: left to reach the dead-letter queue after MaxReceives.
			sp.malformed.Add(1)
			continue
		}
		if err := sp.work(ctx, sp.state, d); err != nil {
			sp.failed.Add(1)
			continue
		}
		out, err := p.store.MarkProcessed(ctx, ref.ID, ref.Version)
		if err != nil {
			sp.effectErrors.Add(1)
			continue
		}
		switch out {
		case Applied:
			sp.applied.Add(1)
			sp.latency.Observe(time.Since(ref.accepted()).Seconds())
		case Duplicate:
			sp.duplicates.Add(1)
		case Superseded:
			sp.superseded.Add(1)
		case Gone:
			sp.gone.Add(1)
		}
		receipts = append(receipts, d.Receipt)
	}
	p.inflight.Add(-1)
	sp.inflight.Add(-1)
	sp.pool.inflight.Add(-1)
	<-sp.pool.slots
	if len(receipts) > 0 {
		// Acknowledge even while shutting down: the work is done and must not be redone.
		if err := p.bus.Ack(context.Background(), sp.state, receipts...); err != nil {
			sp.ackErrors.Add(1)
		}
	}
	clear(batch)
	*j.batch = batch[:0]
	sp.batches.Put(j.batch)
	return receipts
}
