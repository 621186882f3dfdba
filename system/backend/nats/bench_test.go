package nats

import (
	"testing"

	"github.com/headroom/headroom/system/backend/internal/bustest"
	"github.com/headroom/headroom/system/backend/memory"
)

// BenchmarkPublishReceiveAck drives b.N messages through one queue: publishers waiting for
// each confirm, consumers receiving batches and acknowledging them; msgs/s is the rate at
// which messages are published, received and acknowledged. The embedded bus runs the same
// loop in the same run as the reference.
func BenchmarkPublishReceiveAck(b *testing.B) {
	for _, fifo := range []bool{false, true} {
		mode := "standard"
		if fifo {
			mode = "fifo"
		}
		b.Run("memory/"+mode, func(b *testing.B) { bustest.PublishReceiveAck(b, memory.NewBus(), fifo) })
		b.Run("nats/"+mode, func(b *testing.B) { bustest.PublishReceiveAck(b, openBus(b), fifo) })
	}
}

// BenchmarkReceiveAck times the consuming side alone: b.N messages are published first
// (untimed), then consumers receive batches of 10 and acknowledge them.
func BenchmarkReceiveAck(b *testing.B) {
	b.Run("memory", func(b *testing.B) { bustest.ReceiveAck(b, memory.NewBus()) })
	b.Run(Name, func(b *testing.B) { bustest.ReceiveAck(b, openBus(b)) })
}
