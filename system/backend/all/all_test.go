package all_test

import (
	"slices"
	"testing"

	"github.com/headroom/headroom/system"
	_ "github.com/headroom/headroom/system/backend/all"
)

// TestEveryBackendRegistered: importing the package makes every backend selectable by the
// name `headroom serve --store/--bus` takes.
func TestEveryBackendRegistered(t *testing.T) {
	wantStores := []string{"dynamodb", "memory", "mysql", "postgres", "redis+mysql"}
	wantBuses := []string{"memory", "nats", "rabbitmq", "sns+sqs"}
	if got := system.StoreNames(); !slices.Equal(got, wantStores) {
		t.Errorf("stores %v, want %v", got, wantStores)
	}
	if got := system.BusNames(); !slices.Equal(got, wantBuses) {
		t.Errorf("buses %v, want %v", got, wantBuses)
	}
}
