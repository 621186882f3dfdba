package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// schemaLockKey serializes schema creation across processes: concurrent CREATE TABLE IF
// NOT EXISTS of one name can still fail in PostgreSQL (a unique violation on pg_type), so
// creators take this transaction-scoped advisory lock first. The value is arbitrary but
// fixed ("headroom" in ASCII).
const schemaLockKey int64 = 0x68656164726f6f6d

// schema is the table and its outbox index. id is COLLATE "C" so that keyset pagination
// orders by bytes, as every other backend does, whatever the database's locale. The
// partial index holds only rows with a version still to publish, so the relay's scan costs
// the backlog, not the table.
func schema(table string) []string {
	return []string{
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
	id                text COLLATE "C" PRIMARY KEY,
	state             text        NOT NULL,
	payload           bytea,
	version           bigint      NOT NULL,
	processed_version bigint      NOT NULL DEFAULT 0,
	published_version bigint      NOT NULL DEFAULT 0,
	created_at        timestamptz NOT NULL,
	updated_at        timestamptz NOT NULL
)`, table),
		fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s_unpublished ON %s (updated_at) WHERE published_version < version`,
			table, table),
	}
}

// migrate creates the schema if it is missing; it is idempotent and safe to run from
// several processes at once.
func migrate(ctx context.Context, pool *pgxpool.Pool, table string) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, schemaLockKey); err != nil {
			return fmt.Errorf("schema lock: %w", err)
		}
		for _, stmt := range schema(table) {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("schema of %s: %w", table, err)
			}
		}
		return nil
	})
}
