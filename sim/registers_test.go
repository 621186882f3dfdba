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

// sizeClass is the size of the heap block Go allocates for an object of n bytes (the size
// classes of internal/runtime/gc/sizeclasses.go up to 512; every class above 512 is a
// multiple of 64).
func sizeClass(n uintptr) uintptr {
	for _, c := range []uintptr{8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352, 384, 416, 448, 480, 512} {
		if n <= c {
			return c
		}
	}
	return (n + 63) &^ 63 // not the class itself, but a multiple of 64 exactly when it is
}

// TestHotObjectsOwnTheirCacheLines keeps every object that a run writes at the rate of its
// events in a size class that is a multiple of a 64-byte cache line. The blocks of such a
// class start on a line (a span starts on a page), so an object shares no line with
// another (one over 512 bytes with pointers starts 8 bytes into its block, after the
// allocation header, and still shares none). A
// comparison runs two simulations at once, on two cores of one process, and builds a model
// for every probe on whichever core is free, so objects of two live simulations end up side
// by side in a span: a 176-byte region or a 480-byte gateway then shares a line with the
// other simulation's, and the two cores take that line from each other at every request.
// That was the gateway's admission (8.1 s of a 430 s comparison, on one load) and part of
// the token buckets' refill. Streams are kept by value in their components for the same
// reason (see Rng).
func TestHotObjectsOwnTheirCacheLines(t *testing.T) {
	for _, v := range []any{Latency{}, BatchMeans{}, Model{}, Kernel{}, region{}, workload{},
		gateway{}, function{}, esm{}, table{}, topic{}, fifoTopic{}, queue{}, fifoQueue{}, router{},
		orderTracker{}, replica{}, deployment{}, hpa{}, loadBalancer{}, vmtier{}, vmHost{}, cache{},
		database{}} {
		typ := reflect.TypeOf(v)
		if c := sizeClass(typ.Size()); c%64 != 0 {
			t.Errorf("%v is %d bytes, in the %d-byte size class, not a multiple of a 64-byte cache line: pad it to %d", typ, typ.Size(), c, (typ.Size()+63)&^63)
		}
	}
	if n := cap(newFreeTimes(3)); n*8%64 != 0 {
		t.Errorf("newFreeTimes(3) holds %d times, not whole cache lines", n)
	}
}
