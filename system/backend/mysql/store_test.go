package mysql

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroom/headroom/system"
	"github.com/headroom/headroom/system/backend/internal/netfault"
	"github.com/headroom/headroom/system/backend/internal/storecheck"
)

// TestDSN is the database the tests use: HEADROOM_TEST_MYSQL_DSN, else DefaultDSN.
func testDSN() string {
	if dsn := os.Getenv("HEADROOM_TEST_MYSQL_DSN"); dsn != "" {
		return dsn
	}
	return DefaultDSN
}

func uniqueTable(t testing.TB) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "hrt_" + hex.EncodeToString(b[:])
}

func testConfig(t testing.TB, table string) Config {
	cfg, err := ParseDSN(testDSN())
	if err != nil {
		t.Fatalf("test DSN: %v", err)
	}
	cfg.Table = table
	return cfg
}

// newStore opens a store on a fresh table that is dropped when the test ends. A server
// that does not answer fails the test, naming it and how to start it.
func newStore(t testing.TB) *Store {
	t.Helper()
	cfg := testConfig(t, uniqueTable(t))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := OpenConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("MariaDB/MySQL is required and did not answer: %v\n"+
			"start it with: start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd "+
			"(or bash .ci/services), or point HEADROOM_TEST_MYSQL_DSN at one", err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		DropTable(t, cfg)
	})
	return s
}

// DropTable removes a test's table with a connection of its own (the store may be closed).
func DropTable(t testing.TB, cfg Config) {
	s, err := OpenConfig(context.Background(), cfg)
	if err != nil {
		t.Errorf("dropping %s: %v", cfg.Table, err)
		return
	}
	defer s.Close()
	if _, err := s.db.Exec("DROP TABLE IF EXISTS " + cfg.Table); err != nil {
		t.Errorf("dropping %s: %v", cfg.Table, err)
	}
}

func TestStoreChecks(t *testing.T) {
	storecheck.Run(t, func(t *testing.T) system.Store { return newStore(t) })
}

func TestOpenConcurrently(t *testing.T) {
	cfg := testConfig(t, uniqueTable(t))
	t.Cleanup(func() { DropTable(t, cfg) })
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := 0; i < cap(errs); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := OpenConfig(context.Background(), cfg)
			if err == nil {
				_, err = s.Create(context.Background(), system.Request{ID: fmt.Sprint("o", i), State: "pending"})
				s.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestOutboxIndexIsUsed: the relay's scan reads the generated column's index, so its
// cost follows the backlog rather than the table.
func TestOutboxIndexIsUsed(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	var values []string
	for i := 0; i < 3000; i++ {
		values = append(values, fmt.Sprintf("('ix-%05d', 'pending', 1, %d, NOW(6), NOW(6))", i, min(1, i%1000)))
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO `+s.Table()+
		` (id, state, version, published_version, created_at, updated_at) VALUES `+strings.Join(values, ",")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, "ANALYZE TABLE "+s.Table()); err != nil {
		t.Fatal(err)
	}
	rows, err := s.db.QueryContext(ctx, "EXPLAIN "+s.q.unpublished, time.Now().UTC(), 100)
	if err != nil {
		t.Fatal(err)
	}
	plan := explain(t, rows)
	if !strings.Contains(plan, s.Table()+"_outbox") {
		t.Fatalf("the outbox scan does not use the outbox index:\n%s", plan)
	}
	got, err := s.Unpublished(ctx, time.Now(), 100)
	if err != nil || len(got) != 3 {
		t.Fatalf("unpublished: %d rows, %v; want the 3 unpublished ones", len(got), err)
	}
}

func explain(t *testing.T, rows *sql.Rows) string {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			fmt.Fprintf(&b, "%s=%s ", cols[i], v.String)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestParseDSN(t *testing.T) {
	for _, tc := range []struct {
		dsn, addr, db, user, pass, table string
		maxConns                         int
		err                              string
	}{
		{dsn: "", addr: "127.0.0.1:3306", db: "test", user: "root", table: DefaultTable, maxConns: DefaultMaxConns},
		{dsn: "mysql://app:s3cr%40t@db.local/prod?table=reqs&max_conns=8", addr: "db.local:3306", db: "prod",
			user: "app", pass: "s3cr@t", table: "reqs", maxConns: 8},
		{dsn: "mysql://u@[::1]:3307/d", addr: "[::1]:3307", db: "d", user: "u", table: DefaultTable, maxConns: DefaultMaxConns},
		{dsn: "postgres://u@h/d", err: `scheme "postgres"`},
		{dsn: "mysql://h/d", err: "a user is required"},
		{dsn: "mysql://u@/d", err: "a host is required"},
		{dsn: "mysql://u@h:0/d", err: `port "0"`},
		{dsn: "mysql://u@h", err: `path ""`},
		{dsn: "mysql://u@h/a/b", err: `path "/a/b"`},
		{dsn: "mysql://u@h/d?table=a-b", err: `table="a-b"`},
		{dsn: "mysql://u@h/d?max_conns=0", err: `max_conns="0"`},
		{dsn: "mysql://u@h/d?table=a&table=b", err: "table given 2 times"},
		{dsn: "mysql://u@h/d?parseTime=false", err: `unknown parameter "parseTime"`},
		{dsn: "mysql://u:pw@h:x/d", err: "not a URL"},
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
		d := cfg.Driver
		if d.Addr != tc.addr || d.DBName != tc.db || d.User != tc.user || d.Passwd != tc.pass ||
			cfg.Table != tc.table || cfg.MaxConns != tc.maxConns || !d.ParseTime || d.Loc != time.UTC {
			t.Errorf("ParseDSN(%q) = %+v (driver %+v)", tc.dsn, cfg, d)
		}
	}
}

func TestOpenRefusesAnUnreachableServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := Open(ctx, "mysql://root@127.0.0.1:1/test")
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1/test") {
		t.Fatalf("open of an unreachable server: %v, want an error naming it", err)
	}
}

func TestRegisteredAndPings(t *testing.T) {
	table := uniqueTable(t)
	s, err := system.OpenStore(context.Background(), Name, testDSN()+"?table="+table)
	if err != nil {
		t.Fatalf("OpenStore(%q): %v", Name, err)
	}
	my := s.(*Store)
	t.Cleanup(func() { my.Close(); DropTable(t, my.cfg) })
	if my.Table() != table {
		t.Fatalf("table %q, want %q", my.Table(), table)
	}
	if err := my.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(my.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	if !names["go_sql_open_connections"] || !names["go_sql_max_open_connections"] {
		t.Fatalf("collectors gathered %v, want database/sql's pool series", names)
	}
}

// TestConnectionLoss: every connection to the server is cut under an open store, and under
// a pipeline running on it (storecheck.RunConnectionLoss); the pool dials again, and
// nothing accepted is lost or applied twice.
func TestConnectionLoss(t *testing.T) {
	storecheck.RunConnectionLoss(t, func(t *testing.T) (system.Store, *netfault.Proxy) { return proxiedStore(t) })
}

// proxiedStore opens a store on a fresh table through a proxy to the server.
func proxiedStore(t *testing.T) (*Store, *netfault.Proxy) {
	cfg := testConfig(t, uniqueTable(t))
	p := netfault.NewProxy(t, cfg.Driver.Addr)
	t.Cleanup(func() { DropTable(t, cfg) })
	d := *cfg.Driver
	d.Addr = p.Addr()
	via := cfg
	via.Driver = &d
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := OpenConfig(ctx, via)
	if err != nil {
		t.Fatalf("MariaDB/MySQL through a proxy: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, p
}
