package rediscache

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/headroom/headroom/system"
	"github.com/headroom/headroom/system/backend/internal/netfault"
	"github.com/headroom/headroom/system/backend/internal/storecheck"
)

func TestStoreChecks(t *testing.T) {
	storecheck.Run(t, func(t *testing.T) system.Store { return newEnv(t).Store })
}

func create(t *testing.T, s system.Store, id string) system.Request {
	t.Helper()
	r, err := s.Create(context.Background(), system.Request{ID: id, State: "pending", Payload: []byte(`{"n":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func get(t *testing.T, s system.Store, id string) system.Request {
	t.Helper()
	r, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestHitsAndMisses: the first read of a request misses, reads MySQL once and fills;
// the following reads hit and do not reach MySQL; a missing request is a miss that
// caches nothing.
func TestHitsAndMisses(t *testing.T) {
	e := newEnv(t)
	want := create(t, e, "hm")
	for i := 0; i < 5; i++ {
		if got := get(t, e, "hm"); got.Version != 1 || string(got.Payload) != `{"n":1}` ||
			!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
			t.Fatalf("read %d: %+v, want %+v", i, got, want)
		}
	}
	st := e.Stats()
	if st.Hits != 4 || st.Misses != 1 || st.Fills != 1 || e.my.gets.Load() != 1 {
		t.Fatalf("after 5 reads: %+v, MySQL reads %d; want 4 hits, 1 miss, 1 fill, 1 MySQL read", st, e.my.gets.Load())
	}
	_, err := e.Get(context.Background(), "absent")
	if !errors.Is(err, system.ErrNotFound) {
		t.Fatalf("get of a missing request: %v", err)
	}
	if _, ok := e.cached(t, "absent"); ok {
		t.Fatal("a missing request was cached")
	}
	if n, _ := e.rdb.Exists(context.Background(), e.LeaseKey("absent")).Result(); n != 0 {
		t.Fatal("the lease of a missing request was not released")
	}
	if st := e.Stats(); st.Misses != 2 || st.HitRatio() != 4.0/6 {
		t.Fatalf("after the missing read: %+v ratio %v", st, st.HitRatio())
	}
}

// TestBackingReadsFollowHitRatio: for a workload of reads and invalidating writes, the
// reads that reach MySQL are exactly the misses, (1 − h) of all reads for a hit ratio h,
// and h is what the workload implies.
func TestBackingReadsFollowHitRatio(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const ids, rounds = 12, 20
	rng := rand.New(rand.NewPCG(1, 2))
	versions := make([]int64, ids)
	cachedNow := make([]bool, ids)
	for i := range versions {
		create(t, e, fmt.Sprint("hr-", i))
		versions[i] = 1
	}
	var reads, wantMisses int
	for round := 0; round < rounds; round++ {
		for i := 0; i < ids; i++ {
			id := fmt.Sprint("hr-", i)
			switch x := rng.IntN(10); {
			case x < 2: // a write invalidates
				if _, err := e.Update(ctx, system.Request{ID: id, State: "approved", Version: versions[i]}); err != nil {
					t.Fatal(err)
				}
				versions[i]++
				cachedNow[i] = false
			case x < 3: // the effect invalidates too
				o, err := e.MarkProcessed(ctx, id, versions[i])
				if err != nil {
					t.Fatal(err)
				}
				if o == system.Applied {
					cachedNow[i] = false
				}
			default:
				reads++
				if !cachedNow[i] {
					wantMisses++
					cachedNow[i] = true
				}
				if got := get(t, e, id); got.Version != versions[i] {
					t.Fatalf("%s: version %d, want %d", id, got.Version, versions[i])
				}
			}
		}
	}
	st := e.Stats()
	h := st.HitRatio()
	backingReads := int(e.my.gets.Load())
	t.Logf("%d reads, hit ratio %.3f, %d MySQL reads", reads, h, backingReads)
	if int(st.Hits+st.Misses) != reads || int(st.Misses) != wantMisses {
		t.Fatalf("%+v after %d reads, want %d misses", st, reads, wantMisses)
	}
	if backingReads != wantMisses {
		t.Fatalf("%d reads reached MySQL, want the %d misses", backingReads, wantMisses)
	}
	if got, want := float64(backingReads), (1-h)*float64(reads); got < want-1e-6 || got > want+1e-6 {
		t.Fatalf("MySQL reads %v, want (1-h)·reads = %v", got, want)
	}
}

// slowRead makes the next backing read stall after MySQL answered until release is
// closed, and reports on loaded what it read; later reads pass.
func (e *env) slowRead() (loaded chan system.Request, release chan struct{}) {
	loaded, release = make(chan system.Request, 1), make(chan struct{})
	var taken atomic.Bool
	f := func(id string) {
		if taken.Swap(true) {
			return
		}
		r, _ := e.my.Store.Get(context.Background(), id)
		loaded <- r
		<-release
	}
	e.my.slow.Store(&f)
	return loaded, release
}

// TestStaleFillIsRefused interleaves a slow filler and a writer: the reader misses and
// reads version 1 from MySQL; before it fills, a writer commits version 2 and invalidates.
// The fill must be refused, or version 1 would be served until the TTL ends.
func TestStaleFillIsRefused(t *testing.T) {
	ctx := context.Background()

	t.Run("write during the slow read", func(t *testing.T) {
		e := newEnv(t)
		create(t, e, "race")
		loaded, release := e.slowRead()
		done := make(chan system.Request)
		go func() { r, _ := e.Get(ctx, "race"); done <- r }()
		if r := <-loaded; r.Version != 1 {
			t.Fatalf("the slow reader read version %d, want 1", r.Version)
		}
		if _, err := e.Update(ctx, system.Request{ID: "race", State: "approved", Version: 1}); err != nil {
			t.Fatal(err)
		}
		close(release)
		if r := <-done; r.Version != 1 {
			t.Fatalf("the slow reader returned version %d, want the 1 it read", r.Version)
		}
		if r, ok := e.cached(t, "race"); ok {
			t.Fatalf("Redis holds version %d after the write of version 2: the stale fill got through", r.Version)
		}
		if st := e.Stats(); st.RefusedFills != 1 || st.Fills != 0 {
			t.Fatalf("%+v, want exactly one refused fill", st)
		}
		e.my.slow.Store(nil)
		if r := get(t, e, "race"); r.Version != 2 || r.State != "approved" {
			t.Fatalf("next read: %+v, want version 2", r)
		}
		if r, ok := e.cached(t, "race"); !ok || r.Version != 2 {
			t.Fatalf("after the next read Redis holds %+v (%v), want version 2", r, ok)
		}
	})

	// The control: the same slow read with no write fills, so the refusal above is the
	// write's doing.
	t.Run("no write: the slow read fills", func(t *testing.T) {
		e := newEnv(t)
		create(t, e, "calm")
		loaded, release := e.slowRead()
		done := make(chan struct{})
		go func() { e.Get(ctx, "calm"); close(done) }()
		<-loaded
		close(release)
		<-done
		if r, ok := e.cached(t, "calm"); !ok || r.Version != 1 {
			t.Fatalf("Redis holds %+v (%v), want version 1", r, ok)
		}
	})

	// A reader that finds another's lease reads MySQL but does not fill, so it cannot
	// overwrite what a fresher reader sets either.
	t.Run("a second reader during the lease does not fill", func(t *testing.T) {
		e := newEnv(t)
		create(t, e, "two")
		loaded, release := e.slowRead()
		done := make(chan struct{})
		go func() { e.Get(ctx, "two"); close(done) }()
		<-loaded
		if r := get(t, e, "two"); r.Version != 1 {
			t.Fatalf("second reader: %+v", r)
		}
		if _, ok := e.cached(t, "two"); ok {
			t.Fatal("the reader without the lease filled")
		}
		close(release)
		<-done
		if st := e.Stats(); st.Fills != 1 || st.Misses != 2 {
			t.Fatalf("%+v, want 2 misses and only the leaseholder's fill", st)
		}
	})

	// A read slower than the lease is not cached: the lease it held may have been taken
	// by a reader that saw a newer version.
	t.Run("lease expired", func(t *testing.T) {
		e := newEnv(t, WithLeaseTTL(50*time.Millisecond))
		create(t, e, "late")
		loaded, release := e.slowRead()
		done := make(chan struct{})
		go func() { e.Get(ctx, "late"); close(done) }()
		<-loaded
		deadline := time.Now().Add(5 * time.Second)
		for {
			n, err := e.rdb.Exists(ctx, e.LeaseKey("late")).Result()
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the lease did not expire")
			}
			time.Sleep(10 * time.Millisecond)
		}
		close(release)
		<-done
		if _, ok := e.cached(t, "late"); ok {
			t.Fatal("a fill after its lease expired got through")
		}
		if st := e.Stats(); st.RefusedFills != 1 {
			t.Fatalf("%+v, want one refused fill", st)
		}
	})
}

// TestNoStaleEntryUnderConcurrency: round after round, a few readers and one writer race
// on a request whose entry was just invalidated, the readers' MySQL reads stalled at
// random so that fills straddle the write. When a round settles, whatever Redis holds for
// the request must be exactly what MySQL holds. (With the lease check removed from the
// fill script this test fails within a few rounds.)
func TestNoStaleEntryUnderConcurrency(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const ids, rounds, readers = 4, 150, 3
	for i := 0; i < ids; i++ {
		create(t, e, fmt.Sprint("cc-", i))
	}
	jitter := func() { time.Sleep(time.Duration(rand.IntN(1500)) * time.Microsecond) }
	stall := func(string) { jitter() }
	e.my.slow.Store(&stall)
	for round := 0; round < rounds; round++ {
		id := fmt.Sprint("cc-", round%ids)
		cur, err := e.my.Store.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for r := 0; r < readers; r++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := e.Get(ctx, id); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			jitter()
			var err error
			if round%3 == 2 {
				_, err = e.MarkProcessed(ctx, id, cur.Version)
			} else {
				_, err = e.Update(ctx, system.Request{ID: id, State: fmt.Sprint("r", round), Version: cur.Version})
			}
			if err != nil {
				t.Error(err)
			}
		}()
		wg.Wait()
		if t.Failed() {
			return
		}
		truth, err := e.my.Store.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c, ok := e.cached(t, id); ok && (c.Version != truth.Version || c.ProcessedVersion != truth.ProcessedVersion || c.State != truth.State) {
			t.Fatalf("round %d: %s: Redis holds version %d processed %d state %s, MySQL version %d processed %d state %s",
				round, id, c.Version, c.ProcessedVersion, c.State, truth.Version, truth.ProcessedVersion, truth.State)
		}
	}
	st := e.Stats()
	t.Logf("%+v", st)
	if st.Fills == 0 || st.RefusedFills == 0 {
		t.Fatalf("the rounds did not exercise both fills and refused fills: %+v", st)
	}
}

// TestWritesInvalidate: Update, MarkProcessed and Delete each remove the entry, so the
// next read sees the write; a refused write (conflict) and MarkPublished leave it.
func TestWritesInvalidate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	create(t, e, "wi")
	fill := func() {
		t.Helper()
		get(t, e, "wi")
		if _, ok := e.cached(t, "wi"); !ok {
			t.Fatal("not cached after a read")
		}
	}
	fill()
	if _, err := e.Update(ctx, system.Request{ID: "wi", State: "approved", Version: 9}); !errors.Is(err, system.ErrConflict) {
		t.Fatalf("stale update: %v", err)
	}
	if _, ok := e.cached(t, "wi"); !ok {
		t.Fatal("a refused update invalidated the entry")
	}
	if err := e.MarkPublished(ctx, "wi", 1); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.cached(t, "wi"); !ok {
		t.Fatal("mark published invalidated the entry")
	}
	if _, err := e.Update(ctx, system.Request{ID: "wi", State: "approved", Version: 1}); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.cached(t, "wi"); ok {
		t.Fatal("update left the entry")
	}
	fill()
	if o, err := e.MarkProcessed(ctx, "wi", 2); err != nil || o != system.Applied {
		t.Fatalf("mark processed: %v %v", o, err)
	}
	if r := get(t, e, "wi"); r.ProcessedVersion != 2 {
		t.Fatalf("after mark processed the read shows processed version %d, want 2", r.ProcessedVersion)
	}
	if err := e.Delete(ctx, "wi", -1); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Get(ctx, "wi"); !errors.Is(err, system.ErrNotFound) {
		t.Fatalf("get after delete: %v, want not found", err)
	}
}

// TestTTLExpiry: an entry lives for the TTL, then the next read misses and refills. The
// TTL is long enough that a stalled test still reads the entry before it expires.
func TestTTLExpiry(t *testing.T) {
	const ttl = 1500 * time.Millisecond
	e := newEnv(t, WithTTL(ttl))
	ctx := context.Background()
	create(t, e, "ttl")
	get(t, e, "ttl")
	get(t, e, "ttl")
	left, err := e.rdb.PTTL(ctx, e.Key("ttl")).Result()
	if err != nil || left <= 0 || left > ttl {
		t.Fatalf("PTTL %v (%v), want in (0, %v]", left, err, ttl)
	}
	time.Sleep(ttl + 200*time.Millisecond)
	if _, ok := e.cached(t, "ttl"); ok {
		t.Fatal("the entry outlived its TTL")
	}
	get(t, e, "ttl")
	if st := e.Stats(); st.Hits != 1 || st.Misses != 2 || st.Fills != 2 || e.my.gets.Load() != 2 {
		t.Fatalf("%+v, MySQL reads %d; want 1 hit, 2 misses, 2 fills, 2 MySQL reads", st, e.my.gets.Load())
	}
}

// TestRedisDownFallsBack: with Redis unreachable, reads are served by MySQL and writes
// succeed; the failures are counted, and Ping reports the store not ready.
func TestRedisDownFallsBack(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	create(t, e, "down")
	// Port 1 on loopback: nothing listens, the dial is refused at once.
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1})
	s := New(dead, e.my.Store)
	if r, err := s.Get(ctx, "down"); err != nil || r.Version != 1 {
		t.Fatalf("get with Redis down: %+v %v", r, err)
	}
	if _, err := s.Update(ctx, system.Request{ID: "down", State: "approved", Version: 1}); err != nil {
		t.Fatalf("update with Redis down: %v", err)
	}
	st := s.Stats()
	if st.GetErrors != 1 || st.InvalidateErrors != 1 || st.Misses != 1 {
		t.Fatalf("%+v, want one get and one invalidate error and a miss", st)
	}
	if err := s.Ping(ctx); err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("ping with Redis down: %v", err)
	}
	dead.Close()
}

func TestParseDSN(t *testing.T) {
	for _, tc := range []struct {
		dsn, redisAddr, table, prefix, err string
		ttl, lease                         time.Duration
	}{
		{dsn: "", redisAddr: "127.0.0.1:6379", table: "headroom_requests", prefix: DefaultPrefix, ttl: 5 * time.Minute, lease: DefaultLeaseTTL},
		{dsn: "redis+mysql://root@127.0.0.1:3306/test?redis=10.0.0.2:6380&ttl=90s&lease=1s&prefix=app:&table=t1",
			redisAddr: "10.0.0.2:6380", table: "t1", prefix: "app:", ttl: 90 * time.Second, lease: time.Second},
		{dsn: "redis+mysql://root@h/test?redis=redis://:pw@cache:6390/2", redisAddr: "cache:6390",
			table: "headroom_requests", prefix: DefaultPrefix, ttl: DefaultTTL, lease: DefaultLeaseTTL},
		{dsn: "mysql://root@h/test", err: `scheme "mysql"`},
		{dsn: "redis+mysql://root@h/test?ttl=5", err: `ttl="5"`},
		{dsn: "redis+mysql://root@h/test?ttl=0s", err: `ttl="0s"`},
		{dsn: "redis+mysql://root@h/test?lease=-1s", err: `lease="-1s"`},
		{dsn: "redis+mysql://root@h/test?redis=cache", err: `redis="cache"`},
		{dsn: "redis+mysql://root@h/test?redis=redis://:pw@cache:x/2", err: "redis:"},
		{dsn: "redis+mysql://root@h/test?prefix=a%20b", err: `prefix="a b"`},
		{dsn: "redis+mysql://root@h/test?cache=yes", err: `unknown parameter "cache"`},
		{dsn: "redis+mysql://root@h/test?ttl=1m&ttl=2m", err: "ttl given 2 times"},
		{dsn: "redis+mysql://h/test", err: "a user is required"},
		{dsn: "redis+mysql://root@h/test?table=a.b", err: `table="a.b"`},
	} {
		cfg, err := ParseDSN(tc.dsn)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, system.ErrInvalid) {
				t.Errorf("ParseDSN(%q): error %v, want one containing %q and wrapping ErrInvalid", tc.dsn, err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), "pw") {
				t.Errorf("ParseDSN(%q): error %q repeats the password", tc.dsn, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseDSN(%q): %v", tc.dsn, err)
			continue
		}
		if cfg.Redis.Addr != tc.redisAddr || cfg.MySQL.Table != tc.table || cfg.Prefix != tc.prefix ||
			cfg.TTL != tc.ttl || cfg.LeaseTTL != tc.lease {
			t.Errorf("ParseDSN(%q) = redis %s table %s prefix %s ttl %v lease %v", tc.dsn,
				cfg.Redis.Addr, cfg.MySQL.Table, cfg.Prefix, cfg.TTL, cfg.LeaseTTL)
		}
	}
}

// TestRegisteredWithMetrics: "redis+mysql" opens from a DSN, and the hit ratio is among
// its collectors with the value the counters give.
func TestRegisteredWithMetrics(t *testing.T) {
	name := unique(t)
	dsn := strings.Replace(mysqlDSN(), "mysql://", "redis+mysql://", 1) +
		"?redis=" + redisAddr() + "&ttl=1m&table=" + name + "&prefix=" + name + ":"
	st, err := system.OpenStore(context.Background(), Name, dsn)
	if err != nil {
		t.Fatalf("OpenStore(%q, %q): %v", Name, dsn, err)
	}
	s := st.(*Store)
	cfg, _ := ParseDSN(dsn)
	t.Cleanup(func() { s.Close(); cleanup(t, cfg.MySQL, name+":") })
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	create(t, s, "m")
	for i := 0; i < 4; i++ {
		get(t, s, "m")
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(s.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				got[mf.GetName()] += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				got[mf.GetName()] += m.GetGauge().GetValue()
			}
		}
	}
	if got["headroom_cache_hits_total"] != 3 || got["headroom_cache_misses_total"] != 1 ||
		got["headroom_cache_hit_ratio"] != 0.75 {
		t.Fatalf("gathered %v, want 3 hits, 1 miss, ratio 0.75", got)
	}
	if _, ok := got["go_sql_open_connections"]; !ok {
		t.Fatalf("gathered %v, want the MySQL pool's series too", got)
	}
}

// TestConnectionLoss: every connection to Redis is cut under an open store, and under
// a pipeline running on it (storecheck.RunConnectionLoss); the client dials again, and
// nothing accepted is lost or applied twice.
func TestConnectionLoss(t *testing.T) {
	storecheck.RunConnectionLoss(t, func(t *testing.T) (system.Store, *netfault.Proxy) { return proxiedStore(t) })
}

// proxiedStore opens the cache on a fresh table and key prefix, its Redis through a proxy.
func proxiedStore(t *testing.T) (*Store, *netfault.Proxy) {
	e := newEnv(t)
	p := netfault.NewProxy(t, redisAddr())
	rdb := redis.NewClient(&redis.Options{Addr: p.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	return New(rdb, e.my, WithPrefix(e.prefix)), p
}
