package system

import (
	"context"
	"time"
)

// Reader reads requests.
type Reader interface {
	// Get returns the request with that id, or an error wrapping ErrNotFound.
	Get(ctx context.Context, id string) (Request, error)
	// List returns up to limit requests after cursor ("" for the first page) and the cursor
	// of the next page ("" on the last). The order is the backend's, but stable: paging from
	// "" to the end returns every request that existed for the whole walk exactly once.
	// limit <= 0 means the backend's default page size.
	List(ctx context.Context, cursor string, limit int) (Page, error)
}

// Page is one page of a List.
type Page struct {
	Items []Request
	// Next is the cursor of the following page; "" when this is the last page.
	Next string
}

// Writer changes requests, with optimistic concurrency by version. A Payload passed to a
// Writer or returned by a Reader may be kept and shared by the store (the embedded one
// does, to avoid copies): neither side modifies it afterwards.
type Writer interface {
	// Create stores r as version 1 and returns what was stored. r.ID must be set; r's
	// Version and ProcessedVersion are ignored; a zero CreatedAt is set to now and a zero
	// UpdatedAt to CreatedAt. An id that is taken is an error wrapping ErrExists.
	Create(ctx context.Context, r Request) (Request, error)
	// Update replaces State and Payload of the request r.ID if its current version is
	// r.Version, and returns the stored request with Version+1 and UpdatedAt set (to
	// r.UpdatedAt when not zero, else now). A different version is ErrConflict, a missing
	// request ErrNotFound. CreatedAt and ProcessedVersion are kept.
	Update(ctx context.Context, r Request) (Request, error)
	// Delete removes the request if its current version is version, or whatever version
	// is current when version < 0. ErrNotFound, ErrConflict as for Update.
	Delete(ctx context.Context, id string, version int64) error
}

// CRUD is what the HTTP API and the Thrift service call. A Store is one; so is the
// Pipeline (which also publishes every write) and so is a Thrift client.
type CRUD interface {
	Reader
	Writer
}

// Outcome is what MarkProcessed did.
type Outcome uint8

const (
	// Applied: the effect for (id, version) was recorded now, for the first time.
	Applied Outcome = iota + 1
	// Duplicate: it had been recorded already; a redelivery, nothing changed.
	Duplicate
	// Superseded: the request has a newer version (or a newer version was processed); the
	// message is stale and its newer version has its own message.
	Superseded
	// Gone: the request was deleted.
	Gone
)

func (o Outcome) String() string {
	switch o {
	case Applied:
		return "applied"
	case Duplicate:
		return "duplicate"
	case Superseded:
		return "superseded"
	case Gone:
		return "gone"
	}
	return "unknown"
}

// Effector applies the processing step's effect on the store.
type Effector interface {
	// MarkProcessed atomically sets the request's ProcessedVersion to version if and only
	// if the request exists, its current Version equals version, and ProcessedVersion <
	// version. It is the idempotent, version-conditional effect: however often a message is
	// delivered, Applied is returned at most once per (id, version). It does not change
	// Version or UpdatedAt, so it never conflicts with an administrator's update. An error
	// means nothing is known (the caller leaves the message unacknowledged to retry).
	//
	// SQL: UPDATE ... SET processed_version=$v WHERE id=$id AND version=$v AND
	// processed_version<$v, then classify a miss with a read. DynamoDB: a conditional
	// UpdateItem on the same predicate.
	MarkProcessed(ctx context.Context, id string, version int64) (Outcome, error)
}

// Outbox is how the pipeline guarantees that every stored write is published even when
// the publish fails or the process dies right after the store write: the store itself
// remembers, per request, the last version that was published (the transactional outbox
// folded into the record, so the write and its "to publish" mark are one atomic write).
type Outbox interface {
	// Unpublished returns up to limit requests whose current version has not been marked
	// published and whose UpdatedAt is not after olderThan (the grace period keeps the
	// relay from racing the normal publish path). Order is the backend's.
	Unpublished(ctx context.Context, olderThan time.Time, limit int) ([]Request, error)
	// MarkPublished records that version of the request was published. It is a no-op when
	// the request is gone or already at a newer version (that version is still pending).
	MarkPublished(ctx context.Context, id string, version int64) error
}

// Store is a backend for requests: CRUD, the processing effect and the outbox. Optional
// capabilities are separate interfaces a backend may also implement: Pinger (readiness),
// io.Closer (release connections), MetricsSource (backend-specific series such as a
// cache hit ratio).
type Store interface {
	CRUD
	Effector
	Outbox
}
