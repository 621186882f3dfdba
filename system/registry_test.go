package system

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestRegistryUnknownBackend(t *testing.T) {
	_, err := OpenStore(context.Background(), "no-such-store", "")
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "no-such-store") {
		t.Fatalf("OpenStore(unknown) = %v, want ErrInvalid naming it", err)
	}
	_, err = OpenBus(context.Background(), "no-such-bus", "")
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "no-such-bus") {
		t.Fatalf("OpenBus(unknown) = %v, want ErrInvalid naming it", err)
	}
}
