package system

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// The hot path writes a Request's JSON by hand: encoding/json's reflection, its copy and
// compaction of the payload and its time encoder were a third of a create's cost. The
// output is what json.Marshal(Request) gives (a test holds them equal); anything the
// hand encoder cannot write safely (a string needing escapes, a payload that is not valid
// JSON) goes through encoding/json.

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// Header values set on every response, shared: net/http never modifies them.
var (
	hdrJSON    = []string{"application/json"}
	hdrNoSniff = []string{"nosniff"}
)

// writeRequest answers with r. payloadChecked says the payload is known to be valid JSON
// (the API itself validated it on this request), which spares a second scan.
func writeRequest(w http.ResponseWriter, status int, r *Request, payloadChecked bool) {
	bp := bufPool.Get().(*[]byte)
	b, ok := appendRequestJSON((*bp)[:0], r, payloadChecked)
	if !ok {
		bufPool.Put(bp)
		w.Header().Set("ETag", etag(r.Version))
		writeJSON(w, status, r)
		return
	}
	b = append(b, '\n')
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["Etag"] = []string{etag(r.Version)}
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(status)
	_, _ = w.Write(b)
	*bp = b
	bufPool.Put(bp)
}

// appendRequestJSON appends r as json.Marshal would; ok is false when a field needs the
// general encoder.
func appendRequestJSON(b []byte, r *Request, payloadChecked bool) ([]byte, bool) {
	if !plainJSONString(r.ID) || !plainJSONString(r.State) ||
		(len(r.Payload) > 0 && !payloadChecked && !json.Valid(r.Payload)) {
		return b, false
	}
	b = append(b, `{"id":"`...)
	b = append(b, r.ID...)
	b = append(b, `","state":"`...)
	b = append(b, r.State...)
	b = append(b, '"')
	if len(r.Payload) > 0 {
		b = append(b, `,"payload":`...)
		b = appendCompactJSON(b, r.Payload)
	}
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, r.Version, 10)
	var ok bool
	b = append(b, `,"created_at":"`...)
	if b, ok = appendTime(b, r.CreatedAt); !ok {
		return b, false
	}
	b = append(b, `","updated_at":"`...)
	if b, ok = appendTime(b, r.UpdatedAt); !ok {
		return b, false
	}
	b = append(b, `","processed_version":`...)
	b = strconv.AppendInt(b, r.ProcessedVersion, 10)
	return append(b, '}'), true
}

// plainJSONString reports whether s can be written between quotes as it is: printable
// ASCII without the characters encoding/json escapes ('"', '\\', and '<', '>', '&').
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// appendCompactJSON appends valid JSON without insignificant whitespace, as encoding/json
// does for a RawMessage; a payload that is already compact (the usual case) is copied.
func appendCompactJSON(b, raw []byte) []byte {
	compact := true
	inString := false
	for i := 0; i < len(raw) && compact; i++ {
		c := raw[i]
		switch {
		case inString:
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
			} else if c == '<' || c == '>' || c == '&' || c >= 0x80 {
				// encoding/json escapes these (and U+2028/9); leave it to the general path.
				compact = false
			}
		case c == '"':
			inString = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			compact = false
		}
	}
	if compact {
		return append(b, raw...)
	}
	m, err := json.Marshal(json.RawMessage(raw))
	if err != nil {
		return append(b, raw...) // unreachable: raw was checked valid
	}
	return append(b, m...)
}

// appendTime appends t as time.Time's MarshalJSON does, without the quotes.
func appendTime(b []byte, t time.Time) ([]byte, bool) {
	if y := t.Year(); y < 0 || y > 9999 {
		return b, false
	}
	return t.AppendFormat(b, time.RFC3339Nano), true
}
