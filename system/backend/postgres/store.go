package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroom/headroom/system"
)

// Store keeps requests in one PostgreSQL table. It is safe for concurrent use.
type Store struct {
	pool   *pgxpool.Pool
	table  string
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

// Open connects to the database of dsn (DefaultDSN when ""), creates the table if it is
// missing and returns the store. The DSN is pgx's (URL or key=value) plus an optional
// table parameter (TableParam).
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, table, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: %w", where(cfg), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres %s does not answer: %w", where(cfg), err)
	}
	if err := migrate(ctx, pool, table); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres %s: %w", where(cfg), err)
	}
	return &Store{pool: pool, table: table, q: newQueries(table)}, nil
}

func where(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return fmt.Sprintf("%s:%d/%s (user %s)", c.Host, c.Port, c.Database, c.User)
}

// Table is the name of the table the store uses.
func (s *Store) Table() string { return s.table }

// queries are the statements, built once per table. pgx prepares and caches each on
// every connection, so the hot path sends only a statement name and the arguments.
type queries struct {
	create, get, probe, update, deleteAt, deleteAny, list, markProcessed, unpublished, markPublished string
}

const columns = `state, payload, version, processed_version, created_at, updated_at`

func newQueries(t string) queries {
	return queries{
		create: `INSERT INTO ` + t + ` (id, state, payload, version, created_at, updated_at)
			VALUES ($1, $2, $3, 1, $4, $5) ON CONFLICT (id) DO NOTHING`,
		get:   `SELECT ` + columns + ` FROM ` + t + ` WHERE id = $1`,
		probe: `SELECT version, processed_version FROM ` + t + ` WHERE id = $1`,
		update: `UPDATE ` + t + ` SET state = $3, payload = $4, version = version + 1, updated_at = $5
			WHERE id = $1 AND version = $2 RETURNING processed_version, created_at`,
		deleteAt:  `DELETE FROM ` + t + ` WHERE id = $1 AND version = $2`,
		deleteAny: `DELETE FROM ` + t + ` WHERE id = $1`,
		list:      `SELECT id, ` + columns + ` FROM ` + t + ` WHERE id > $1 ORDER BY id LIMIT $2`,
		markProcessed: `UPDATE ` + t + ` SET processed_version = $2
			WHERE id = $1 AND version = $2 AND processed_version < $2`,
		// The predicate repeats the partial index's, so the planner can use it.
		unpublished: `SELECT id, ` + columns + ` FROM ` + t + `
			WHERE published_version < version AND updated_at <= $1 ORDER BY updated_at LIMIT $2`,
		markPublished: `UPDATE ` + t + ` SET published_version = $2
			WHERE id = $1 AND version = $2 AND published_version < $2`,
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
	now := time.Now()
	r.Version, r.ProcessedVersion = 1, 0
	r.Payload = normPayload(r.Payload)
	r.CreatedAt = stamp(r.CreatedAt, now)
	r.UpdatedAt = stamp(r.UpdatedAt, r.CreatedAt)
	tag, err := s.pool.Exec(ctx, s.q.create, r.ID, r.State, payloadArg(r.Payload), r.CreatedAt, r.UpdatedAt)
	if err != nil {
		return system.Request{}, fmt.Errorf("create %s: %w", r.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return system.Request{}, fmt.Errorf("create %s: %w", r.ID, system.ErrExists)
	}
	return r, nil
}

// Get implements system.Reader.
func (s *Store) Get(ctx context.Context, id string) (system.Request, error) {
	if err := s.open(); err != nil {
		return system.Request{}, err
	}
	r := system.Request{ID: id}
	err := scanRequest(s.pool.QueryRow(ctx, s.q.get, id), &r, false)
	if errors.Is(err, pgx.ErrNoRows) {
		return system.Request{}, fmt.Errorf("get %s: %w", id, system.ErrNotFound)
	}
	if err != nil {
		return system.Request{}, fmt.Errorf("get %s: %w", id, err)
	}
	return r, nil
}

// Update implements system.Writer: one conditional UPDATE; only a miss reads again, to
// tell a missing request from a stale version.
func (s *Store) Update(ctx context.Context, r system.Request) (system.Request, error) {
	if err := s.open(); err != nil {
		return system.Request{}, err
	}
	r.UpdatedAt = stamp(r.UpdatedAt, time.Now())
	err := s.pool.QueryRow(ctx, s.q.update, r.ID, r.Version, r.State, payloadArg(r.Payload), r.UpdatedAt).
		Scan(&r.ProcessedVersion, &r.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return system.Request{}, s.miss(ctx, "update", r.ID, r.Version)
	}
	if err != nil {
		return system.Request{}, fmt.Errorf("update %s: %w", r.ID, err)
	}
	r.Version++
	r.Payload = normPayload(r.Payload)
	r.CreatedAt = r.CreatedAt.UTC()
	return r, nil
}

// Delete implements system.Writer.
func (s *Store) Delete(ctx context.Context, id string, version int64) error {
	if err := s.open(); err != nil {
		return err
	}
	var (
		tag pgconn.CommandTag
		err error
	)
	if version < 0 {
		tag, err = s.pool.Exec(ctx, s.q.deleteAny, id)
	} else {
		tag, err = s.pool.Exec(ctx, s.q.deleteAt, id, version)
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return s.miss(ctx, "delete", id, version)
	}
	return nil
}

// miss explains why a conditional write on (id, version) matched no row.
func (s *Store) miss(ctx context.Context, op, id string, version int64) error {
	cur, _, err := s.probe(ctx, id)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
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
	err = s.pool.QueryRow(ctx, s.q.probe, id).Scan(&version, &processed)
	return version, processed, err
}

// List implements system.Reader: keyset pagination by id, so a page costs an index range
// scan however deep the walk is, and rows created or deleted meanwhile never shift it.
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
	rows, err := s.pool.Query(ctx, s.q.list, cursor, limit+1)
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
	tag, err := s.pool.Exec(ctx, s.q.markProcessed, id, version)
	if err != nil {
		return 0, fmt.Errorf("mark processed %s@%d: %w", id, version, err)
	}
	if tag.RowsAffected() == 1 {
		return system.Applied, nil
	}
	_, processed, err := s.probe(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return system.Gone, nil
	}
	if err != nil {
		return 0, fmt.Errorf("mark processed %s@%d: reading the current version: %w", id, version, err)
	}
	return classify(version, processed), nil
}

// classify explains a MarkProcessed of version that changed nothing, given the row's
// processed version. It matches the embedded store's reading: the
// same version processed before is a duplicate; anything else (a newer version, a newer
// processed version, or a version the row never reached because it was deleted and its
// id taken again) makes the message stale.
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
	rows, err := s.pool.Query(ctx, s.q.unpublished, olderThan, limit)
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
	if _, err := s.pool.Exec(ctx, s.q.markPublished, id, version); err != nil {
		return fmt.Errorf("mark published %s@%d: %w", id, version, err)
	}
	return nil
}

