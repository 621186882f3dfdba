package rediscache

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/headroom/headroom/system"
	"github.com/headroom/headroom/system/backend/mysql"
)

// Name is the backend's name for --store.
const Name = "redis+mysql"

func init() {
	system.RegisterStore(Name, func(ctx context.Context, dsn string) (system.Store, error) {
		return Open(ctx, dsn)
	})
}

// Open parses a redis+mysql DSN (DefaultDSN when ""), opens the MySQL store (creating its
// table) and the Redis client, checks that Redis answers, and returns the cache-aside
// store over them.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	return OpenConfig(ctx, cfg)
}

// OpenConfig is Open with a parsed DSN.
func OpenConfig(ctx context.Context, cfg Config) (*Store, error) {
	rdb := redis.NewClient(cfg.Redis)
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("redis %s does not answer: %w", cfg.Redis.Addr, err)
	}
	backing, err := mysql.OpenConfig(ctx, cfg.MySQL)
	if err != nil {
		rdb.Close()
		return nil, err
	}
	return New(rdb, backing, cfg.Options...), nil
}
