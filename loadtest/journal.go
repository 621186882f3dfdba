package loadtest

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/headroom/headroom/result"
)

// The journal joins the client's view of each write with the system's, request by request.
// k6 knows when it sent a write and when the answer came; the system's processing step
// (the validate probe) knows when the write's message was picked up and when its processing
// ended. Joined on the write's id and version they give the end-to-end latency as the
// simulator defines it — from the client's arrival to the end of the processing — and the
// bus's delivery as the simulator has it — from the answer (the publish) to the pick-up —
// where each side alone can only measure from the store's acceptance.

// Sent is the client's side of one accepted write.
type Sent struct {
	ID       string `json:"id"`
	Version  int64  `json:"version"`
	SentNs   int64  `json:"sent_ns"`
	AnswerNs int64  `json:"answer_ns"`
}

// Processed is the system's side: the processing of one write's message — its step from
// StartNs to StepEndNs, and its effect applied at EndNs (StepEndNs when unknown).
type Processed struct {
	ID        string
	Version   int64
	State     string
	StartNs   int64
	StepEndNs int64
	EndNs     int64
}

// Journal collects Sent records from many goroutines (k6's VUs).
type Journal struct {
	mu   sync.Mutex
	sent []Sent
}

// Add records one accepted write.
func (j *Journal) Add(id string, version int64, sent, answered time.Time) {
	j.mu.Lock()
	j.sent = append(j.sent, Sent{ID: id, Version: version, SentNs: sent.UnixNano(), AnswerNs: answered.UnixNano()})
	j.mu.Unlock()
}

// WriteFile writes the records as JSON.
func (j *Journal) WriteFile(path string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	data, err := json.Marshal(j.sent)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// JournalFile is where the output writes the journal beside a result.
func JournalFile(resultPath string) string { return resultPath + ".journal.json" }

// ReadJournal reads a journal file.
func ReadJournal(path string) ([]Sent, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	var out []Sent
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	return out, nil
}

// Joined is one write seen from both sides.
type Joined struct {
	Sent
	State                     string
	StartNs, StepEndNs, EndNs int64
}

// Service is the processing step's duration.
func (j Joined) Service() time.Duration { return time.Duration(j.StepEndNs - j.StartNs) }

// EndToEnd is from the client's send to the end of the processing (its effect applied).
func (j Joined) EndToEnd() time.Duration { return time.Duration(j.EndNs - j.SentNs) }

// Delivery is from the client's answer to the pick-up, at least 0 (a message may be picked
// up before the answer reaches the client).
func (j Joined) Delivery() time.Duration { return time.Duration(max(0, j.StartNs-j.AnswerNs)) }

// Join pairs sent writes with their processing, in the order of sent; a write processed
// more than once (a redelivery) counts with its last processing, one not processed is left
// out.
func Join(sent []Sent, processed []Processed) []Joined {
	type key struct {
		id string
		v  int64
	}
	last := make(map[key]Processed, len(processed))
	for _, p := range processed {
		k := key{p.ID, p.Version}
		if q, ok := last[k]; !ok || p.EndNs > q.EndNs {
			last[k] = p
		}
	}
	out := make([]Joined, 0, len(sent))
	for _, s := range sent {
		if p, ok := last[key{s.ID, s.Version}]; ok {
			out = append(out, Joined{Sent: s, State: p.State, StartNs: p.StartNs, StepEndNs: p.StepEndNs, EndNs: p.EndNs})
		}
	}
	return out
}

// DurationStats summarises durations as a latency distribution (HDR, 3 significant
// digits, as every latency of a result).
func DurationStats(ds []time.Duration) result.Stats {
	h := hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3)
	for _, d := range ds {
		_ = h.RecordValue(min(max(1, d.Microseconds()), h.HighestTrackableValue()))
	}
	return hdrStats(h)
}

// FitDurations fits a lognormal to durations: their exact mean, and the standard deviation
// of their logarithms (each at least a microsecond).
func FitDurations(ds []time.Duration) (LognormalFit, bool) {
	if len(ds) == 0 {
		return LognormalFit{}, false
	}
	var m logMoments
	var sum float64
	for _, d := range ds {
		us := math.Max(1, float64(d.Microseconds()))
		m.add(us, 1)
		sum += float64(d) / float64(time.Millisecond)
	}
	return LognormalFit{MeanMS: sum / float64(len(ds)), Sigma: m.sigma(), Count: int64(len(ds))}, true
}
