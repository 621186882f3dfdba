// Package rediscache is the cache-aside store of the design's second architecture: Redis
// (github.com/redis/go-redis/v9) in front of a backing system.Store, which for the
// registered "redis+mysql" backend is the MySQL/MariaDB store of package mysql.
//
// Get reads Redis; on a miss it reads the backing store, sets the key with a TTL and
// returns. Every write goes to the backing store (conditional on version, as there) and
// then invalidates the key. List and the outbox read the backing store directly: pages
// and the relay's scan are not worth caching, and the source of truth decides what is
// unpublished.
//
// # The stale fill race
//
// Plain cache-aside has a race: a reader misses, reads version v from MySQL, a writer
// commits v+1 and deletes the key, and only then does the reader set the key — to v,
// which then stays until its TTL ends. This package closes it with a lease (as
// memcached's leases do): before reading the backing store a missing reader takes a
// short-lived lease on the key (SET lease token NX PX), and it fills only through a Lua
// script that sets the value if and only if its own token still holds the lease. A writer
// invalidates by deleting the value and the lease together, after its commit. So a fill
// whose data may predate a commit finds its lease gone and is refused: the backing read
// happened after the lease was taken, so any write it missed committed after that, and
// that write's invalidation, which follows its commit, either precedes the fill (lease
// gone, fill refused) or follows it (the fresh value is deleted). A reader that finds the
// lease taken by another reads the backing store without filling; a lease that expires
// before its holder fills (a read slower than the lease) refuses the fill too. Tokens are
// unique per lease, so a lease taken again by another reader never validates an old one.
//
// What remains is cache-aside's inherent window — a read between a commit and its
// invalidation sees the previous version — and a failed invalidation (Redis unreachable
// after the commit): the write still succeeds, the failure is counted
// (headroom_cache_errors_total{op="invalidate"}), and the stale value lives at most one
// TTL. When Redis is unreachable reads fall back to the backing store, so the store
// degrades to the database instead of failing.
//
// # Metrics
//
// Collectors exports headroom_cache_hits_total, headroom_cache_misses_total, the
// headroom_cache_hit_ratio gauge (hits / (hits + misses) since start; the vm-cache
// scenario's hit ratio), fills, refused fills and errors by operation, plus the backing
// store's own series.
//
// # DSN
//
//	redis+mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE?redis=HOST:PORT&ttl=5m
//
// Parameters: redis (HOST:PORT, or a redis:// or rediss:// URL for a password or a
// database number; default 127.0.0.1:6379), ttl (a Go duration, default 5m), lease
// (default 5s), prefix (of every key, default "headroom:req:"), and the mysql store's
// table and max_conns. An unknown parameter is an error.
package rediscache
