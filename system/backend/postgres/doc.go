// Package postgres is a system.Store on PostgreSQL through pgx (github.com/jackc/pgx/v5)
// and its connection pool. It registers itself as "postgres", so importing it makes
// `headroom serve --store postgres` available.
//
// Every request is one row of one table (headroom_requests unless the DSN names another),
// created on Open with CREATE TABLE IF NOT EXISTS under an advisory lock, so any number of
// processes may start at once against an empty database. Optimistic concurrency is the
// WHERE clause: Update, Delete, MarkProcessed and MarkPublished are each one conditional
// statement on (id, version), and only a miss pays a second read to tell "not found" from
// "conflict". The outbox is folded into the row: published_version < version marks a
// version still to publish, and a partial index over exactly those rows keeps the relay's
// scan proportional to the backlog, not the table. List is keyset pagination by id (the
// cursor is the last id of a page), so a walk is stable under concurrent writes.
//
// The DSN is pgx's, as a URL or as key=value pairs, with DefaultDSN
// (postgres://postgres@127.0.0.1:5432/test?sslmode=disable) when empty, plus one
// parameter of ours, table, which is taken out before pgx sees it:
//
//	postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE?sslmode=disable[&table=NAME][&pool_max_conns=N]
//
// pool_max_conns defaults to 32 rather than pgxpool's max(4, CPUs), so a processor pool
// of a few dozen workers does not queue on the pool.
//
// Payloads are bytea, not jsonb: jsonb normalizes key order and white space, and the API
// promises a payload back byte for byte. Times are timestamptz, i.e. microseconds; the
// store truncates them before writing so what Create and Update return is what Get reads.
package postgres
