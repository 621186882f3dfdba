package snssqs

import (
	"context"

	"github.com/headroom/headroom/system"
)

// Name is the backend's name for --bus.
const Name = "sns+sqs"

func init() {
	system.RegisterBus(Name, func(ctx context.Context, dsn string) (system.Bus, error) {
		return Open(ctx, dsn)
	})
}
