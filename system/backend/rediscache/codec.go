package rediscache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/headroom/headroom/system"
)

// A cached request is a small binary record rather than JSON: it is decoded on every
// hit, and a fixed layout round-trips times to the nanosecond and the payload byte for
// byte. The id is the key's, not stored again.
//
//	format byte (1) | varint version | varint processed | varint created ns | varint updated ns
//	| uvarint len(state) | state | payload (the rest; absent when empty)
const codecFormat = 1

// zeroTime stands for the zero time, which has no UnixNano.
const zeroTime = math.MinInt64

func encode(dst []byte, r *system.Request) []byte {
	dst = append(dst, codecFormat)
	dst = binary.AppendVarint(dst, r.Version)
	dst = binary.AppendVarint(dst, r.ProcessedVersion)
	dst = binary.AppendVarint(dst, nanos(r.CreatedAt))
	dst = binary.AppendVarint(dst, nanos(r.UpdatedAt))
	dst = binary.AppendUvarint(dst, uint64(len(r.State)))
	dst = append(dst, r.State...)
	return append(dst, r.Payload...)
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return zeroTime
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == zeroTime {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

var errCorrupt = errors.New("corrupt cache entry")

// decode reads what encode wrote. b is not retained: the payload is copied out of it.
func decode(id string, b []byte) (system.Request, error) {
	r := system.Request{ID: id}
	if len(b) == 0 || b[0] != codecFormat {
		return r, fmt.Errorf("cache entry %s: unknown format: %w", id, errCorrupt)
	}
	b = b[1:]
	var ints [4]int64
	for i := range ints {
		v, n := binary.Varint(b)
		if n <= 0 {
			return r, fmt.Errorf("cache entry %s: field %d: %w", id, i, errCorrupt)
		}
		ints[i], b = v, b[n:]
	}
	sl, n := binary.Uvarint(b)
	if n <= 0 || sl > uint64(len(b)-n) {
		return r, fmt.Errorf("cache entry %s: state: %w", id, errCorrupt)
	}
	b = b[n:]
	r.State, b = string(b[:sl]), b[sl:]
	r.Version, r.ProcessedVersion = ints[0], ints[1]
	r.CreatedAt, r.UpdatedAt = fromNanos(ints[2]), fromNanos(ints[3])
	if len(b) > 0 {
		r.Payload = append([]byte(nil), b...)
	}
	return r, nil
}
