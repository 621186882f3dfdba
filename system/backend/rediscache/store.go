package rediscache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/headroom/headroom/system"
)

// Defaults of the options.
const (
	DefaultTTL      = 5 * time.Minute
	DefaultLeaseTTL = 5 * time.Second
	DefaultPrefix   = "headroom:req:"
)

// invalidateTimeout bounds the invalidation after a committed write. It runs even when
// the caller's context has ended, since skipping it would leave a stale entry for a TTL.
const invalidateTimeout = 2 * time.Second

// Store is a cache-aside system.Store: Redis in front of a backing store. It owns both:
// Close closes the Redis client and the backing store.
type Store struct {
	backing  system.Store
	rdb      *redis.Client
	ttl      time.Duration
	leaseTTL time.Duration
	prefix   string
	c        counters
	closed   atomic.Bool
	bufs     sync.Pool
}

var (
	_ system.Store         = (*Store)(nil)
	_ system.Pinger        = (*Store)(nil)
	_ system.MetricsSource = (*Store)(nil)
	_ io.Closer            = (*Store)(nil)
)

// Option configures a Store.
type Option func(*Store)

// WithTTL sets how long a filled entry lives (DefaultTTL). It bounds how long a stale
// entry can outlive a failed invalidation.
func WithTTL(d time.Duration) Option { return func(s *Store) { s.ttl = d } }

// WithLeaseTTL sets how long a missing reader's lease lives (DefaultLeaseTTL); a backing
// read slower than this is not cached.
func WithLeaseTTL(d time.Duration) Option { return func(s *Store) { s.leaseTTL = d } }

// WithPrefix sets the prefix of every key (DefaultPrefix), so deployments can share a
// Redis.
func WithPrefix(p string) Option { return func(s *Store) { s.prefix = p } }

// New puts Redis in front of backing.
func New(rdb *redis.Client, backing system.Store, opts ...Option) *Store {
	s := &Store{backing: backing, rdb: rdb, ttl: DefaultTTL, leaseTTL: DefaultLeaseTTL, prefix: DefaultPrefix}
	for _, o := range opts {
		o(s)
	}
	// Redis expiries are in milliseconds; less would be no cache (or an error) at all.
	s.ttl, s.leaseTTL = max(s.ttl, time.Millisecond), max(s.leaseTTL, time.Millisecond)
	s.bufs.New = func() any { b := make([]byte, 0, 256); return &b }
	return s
}

// Backing is the store behind the cache.
func (s *Store) Backing() system.Store { return s.backing }

// Stats returns the cache's counters.
func (s *Store) Stats() Stats { return s.c.snapshot() }

// Key and LeaseKey name the Redis keys of a request. The id sits in a hash tag so both
// keys land in one slot, which a Redis Cluster needs for the fill script and the two-key
// DEL.
func (s *Store) Key(id string) string      { return s.prefix + "{" + id + "}" }
func (s *Store) LeaseKey(id string) string { return s.prefix + "{" + id + "}:lease" }

// Get implements system.Reader: Redis first; on a miss take the lease, read the backing
// store, fill if the lease still holds.
func (s *Store) Get(ctx context.Context, id string) (system.Request, error) {
	if err := s.open(); err != nil {
		return system.Request{}, err
	}
	key := s.Key(id)
	b, err := s.rdb.Get(ctx, key).Bytes()
	switch {
	case err == nil:
		r, derr := decode(id, b)
		if derr == nil {
			s.c.hits.Add(1)
			return r, nil
		}
		// An entry this code cannot read (another version's format): treat it as a
		// miss; the lease and fill below replace it.
		s.c.getErrs.Add(1)
	case errors.Is(err, redis.Nil):
	default:
		if ctx.Err() != nil {
			return system.Request{}, fmt.Errorf("get %s: %w", id, ctx.Err())
		}
		// Redis is unreachable: serve from the source of truth, do not try to fill.
		s.c.getErrs.Add(1)
		s.c.misses.Add(1)
		return s.backing.Get(ctx, id)
	}
	s.c.misses.Add(1)

	// The lease is taken before the backing read; that order is what makes a refused
	// fill the only possible outcome of a write racing this read (see the package doc).
	token := newToken()
	leased, err := s.rdb.SetNX(ctx, s.LeaseKey(id), token, s.leaseTTL).Result()
	if err != nil {
		s.c.leaseErrs.Add(1)
		leased = false
	}
	r, err := s.backing.Get(ctx, id)
	if err != nil {
		if leased {
			s.release(ctx, id, token)
		}
		return system.Request{}, err
	}
	if leased {
		s.fill(ctx, &r, token)
	}
	return r, nil
}

