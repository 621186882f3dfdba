package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	driver "github.com/go-sql-driver/mysql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/headroom/headroom/system"
)

// Store keeps requests in one MySQL/MariaDB table. It is safe for concurrent use.
type Store struct {
	db     *sql.DB
	cfg    Config
	q      queries
	closed atomic.Bool
}

var (
	_ system.Store         = (*Store)(nil)
	_ system.Pinger        = (*Store)(nil)
	_ system.MetricsSource = (*Store)(nil)
	_ io.Closer            = (*Store)(nil)
)

// DefaultPageSize is List's page size when the caller gives none; MaxPageSize caps what a
// caller may ask for (a shorter page still carries the cursor of the next).
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// erDupEntry is MySQL's "Duplicate entry for key" error number.
const erDupEntry = 1062

// Open parses dsn (DefaultDSN when ""), connects, creates the table if it is missing and
// returns the store.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	return OpenConfig(ctx, cfg)
}

// OpenConfig is Open with a parsed DSN.
func OpenConfig(ctx context.Context, cfg Config) (*Store, error) {
	conn, err := driver.NewConnector(cfg.Driver)
	if err != nil {
		return nil, fmt.Errorf("mysql %s: %w", cfg.Where(), err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(cfg.MaxConns)
	db.SetMaxIdleConns(cfg.MaxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("mysql %s does not answer: %w", cfg.Where(), err)
	}
	if err := migrate(ctx, db, cfg.Table); err != nil {
		db.Close()
		return nil, fmt.Errorf("mysql %s: %w", cfg.Where(), err)
	}
	return &Store{db: db, cfg: cfg, q: newQueries(cfg.Table)}, nil
}

// Table is the name of the table the store uses.
func (s *Store) Table() string { return s.cfg.Table }

// DB is the store's connection pool, for tests and tools that inspect the table.
func (s *Store) DB() *sql.DB { return s.db }

type queries struct {
	create, get, probe, lock, update, deleteAt, deleteAny, list, markProcessed, unpublished, markPublished string
}

const columns = `state, payload, version, processed_version, created_at, updated_at`

func newQueries(t string) queries {
	return queries{
		create: `INSERT INTO ` + t + ` (id, state, payload, version, created_at, updated_at)
			VALUES (?, ?, ?, 1, ?, ?)`,
		get:   `SELECT ` + columns + ` FROM ` + t + ` WHERE id = ?`,
		probe: `SELECT version, processed_version FROM ` + t + ` WHERE id = ?`,
		lock:  `SELECT version, processed_version, created_at FROM ` + t + ` WHERE id = ? FOR UPDATE`,
		update: `UPDATE ` + t + ` SET state = ?, payload = ?, version = version + 1, updated_at = ?
			WHERE id = ? AND version = ?`,
		deleteAt:  `DELETE FROM ` + t + ` WHERE id = ? AND version = ?`,
		deleteAny: `DELETE FROM ` + t + ` WHERE id = ?`,
		list:      `SELECT id, ` + columns + ` FROM ` + t + ` WHERE id > ? ORDER BY id LIMIT ?`,
		// Without CLIENT_FOUND_ROWS the driver reports changed rows; every statement below
		// changes what it matches, so "affected" means "matched".
		markProcessed: `UPDATE ` + t + ` SET processed_version = ?
			WHERE id = ? AND version = ? AND processed_version < ?`,
		unpublished: `SELECT id, ` + columns + ` FROM ` + t + `
			WHERE unpublished = 1 AND updated_at <= ? ORDER BY updated_at LIMIT ?`,
		markPublished: `UPDATE ` + t + ` SET published_version = ?
			WHERE id = ? AND version = ? AND published_version < ?`,
	}
}

// Create implements system.Writer.
func (s *Store) Create(ctx context.Context, r system.Request) (system.Request, error) {
	if err := s.open(); err != nil {
		return system.Request{}, err
	}
	if err := system.ValidateID(r.ID); err != nil {
		return system.Request{}, fmt.Errorf("create: %w", err)
	}
	r.Version, r.ProcessedVersion = 1, 0
	r.Payload = normPayload(r.Payload)
	r.CreatedAt = stamp(r.CreatedAt, time.Now())
	r.UpdatedAt = stamp(r.UpdatedAt, r.CreatedAt)
	_, err := s.db.ExecContext(ctx, s.q.create, r.ID, r.State, payloadArg(r.Payload), r.CreatedAt, r.UpdatedAt)
	if isDup(err) {
		return system.Request{}, fmt.Errorf("create %s: %w", r.ID, system.ErrExists)
	}
	if err != nil {
		return system.Request{}, fmt.Errorf("create %s: %w", r.ID, err)
	}
	return r, nil
}

func isDup(err error) bool {
	var me *driver.MySQLError
	return errors.As(err, &me) && me.Number == erDupEntry
}

// Get implements system.Reader.
func (s *Store) Get(ctx context.Context, id string) (system.Request, error) {
	if err := s.open(); err != nil {
		return system.Request{}, err
	}
	r := system.Request{ID: id}
	err := scanRequest(s.db.QueryRowContext(ctx, s.q.get, id), &r, false)
	if errors.Is(err, sql.ErrNoRows) {
		return system.Request{}, fmt.Errorf("get %s: %w", id, system.ErrNotFound)
	}
	if err != nil {
		return system.Request{}, fmt.Errorf("get %s: %w", id, err)
	}
	return r, nil
}

// Update implements system.Writer. The row is locked and read first, which both
// classifies a miss and yields the created time and processed version the caller is
// owed, then updated, in one transaction.
func (s *Store) Update(ctx context.Context, r system.Request) (system.Request, error) {
	if err := s.open(); err != nil {
		return system.Request{}, err
	}
	r.UpdatedAt = stamp(r.UpdatedAt, time.Now())
	r.Payload = normPayload(r.Payload)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return system.Request{}, fmt.Errorf("update %s: %w", r.ID, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var current int64
	err = tx.QueryRowContext(ctx, s.q.lock, r.ID).Scan(&current, &r.ProcessedVersion, &r.CreatedAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return system.Request{}, fmt.Errorf("update %s: %w", r.ID, system.ErrNotFound)
	case err != nil:
		return system.Request{}, fmt.Errorf("update %s: %w", r.ID, err)
	case current != r.Version:
		return system.Request{}, fmt.Errorf("update %s: version %d, current is %d: %w",
			r.ID, r.Version, current, system.ErrConflict)
	}
	if _, err := tx.ExecContext(ctx, s.q.update, r.State, payloadArg(r.Payload), r.UpdatedAt, r.ID, r.Version); err != nil {
		return system.Request{}, fmt.Errorf("update %s: %w", r.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return system.Request{}, fmt.Errorf("update %s: commit: %w", r.ID, err)
	}
	r.Version++
	r.CreatedAt = r.CreatedAt.UTC()
	return r, nil
}

// Delete implements system.Writer.
func (s *Store) Delete(ctx context.Context, id string, version int64) error {
	if err := s.open(); err != nil {
		return err
	}
	var (
		res sql.Result
		err error
	)
	if version < 0 {
		res, err = s.db.ExecContext(ctx, s.q.deleteAny, id)
	} else {
		res, err = s.db.ExecContext(ctx, s.q.deleteAt, id, version)
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return s.miss(ctx, "delete", id, version)
	}
	return nil
}

// miss explains why a conditional write on (id, version) matched no row.
func (s *Store) miss(ctx context.Context, op, id string, version int64) error {
	cur, _, err := s.probe(ctx, id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s %s: %w", op, id, system.ErrNotFound)
	case err != nil:
		return fmt.Errorf("%s %s: reading the current version: %w", op, id, err)
	case version < 0:
		// Delete of any version matched nothing yet the row is there: it was created
		// between the two statements. Nothing was deleted; the caller may retry.
		return fmt.Errorf("%s %s: recreated concurrently: %w", op, id, system.ErrConflict)
	}
	return fmt.Errorf("%s %s: version %d, current is %d: %w", op, id, version, cur, system.ErrConflict)
}

func (s *Store) probe(ctx context.Context, id string) (version, processed int64, err error) {
	err = s.db.QueryRowContext(ctx, s.q.probe, id).Scan(&version, &processed)
	return version, processed, err
}

// List implements system.Reader: keyset pagination by id; the cursor is the last id of
// the page.
func (s *Store) List(ctx context.Context, cursor string, limit int) (system.Page, error) {
	if err := s.open(); err != nil {
		return system.Page{}, err
	}
	if cursor != "" {
		if err := system.ValidateID(cursor); err != nil {
			return system.Page{}, fmt.Errorf("list: cursor: %w", err)
		}
	}
	limit = pageSize(limit)
	// One row more than the page tells whether a next page exists.
	rows, err := s.db.QueryContext(ctx, s.q.list, cursor, limit+1)
	if err != nil {
		return system.Page{}, fmt.Errorf("list after %q: %w", cursor, err)
	}
	items, err := collect(rows, limit+1)
	if err != nil {
		return system.Page{}, fmt.Errorf("list after %q: %w", cursor, err)
	}
	p := system.Page{Items: items}
	if len(items) > limit {
		p.Items = items[:limit]
		p.Next = items[limit-1].ID
	}
	return p, nil
}

func pageSize(limit int) int {
	if limit <= 0 {
		return DefaultPageSize
	}
	return min(limit, MaxPageSize)
}

// MarkProcessed implements system.Effector: one conditional UPDATE; a miss is classified
// with a read of (version, processed_version).
func (s *Store) MarkProcessed(ctx context.Context, id string, version int64) (system.Outcome, error) {
	if err := s.open(); err != nil {
		return 0, err
	}
	res, err := s.db.ExecContext(ctx, s.q.markProcessed, version, id, version, version)
	if err != nil {
		return 0, fmt.Errorf("mark processed %s@%d: %w", id, version, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		return system.Applied, nil
	}
	_, processed, err := s.probe(ctx, id)
	if errors.Is(err, sql.ErrNoRows) {
		return system.Gone, nil
	}
	if err != nil {
		return 0, fmt.Errorf("mark processed %s@%d: reading the current version: %w", id, version, err)
	}
	return classify(version, processed), nil
}

// classify explains a MarkProcessed of version that changed nothing, given the row's
// processed version, as the embedded store does: the same version processed before is a
// duplicate; anything else (a newer version, a newer processed version, or a version the
// row never reached because it was deleted and its id taken again) makes the message
// stale.
func classify(version, processed int64) system.Outcome {
	if processed == version {
		return system.Duplicate
	}
	return system.Superseded
}

// Unpublished implements system.Outbox, oldest write first.
func (s *Store) Unpublished(ctx context.Context, olderThan time.Time, limit int) ([]system.Request, error) {
	if err := s.open(); err != nil {
		return nil, err
	}
	limit = pageSize(limit)
	rows, err := s.db.QueryContext(ctx, s.q.unpublished, olderThan.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("unpublished: %w", err)
	}
	items, err := collect(rows, limit)
	if err != nil {
		return nil, fmt.Errorf("unpublished: %w", err)
	}
	return items, nil
}

// MarkPublished implements system.Outbox.
func (s *Store) MarkPublished(ctx context.Context, id string, version int64) error {
	if err := s.open(); err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, s.q.markPublished, version, id, version, version); err != nil {
		return fmt.Errorf("mark published %s@%d: %w", id, version, err)
	}
	return nil
}

// Ping implements system.Pinger.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.open(); err != nil {
		return err
	}
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("mysql ping %s: %w", s.cfg.Where(), err)
	}
	return nil
}

// Collectors implements system.MetricsSource: database/sql's pool statistics (open, in
// use, idle, waits), labelled db_name="headroom_mysql".
func (s *Store) Collectors() []prometheus.Collector {
	return []prometheus.Collector{collectors.NewDBStatsCollector(s.db, "headroom_mysql")}
}

// Close releases the connections; later calls fail with system.ErrClosed.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return s.db.Close()
}

