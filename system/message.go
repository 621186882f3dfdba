package system

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// messageRef is what a pipeline message says: which write it announces and when that write
// was accepted (for the end-to-end latency). The body is JSON so that a message read off
// a real broker by hand makes sense:
//
//	{"id":"r-1","version":2,"accepted_ns":1732352240000000000}
type messageRef struct {
	ID         string `json:"id"`
	Version    int64  `json:"version"`
	AcceptedNs int64  `json:"accepted_ns"`
}

// appendMessageBody encodes r's reference. Ids are validated to [A-Za-z0-9._-], so they
// need no JSON escaping and the encoder can be a few appends.
func appendMessageBody(dst []byte, r *Request) []byte {
	dst = append(dst, `{"id":"`...)
	dst = append(dst, r.ID...)
	dst = append(dst, `","version":`...)
	dst = strconv.AppendInt(dst, r.Version, 10)
	dst = append(dst, `,"accepted_ns":`...)
	dst = strconv.AppendInt(dst, r.UpdatedAt.UnixNano(), 10)
	return append(dst, '}')
}

// parseMessageBody reads a body written by appendMessageBody without reflection, and
// anything else JSON-shaped through encoding/json.
func parseMessageBody(b []byte) (messageRef, error) {
	if ref, ok := parseMessageBodyFast(b); ok {
		return ref, nil
	}
	var ref messageRef
	if err := json.Unmarshal(b, &ref); err != nil {
		return messageRef{}, fmt.Errorf("message body: %w", err)
	}
	if ValidateID(ref.ID) != nil || ref.Version < 1 {
		return messageRef{}, fmt.Errorf("message body %.100q: no valid id and version: %w", b, ErrInvalid)
	}
	return ref, nil
}

func parseMessageBodyFast(b []byte) (messageRef, bool) {
	const p1, p2, p3 = `{"id":"`, `","version":`, `,"accepted_ns":`
	s := string(b) // no copy: the compiler elides it for the slicing and comparisons below
	if len(s) < len(p1) || s[:len(p1)] != p1 {
		return messageRef{}, false
	}
	s = s[len(p1):]
	i := 0
	for i < len(s) && idChar(s[i]) {
		i++
	}
	if i == 0 || i > MaxIDLength || len(s[i:]) < len(p2) || s[i:i+len(p2)] != p2 {
		return messageRef{}, false
	}
	ref := messageRef{ID: string(b[len(p1) : len(p1)+i])}
	s = s[i+len(p2):]
	v, n := leadingInt(s)
	if n == 0 || v < 1 || len(s[n:]) < len(p3) || s[n:n+len(p3)] != p3 {
		return messageRef{}, false
	}
	ref.Version = v
	s = s[n+len(p3):]
	a, n := leadingInt(s)
	if n == 0 || s[n:] != "}" {
		return messageRef{}, false
	}
	ref.AcceptedNs = a
	return ref, true
}

// leadingInt parses the optionally negative decimal at the start of s and returns it and
// its length; 0, 0 when there is none or it overflows.
func leadingInt(s string) (v int64, n int) {
	if n < len(s) && s[n] == '-' {
		n++
	}
	start := n
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n-start > 1 && s[start] == '0' { // JSON has no leading zeros
		return 0, 0
	}
	v, err := strconv.ParseInt(s[:n], 10, 64)
	if err != nil {
		return 0, 0
	}
	return v, n
}

func (m messageRef) accepted() time.Time { return time.Unix(0, m.AcceptedNs) }
