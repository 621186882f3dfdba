package nats

import (
	"testing"

	"github.com/headroom/headroom/system"
	"github.com/headroom/headroom/system/backend/memory"
	"github.com/headroom/headroom/system/conformance"
)

func newBus(t *testing.T) system.Bus { return openBus(t) }

// The pipeline suite needs a store too; the embedded one keeps the test about the bus.
func newMemStore(t *testing.T) system.Store { return memory.NewStore() }

func TestBusConformance(t *testing.T) { conformance.RunBusSuite(t, newBus) }

func TestPipelineConformance(t *testing.T) {
	conformance.RunPipelineSuite(t, newMemStore, newBus)
}
