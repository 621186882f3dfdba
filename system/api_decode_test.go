package system

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

var testStates = DefaultStates

func TestDecodeCreate(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		code    string // "" means accepted
		id      string
		payload string
	}{
		{name: "minimal", body: `{"state":"pending"}`},
		{name: "with id and object payload", body: `{"id":"r-1.a_B","state":"approved","payload":{"amount":3}}`,
			id: "r-1.a_B", payload: `{"amount":3}`},
		{name: "string payload", body: `{"state":"pending","payload":"hello"}`, payload: `"hello"`},
		{name: "null payload is no payload", body: `{"state":"pending","payload":null}`},
		{name: "surrounding whitespace", body: " \n{\"state\":\"pending\"}\n "},
		{name: "empty", body: ``, code: CodeMalformed},
		{name: "blank", body: "  \n", code: CodeMalformed},
		{name: "not an object", body: `[1,2]`, code: CodeMalformed},
		{name: "syntax", body: `{"state":`, code: CodeMalformed},
		{name: "bad syntax mid", body: `{"state" "pending"}`, code: CodeMalformed},
		{name: "unknown field", body: `{"state":"pending","stat":"x"}`, code: CodeMalformed},
		{name: "wrong type", body: `{"state":5}`, code: CodeMalformed},
		{name: "trailing object", body: `{"state":"pending"}{"state":"pending"}`, code: CodeMalformed},
		{name: "trailing garbage", body: `{"state":"pending"} x`, code: CodeMalformed},
		{name: "missing state", body: `{"payload":1}`, code: CodeInvalid},
		{name: "unknown state", body: `{"state":"lost"}`, code: CodeInvalid},
		{name: "id with slash", body: `{"id":"a/b","state":"pending"}`, code: CodeInvalid},
		{name: "id too long", body: `{"id":"` + strings.Repeat("a", MaxIDLength+1) + `","state":"pending"}`, code: CodeInvalid},
		{name: "empty id means assign one", body: `{"id":"","state":"pending"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, e := decodeCreate([]byte(tt.body), testStates)
			if tt.code != "" {
				if e == nil {
					t.Fatalf("accepted %q, want %s", tt.body, tt.code)
				}
				if e.Code != tt.code || e.Status != http.StatusBadRequest {
					t.Fatalf("got %d %s (%s), want 400 %s", e.Status, e.Code, e.Message, tt.code)
				}
				return
			}
			if e != nil {
				t.Fatalf("refused %q: %v", tt.body, e)
			}
			if c.ID != tt.id || string(c.Payload) != tt.payload {
				t.Fatalf("got id=%q payload=%q, want id=%q payload=%q", c.ID, c.Payload, tt.id, tt.payload)
			}
		})
	}
}

func TestDecodeUpdate(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		ifMatch string
		code    string
		version int64
		state   string
	}{
		{name: "state and body version", body: `{"state":"approved","version":3}`, version: 3, state: "approved"},
		{name: "payload and If-Match", body: `{"payload":[1]}`, ifMatch: `"7"`, version: 7},
		{name: "weak If-Match", body: `{"payload":[1]}`, ifMatch: `W/"7"`, version: 7},
		{name: "agreeing versions", body: `{"state":"approved","version":2}`, ifMatch: `"2"`, version: 2, state: "approved"},
		{name: "no version", body: `{"state":"approved"}`, version: -1, state: "approved"},
		{name: "disagreeing versions", body: `{"state":"approved","version":2}`, ifMatch: `"3"`, code: CodeInvalid},
		{name: "bad If-Match", body: `{"state":"approved"}`, ifMatch: `abc`, code: CodeMalformed},
		{name: "star If-Match", body: `{"state":"approved"}`, ifMatch: `*`, code: CodeMalformed},
		{name: "negative version", body: `{"state":"approved","version":-1}`, code: CodeInvalid},
		{name: "nothing to change", body: `{"version":1}`, code: CodeInvalid},
		{name: "null payload only", body: `{"payload":null,"version":1}`, code: CodeInvalid},
		{name: "empty state", body: `{"state":"","version":1}`, code: CodeInvalid},
		{name: "unknown state", body: `{"state":"x","version":1}`, code: CodeInvalid},
		{name: "fractional version", body: `{"state":"approved","version":1.5}`, code: CodeMalformed},
		{name: "unknown field", body: `{"state":"approved","id":"x"}`, code: CodeMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, v, e := decodeUpdate([]byte(tt.body), tt.ifMatch, testStates)
			if tt.code != "" {
				if e == nil || e.Code != tt.code || e.Status != http.StatusBadRequest {
					t.Fatalf("got %v, want 400 %s", e, tt.code)
				}
				return
			}
			if e != nil {
				t.Fatalf("refused: %v", e)
			}
			if v != tt.version {
				t.Fatalf("version %d, want %d", v, tt.version)
			}
			got := ""
			if u.State != nil {
				got = *u.State
			}
			if got != tt.state {
				t.Fatalf("state %q, want %q", got, tt.state)
			}
		})
	}
}

func TestReadBody(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		chunked     bool // hide the length so only MaxBytesReader can catch it
		status      int
		code        string
	}{
		{name: "ok", contentType: "application/json", body: `{}`},
		{name: "charset", contentType: "application/json; charset=utf-8", body: `{}`},
		{name: "no content type", body: `{}`, status: 415, code: CodeUnsupportedMedia},
		{name: "text", contentType: "text/plain", body: `{}`, status: 415, code: CodeUnsupportedMedia},
		{name: "garbled content type", contentType: "application/json;;=", body: `{}`, status: 415, code: CodeUnsupportedMedia},
		{name: "declared too large", contentType: "application/json", body: strings.Repeat(" ", 65), status: 413, code: CodeTooLarge},
		{name: "streamed too large", contentType: "application/json", body: strings.Repeat(" ", 65), chunked: true, status: 413, code: CodeTooLarge},
		{name: "exactly the limit", contentType: "application/json", body: strings.Repeat(" ", 64)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/v1/requests", strings.NewReader(tt.body))
			if tt.chunked {
				r.ContentLength = -1
			}
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			body, e := readBody(httptest.NewRecorder(), r, 64)
			if tt.code == "" {
				if e != nil || string(body) != tt.body {
					t.Fatalf("got %q, %v; want the body back", body, e)
				}
				return
			}
			if e == nil || e.Status != tt.status || e.Code != tt.code {
				t.Fatalf("got %v, want %d %s", e, tt.status, tt.code)
			}
		})
	}
}

// FuzzDecodeCreate holds the decoder to its contract on any input: no panic; a refusal is
// a 400 with a code and a message; an acceptance is valid and survives a JSON round trip.
func FuzzDecodeCreate(f *testing.F) {
	for _, s := range []string{
		`{"state":"pending"}`,
		`{"id":"a-1","state":"approved","payload":{"k":[1,2,{"x":null}]}}`,
		`{"state":"pending","payload":"\u00e9\ud83d\ude00"}`,
		`{"state":"pending"} `, `[]`, `{"state":"pending",}`, `{"id":"a/b"}`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"payload":[1,{"a":"}"}],"state":"pending","id":"x"}`))
	f.Add([]byte(`{"state":"pending","payload":"a\"b"}`))
	f.Add([]byte(`{"state":"pending","payload":-1.5e3}`))
	f.Add([]byte(`{"state":"pending","state":"approved"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		// The fast scanner must agree with encoding/json whenever it answers.
		if fast, ok := scanCreate(body); ok {
			var ref createBody
			if e := decodeJSON(body, &ref); e != nil {
				t.Fatalf("scanner accepted %q, encoding/json refuses it: %v", body, e)
			}
			if fast.ID != ref.ID || fast.State != ref.State || !bytes.Equal(fast.Payload, ref.Payload) {
				t.Fatalf("scanner read %+v, encoding/json %+v", fast, ref)
			}
		}
		c, e := decodeCreate(body, testStates)
		if e != nil {
			if e.Status != http.StatusBadRequest || (e.Code != CodeMalformed && e.Code != CodeInvalid) || e.Message == "" {
				t.Fatalf("refusal %+v is not a documented 400", e)
			}
			return
		}
		if !testStates.Contains(c.State) {
			t.Fatalf("accepted unknown state %q", c.State)
		}
		if c.ID != "" && ValidateID(c.ID) != nil {
			t.Fatalf("accepted invalid id %q", c.ID)
		}
		if c.Payload != nil && !json.Valid(c.Payload) {
			t.Fatalf("accepted invalid payload %q", c.Payload)
		}
		again, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("re-encoding accepted body: %v", err)
		}
		c2, e2 := decodeCreate(again, testStates)
		if e2 != nil {
			t.Fatalf("re-encoded body %q refused: %v", again, e2)
		}
		if c2.ID != c.ID || c2.State != c.State || !jsonEqual(c2.Payload, c.Payload) {
			t.Fatalf("round trip changed %+v into %+v", c, c2)
		}
	})
}

// FuzzDecodeUpdate does the same for PUT bodies and the If-Match header.
func FuzzDecodeUpdate(f *testing.F) {
	f.Add([]byte(`{"state":"approved","version":3}`), ``)
	f.Add([]byte(`{"payload":{"a":1}}`), `"4"`)
	f.Add([]byte(`{"payload":{"a":1},"version":4}`), `W/"4"`)
	f.Add([]byte(`{"version":1e3,"state":"approved"}`), `*`)
	f.Fuzz(func(t *testing.T, body []byte, ifMatch string) {
		u, v, e := decodeUpdate(body, ifMatch, testStates)
		if e != nil {
			if e.Status != http.StatusBadRequest || (e.Code != CodeMalformed && e.Code != CodeInvalid) || e.Message == "" {
				t.Fatalf("refusal %+v is not a documented 400", e)
			}
			return
		}
		if v < -1 {
			t.Fatalf("version %d", v)
		}
		if u.State == nil && u.Payload == nil {
			t.Fatal("accepted an update that changes nothing")
		}
		if u.State != nil && !testStates.Contains(*u.State) {
			t.Fatalf("accepted unknown state %q", *u.State)
		}
		if u.Payload != nil && !json.Valid(u.Payload) {
			t.Fatalf("accepted invalid payload %q", u.Payload)
		}
	})
}

// jsonEqual compares two JSON values by meaning: re-encoding may escape characters
// differently (json.Marshal escapes '<' as \u003c) without changing the value.
func jsonEqual(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	da, db := json.NewDecoder(bytes.NewReader(a)), json.NewDecoder(bytes.NewReader(b))
	da.UseNumber()
	db.UseNumber()
	if da.Decode(&x) != nil || db.Decode(&y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
