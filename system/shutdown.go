package system

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// ShutdownReport says what a shutdown left undone. With a durable backend what is left
// is picked up at the next start (unpublished writes by the relay, queued messages by the
// processors); with the memory backend it is lost with the process, which is why the
// report names it.
type ShutdownReport struct {
	// Drained: every accepted write was published and every state queue emptied (processed
	// or dead-lettered) before the deadline.
	Drained bool
	// Unpublished counts writes still in the outbox (-1 when the store could not say).
	Unpublished int
	// Queues in topology order, the dead-letter queue last; Known is false when the bus
	// cannot report depths (no Inspector).
	Queues []QueueReport
	// Interrupted counts invocations cut off at the deadline; their messages were not
	// acknowledged and will be delivered again.
	Interrupted int64
	// Elapsed is how long the shutdown took.
	Elapsed time.Duration
}

// QueueReport is one queue at the end of a shutdown.
type QueueReport struct {
	Queue string
	Known bool
	QueueStats
}

func (r ShutdownReport) String() string {
	var b strings.Builder
	if r.Drained {
		fmt.Fprintf(&b, "drained in %v", r.Elapsed.Round(time.Millisecond))
	} else {
		fmt.Fprintf(&b, "NOT drained after %v", r.Elapsed.Round(time.Millisecond))
	}
	fmt.Fprintf(&b, "; unpublished %d; interrupted %d", r.Unpublished, r.Interrupted)
	for _, q := range r.Queues {
		if q.Known {
			fmt.Fprintf(&b, "; %s: %d visible, %d in flight", q.Queue, q.Visible, q.InFlight)
		} else {
			fmt.Fprintf(&b, "; %s: depth unknown", q.Queue)
		}
	}
	return b.String()
}

// drainPoll is how often Shutdown looks at queue depths while draining: only then, off
// the hot path, and a bus has no "queue became empty" event to wait on.
const drainPoll = 10 * time.Millisecond

// Shutdown stops intake (writes fail with ErrClosed), waits for the writes in progress,
// publishes what the outbox still holds, lets the processors empty the state queues,
// then stops them and waits for the invocations in flight — all within ctx's deadline.
// Invocations still running at the deadline are cancelled. It does not close the store
// or the bus, which the caller owns. It returns what was left.
func (p *Pipeline) Shutdown(ctx context.Context) (ShutdownReport, error) {
	start := time.Now()
	p.lifeMu.Lock()
	if p.stopped {
		p.lifeMu.Unlock()
		return ShutdownReport{}, fmt.Errorf("pipeline: already shut down: %w", ErrClosed)
	}
	p.stopped = true
	started := p.started
	p.lifeMu.Unlock()

	var firstErr error
	note := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	note(p.gate.close(ctx))
	drained := false
	if started {
		// Publish every write still in the outbox, grace period or not: no write is in
		// progress any more.
		p.sweep(ctx, time.Now().Add(time.Hour))
		drained = p.waitEmpty(ctx)
		p.intake()
		p.pollersWG.Wait() // pollers return promptly once intake is cancelled
		for _, pool := range p.pools {
			close(pool.jobs)
		}
		workersDone := make(chan struct{})
		go func() { p.workersWG.Wait(); close(workersDone) }()
		var interrupted int64
		select {
		case <-workersDone:
		case <-ctx.Done():
			interrupted = p.inflight.Load()
			p.workStop()
			<-workersDone
			drained = false
		}
		p.workStop()
		p.relayStop()
		p.relayWG.Wait()
		rep := p.report(drained, interrupted)
		rep.Elapsed = time.Since(start)
		return rep, firstErr
	}
	rep := p.report(false, 0)
	rep.Elapsed = time.Since(start)
	return rep, firstErr
}

// waitEmpty waits until nothing is unpublished and every state queue is empty, or ctx
// ends; it reports whether it got there. Without an Inspector it cannot tell, and says so.
func (p *Pipeline) waitEmpty(ctx context.Context) bool {
	insp, ok := p.bus.(Inspector)
	if !ok {
		return false
	}
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	for {
		if p.empty(ctx, insp) {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
}

func (p *Pipeline) empty(ctx context.Context, insp Inspector) bool {
	if rs, err := p.store.Unpublished(ctx, time.Now().Add(time.Hour), 1); err != nil || len(rs) > 0 {
		if err == nil {
			p.sweep(ctx, time.Now().Add(time.Hour))
		}
		return false
	}
	for _, st := range p.cfg.States {
		qs, err := insp.QueueStats(ctx, st)
		if err != nil || qs.Visible+qs.InFlight > 0 {
			return false
		}
	}
	return true
}

func (p *Pipeline) report(drained bool, interrupted int64) ShutdownReport {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rep := ShutdownReport{Drained: drained, Interrupted: interrupted}
	if rs, err := p.store.Unpublished(ctx, time.Now().Add(time.Hour), 1<<20); err != nil {
		rep.Unpublished = -1
	} else {
		rep.Unpublished = len(rs)
	}
	insp, ok := p.bus.(Inspector)
	for _, q := range p.topo.Queues {
		qr := QueueReport{Queue: q.Name}
		if ok {
			if qs, err := insp.QueueStats(ctx, q.Name); err == nil {
				qr.Known, qr.QueueStats = true, qs
			}
		}
		rep.Queues = append(rep.Queues, qr)
	}
	if rep.Unpublished != 0 {
		rep.Drained = false
	}
	return rep
}
