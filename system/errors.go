package system

import "errors"

// Sentinel errors: only the conditions a caller branches on. Backends wrap them with %w
// and context; callers test with errors.Is.
var (
	// ErrNotFound: no request (or queue) with that name exists.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the version given is not the current one (optimistic concurrency).
	ErrConflict = errors.New("version conflict")
	// ErrExists: Create with an id that is already taken.
	ErrExists = errors.New("already exists")
	// ErrInvalid: the input breaks a documented rule (id syntax, unknown state, bad config).
	ErrInvalid = errors.New("invalid")
	// ErrClosed: the store, bus or pipeline is closed or draining and takes no new work.
	ErrClosed = errors.New("closed")
)
