// Package storecheck holds the checks the SQL-backed stores (postgres, mysql, redis+mysql)
// run against a real server on top of the conformance suite: the places where a database
// differs from a map — collation and case of ids, byte-exact payloads, time precision,
// concurrent conditional writes racing on one row, keyset pages under concurrent writes,
// and the outbox scan.
package storecheck
