package rabbitmq

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/headroom/headroom/system"
	"github.com/headroom/headroom/system/backend/internal/bustest"
)

// testURL is the broker the tests use: HEADROOM_TEST_RABBITMQ_URL, else DefaultURL.
func testURL() string {
	if u := os.Getenv("HEADROOM_TEST_RABBITMQ_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// openBus opens a bus on the test broker; its topology is deleted when the test ends. A
// broker that does not answer fails the test, naming it and how to start it.
func openBus(t testing.TB, opts ...Option) *Bus {
	t.Helper()
	return openBusAt(t, testURL(), opts...)
}

// openBusAt is openBus on the server at url.
func openBusAt(t testing.TB, url string, opts ...Option) *Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := Open(ctx, url, opts...)
	if err != nil {
		t.Fatalf("RabbitMQ is required for this test and did not answer: %v\n"+
			"(set HEADROOM_TEST_RABBITMQ_URL, or start it: rabbitmq-server -detached; bash .ci/services starts every service)", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = b.Close()
		if err := b.DeleteTopology(ctx); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return b
}

// TestBus runs the behaviour tests every broker-backed bus shares (bustest).
func TestBus(t *testing.T) {
	bustest.Run(t, bustest.Harness{
		Open: func(t testing.TB, fifoShards int) bustest.Bus {
			if fifoShards > 0 {
				return openBus(t, FIFOShards(fifoShards))
			}
			return openBus(t)
		},
		ReservedAttribute: "x-reserved",
	})
}

func TestOpenFailsClearlyWithoutBroker(t *testing.T) {
	ctx := bustest.Ctx(t, 10*time.Second)
	_, err := Open(ctx, "amqp://guest:secret@127.0.0.1:1/")
	if err == nil {
		t.Fatal("Open against a closed port succeeded")
	}
	if !strings.Contains(err.Error(), "127.0.0.1:1") || strings.Contains(err.Error(), "secret") ||
		!strings.Contains(err.Error(), "rabbitmq-server") {
		t.Errorf("error should name the broker, hide the password and say how to start it: %v", err)
	}
}

func TestRegisteredByName(t *testing.T) {
	if !slices.Contains(system.BusNames(), Name) {
		t.Fatalf("%q not registered: %v", Name, system.BusNames())
	}
	ctx := bustest.Ctx(t, 10*time.Second)
	bus, err := system.OpenBus(ctx, Name, testURL())
	if err != nil {
		t.Fatalf("RabbitMQ is required for this test: %v", err)
	}
	defer bus.(*Bus).Close()
}
