package validate

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
	"github.com/headroom/headroom/sim"
)

// prediction is the simulator's answer for one scaled scenario: n independent
// replications, kept one by one so that every compared figure — maxima included — is a
// mean over replications with its own confidence interval, as one measured run is one
// replication of the system.
type prediction struct {
	reps []*result.Result
	// notes say what the dilated clock had to round or could not rescale.
	notes []string
}

// predict runs n replications of the scenario that load returns (a fresh copy each time:
// dilation changes it in place) with seeds sim.ReplicationSeed(seed, i), on a clock k
// times slower when k > 1, in parallel on GOMAXPROCS workers.
func predict(load func() (*scenarios.Scenario, error), n int, k float64) (prediction, error) {
	if n < 1 {
		return prediction{}, fmt.Errorf("replications: %d, must be at least 1", n)
	}
	var p prediction
	p.reps = make([]*result.Result, n)
	errs := make([]error, n)
	notes := make([][]string, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				p.reps[i], notes[i], errs[i] = replicate(load, i, k)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return p, fmt.Errorf("replication %d: %w", i, err)
		}
	}
	p.notes = notes[0]
	return p, nil
}

func replicate(load func() (*scenarios.Scenario, error), i int, k float64) (*result.Result, []string, error) {
	s, err := load()
	if err != nil {
		return nil, nil, err
	}
	var notes []string
	if k != 1 {
		if notes, err = dilate(s, k); err != nil {
			return nil, nil, err
		}
		notes = append(notes, fmt.Sprintf("the simulator predicted the %g× compressed profile on a clock %g× slower (durations × %g, rates ÷ %g)", k, k, k, k))
	}
	s.Seed = sim.ReplicationSeed(s.Seed, i)
	r, err := sim.Run(s)
	if err != nil {
		return nil, nil, err
	}
	if k != 1 {
		if unknown := undilate(r, k); len(unknown) > 0 {
			notes = append(notes, fmt.Sprintf("not rescaled from the dilated clock (unknown to loadtest/validate): %v", unknown))
		}
	}
	return r, notes, nil
}
