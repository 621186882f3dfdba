package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroom/headroom/system"
	"github.com/headroom/headroom/system/backend/internal/netfault"
	"github.com/headroom/headroom/system/backend/internal/storecheck"
)

// testDSN is the database the tests use: HEADROOM_TEST_POSTGRES_DSN, else DefaultDSN.
func testDSN() string {
	if dsn := os.Getenv("HEADROOM_TEST_POSTGRES_DSN"); dsn != "" {
		return dsn
	}
	return DefaultDSN
}

// withTable adds the table parameter to a URL DSN.
func withTable(t testing.TB, dsn, table string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("test DSN %q: %v", dsn, err)
	}
	q := u.Query()
	q.Set(TableParam, table)
	u.RawQuery = q.Encode()
	return u.String()
}

// uniqueTable names a table no other test (in this or a parallel run) uses.
func uniqueTable(t testing.TB) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "hrt_" + hex.EncodeToString(b[:])
}

// newStore opens a store on a fresh table that is dropped when the test ends. A database
// that does not answer fails the test, naming the DSN and how to start the server.
func newStore(t testing.TB) *Store {
	t.Helper()
	table := uniqueTable(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := Open(ctx, withTable(t, testDSN(), table))
	if err != nil {
		t.Fatalf("PostgreSQL is required and did not answer at %s: %v\n"+
			"start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start "+
			"(or bash .ci/services), or point HEADROOM_TEST_POSTGRES_DSN at one", testDSN(), err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		dropTable(t, table)
	})
	return s
}

func dropTable(t testing.TB, table string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, testDSN())
	if err != nil {
		t.Errorf("dropping %s: %v", table, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+table); err != nil {
		t.Errorf("dropping %s: %v", table, err)
	}
}

func TestStoreChecks(t *testing.T) {
	storecheck.Run(t, func(t *testing.T) system.Store { return newStore(t) })
}

// TestOpenConcurrently: processes starting together against an empty database all
// create (or find) the schema; none fails on the race.
func TestOpenConcurrently(t *testing.T) {
	table := uniqueTable(t)
	t.Cleanup(func() { dropTable(t, table) })
	dsn := withTable(t, testDSN(), table)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := 0; i < cap(errs); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(context.Background(), dsn)
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
	s := newStoreOn(t, dsn)
	p, err := s.List(context.Background(), "", 10)
	if err != nil || len(p.Items) != cap(errs) {
		t.Fatalf("list after concurrent opens: %d items, %v; want %d", len(p.Items), err, cap(errs))
	}
}

func newStoreOn(t *testing.T, dsn string) *Store {
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestOutboxIndexIsUsed: the relay's scan is answered from the partial index, so its cost
// follows the backlog rather than the table.
func TestOutboxIndexIsUsed(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	// Enough rows, almost all published, that the planner prefers the index.
	batch := &pgx.Batch{}
	for i := 0; i < 5000; i++ {
		batch.Queue(`INSERT INTO `+s.table+` (id, state, version, published_version, created_at, updated_at)
			VALUES ($1, 'pending', 1, $2, now(), now())`, fmt.Sprintf("ix-%05d", i), int64(min(1, i%1000)))
	}
	if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, "ANALYZE "+s.table); err != nil {
		t.Fatal(err)
	}
	var plan strings.Builder
	rows, err := s.pool.Query(ctx, "EXPLAIN "+s.q.unpublished, time.Now(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan.String(), s.table+"_unpublished") {
		t.Fatalf("the outbox scan does not use the partial index:\n%s", plan.String())
	}
	got, err := s.Unpublished(ctx, time.Now(), 100)
	if err != nil || len(got) != 5 {
		t.Fatalf("unpublished: %d rows, %v; want the 5 unpublished ones", len(got), err)
	}
}

func TestParseDSN(t *testing.T) {
	for _, tc := range []struct {
		dsn, table string
		maxConns   int32
		err        string
	}{
		{dsn: "", table: DefaultTable, maxConns: defaultMaxConns},
		{dsn: "postgres://u@h:5433/db?table=abc_1", table: "abc_1", maxConns: defaultMaxConns},
		{dsn: "host=h user=u dbname=db table=t2 pool_max_conns=3", table: "t2", maxConns: 3},
		{dsn: "postgres://u@h/db?pool_max_conns=7", table: DefaultTable, maxConns: 7},
		{dsn: "postgres://u@h/db?table=x;drop", err: `table="x;drop"`},
		{dsn: "postgres://u@h/db?table=1abc", err: `table="1abc"`},
		{dsn: "postgres://u@h/db?table=" + strings.Repeat("a", 51), err: "table="},
		{dsn: "postgres://u@h:notaport/db", err: "dsn:"},
	} {
		cfg, table, err := parseDSN(tc.dsn)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, system.ErrInvalid) {
				t.Errorf("parseDSN(%q): error %v, want one containing %q and wrapping ErrInvalid", tc.dsn, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseDSN(%q): %v", tc.dsn, err)
			continue
		}
		if table != tc.table || cfg.MaxConns != tc.maxConns {
			t.Errorf("parseDSN(%q): table %q max conns %d, want %q and %d", tc.dsn, table, cfg.MaxConns, tc.table, tc.maxConns)
		}
		if _, ok := cfg.ConnConfig.RuntimeParams[TableParam]; ok {
			t.Errorf("parseDSN(%q): the table parameter would reach the server", tc.dsn)
		}
	}
}

func TestOpenRefusesAnUnreachableServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Port 1 on loopback: nothing listens there.
	_, err := Open(ctx, "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2")
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1/test") {
		t.Fatalf("open of an unreachable server: %v, want an error naming it", err)
	}
}

func TestRegisteredAndPings(t *testing.T) {
	s, err := system.OpenStore(context.Background(), Name, withTable(t, testDSN(), uniqueTable(t)))
	if err != nil {
		t.Fatalf("OpenStore(%q): %v", Name, err)
	}
	pg := s.(*Store)
	t.Cleanup(func() { pg.Close(); dropTable(t, pg.table) })
	if err := pg.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(pg.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	if !names["headroom_store_pool_max_connections"] || !names["headroom_store_pool_acquires_total"] {
		t.Fatalf("collectors gathered %v, want the pool's series", names)
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
	table := uniqueTable(t)
	u, err := url.Parse(withTable(t, testDSN(), table))
	if err != nil {
		t.Fatal(err)
	}
	p := netfault.NewProxy(t, u.Host)
	t.Cleanup(func() { dropTable(t, table) })
	u.Host = p.Addr()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := Open(ctx, u.String())
	if err != nil {
		t.Fatalf("PostgreSQL through a proxy: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, p
}
