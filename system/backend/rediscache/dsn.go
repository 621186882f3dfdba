package rediscache

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/headroom/headroom/system"
	"github.com/headroom/headroom/system/backend/mysql"
)

// DefaultDSN is the machine-local MariaDB and Redis.
const DefaultDSN = "redis+mysql://root@127.0.0.1:3306/test?redis=127.0.0.1:6379&ttl=5m"

// DefaultRedisAddr is the Redis used when the DSN names none.
const DefaultRedisAddr = "127.0.0.1:6379"

// The DSN parameters of the cache; the rest go to the mysql store.
const (
	RedisParam  = "redis"
	TTLParam    = "ttl"
	LeaseParam  = "lease"
	PrefixParam = "prefix"
)

// Config is a parsed redis+mysql DSN.
type Config struct {
	MySQL   mysql.Config
	Redis   *redis.Options
	Options []Option
	// TTL, LeaseTTL and Prefix are what Options set, kept for messages and tests.
	TTL, LeaseTTL time.Duration
	Prefix        string
}

// ParseDSN reads a redis+mysql:// URL (see the package documentation). Errors wrap
// system.ErrInvalid and name the part that is wrong; passwords are never echoed.
func ParseDSN(dsn string) (Config, error) {
	if dsn == "" {
		dsn = DefaultDSN
	}
	u, err := url.Parse(dsn)
	if err != nil {
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err
		}
		return Config{}, invalid("not a URL: %v", err)
	}
	if u.Scheme != "redis+mysql" {
		return Config{}, invalid("scheme %q: want redis+mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE?redis=HOST:PORT&ttl=5m", u.Scheme)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Config{}, invalid("query: %v", err)
	}
	c := Config{TTL: DefaultTTL, LeaseTTL: DefaultLeaseTTL, Prefix: DefaultPrefix}
	redisAddr := DefaultRedisAddr
	rest := url.Values{}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := q[k]
		if len(v) != 1 {
			return Config{}, invalid("%s given %d times", k, len(v))
		}
		switch k {
		case RedisParam:
			redisAddr = v[0]
		case TTLParam:
			if c.TTL, err = duration(k, v[0]); err != nil {
				return Config{}, err
			}
		case LeaseParam:
			if c.LeaseTTL, err = duration(k, v[0]); err != nil {
				return Config{}, err
			}
		case PrefixParam:
			if v[0] == "" || strings.ContainsAny(v[0], " \t\r\n{}") {
				return Config{}, invalid("%s=%q: want a non-empty prefix without spaces or braces", k, v[0])
			}
			c.Prefix = v[0]
		case mysql.TableParam, mysql.MaxConnsParam:
			rest[k] = v
		default:
			return Config{}, invalid("unknown parameter %q (known: %s)", k, strings.Join([]string{
				RedisParam, TTLParam, LeaseParam, PrefixParam, mysql.TableParam, mysql.MaxConnsParam}, ", "))
		}
	}
	if c.Redis, err = redisOptions(redisAddr); err != nil {
		return Config{}, err
	}
	my := *u
	my.Scheme, my.RawQuery = "mysql", rest.Encode()
	if c.MySQL, err = mysql.ParseDSN(my.String()); err != nil {
		return Config{}, fmt.Errorf("redis+mysql dsn: %w", err)
	}
	c.Options = []Option{WithTTL(c.TTL), WithLeaseTTL(c.LeaseTTL), WithPrefix(c.Prefix)}
	return c, nil
}

func duration(k, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Millisecond {
		return 0, invalid("%s=%q: want a duration of at least 1ms, such as 30s or 5m", k, v)
	}
	return d, nil
}

// redisOptions reads HOST:PORT, or a redis:// or rediss:// URL.
func redisOptions(v string) (*redis.Options, error) {
	if strings.HasPrefix(v, "redis://") || strings.HasPrefix(v, "rediss://") {
		o, err := redis.ParseURL(v)
		if err != nil {
			return nil, invalid("%s: %v", RedisParam, redactURL(err, v))
		}
		return o, nil
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil || host == "" || port == "" {
		return nil, invalid("%s=%q: want HOST:PORT or a redis:// URL", RedisParam, v)
	}
	return &redis.Options{Addr: v}, nil
}

// redactURL keeps a Redis URL's password out of a message: a URL parse error loses the
// URL it quotes, any other error has the password masked.
func redactURL(err error, raw string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	msg := err.Error()
	if u, perr := url.Parse(raw); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	return msg
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("redis+mysql dsn: "+format+": %w", append(args, system.ErrInvalid)...)
}
