package rabbitmq

import (
	"fmt"

	"github.com/headroom/headroom/system"
)

// DefaultURL is the broker Open uses for an empty DSN: the machine's RabbitMQ.
const DefaultURL = "amqp://guest:guest@127.0.0.1:5672/"

// DefaultFIFOShards is how many sub-queues a FIFO queue is split into (see FIFOShards).
const DefaultFIFOShards = 8

// Option configures a Bus.
type Option func(*config) error

type config struct {
	shards int
}

// FIFOShards sets how many sub-queues back each FIFO queue. A message group always maps to
// the same sub-queue, and each sub-queue has one active consumer holding at most one
// message, so n bounds how many groups can be in flight at once. Every process of a
// deployment must use the same n, because the publisher picks the sub-queue.
func FIFOShards(n int) Option {
	return func(c *config) error {
		if n < 1 || n > 256 {
			return fmt.Errorf("rabbitmq: FIFO shards %d: must be 1..256: %w", n, system.ErrInvalid)
		}
		c.shards = n
		return nil
	}
}
