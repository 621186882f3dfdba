package dynamodb

import (
	"testing"

	"github.com/headroom/headroom/system/backend/internal/storecheck"
	"github.com/headroom/headroom/system/backend/memory"
)

// The memory store runs beside each benchmark as the reference measured in the same run:
// the ratio is what the round trips to DynamoDB (here dynalite on loopback) cost.

func BenchmarkCreateGet(b *testing.B) {
	b.Run("memory", func(b *testing.B) { storecheck.BenchCreateGet(b, memory.NewStore()) })
	b.Run("dynamodb", func(b *testing.B) { storecheck.BenchCreateGet(b, newStore(b)) })
}

func BenchmarkGetHot(b *testing.B) {
	b.Run("memory", func(b *testing.B) { storecheck.BenchGetHot(b, memory.NewStore()) })
	b.Run("dynamodb", func(b *testing.B) { storecheck.BenchGetHot(b, newStore(b)) })
}

func BenchmarkPipeline(b *testing.B) {
	b.Run("memory", func(b *testing.B) { storecheck.BenchPipeline(b, memory.NewStore()) })
	b.Run("dynamodb", func(b *testing.B) { storecheck.BenchPipeline(b, newStore(b)) })
}
