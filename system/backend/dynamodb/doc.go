// Package dynamodb is a system.Store on Amazon DynamoDB (aws-sdk-go-v2), registered as
// "dynamodb".
//
// One item per request, keyed by id. Every write is a single conditional request, so the
// versions need no transaction (and none is used: TransactWriteItems is both dearer and
// missing from the dynalite emulator the tests run on): Create is a PutItem on
// attribute_not_exists(id); Update, Delete and MarkPublished are conditional on the
// version; MarkProcessed is an UpdateItem on "v = :v AND pv < :v", the idempotent effect.
// A failed condition is classified (missing, other version, already processed) from the
// item DynamoDB returns with ReturnValuesOnConditionCheckFailure=ALL_OLD, or, where the
// server does not return it (dynalite), from a strongly consistent read; a read that
// shows the condition holding again (the item was deleted and recreated in between)
// retries the write.
//
// The outbox is a sparse global secondary index: a write stores the attribute "ob" (a
// shard number) with every new version and MarkPublished removes it, so the index holds
// exactly the writes still to be published, sorted by update time, and Unpublished reads
// the backlog, not the table. A Scan with a filter would read (and bill) every item on
// every relay sweep, which is once a second by default. The index key is spread over
// a few shards because one index partition takes about 1,000 writes/s, and every version
// costs the index two writes (insert, then removal). Index reads are eventually
// consistent, so Unpublished re-reads the items it finds with a strongly consistent
// BatchGetItem and keeps those still unpublished: at worst a write shows up one sweep
// late, never twice for a version already marked.
//
// List is a Scan, its page cursor the last evaluated key (the id) in opaque base64. Scan
// order is the hash order of ids, which neither inserts nor deletes disturb, so a walk
// returns everything that existed throughout it exactly once.
//
// Configuration comes from the SDK's standard environment (AWS_REGION, credentials,
// AWS_ENDPOINT_URL_DYNAMODB), so the same binary runs against AWS or an emulator; the DSN
// may override (see ParseDSN). The table, with its index, is created on open when
// missing (on-demand billing), and Open waits until it is ACTIVE.
//
// Emulator gaps met in the tests (dynalite 4.0.0): no TransactWriteItems, PartiQL or TTL
// (none used); ReturnValuesOnConditionCheckFailure is ignored, so there every failed
// condition is classified by the follow-up read (on AWS the returned item saves it); and
// its indexes are updated with the item, so the index lag the consistent re-read guards
// against only exists on AWS.
package dynamodb
