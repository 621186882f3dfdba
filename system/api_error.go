package system

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// The stable error codes of the HTTP API. Clients branch on Code, never on Message; every
// error body is {"error":{"code":CODE,"message":TEXT}}.
const (
	CodeMalformed            = "malformed_request"      // 400: the body or a parameter cannot be parsed
	CodeInvalid              = "invalid_argument"       // 400: parsed, but a value is not allowed
	CodeUnauthorized         = "unauthorized"           // 401: no or unknown bearer token
	CodeForbidden            = "forbidden"              // 403: the token may not do this
	CodeNotFound             = "not_found"              // 404
	CodeMethodNotAllowed     = "method_not_allowed"     // 405
	CodeVersionConflict      = "version_conflict"       // 409: the version given is not the current one
	CodeAlreadyExists        = "already_exists"         // 409: create with an id that is taken
	CodePreconditionRequired = "precondition_required"  // 428: PUT without a version
	CodeTooLarge             = "payload_too_large"      // 413
	CodeUnsupportedMedia     = "unsupported_media_type" // 415
	CodeThrottled            = "throttled"              // 429, with Retry-After
	CodeUnavailable          = "unavailable"            // 503: not ready, or draining
	CodeInternal             = "internal"               // 500
)

// apiError is an error that knows its HTTP rendering. Handlers return it; writeError
// renders it, and anything else as a 500 whose message does not leak internals.
type apiError struct {
	Status     int
	Code       string
	Message    string
	RetryAfter time.Duration // 429 and 503 only
	// Cause is the underlying error of a 500, logged but never sent to the client.
	Cause error
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, msg string) *apiError {
	return &apiError{Status: status, Code: code, Message: msg}
}

// errorBody is the JSON shape; kept as a type so tests decode exactly what clients do.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeAPIError(w http.ResponseWriter, e *apiError) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	if e.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="headroom"`)
	}
	if e.RetryAfter > 0 {
		// Retry-After is whole seconds; round up so a client that obeys it is admitted.
		secs := int64((e.RetryAfter + time.Second - 1) / time.Second)
		h.Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	var b errorBody
	b.Error.Code, b.Error.Message = e.Code, e.Message
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(&b)
}
