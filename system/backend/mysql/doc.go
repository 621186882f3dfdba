// Package mysql is a system.Store on MySQL or MariaDB through database/sql and
// github.com/go-sql-driver/mysql. It registers itself as "mysql"; the cache-aside store
// "redis+mysql" (package rediscache) puts Redis in front of it.
//
// Every request is one InnoDB row, in a table (headroom_requests unless the DSN names
// another) created on Open with CREATE TABLE IF NOT EXISTS. Ids are ascii_bin: MySQL's
// default collations ignore case, which would make "Req" and "req" one request and order
// pages differently from every other backend. Delete, MarkProcessed and MarkPublished are
// one conditional statement on (id, version); Update runs in a short transaction that
// locks the row (SELECT … FOR UPDATE, then UPDATE), because MariaDB has no UPDATE …
// RETURNING and the caller is owed the stored created time and processed version. The
// outbox is folded into the row, with a stored generated column (published_version <
// version) leading an index so the relay's scan reads only the backlog. List is keyset
// pagination by id.
//
// The DSN is a URL, parsed strictly (an unknown parameter is an error):
//
//	mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?table=NAME][&max_conns=N]
//
// with DefaultDSN (mysql://root@127.0.0.1:3306/test) when empty. The driver runs with
// parseTime, loc=UTC and interpolateParams, so a statement is one round trip; times are
// DATETIME(6), i.e. microseconds, truncated before writing so what a write returns is
// what Get reads.
package mysql
