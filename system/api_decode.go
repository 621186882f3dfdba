package system

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// DefaultMaxBodyBytes bounds a request body unless WithMaxBodyBytes says otherwise.
const DefaultMaxBodyBytes = 64 << 10

// createBody is the JSON a client POSTs to /v1/requests.
type createBody struct {
	// ID is optional; the service assigns one when it is empty.
	ID      string          `json:"id,omitempty"`
	State   string          `json:"state"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// updateBody is the JSON a client PUTs to /v1/requests/{id}. Absent fields are unchanged;
// at least one of State and Payload must be present. Version may instead come from If-Match.
type updateBody struct {
	State   *string         `json:"state,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
	Version *int64          `json:"version,omitempty"`
}

// readBody checks the content type and reads at most limit bytes of the body. The limit is
// enforced by http.MaxBytesReader, which also tells the server to close the connection
// rather than read the rest of an oversized upload.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *apiError) {
	if e := checkContentType(r.Header.Get("Content-Type")); e != nil {
		return nil, e
	}
	tooLarge := errorf(http.StatusRequestEntityTooLarge, CodeTooLarge,
		fmt.Sprintf("body exceeds %d bytes", limit))
	if r.ContentLength > limit {
		return nil, tooLarge
	}
	var body []byte
	var err error
	if n := r.ContentLength; n > 0 {
		// The length is known and within the limit: one allocation of the right size
		// rather than io.ReadAll's growing buffer. net/http ends the body at n bytes.
		body = make([]byte, n)
		_, err = io.ReadFull(r.Body, body)
	} else {
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge
		}
		return nil, errorf(http.StatusBadRequest, CodeMalformed, "reading body: "+err.Error())
	}
	return body, nil
}

// checkContentType accepts application/json with any parameters (charset=utf-8).
func checkContentType(ct string) *apiError {
	if ct == "" {
		return errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMedia,
			"Content-Type must be application/json")
	}
	// The common exact value skips the MIME parser on the hot path.
	if ct == "application/json" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMedia,
			fmt.Sprintf("Content-Type %q is not application/json", ct))
	}
	return nil
}

// decodeJSON decodes exactly one JSON object into v, refusing unknown fields and trailing
// data: a typo in a field name must be an error, not a silently ignored change.
func decodeJSON(body []byte, v any) *apiError {
	if len(bytes.TrimSpace(body)) == 0 {
		return errorf(http.StatusBadRequest, CodeMalformed, "empty body, expected a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, CodeMalformed, describeJSONError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(http.StatusBadRequest, CodeMalformed, "unexpected data after the JSON object")
	}
	return nil
}

// describeJSONError turns encoding/json's errors into messages that name the offset or
// the field, which is what a client needs to fix its request.
func describeJSONError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("field %q: expected %v, got JSON %s", te.Field, te.Type, te.Value)
		}
		return fmt.Sprintf("expected a JSON object, got JSON %s", te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	default:
		return "invalid JSON: " + err.Error()
	}
}

// decodeCreate parses and validates a POST /v1/requests body against the known states.
func decodeCreate(body []byte, states States) (createBody, *apiError) {
	c, ok := scanCreate(body)
	if !ok {
		c = createBody{}
		if e := decodeJSON(body, &c); e != nil {
			return c, e
		}
	}
	if c.ID != "" {
		if e := checkID(c.ID); e != nil {
			return c, e
		}
	}
	if c.State == "" {
		return c, errorf(http.StatusBadRequest, CodeInvalid, `field "state" is required`)
	}
	if e := checkState(states, c.State); e != nil {
		return c, e
	}
	if isJSONNull(c.Payload) {
		c.Payload = nil
	}
	return c, nil
}

