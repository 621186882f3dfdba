package system_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/headroom/headroom/system"
	"github.com/headroom/headroom/system/backend/memory"
)

// TestCreateWork: the pipeline spends its create work on every create before the store
// write, and a failed step fails the create without storing it.
func TestCreateWork(t *testing.T) {
	ctx := context.Background()
	step := 20 * time.Millisecond
	p, err := system.NewPipeline(memory.NewStore(), memory.NewBus(), system.PipelineConfig{
		CreateWork: system.Work{ServiceTime: system.Dist{Kind: system.DistConstant, Value: step}},
	})
	require.NoError(t, err)
	for range 3 {
		start := time.Now()
		got, err := p.Create(ctx, system.Request{State: "pending"})
		require.NoError(t, err)
		require.GreaterOrEqual(t, time.Since(start), step, "the create returned before its work was done")
		_, err = p.Get(ctx, got.ID)
		require.NoError(t, err)
	}

	store := memory.NewStore()
	p, err = system.NewPipeline(store, memory.NewBus(), system.PipelineConfig{
		CreateWork: system.Work{FailureRate: 1},
	})
	require.NoError(t, err)
	_, err = p.Create(ctx, system.Request{ID: "r1", State: "pending"})
	require.True(t, errors.Is(err, system.ErrWorkFailed), "got %v", err)
	_, err = store.Get(ctx, "r1")
	require.True(t, errors.Is(err, system.ErrNotFound), "a failed create was stored: %v", err)

	_, err = system.NewPipeline(memory.NewStore(), memory.NewBus(), system.PipelineConfig{
		CreateWork: system.Work{FailureRate: 2},
	})
	require.Error(t, err, "a failure rate above 1 is refused")
}
