package system

import (
	"context"
	"time"
)

// relayBatch is how many unpublished writes one relay query fetches.
const relayBatch = 500

// relay is the outbox's publisher: every RelayInterval, at start, and whenever a publish
// fails, it publishes the writes the store still holds as unpublished. A periodic sweep
// is the right tool here: it is off the hot path, and its work after a crash is unbounded
// in time but bounded per sweep.
func (p *Pipeline) relay(ctx context.Context) {
	defer p.relayWG.Done()
	t := time.NewTicker(p.cfg.RelayInterval)
	defer t.Stop()
	for {
		p.sweep(ctx, time.Now().Add(-p.cfg.RelayGrace))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-p.relayKick:
			// A publish just failed; give the write its grace period before retrying so the
			// sweep finds it, rather than sweeping now and missing it.
			wait := time.NewTimer(p.cfg.RelayGrace)
			select {
			case <-wait.C:
			case <-ctx.Done():
				wait.Stop()
				return
			}
		}
	}
}

// sweep publishes the writes accepted up to olderThan that are still unpublished.
func (p *Pipeline) sweep(ctx context.Context, olderThan time.Time) {
	for ctx.Err() == nil {
		rs, err := p.store.Unpublished(ctx, olderThan, relayBatch)
		if err != nil {
			p.relayErrors.Add(1)
			return
		}
		failed := 0
		for i := range rs {
			if err := p.publish(ctx, &rs[i]); err != nil {
				p.relayErrors.Add(1)
				failed++
				continue
			}
			p.republished.Add(1)
		}
		// Stop after a short page, or when nothing in the page could be published (the bus
		// is down: the next tick retries rather than spinning on the same page).
		if len(rs) < relayBatch || failed == len(rs) {
			return
		}
	}
}
