package conformance

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
)

// unique returns a name no other test run uses: a letter, then random hex, then a short
// tag, valid as a topic, queue or id on every backend.
func unique(t testing.TB, tag string) string {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random name: %v", err)
	}
	tag = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, strings.ToLower(tag))
	if len(tag) > 20 {
		tag = tag[:20]
	}
	return "c" + hex.EncodeToString(b[:]) + tag
}
