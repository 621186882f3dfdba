package dynamodb

import (
	"context"

	"github.com/headroom/headroom/system"
)

// Name is the backend's name for --store.
const Name = "dynamodb"

func init() {
	system.RegisterStore(Name, func(ctx context.Context, dsn string) (system.Store, error) {
		return Open(ctx, dsn)
	})
}
