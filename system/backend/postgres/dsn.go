package postgres

import (
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/headroom/headroom/system"
)

// DefaultDSN is the machine-local database the tests and `headroom serve` use when no DSN
// is given.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// DefaultTable is the table the store keeps requests in.
const DefaultTable = "headroom_requests"

// TableParam is the one DSN parameter of our own: it names the table, so several
// deployments (or parallel test runs) can share a database. It is removed before pgx sees
// the DSN, since PostgreSQL would take it for a server setting and refuse it.
const TableParam = "table"

// defaultMaxConns replaces pgxpool's default (4 on this 2-core machine), which would make
// the pool, not the database, the bottleneck for a processor pool of a few dozen workers.
// A pool_max_conns in the DSN wins.
const defaultMaxConns = 32

var tableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,49}$`)

// parseDSN reads a pgx DSN (URL or key=value form) plus our table parameter.
func parseDSN(dsn string) (*pgxpool.Config, string, error) {
	if dsn == "" {
		dsn = DefaultDSN
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may echo the DSN, password included; it is the caller's own input.
		return nil, "", fmt.Errorf("dsn: %v: %w", err, system.ErrInvalid)
	}
	table := DefaultTable
	if t, ok := cfg.ConnConfig.RuntimeParams[TableParam]; ok {
		delete(cfg.ConnConfig.RuntimeParams, TableParam)
		table = t
	}
	if err := validTable(table); err != nil {
		return nil, "", err
	}
	if !setsMaxConns(dsn) {
		cfg.MaxConns = defaultMaxConns
	}
	return cfg, table, nil
}

// validTable accepts a plain, unquoted SQL identifier: the name is spliced into
// statements, so nothing that needs quoting gets through.
func validTable(t string) error {
	if !tableName.MatchString(t) {
		return fmt.Errorf("dsn: %s=%q: want a letter or '_' then up to 49 letters, digits or '_': %w",
			TableParam, t, system.ErrInvalid)
	}
	return nil
}

// setsMaxConns reports whether the DSN names pool_max_conns. pgxpool consumes the
// parameter, so a second parse (once, at open) is how to tell its value from its default.
func setsMaxConns(dsn string) bool {
	c, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return false
	}
	_, ok := c.RuntimeParams["pool_max_conns"]
	return ok
}
