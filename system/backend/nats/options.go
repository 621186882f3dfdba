package nats

import (
	"fmt"

	"github.com/headroom/headroom/system"
)

// DefaultURL is the server Open uses for an empty DSN: the machine's NATS with JetStream.
const DefaultURL = "nats://127.0.0.1:4222"

// DefaultFIFOShards is how many subjects and consumers a FIFO queue is split into (see
// FIFOShards).
const DefaultFIFOShards = 8

// Option configures a Bus.
type Option func(*config) error

type config struct {
	shards int
}

// FIFOShards sets how many subjects, each with its own consumer allowing one
// unacknowledged message, back each FIFO queue. A message group always maps to the same
// shard, so n bounds how many groups can be in flight at once. Every process of a
// deployment must use the same n, because the publisher picks the subject.
func FIFOShards(n int) Option {
	return func(c *config) error {
		if n < 1 || n > 256 {
			return fmt.Errorf("nats: FIFO shards %d: must be 1..256: %w", n, system.ErrInvalid)
		}
		c.shards = n
		return nil
	}
}
