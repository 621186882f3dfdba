package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/headroom/headroom/sim"
)

func TestProgressIsOffWhenStderrIsNotATerminal(t *testing.T) {
	if p := newProgress(&bytes.Buffer{}, "mmc", 1); p != nil {
		t.Error("progress drawn on a buffer")
	}
}

func TestProgressLineAndRedrawLimit(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, name: "baseline", start: time.Now().Add(-10 * time.Second), done: make([]float64, 1)}
	p.update(6*sim.Hour, 24*sim.Hour)
	p.update(7*sim.Hour, 24*sim.Hour) // within 200 ms of the first: not drawn
	out := buf.String()
	if n := strings.Count(out, "\r"); n != 1 {
		t.Errorf("drawn %d times, want once within %v: %q", n, redrawEvery, out)
	}
	for _, want := range []string{"simulating baseline", " 25.0% of 24h0m0s", "10s elapsed", "real time", "about 30s left"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress line lacks %q: %q", want, out)
		}
	}
	// The latest state is what the next draw shows.
	p.last = time.Now().Add(-time.Second)
	buf.Reset()
	p.update(12*sim.Hour, 24*sim.Hour)
	if !strings.Contains(buf.String(), " 50.0% of") {
		t.Errorf("redraw after the limit: %q", buf.String())
	}
	buf.Reset()
	p.finish()
	if buf.String() != "\r\x1b[K" {
		t.Errorf("finish wrote %q, want the line erased", buf.String())
	}
}

func TestProgressAveragesReplications(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, name: "mmc", start: time.Now().Add(-time.Second), done: make([]float64, 4)}
	p.updateReplication(0, sim.Hour, sim.Hour)
	p.updateReplication(1, sim.Hour/2, sim.Hour)
	if got := p.line(time.Now()); !strings.Contains(got, " 37.5% of 1h0m0s × 4 replications") {
		t.Errorf("line %q", got)
	}
}
