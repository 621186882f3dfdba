package memory

import (
	"cmp"
	"context"
	"fmt"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/headroom/headroom/system"
)

// shardCount spreads writers over independent locks; a power of two so the shard is a mask.
const shardCount = 64

// DefaultPageSize is the List page size when the caller gives none.
const DefaultPageSize = 100

// MaxPageSize bounds a List page.
const MaxPageSize = 1000

// Store is the embedded request store.
type Store struct {
	seed   maphash.Seed
	now    func() time.Time
	shards [shardCount]shard
}

type shard struct {
	mu sync.RWMutex
	m  map[string]*record
	// log holds the records in creation order for cursor paging, each with its position:
	// the shard's creation count when it was created, which never changes, so cursors
	// (which name positions) stay valid. A deleted record leaves nil behind until the dead
	// entries are more than half the log; then the log is rebuilt without them (compact).
	log  []entry
	next int // the position the next created request takes
	dead int // entries of log whose request was deleted
	// pending is the outbox: ids whose current version is not yet published.
	pending map[string]struct{}
}

type entry struct {
	pos int
	rec *record
}

// compactAbove is the fewest dead entries worth a rebuild of a shard's log.
const compactAbove = 64

type record struct {
	req       system.Request
	idx       int // of its entry in the shard's log
	published int64
}

var _ system.Store = (*Store)(nil)

// StoreOption configures a Store.
type StoreOption func(*Store)

// WithStoreClock makes the store read time from now instead of time.Now.
func WithStoreClock(now func() time.Time) StoreOption {
	return func(s *Store) { s.now = now }
}

// NewStore returns an empty store.
func NewStore(opts ...StoreOption) *Store {
	s := &Store{seed: maphash.MakeSeed(), now: time.Now}
	for _, o := range opts {
		o(s)
	}
	for i := range s.shards {
		s.shards[i].m = make(map[string]*record)
		s.shards[i].pending = make(map[string]struct{})
	}
	return s
}

func (s *Store) shardOf(id string) (int, *shard) {
	i := int(maphash.String(s.seed, id) & (shardCount - 1))
	return i, &s.shards[i]
}

