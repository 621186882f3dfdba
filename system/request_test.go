package system

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestRequestValidate(t *testing.T) {
	tests := []struct {
		name string
		r    Request
		ok   bool
	}{
		{"minimal", Request{ID: "a", State: "pending"}, true},
		{"all characters", Request{ID: "A-z_0.9", State: "cancelled", Payload: json.RawMessage(`{"x":[1,2]}`)}, true},
		{"string payload", Request{ID: "a", State: "approved", Payload: json.RawMessage(`"s"`)}, true},
		{"empty id", Request{State: "pending"}, false},
		{"long id", Request{ID: strings.Repeat("x", MaxIDLength+1), State: "pending"}, false},
		{"longest id", Request{ID: strings.Repeat("x", MaxIDLength), State: "pending"}, true},
		{"slash in id", Request{ID: "a/b", State: "pending"}, false},
		{"space in id", Request{ID: "a b", State: "pending"}, false},
		{"no state", Request{ID: "a"}, false},
		{"unknown state", Request{ID: "a", State: "lost"}, false},
		{"bad payload", Request{ID: "a", State: "pending", Payload: json.RawMessage(`{"x":`)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Validate(DefaultStates)
			if tt.ok && err != nil {
				t.Fatalf("Validate(%+v) = %v, want nil", tt.r, err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate(%+v) = %v, want ErrInvalid", tt.r, err)
			}
		})
	}
}

func TestStatesValidate(t *testing.T) {
	tests := []struct {
		s  States
		ok bool
	}{
		{DefaultStates, true},
		{States{"one"}, true},
		{States{}, false},
		{States{"a", "a"}, false},
		{States{"9lives"}, false},
		{States{"has.dot"}, false},
		{States{"has space"}, false},
		{States{strings.Repeat("s", 65)}, false},
	}
	for _, tt := range tests {
		err := tt.s.Validate()
		if tt.ok != (err == nil) || !tt.ok && !errors.Is(err, ErrInvalid) {
			t.Errorf("States%v.Validate() = %v, want ok=%v", tt.s, err, tt.ok)
		}
	}
}

func TestNewIDUniqueAndValid(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		id := NewID()
		if err := ValidateID(id); err != nil {
			t.Fatalf("NewID() = %q: %v", id, err)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
	}
}
