package system

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"
)

// checkEncoding holds writeRequest's body to json.Marshal's for the same request.
func checkEncoding(t *testing.T, r Request) {
	t.Helper()
	want, err := json.Marshal(&r)
	if err != nil {
		// Not encodable at all (a payload that is not JSON): the general path answers 500.
		return
	}
	w := httptest.NewRecorder()
	writeRequest(w, 200, &r, false)
	got := bytes.TrimSuffix(w.Body.Bytes(), []byte("\n"))
	if !bytes.Equal(got, want) {
		t.Fatalf("hand encoder wrote\n%s\nencoding/json writes\n%s", got, want)
	}
	if w.Header().Get("ETag") != etag(r.Version) || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("headers %v", w.Header())
	}
}

func TestWriteRequestMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 11, 23, 9, 14, 8, 458256625, time.UTC)
	for _, r := range []Request{
		{ID: "a", State: "pending", Version: 1, CreatedAt: at, UpdatedAt: at},
		{ID: "r-1.x_Y", State: "approved", Payload: json.RawMessage(`{"a":[1,2,{"b":null}],"s":"x\"y"}`), Version: 3,
			CreatedAt: at, UpdatedAt: at.Add(time.Second), ProcessedVersion: 2},
		{ID: "b", State: "pending", Payload: json.RawMessage(" {\n \"a\" : 1 }\n"), Version: 1},
		{ID: "c", State: "pending", Payload: json.RawMessage(`"<tag> & é \u2028"`), Version: 1},
		{ID: "d", State: "pending", Payload: json.RawMessage(`"x"`), CreatedAt: at.In(time.FixedZone("X", 3600))},
		{ID: "with\"quote", State: "pen<ding", Version: 1},
		{ID: "e", State: "pending", Payload: json.RawMessage(`{not json`)},
		{ID: "f", State: "pending", CreatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		checkEncoding(t, r)
	}
}

func FuzzWriteRequest(f *testing.F) {
	f.Add("a", "pending", []byte(`{"k":[1,"v"]}`), int64(1), int64(1732352240000000000))
	f.Add("x\u00e9", "p<", []byte(" [ 1 , 2 ] "), int64(-3), int64(-1))
	f.Add("", "", []byte(`"\u2028"`), int64(0), int64(0))
	f.Fuzz(func(t *testing.T, id, state string, payload []byte, version, nanos int64) {
		at := time.Unix(0, nanos).UTC()
		checkEncoding(t, Request{ID: id, State: state, Payload: payload, Version: version,
			CreatedAt: at, UpdatedAt: at, ProcessedVersion: version / 2})
	})
}
