package system

import (
	"math"
	"sync"
	"time"
)

// TokenBucket is the gateway throttle: Rate tokens per second up to Burst, refilled lazily
// from the time elapsed since the last call, so an idle bucket costs nothing and no
// goroutine ticks. It is what API Gateway's account and stage limits are.
type TokenBucket struct {
	mu     sync.Mutex
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

// TokenBucketOption configures a TokenBucket.
type TokenBucketOption func(*TokenBucket)

// WithBucketClock makes the bucket read time from now instead of time.Now, so tests
// advance time without sleeping.
func WithBucketClock(now func() time.Time) TokenBucketOption {
	return func(b *TokenBucket) { b.now = now }
}

// NewTokenBucket returns a full bucket admitting rate requests per second on average and
// burst at once. A rate <= 0 means unlimited (Allow always succeeds); a burst < 1 is raised
// to 1 so a positive rate can admit anything at all.
func NewTokenBucket(rate float64, burst int, opts ...TokenBucketOption) *TokenBucket {
	b := &TokenBucket{rate: rate, burst: math.Max(float64(burst), 1), now: time.Now}
	for _, o := range opts {
		o(b)
	}
	b.tokens = b.burst
	b.last = b.now()
	return b
}

// Allow takes one token if one is available. When it is not, it returns false and how long
// until one will be, which is what a 429's Retry-After says.
func (b *TokenBucket) Allow() (ok bool, retryAfter time.Duration) {
	if b == nil || b.rate <= 0 {
		return true, 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = math.Min(b.burst, b.tokens+elapsed.Seconds()*b.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
	return false, wait
}
