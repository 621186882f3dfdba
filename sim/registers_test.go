package sim

import (
	"reflect"
	"testing"
	"unsafe"
)

// inRegisters reports whether the Go compiler can keep a value of type t in registers
// (cmd/compile's ssa.CanSSA): at most four words, and a struct of at most four fields,
// each of them such a type, or an array of at most one. A type that cannot lives in memory,
// and a copy of it moves 16 bytes at a time.
func inRegisters(t reflect.Type) bool {
	if t.Size() > 4*unsafe.Sizeof(uintptr(0)) {
		return false
	}
	switch t.Kind() {
	case reflect.Array:
		return t.Len() <= 1 && (t.Len() == 0 || inRegisters(t.Elem()))
	case reflect.Struct:
		if t.NumField() > 4 {
			return false
		}
		for i := range t.NumField() {
			if !inRegisters(t.Field(i).Type) {
				return false
			}
		}
	}
	return true
}

// TestHotRecordsStayInRegisters keeps the records that hot paths build and copy small
// enough for registers. A record that is built field by field and then copied whole, as a
// push onto a line or a store into a slab does, stalls the CPU when it lives in memory: the
// copy's 16-byte load cannot be forwarded from the narrower stores that built it, and
// waits for them to reach the cache. That was 29% of vm-cache's CPU time with a
// seven-field tierCall (see tierCall).
func TestHotRecordsStayInRegisters(t *testing.T) {
	for _, v := range []any{event{}, tierCall{}, invocation{}, podWork{}, qmsg{}, cacheCall{}, dbCall{}} {
		if typ := reflect.TypeOf(v); !inRegisters(typ) {
			t.Errorf("%v (%d bytes, %d fields) does not fit in registers: group its small fields in an embedded struct", typ, typ.Size(), typ.NumField())
		}
	}
	// The rule itself, on types whose fate is known.
	type five struct{ a, b, c, d, e int32 }
	type nested struct {
		a, b, c int32
		five
	}
	type grouped struct {
		a, b, c int32
		d       struct{ x, y int32 }
	}
	for _, c := range []struct {
		v    any
		want bool
	}{{five{}, false}, {nested{}, false}, {grouped{}, true}, {[5]int64{}, false}, {struct{ a, b, c, d, e int64 }{}, false}} {
		if got := inRegisters(reflect.TypeOf(c.v)); got != c.want {
			t.Errorf("inRegisters(%T) = %v, want %v", c.v, got, c.want)
		}
	}
}

// TestLatencyHeaderFillsItsCacheLines keeps a Latency header in a size class of its own
// cache lines (see Latency).
func TestLatencyHeaderFillsItsCacheLines(t *testing.T) {
	if n := unsafe.Sizeof(Latency{}); n%64 != 0 {
		t.Errorf("Latency is %d bytes, not a multiple of a 64-byte cache line", n)
	}
}
