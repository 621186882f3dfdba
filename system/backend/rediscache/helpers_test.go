package rediscache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/headroom/headroom/system"
	"github.com/headroom/headroom/system/backend/mysql"
)

func mysqlDSN() string {
	if dsn := os.Getenv("HEADROOM_TEST_MYSQL_DSN"); dsn != "" {
		return dsn
	}
	return mysql.DefaultDSN
}

func redisAddr() string {
	if a := os.Getenv("HEADROOM_TEST_REDIS_ADDR"); a != "" {
		return a
	}
	return DefaultRedisAddr
}

func unique(t testing.TB) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "hrt_" + hex.EncodeToString(b[:])
}

// backing wraps the real MySQL store to count the reads that reach it and, when slow is
// set, to stall a read after MySQL answered — a slow filler, on demand.
type backing struct {
	*mysql.Store
	gets atomic.Int64
	slow atomic.Pointer[func(id string)]
}

func (b *backing) Get(ctx context.Context, id string) (system.Request, error) {
	b.gets.Add(1)
	r, err := b.Store.Get(ctx, id)
	if f := b.slow.Load(); f != nil {
		(*f)(id)
	}
	return r, err
}

// env is one test's cache over its own table and key prefix.
type env struct {
	*Store
	my     *backing
	rdb    *redis.Client
	prefix string // of its keys
}

// newEnv opens the cache-aside store on a fresh MySQL table and Redis key prefix, both
// removed when the test ends. A service that does not answer fails the test.
func newEnv(t testing.TB, opts ...Option) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	name := unique(t)
	cfg, err := mysql.ParseDSN(mysqlDSN())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Table = name
	my, err := mysql.OpenConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("MariaDB/MySQL is required and did not answer: %v\n"+
			"start it with: start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd "+
			"(or bash .ci/services), or point HEADROOM_TEST_MYSQL_DSN at one", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr()})
	if err := rdb.Ping(ctx).Err(); err != nil {
		my.Close()
		t.Fatalf("Redis is required and did not answer at %s: %v\n"+
			"start it with: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save \"\" "+
			"--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log (or bash .ci/services), "+
			"or point HEADROOM_TEST_REDIS_ADDR at one", redisAddr(), err)
	}
	b := &backing{Store: my}
	s := New(rdb, b, append([]Option{WithPrefix(name + ":")}, opts...)...)
	inspect := redis.NewClient(&redis.Options{Addr: redisAddr()})
	t.Cleanup(func() {
		_ = s.Close()
		_ = inspect.Close()
		cleanup(t, cfg, name+":")
	})
	return &env{Store: s, my: b, rdb: inspect, prefix: name + ":"}
}

// Close closes the backing store through the wrapper.
func (b *backing) Close() error { return b.Store.Close() }

func cleanup(t testing.TB, cfg mysql.Config, prefix string) {
	ctx := context.Background()
	my, err := mysql.OpenConfig(ctx, cfg)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	defer my.Close()
	if _, err := my.DB().ExecContext(ctx, "DROP TABLE IF EXISTS "+cfg.Table); err != nil {
		t.Errorf("cleanup: %v", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr()})
	defer rdb.Close()
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("cleanup of %s*: %v", prefix, err)
	}
}

// cached returns the entry Redis holds for id, if any.
func (e *env) cached(t testing.TB, id string) (system.Request, bool) {
	t.Helper()
	b, err := e.rdb.Get(context.Background(), e.Key(id)).Bytes()
	if err == redis.Nil {
		return system.Request{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	r, err := decode(id, b)
	if err != nil {
		t.Fatal(err)
	}
	return r, true
}
