package memory_test

import (
	"testing"

	"github.com/headroom/headroom/system"
	"github.com/headroom/headroom/system/backend/memory"
	"github.com/headroom/headroom/system/conformance"
)

func newStore(t *testing.T) system.Store { return memory.NewStore() }

func newBus(t *testing.T) system.Bus {
	b := memory.NewBus()
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestStoreConformance(t *testing.T) { conformance.RunStoreSuite(t, newStore) }

func TestBusConformance(t *testing.T) { conformance.RunBusSuite(t, newBus) }

func TestPipelineConformance(t *testing.T) { conformance.RunPipelineSuite(t, newStore, newBus) }
