package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/headroom/headroom/sim"
)

// redrawEvery bounds how often the progress line is redrawn.
const redrawEvery = 200 * time.Millisecond

// progress draws one status line on a terminal while a run goes: how much of the
// simulated horizon is done, how fast virtual time runs against the wall clock, and an
// estimate of the time left. It is the only place a run reads the wall clock; the
// simulator just reports how far it has got.
type progress struct {
	w     io.Writer
	name  string
	start time.Time
	now   func() time.Time // the wall clock; nil is time.Now (a test sets its own)

	mu      sync.Mutex
	done    []float64 // fraction of the horizon done, per replication
	span    sim.Time  // the horizon
	last    time.Time
	drawn   bool
	stopped bool
}

// newProgress returns a progress line on w, or nil when w is not a terminal: a redirected
// stderr (a log, a CI job, a test) gets no control characters.
func newProgress(w io.Writer, name string, replications int) *progress {
	f, ok := w.(*os.File)
	if !ok || !(isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		return nil
	}
	return &progress{w: w, name: name, start: time.Now(), done: make([]float64, replications)}
}

// update records the progress of a single run.
func (p *progress) update(now, end sim.Time) { p.updateReplication(0, now, end) }

// updateReplication records that replication rep reached virtual time now of end. Parallel
// replications call it from their goroutines; each keeps its own fraction and the line
// shows their mean.
func (p *progress) updateReplication(rep int, now, end sim.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if end > 0 && rep < len(p.done) {
		p.done[rep] = min(float64(now)/float64(end), 1)
		p.span = end
	}
	t := time.Now()
	if p.now != nil {
		t = p.now()
	}
	if p.stopped || p.drawn && t.Sub(p.last) < redrawEvery {
		return
	}
	p.last = t
	p.drawn = true
	fmt.Fprintf(p.w, "\r\x1b[K%s", p.line(t))
}

func (p *progress) line(t time.Time) string {
	total := 0.0
	for _, d := range p.done {
		total += d
	}
	frac := total / float64(len(p.done))
	elapsed := t.Sub(p.start)
	s := fmt.Sprintf("simulating %s: %5.1f%% of %s", p.name, 100*frac, shortDuration(time.Duration(p.span)))
	if len(p.done) > 1 {
		s += fmt.Sprintf(" × %d replications", len(p.done))
	}
	s += fmt.Sprintf(" · %s elapsed", shortDuration(elapsed.Round(100*time.Millisecond)))
	if frac > 0 && elapsed > 0 {
		simulated := frac * float64(len(p.done)) * time.Duration(p.span).Seconds()
		s += " · " + speed(simulated/elapsed.Seconds()) + " real time"
		if left := time.Duration(float64(elapsed) * (1 - frac) / frac).Round(time.Second); left >= time.Second {
			s += fmt.Sprintf(" · about %s left", shortDuration(left))
		}
	}
	return s
}

// shortDuration is d without the zero units time.Duration prints: 24h, 1h30m, 12.3s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// speed formats how many times faster than real time virtual time runs: 850×, 12k×, 1.5M×.
func speed(x float64) string {
	switch {
	case x >= 1e6:
		return fmt.Sprintf("%.1fM×", x/1e6)
	case x >= 1e4:
		return fmt.Sprintf("%.0fk×", x/1e3)
	}
	return fmt.Sprintf("%.0f×", x)
}

// finish erases the progress line so the report starts on a clean line, and stops
// drawing. A nil progress (not a terminal) does nothing.
func (p *progress) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	p.drawn, p.stopped = false, true
}
