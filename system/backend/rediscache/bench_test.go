package rediscache

import (
	"testing"

	"github.com/headroom/headroom/system/backend/internal/storecheck"
	"github.com/headroom/headroom/system/backend/memory"
)

// The memory store and the plain MySQL store run beside the cache in each benchmark: the
// memory store is the reference of the same run, MySQL what the cache saves reads from.

func BenchmarkCreateGet(b *testing.B) {
	b.Run("memory", func(b *testing.B) { storecheck.BenchCreateGet(b, memory.NewStore()) })
	b.Run("mysql", func(b *testing.B) { storecheck.BenchCreateGet(b, newEnv(b).my.Store) })
	b.Run("redis+mysql", func(b *testing.B) { storecheck.BenchCreateGet(b, newEnv(b)) })
}

func BenchmarkGetHot(b *testing.B) {
	b.Run("memory", func(b *testing.B) { storecheck.BenchGetHot(b, memory.NewStore()) })
	b.Run("mysql", func(b *testing.B) { storecheck.BenchGetHot(b, newEnv(b).my.Store) })
	b.Run("redis+mysql", func(b *testing.B) { storecheck.BenchGetHot(b, newEnv(b)) })
}

func BenchmarkPipeline(b *testing.B) {
	b.Run("memory", func(b *testing.B) { storecheck.BenchPipeline(b, memory.NewStore()) })
	b.Run("redis+mysql", func(b *testing.B) { storecheck.BenchPipeline(b, newEnv(b)) })
}
