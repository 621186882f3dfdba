package mysql

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/headroom/headroom/system"
)

// DefaultDSN is the machine-local MariaDB the tests and `headroom serve` use when no DSN
// is given.
const DefaultDSN = "mysql://root@127.0.0.1:3306/test"

// DefaultTable is the table the store keeps requests in.
const DefaultTable = "headroom_requests"

// DefaultMaxConns caps open connections when the DSN does not; idle connections are kept
// up to the same number, since database/sql's default of two idle would close and redial
// a connection for nearly every statement under load.
const DefaultMaxConns = 32

// DSN parameters.
const (
	TableParam    = "table"
	MaxConnsParam = "max_conns"
)

// Config is a parsed DSN.
type Config struct {
	Driver   *driver.Config
	Table    string
	MaxConns int
}

var tableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,49}$`)

// ParseDSN reads a mysql:// URL (see the package documentation). Errors wrap
// system.ErrInvalid and name the part that is wrong; the password is never echoed.
func ParseDSN(dsn string) (Config, error) {
	if dsn == "" {
		dsn = DefaultDSN
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return Config{}, invalid("not a URL: %v", redactErr(err))
	}
	if u.Scheme != "mysql" {
		return Config{}, invalid("scheme %q: want mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE", u.Scheme)
	}
	if u.User == nil || u.User.Username() == "" {
		return Config{}, invalid("a user is required (mysql://USER@HOST/DATABASE)")
	}
	if u.Hostname() == "" {
		return Config{}, invalid("a host is required")
	}
	port := u.Port()
	if port == "" {
		port = "3306"
	} else if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return Config{}, invalid("port %q: want 1..65535", port)
	}
	db := strings.TrimPrefix(u.Path, "/")
	if db == "" || strings.Contains(db, "/") {
		return Config{}, invalid("path %q: want exactly one database name", u.Path)
	}
	if u.Fragment != "" {
		return Config{}, invalid("unexpected fragment #%s", u.Fragment)
	}
	c := Config{Table: DefaultTable, MaxConns: DefaultMaxConns}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Config{}, invalid("query: %v", err)
	}
	for _, k := range sortedParams(q) {
		v := q[k]
		if len(v) != 1 {
			return Config{}, invalid("%s given %d times", k, len(v))
		}
		switch k {
		case TableParam:
			if !tableName.MatchString(v[0]) {
				return Config{}, invalid("%s=%q: want a letter or '_' then up to 49 letters, digits or '_'", k, v[0])
			}
			c.Table = v[0]
		case MaxConnsParam:
			n, err := strconv.Atoi(v[0])
			if err != nil || n < 1 || n > 10000 {
				return Config{}, invalid("%s=%q: want an integer in 1..10000", k, v[0])
			}
			c.MaxConns = n
		default:
			return Config{}, invalid("unknown parameter %q (known: %s, %s)", k, TableParam, MaxConnsParam)
		}
	}
	d := driver.NewConfig()
	d.User = u.User.Username()
	d.Passwd, _ = u.User.Password()
	d.Net = "tcp"
	d.Addr = net.JoinHostPort(u.Hostname(), port)
	d.DBName = db
	d.ParseTime = true
	d.Loc = time.UTC
	// One round trip per statement instead of prepare, execute, close. Safe: the
	// connection's character set is utf8mb4, which escaping handles.
	d.InterpolateParams = true
	d.Timeout = 5 * time.Second
	c.Driver = d
	return c, nil
}

func sortedParams(q url.Values) []string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("mysql dsn: "+format+": %w", append(args, system.ErrInvalid)...)
}

// redactErr drops the URL from a url.Error, which would repeat the password.
func redactErr(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// Where names the server and database of c for messages, without the password.
func (c Config) Where() string {
	return fmt.Sprintf("%s/%s (user %s)", c.Driver.Addr, c.Driver.DBName, c.Driver.User)
}