// Create implements system.Writer.
func (s *Store) Create(ctx context.Context, r system.Request) (system.Request, error) {
	if r.ID == "" {
		return system.Request{}, fmt.Errorf("create: empty id: %w", system.ErrInvalid)
	}
	now := s.now()
	if r.CreatedAt.IsZero() {
		r.CreatedAt = now
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	r.Version, r.ProcessedVersion = 1, 0
	rec := &record{req: r}
	_, sh := s.shardOf(r.ID)
	sh.mu.Lock()
	if _, taken := sh.m[r.ID]; taken {
		sh.mu.Unlock()
		return system.Request{}, fmt.Errorf("create %s: %w", r.ID, system.ErrExists)
	}
	rec.idx = len(sh.log)
	sh.log = append(sh.log, entry{pos: sh.next, rec: rec})
	sh.next++
	sh.m[r.ID] = rec
	sh.pending[r.ID] = struct{}{}
	sh.mu.Unlock()
	return r, nil
}

// Get implements system.Reader.
func (s *Store) Get(ctx context.Context, id string) (system.Request, error) {
	_, sh := s.shardOf(id)
	sh.mu.RLock()
	rec := sh.m[id]
	var r system.Request
	if rec != nil {
		r = rec.req
	}
	sh.mu.RUnlock()
	if rec == nil {
		return system.Request{}, fmt.Errorf("get %s: %w", id, system.ErrNotFound)
	}
	return r, nil
}

// Update implements system.Writer.
func (s *Store) Update(ctx context.Context, r system.Request) (system.Request, error) {
	now := r.UpdatedAt
	if now.IsZero() {
		now = s.now()
	}
	_, sh := s.shardOf(r.ID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	rec := sh.m[r.ID]
	if rec == nil {
		return system.Request{}, fmt.Errorf("update %s: %w", r.ID, system.ErrNotFound)
	}
	if rec.req.Version != r.Version {
		return system.Request{}, fmt.Errorf("update %s: version %d, current %d: %w",
			r.ID, r.Version, rec.req.Version, system.ErrConflict)
	}
	rec.req.State = r.State
	rec.req.Payload = r.Payload
	rec.req.Version++
	rec.req.UpdatedAt = now
	sh.pending[r.ID] = struct{}{}
	return rec.req, nil
}

// Delete implements system.Writer.
func (s *Store) Delete(ctx context.Context, id string, version int64) error {
	_, sh := s.shardOf(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	rec := sh.m[id]
	if rec == nil {
		return fmt.Errorf("delete %s: %w", id, system.ErrNotFound)
	}
	if version >= 0 && rec.req.Version != version {
		return fmt.Errorf("delete %s: version %d, current %d: %w", id, version, rec.req.Version, system.ErrConflict)
	}
	sh.log[rec.idx].rec = nil
	sh.dead++
	if sh.dead >= compactAbove && 2*sh.dead > len(sh.log) {
		sh.compact()
	}
	delete(sh.m, id)
	delete(sh.pending, id)
	return nil
}

// index returns the index in log of the first entry at position pos or later.
func (sh *shard) index(pos int) int {
	i, _ := slices.BinarySearchFunc(sh.log, pos, func(e entry, pos int) int { return cmp.Compare(e.pos, pos) })
	return i
}

// compact rebuilds the log without its dead entries, in a new array so that the old one
// (at least twice as long) is freed. A rebuild copies the live half of the log, so its
// cost, spread over the deletes since the last one, is constant per delete.
func (sh *shard) compact() {
	live := make([]entry, 0, len(sh.log)-sh.dead)
	for _, e := range sh.log {
		if e.rec != nil {
			e.rec.idx = len(live)
			live = append(live, e)
		}
	}
	sh.log, sh.dead = live, 0
}

// List implements system.Reader. Requests come shard by shard, each shard in creation
// order; the cursor is "shard.position", so it stays valid however the map changes.
func (s *Store) List(ctx context.Context, cursor string, limit int) (system.Page, error) {
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	si, pos, err := parseCursor(cursor)
	if err != nil {
		return system.Page{}, err
	}
	page := system.Page{Items: make([]system.Request, 0, min(limit, 64))}
	for ; si < shardCount; si, pos = si+1, 0 {
		sh := &s.shards[si]
		sh.mu.RLock()
		for _, e := range sh.log[sh.index(pos):] {
			if e.rec == nil {
				continue
			}
			if len(page.Items) == limit {
				sh.mu.RUnlock()
				page.Next = strconv.Itoa(si) + "." + strconv.Itoa(e.pos)
				return page, nil
			}
			page.Items = append(page.Items, e.rec.req)
		}
		sh.mu.RUnlock()
	}
	return page, nil
}

func parseCursor(c string) (shardIdx, pos int, err error) {
	if c == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(c, ".")
	if ok {
		shardIdx, err = strconv.Atoi(a)
	}
	if ok && err == nil {
		pos, err = strconv.Atoi(b)
	}
	if !ok || err != nil || shardIdx < 0 || shardIdx >= shardCount || pos < 0 {
		return 0, 0, fmt.Errorf("list: cursor %q is not one this store returned: %w", c, system.ErrInvalid)
	}
	return shardIdx, pos, nil
}

// MarkProcessed implements system.Effector.
func (s *Store) MarkProcessed(ctx context.Context, id string, version int64) (system.Outcome, error) {
	_, sh := s.shardOf(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	rec := sh.m[id]
	switch {
	case rec == nil:
		return system.Gone, nil
	case rec.req.ProcessedVersion >= version:
		if rec.req.ProcessedVersion == version {
			return system.Duplicate, nil
		}
		return system.Superseded, nil
	case rec.req.Version != version:
		return system.Superseded, nil
	}
	rec.req.ProcessedVersion = version
	return system.Applied, nil
}

// Unpublished implements system.Outbox.
func (s *Store) Unpublished(ctx context.Context, olderThan time.Time, limit int) ([]system.Request, error) {
	var out []system.Request
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		for id := range sh.pending {
			if len(out) >= limit {
				break
			}
			if rec := sh.m[id]; rec != nil && !rec.req.UpdatedAt.After(olderThan) {
				out = append(out, rec.req)
			}
		}
		sh.mu.RUnlock()
		if len(out) >= limit {
			break
		}
	}
	return out, nil
}

// MarkPublished implements system.Outbox.
func (s *Store) MarkPublished(ctx context.Context, id string, version int64) error {
	_, sh := s.shardOf(id)
	sh.mu.Lock()
	if rec := sh.m[id]; rec != nil && version > rec.published {
		rec.published = version
		if rec.req.Version <= version {
			delete(sh.pending, id)
		}
	}
	sh.mu.Unlock()
	return nil
}

// Ping implements system.Pinger: the embedded store is always ready.
func (s *Store) Ping(ctx context.Context) error { return nil }

// Len returns the number of stored requests.
func (s *Store) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		n += len(sh.m)
		sh.mu.RUnlock()
	}
	return n
}