// Ping implements system.Pinger.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.open(); err != nil {
		return err
	}
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres ping: %w", err)
	}
	return nil
}

// Collectors implements system.MetricsSource: the connection pool's occupancy, which is
// what to look at first when store latency grows under load.
func (s *Store) Collectors() []prometheus.Collector {
	return []prometheus.Collector{newPoolCollector(s.pool)}
}

// Close releases the connections; later calls fail with system.ErrClosed.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.pool.Close()
	return nil
}

func (s *Store) open() error {
	if s.closed.Load() {
		return fmt.Errorf("postgres store: %w", system.ErrClosed)
	}
	return nil
}

// stamp returns t, or now when t is zero, truncated to what timestamptz keeps and in
// UTC, so the value returned equals the value read back.
func stamp(t, now time.Time) time.Time {
	if t.IsZero() {
		t = now
	}
	return t.Truncate(time.Microsecond).UTC()
}

// payloadArg passes the payload as bytea; an absent payload is NULL.
func payloadArg(p []byte) any {
	if len(p) == 0 {
		return nil
	}
	return p
}

// normPayload makes an empty payload nil, which is how it reads back from a NULL.
func normPayload(p []byte) []byte {
	if len(p) == 0 {
		return nil
	}
	return p
}

func scanRequest(row pgx.Row, r *system.Request, withID bool) error {
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

func collect(rows pgx.Rows, capacity int) ([]system.Request, error) {
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
