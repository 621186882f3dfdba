package postgres

import (
	"testing"

	"github.com/headroom/headroom/system"
	"github.com/headroom/headroom/system/backend/memory"
	"github.com/headroom/headroom/system/conformance"
)

// The suites every store passes, here against PostgreSQL over real connections; the
// pipeline suite runs the whole pipeline over this store and the embedded bus.

func TestStoreConformance(t *testing.T) {
	conformance.RunStoreSuite(t, func(t *testing.T) system.Store { return newStore(t) })
}

func TestPipelineConformance(t *testing.T) {
	conformance.RunPipelineSuite(t,
		func(t *testing.T) system.Store { return newStore(t) },
		func(t *testing.T) system.Bus {
			b := memory.NewBus()
			t.Cleanup(func() { _ = b.Close() })
			return b
		})
}