// decodeUpdate parses and validates a PUT /v1/requests/{id} body; ifMatch is the If-Match
// header, an alternative to the body's version. The result's version is -1 when neither
// gives one, which the caller turns into 428.
func decodeUpdate(body []byte, ifMatch string, states States) (updateBody, int64, *apiError) {
	var u updateBody
	if e := decodeJSON(body, &u); e != nil {
		return u, 0, e
	}
	if isJSONNull(u.Payload) {
		u.Payload = nil
	}
	if u.State == nil && u.Payload == nil {
		return u, 0, errorf(http.StatusBadRequest, CodeInvalid,
			`nothing to change: give "state" or "payload"`)
	}
	if u.State != nil {
		if *u.State == "" {
			return u, 0, errorf(http.StatusBadRequest, CodeInvalid, `field "state" must not be empty`)
		}
		if e := checkState(states, *u.State); e != nil {
			return u, 0, e
		}
	}
	version := int64(-1)
	if u.Version != nil {
		if *u.Version < 0 {
			return u, 0, errorf(http.StatusBadRequest, CodeInvalid, `field "version" must be >= 0`)
		}
		version = *u.Version
	}
	if ifMatch != "" {
		v, e := parseIfMatch(ifMatch)
		if e != nil {
			return u, 0, e
		}
		if version >= 0 && v != version {
			return u, 0, errorf(http.StatusBadRequest, CodeInvalid, fmt.Sprintf(
				"If-Match version %d and body version %d disagree", v, version))
		}
		version = v
	}
	return u, version, nil
}

// etag renders a version as a strong entity tag; parseIfMatch reads it back.
func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// parseIfMatch accepts one strong or weak entity tag holding a version. "*" and lists are
// refused: a conditional update must name the version it read.
func parseIfMatch(h string) (int64, *apiError) {
	s := strings.TrimSpace(h)
	s = strings.TrimPrefix(s, "W/")
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, errorf(http.StatusBadRequest, CodeMalformed,
			fmt.Sprintf("If-Match %q is not a version entity tag such as \"3\"", h))
	}
	return v, nil
}

func isJSONNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

// checkState refuses a state that is not configured, naming the ones that are.
func checkState(states States, state string) *apiError {
	if states.Contains(state) {
		return nil
	}
	return errorf(http.StatusBadRequest, CodeInvalid,
		fmt.Sprintf("state %q is not one of %s", state, strings.Join(states, ", ")))
}

// checkID refuses an id the store would refuse, before any round trip.
func checkID(id string) *apiError {
	if err := ValidateID(id); err != nil {
		return errorf(http.StatusBadRequest, CodeInvalid, strings.TrimSuffix(err.Error(), ": "+ErrInvalid.Error()))
	}
	return nil
}

// scanCreate reads the common create body — one object with at most the keys id, state
// and payload, each once, id and state plain strings — without reflection, as
// encoding/json would. Anything else (escapes, other types, duplicate or unknown keys,
// any syntax error) returns false and goes through decodeJSON, which decides and words the
// error; FuzzDecodeCreate holds the two to the same result. Payload aliases body.
func scanCreate(b []byte) (c createBody, ok bool) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return c, false
	}
	i = skipWS(b, i+1)
	var seen [3]bool
	if i < len(b) && b[i] == '}' {
		return c, skipWS(b, i+1) == len(b)
	}
	for {
		key, next, ok := scanPlainString(b, i)
		if !ok {
			return c, false
		}
		i = skipWS(b, next)
		if i >= len(b) || b[i] != ':' {
			return c, false
		}
		i = skipWS(b, i+1)
		var k int
		switch key {
		case "id", "state":
			v, next, ok := scanPlainString(b, i)
			if !ok {
				return c, false
			}
			if key == "id" {
				k, c.ID = 0, v
			} else {
				k, c.State = 1, v
			}
			i = next
		case "payload":
			end := skipValue(b, i)
			if end < 0 || !json.Valid(b[i:end]) {
				return c, false
			}
			k, c.Payload = 2, b[i:end:end]
			i = end
		default:
			return c, false
		}
		if seen[k] {
			return c, false
		}
		seen[k] = true
		i = skipWS(b, i)
		if i >= len(b) {
			return c, false
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return c, skipWS(b, i+1) == len(b)
		default:
			return c, false
		}
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanPlainString reads a JSON string at b[i] made of printable ASCII without escapes.
func scanPlainString(b []byte, i int) (s string, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return "", i, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return string(b[i+1 : j]), j + 1, true
		case c == '\\' || c < 0x20 || c > 0x7e:
			return "", i, false
		}
	}
	return "", i, false
}

// skipValue returns the end of the JSON value starting at b[i], or -1. It only finds the
// extent; json.Valid judges the value.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '"':
			for j++; j < len(b) && b[j] != '"'; j++ {
				if b[j] == '\\' {
					j++
				}
			}
			if j >= len(b) {
				return -1
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth < 0 {
				return j // the end of the enclosing object: a scalar ended here
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return j
			}
		}
		if depth == 0 && (b[j] == '}' || b[j] == ']' || b[j] == '"') {
			return j + 1
		}
	}
	if depth == 0 {
		return len(b)
	}
	return -1
}
