package system

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// role is what a bearer token may do. Reads are open; writes need an admin, as in the
// original design where CRUD is "by the system administrator".
type role uint8

const (
	roleAnonymous role = iota // no Authorization header
	roleReader                // a known read-only token
	roleAdmin                 // a known admin token
)

// tokens holds the configured bearer tokens. Comparison is constant-time per token so the
// response time does not reveal how much of a guess was right.
type tokens struct {
	admin  [][]byte
	reader [][]byte
}

// authenticate maps the Authorization header to a role. A header that is present but
// malformed or unknown is an error (401) even on a read: a client sending the wrong token
// should learn so rather than silently act anonymously.
func (t *tokens) authenticate(header string) (role, *apiError) {
	if header == "" {
		return roleAnonymous, nil
	}
	const prefix = "bearer "
	if len(header) <= len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return roleAnonymous, errorf(http.StatusUnauthorized, CodeUnauthorized,
			"Authorization must be \"Bearer <token>\"")
	}
	got := []byte(strings.TrimSpace(header[len(prefix):]))
	if match(t.admin, got) {
		return roleAdmin, nil
	}
	if match(t.reader, got) {
		return roleReader, nil
	}
	return roleAnonymous, errorf(http.StatusUnauthorized, CodeUnauthorized, "unknown bearer token")
}

// authorizeWrite admits only admins: no token is 401, a reader's token is 403.
func (t *tokens) authorizeWrite(header string) *apiError {
	r, e := t.authenticate(header)
	switch {
	case e != nil:
		return e
	case r == roleAdmin:
		return nil
	case r == roleReader:
		return errorf(http.StatusForbidden, CodeForbidden, "this token may read but not change requests")
	default:
		return errorf(http.StatusUnauthorized, CodeUnauthorized, "changing requests needs an admin bearer token")
	}
}

func match(set [][]byte, got []byte) bool {
	found := 0
	for _, want := range set {
		// No early return: every configured token is compared, found or not.
		found |= subtle.ConstantTimeCompare(want, got)
	}
	return found == 1
}
