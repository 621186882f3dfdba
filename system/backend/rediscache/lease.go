package rediscache

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// fillScript sets the value only while the caller's lease holds, and ends the lease.
// KEYS[1] value key, KEYS[2] lease key; ARGV[1] token, ARGV[2] value, ARGV[3] TTL in ms.
// Returns 1 when it filled, 0 when the lease was gone or another's.
var fillScript = redis.NewScript(`
if redis.call('GET', KEYS[2]) == ARGV[1] then
	redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
	redis.call('DEL', KEYS[2])
	return 1
end
return 0`)

// releaseScript ends the caller's lease without filling (the backing read failed or found
// nothing), so the next reader may take it at once. Same keys and token as fillScript.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[2]) == ARGV[1] then
	return redis.call('DEL', KEYS[2])
end
return 0`)

// Lease tokens must never repeat while a lease could live: a random per-process prefix
// and a counter make them unique across processes without a random read per miss.
var (
	tokenPrefix = newTokenPrefix()
	tokenSeq    atomic.Uint64
)

func newTokenPrefix() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("rediscache: reading a random token prefix: %v", err))
	}
	return strconv.FormatUint(binary.LittleEndian.Uint64(b[:]), 36) + ":"
}

func newToken() string {
	return tokenPrefix + strconv.FormatUint(tokenSeq.Add(1), 36)
}
