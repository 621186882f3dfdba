package system

import (
	"encoding/json"
	"testing"
	"time"
)

func TestMessageBodyRoundTrip(t *testing.T) {
	r := Request{ID: "abc-1.x_Y", Version: 42, UpdatedAt: time.Unix(1732352240, 123456789)}
	b := appendMessageBody(nil, &r)
	const want = `{"id":"abc-1.x_Y","version":42,"accepted_ns":1732352240123456789}`
	if string(b) != want {
		t.Fatalf("body %s, want %s", b, want)
	}
	if _, ok := parseMessageBodyFast(b); !ok {
		t.Fatalf("the fast path refused its own encoding %s", b)
	}
	ref, err := parseMessageBody(b)
	if err != nil || ref.ID != r.ID || ref.Version != 42 || !ref.accepted().Equal(r.UpdatedAt) {
		t.Fatalf("parse = %+v, %v", ref, err)
	}
	// Bodies written by other tools go through encoding/json.
	ref, err = parseMessageBody([]byte(` { "version": 3, "id": "z" } `))
	if err != nil || ref.ID != "z" || ref.Version != 3 {
		t.Fatalf("parse of reordered JSON = %+v, %v", ref, err)
	}
	for _, bad := range []string{``, `{}`, `{"id":"a b","version":1}`, `{"id":"a","version":0}`, `[1]`, `{"id":"a","version":"1"}`} {
		if _, err := parseMessageBody([]byte(bad)); err == nil {
			t.Errorf("parse(%q) succeeded", bad)
		}
	}
}

func FuzzParseMessageBody(f *testing.F) {
	f.Add([]byte(`{"id":"abc","version":42,"accepted_ns":1732352240123456789}`))
	f.Add([]byte(`{"id":"abc","version":-1,"accepted_ns":-5}`))
	f.Add([]byte(`{"version":3,"id":"z"}`))
	f.Add([]byte(`{"id":"","version":1,"accepted_ns":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ref, err := parseMessageBody(b)
		if err != nil {
			return
		}
		if ValidateID(ref.ID) != nil || ref.Version < 1 {
			t.Fatalf("parse(%q) accepted id %q version %d", b, ref.ID, ref.Version)
		}
		// What the fast path accepts must mean what encoding/json reads.
		if fast, ok := parseMessageBodyFast(b); ok {
			var slow messageRef
			if err := json.Unmarshal(b, &slow); err != nil || slow != fast {
				t.Fatalf("fast path read %q as %+v, encoding/json as %+v (%v)", b, fast, slow, err)
			}
			round := appendMessageBody(nil, &Request{ID: fast.ID, Version: fast.Version, UpdatedAt: time.Unix(0, fast.AcceptedNs)})
			if again, ok := parseMessageBodyFast(round); !ok || again != fast {
				t.Fatalf("fast path round trip of %q: %+v then %+v", b, fast, again)
			}
		}
	})
}
