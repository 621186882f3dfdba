package memory_test

import (
	"context"
	"slices"
	"testing"

	"github.com/headroom/headroom/system"
	"github.com/headroom/headroom/system/backend/memory"
)

func TestRegisteredByName(t *testing.T) {
	if !slices.Contains(system.StoreNames(), memory.Name) || !slices.Contains(system.BusNames(), memory.Name) {
		t.Fatalf("stores %v, buses %v: want %q in both", system.StoreNames(), system.BusNames(), memory.Name)
	}
	s, err := system.OpenStore(context.Background(), "memory", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*memory.Store); !ok {
		t.Fatalf("OpenStore(memory) = %T", s)
	}
	b, err := system.OpenBus(context.Background(), "memory", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.(*memory.Bus); !ok {
		t.Fatalf("OpenBus(memory) = %T", b)
	}
	if _, err := system.OpenStore(context.Background(), "memory", "host=x"); err == nil {
		t.Fatalf("the memory store accepted a DSN it cannot use")
	}
}
