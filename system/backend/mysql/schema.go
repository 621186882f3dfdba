package mysql

import (
	"context"
	"database/sql"
	"fmt"
)

// schema is the table. The outbox column is generated and stored so that it can lead an
// index: MySQL has no partial indexes, and an index on updated_at alone would make the
// relay walk every published row older than its grace period.
func schema(table string) string {
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
	id                VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	state             VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	payload           LONGBLOB NULL,
	version           BIGINT NOT NULL,
	processed_version BIGINT NOT NULL DEFAULT 0,
	published_version BIGINT NOT NULL DEFAULT 0,
	created_at        DATETIME(6) NOT NULL,
	updated_at        DATETIME(6) NOT NULL,
	unpublished       TINYINT AS (published_version < version) STORED,
	PRIMARY KEY (id),
	KEY %s_outbox (unpublished, updated_at)
) ENGINE=InnoDB`, table, table)
}

// migrate creates the table if it is missing. CREATE TABLE IF NOT EXISTS is atomic under
// InnoDB's metadata lock, so processes starting together need no lock of their own.
func migrate(ctx context.Context, db *sql.DB, table string) error {
	if _, err := db.ExecContext(ctx, schema(table)); err != nil {
		return fmt.Errorf("schema of %s: %w", table, err)
	}
	return nil
}
