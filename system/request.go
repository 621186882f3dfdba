package system

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// MaxIDLength bounds a request id: ids become store keys, queue message fields and URL
// path segments, so they are short and URL-safe.
const MaxIDLength = 128

// Request is the entity the pipeline carries: created by an administrator, stored, then
// routed by its State to that state's processors.
//
// ID, State and Payload are the caller's. Version, CreatedAt, UpdatedAt and
// ProcessedVersion belong to the store: Create sets Version to 1, every successful Update
// adds one, and ProcessedVersion is the highest version whose processing effect has been
// applied (0 when none has), which is how a client sees that its write was processed.
type Request struct {
	ID               string          `json:"id"`
	State            string          `json:"state"`
	Payload          json.RawMessage `json:"payload,omitempty"`
	Version          int64           `json:"version"`
	CreatedAt        time.Time       `json:"created_at"`
	UpdatedAt        time.Time       `json:"updated_at"`
	ProcessedVersion int64           `json:"processed_version"`
}

// States is the configured set of request states, in configuration order (which is also
// the order of the per-state queues and of every report that lists them).
type States []string

// DefaultStates are the states of the original design.
var DefaultStates = States{"pending", "approved", "rejected", "cancelled"}

// Contains reports whether state is one of s.
func (s States) Contains(state string) bool {
	for _, k := range s {
		if k == state {
			return true
		}
	}
	return false
}

// Validate checks that the set is usable: at least one state, no duplicates, and every
// name a valid identifier (it becomes a queue name and a metric label).
func (s States) Validate() error {
	if len(s) == 0 {
		return fmt.Errorf("states: at least one state is required: %w", ErrInvalid)
	}
	for i, st := range s {
		if err := validateName(st); err != nil {
			return fmt.Errorf("states[%d]: %w", i, err)
		}
		for _, prev := range s[:i] {
			if prev == st {
				return fmt.Errorf("states[%d]: %q is listed twice: %w", i, st, ErrInvalid)
			}
		}
	}
	return nil
}

// Validate checks the caller's fields of r against the configured states: a valid id
// (ValidateID), a known state, and a payload that is valid JSON when present. Errors wrap
// ErrInvalid.
func (r *Request) Validate(states States) error {
	if err := ValidateID(r.ID); err != nil {
		return err
	}
	if r.State == "" {
		return fmt.Errorf("request %s: state is required: %w", r.ID, ErrInvalid)
	}
	if !states.Contains(r.State) {
		return fmt.Errorf("request %s: state %q is not one of %s: %w",
			r.ID, r.State, strings.Join(states, ", "), ErrInvalid)
	}
	if len(r.Payload) > 0 && !json.Valid(r.Payload) {
		return fmt.Errorf("request %s: payload is not valid JSON: %w", r.ID, ErrInvalid)
	}
	return nil
}

// ValidateID checks that id is 1..MaxIDLength characters of [A-Za-z0-9._-], so it
// round-trips through a URL path, a queue message and every backend's key syntax.
func ValidateID(id string) error {
	if len(id) == 0 || len(id) > MaxIDLength {
		return fmt.Errorf("id %q: must be 1..%d characters: %w", id, MaxIDLength, ErrInvalid)
	}
	for i := 0; i < len(id); i++ {
		if !idChar(id[i]) {
			return fmt.Errorf("id %q: only letters, digits, '-', '_' and '.' are allowed: %w", id, ErrInvalid)
		}
	}
	return nil
}

func idChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
}

// validateName checks a state or queue name: like an id but starting with a letter and
// at most 64 characters, which every broker accepts as a queue or subject token.
func validateName(name string) error {
	if len(name) == 0 || len(name) > 64 {
		return fmt.Errorf("name %q: must be 1..64 characters: %w", name, ErrInvalid)
	}
	if c := name[0]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return fmt.Errorf("name %q: must start with a letter: %w", name, ErrInvalid)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !idChar(c) || c == '.' {
			return fmt.Errorf("name %q: only letters, digits, '-' and '_' are allowed: %w", name, ErrInvalid)
		}
	}
	return nil
}

// idPrefix makes ids from different processes distinct; idSeq makes them distinct within
// one. Together they avoid a random read per id on the hot path.
var (
	idPrefix = newIDPrefix()
	idSeq    atomic.Uint64
)

func newIDPrefix() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("system: reading random id prefix: %v", err))
	}
	return strconv.FormatUint(binary.LittleEndian.Uint64(b[:])&(1<<48-1), 36) + "-"
}

// NewID returns a fresh request id, unique across processes with overwhelming probability
// and cheap enough for every accepted request.
func NewID() string {
	return idPrefix + strconv.FormatUint(idSeq.Add(1), 36)
}
