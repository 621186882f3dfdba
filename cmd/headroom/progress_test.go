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
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := start.Add(10 * time.Second)
	p := &progress{w: &buf, name: "baseline", start: start, done: make([]float64, 1),
		now: func() time.Time { return clock }}
	p.update(6*sim.Hour, 24*sim.Hour)
	clock = clock.Add(redrawEvery - time.Millisecond)
	p.update(7*sim.Hour, 24*sim.Hour) // within 200 ms of the first: not drawn
	out := buf.String()
	if n := strings.Count(out, "\r"); n != 1 {
		t.Errorf("drawn %d times, want once within %v: %q", n, redrawEvery, out)
	}
	for _, want := range []string{"simulating baseline", " 25.0% of 24h ", "10s elapsed", "real time", "about 30s left"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress line lacks %q: %q", want, out)
		}
	}
	// The latest state is what the next draw shows.
	clock = clock.Add(time.Millisecond)
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
	buf.Reset()
	p.finish()
	p.update(13*sim.Hour, 24*sim.Hour)
	if buf.Len() != 0 {
		t.Errorf("drawn after finish: %q", buf.String())
	}
	var none *progress
	none.finish() // no terminal, no progress: a no-op
}

func TestProgressFormats(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{shortDuration(2000 * time.Hour), "2000h"},
		{shortDuration(90 * time.Minute), "1h30m"},
		{shortDuration(12300 * time.Millisecond), "12.3s"},
		{speed(850), "850×"},
		{speed(502548), "503k×"},
		{speed(1.5e6), "1.5M×"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestProgressAveragesReplications(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, name: "mmc", start: time.Now().Add(-time.Second), done: make([]float64, 4)}
	p.updateReplication(0, sim.Hour, sim.Hour)
	p.updateReplication(1, sim.Hour/2, sim.Hour)
	if got := p.line(time.Now()); !strings.Contains(got, " 37.5% of 1h × 4 replications") {
		t.Errorf("line %q", got)
	}
}
