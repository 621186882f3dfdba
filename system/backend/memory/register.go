package memory

import (
	"context"
	"fmt"

	"github.com/headroom/headroom/system"
)

// Name is the name both backends register under.
const Name = "memory"

func init() {
	system.RegisterStore(Name, func(ctx context.Context, dsn string) (system.Store, error) {
		if dsn != "" {
			return nil, fmt.Errorf("the memory store takes no DSN, got %q: %w", dsn, system.ErrInvalid)
		}
		return NewStore(), nil
	})
	system.RegisterBus(Name, func(ctx context.Context, dsn string) (system.Bus, error) {
		if dsn != "" {
			return nil, fmt.Errorf("the memory bus takes no DSN, got %q: %w", dsn, system.ErrInvalid)
		}
		return NewBus(), nil
	})
}