func (s *Store) fill(ctx context.Context, r *system.Request, token string) {
	bp := s.bufs.Get().(*[]byte)
	buf := encode((*bp)[:0], r)
	ok, err := fillScript.Run(ctx, s.rdb, []string{s.Key(r.ID), s.LeaseKey(r.ID)},
		token, buf, s.ttl.Milliseconds()).Int()
	*bp = buf
	s.bufs.Put(bp)
	switch {
	case err != nil:
		s.c.fillErrs.Add(1)
	case ok == 1:
		s.c.fills.Add(1)
	default:
		s.c.refused.Add(1)
	}
}

func (s *Store) release(ctx context.Context, id, token string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), invalidateTimeout)
	defer cancel()
	if err := releaseScript.Run(ctx, s.rdb, []string{s.Key(id), s.LeaseKey(id)}, token).Err(); err != nil {
		s.c.leaseErrs.Add(1)
	}
}

// invalidate deletes the value and any lease after a write: the lease, so that a fill
// racing the write is refused; the value, so the next read goes to the backing store.
func (s *Store) invalidate(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), invalidateTimeout)
	defer cancel()
	if err := s.rdb.Del(ctx, s.Key(id), s.LeaseKey(id)).Err(); err != nil {
		s.c.invalidateErrs.Add(1)
	}
}

// changedMaybe reports whether a write that returned err may have changed the row: on
// success, and when the outcome is unknown (a timeout after the commit was sent), but not
// when the backing store refused it for a reason that changes nothing.
func changedMaybe(err error) bool {
	return err == nil || !(errors.Is(err, system.ErrConflict) || errors.Is(err, system.ErrNotFound) ||
		errors.Is(err, system.ErrExists) || errors.Is(err, system.ErrInvalid) || errors.Is(err, system.ErrClosed))
}

// Create implements system.Writer. Nothing is cached for an id that does not exist, so
// a create has nothing to invalidate.
func (s *Store) Create(ctx context.Context, r system.Request) (system.Request, error) {
	if err := s.open(); err != nil {
		return system.Request{}, err
	}
	return s.backing.Create(ctx, r)
}

// Update implements system.Writer: the backing store's conditional update, then the
// invalidation.
func (s *Store) Update(ctx context.Context, r system.Request) (system.Request, error) {
	if err := s.open(); err != nil {
		return system.Request{}, err
	}
	out, err := s.backing.Update(ctx, r)
	if changedMaybe(err) {
		s.invalidate(ctx, r.ID)
	}
	return out, err
}

// Delete implements system.Writer.
func (s *Store) Delete(ctx context.Context, id string, version int64) error {
	if err := s.open(); err != nil {
		return err
	}
	err := s.backing.Delete(ctx, id, version)
	if changedMaybe(err) {
		s.invalidate(ctx, id)
	}
	return err
}

// List implements system.Reader from the backing store.
func (s *Store) List(ctx context.Context, cursor string, limit int) (system.Page, error) {
	if err := s.open(); err != nil {
		return system.Page{}, err
	}
	return s.backing.List(ctx, cursor, limit)
}

// MarkProcessed implements system.Effector. The processed version is part of what Get
// returns, so an applied effect invalidates like any write.
func (s *Store) MarkProcessed(ctx context.Context, id string, version int64) (system.Outcome, error) {
	if err := s.open(); err != nil {
		return 0, err
	}
	o, err := s.backing.MarkProcessed(ctx, id, version)
	if o == system.Applied || err != nil && changedMaybe(err) {
		s.invalidate(ctx, id)
	}
	return o, err
}

// Unpublished implements system.Outbox from the backing store.
func (s *Store) Unpublished(ctx context.Context, olderThan time.Time, limit int) ([]system.Request, error) {
	if err := s.open(); err != nil {
		return nil, err
	}
	return s.backing.Unpublished(ctx, olderThan, limit)
}

// MarkPublished implements system.Outbox. The published version is not part of a
// Request, so the cached entry stays valid.
func (s *Store) MarkPublished(ctx context.Context, id string, version int64) error {
	if err := s.open(); err != nil {
		return err
	}
	return s.backing.MarkPublished(ctx, id, version)
}

// Ping implements system.Pinger: both Redis and the backing store must answer; a store
// that degrades to the database is not ready, since every read would then reach it.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.open(); err != nil {
		return err
	}
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis ping %s: %w", s.rdb.Options().Addr, err)
	}
	if p, ok := s.backing.(system.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// Collectors implements system.MetricsSource: the cache's series and the backing
// store's.
func (s *Store) Collectors() []prometheus.Collector {
	cs := s.c.collectors()
	if m, ok := s.backing.(system.MetricsSource); ok {
		cs = append(cs, m.Collectors()...)
	}
	return cs
}

// Close closes the Redis client and the backing store; later calls fail with
// system.ErrClosed.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	err := s.rdb.Close()
	if c, ok := s.backing.(io.Closer); ok {
		err = errors.Join(err, c.Close())
	}
	return err
}

func (s *Store) open() error {
	if s.closed.Load() {
		return fmt.Errorf("redis cache store: %w", system.ErrClosed)
	}
	return nil
}