func (s *Store) open() error {
	if s.closed.Load() {
		return fmt.Errorf("mysql store: %w", system.ErrClosed)
	}
	return nil
}

// stamp returns t, or now when t is zero, truncated to what DATETIME(6) keeps and in
// UTC, so the value returned equals the value read back.
func stamp(t, now time.Time) time.Time {
	if t.IsZero() {
		t = now
	}
	return t.Truncate(time.Microsecond).UTC()
}

// normPayload makes an empty payload nil, which is how it reads back from a NULL.
func normPayload(p []byte) []byte {
	if len(p) == 0 {
		return nil
	}
	return p
}

// payloadArg passes the payload as a blob; an absent payload is NULL.
func payloadArg(p []byte) any {
	if len(p) == 0 {
		return nil
	}
	return p
}

type scanner interface{ Scan(dest ...any) error }

func scanRequest(row scanner, r *system.Request, withID bool) error {
	var payload []byte
	var err error
	if withID {
		err = row.Scan(&r.ID, &r.State, &payload, &r.Version, &r.ProcessedVersion, &r.CreatedAt, &r.UpdatedAt)
	} else {
		err = row.Scan(&r.State, &payload, &r.Version, &r.ProcessedVersion, &r.CreatedAt, &r.UpdatedAt)
	}
	if err != nil {
		return err
	}
	if len(payload) > 0 {
		r.Payload = payload
	}
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return nil
}

func collect(rows *sql.Rows, capacity int) ([]system.Request, error) {
	defer rows.Close()
	items := make([]system.Request, 0, min(capacity, 64))
	for rows.Next() {
		var r system.Request
		if err := scanRequest(rows, &r, true); err != nil {
			return nil, err
		}
		items = append(items, r)
	}
	return items, rows.Err()
}
