package sim

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// The table agrees with a map through a long churn of puts, refs and deletes — users clustered so
// that probe runs form, wrap around the end and are shifted back on deletion.
func TestUserTableAgreesWithAMap(t *testing.T) {
	var tab userTable
	ref := map[uint32]int32{}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200_000 {
		u := uint32(rng.IntN(3000))
		switch rng.IntN(6) {
		case 0, 1:
			tab.del(u)
			delete(ref, u)
		case 2:
			v, ok := tab.ref(u)
			w, ok2 := ref[u]
			require.Equal(t, ok2, ok)
			require.Equal(t, w, *v) // an added user reads 0
			*v = int32(i)
			ref[u] = int32(i)
		default:
			tab.put(u, int32(i))
			ref[u] = int32(i)
		}
		if i%997 == 0 {
			require.Equal(t, len(ref), tab.len())
			for k, v := range ref {
				got, ok := tab.get(k)
				require.True(t, ok, "user %d", k)
				require.Equal(t, v, got, "user %d", k)
			}
		}
		v, ok := tab.get(u)
		w, ok2 := ref[u]
		require.Equal(t, ok2, ok)
		require.Equal(t, w, v)
	}
}

// A backlog's worth of users grows the table; once most are gone it shrinks back, keeping
// the users that remain.
func TestUserTableShrinksWhenDrained(t *testing.T) {
	var tab userTable
	for u := range uint32(100_000) {
		tab.put(u*7919, int32(u))
	}
	peak := len(tab.slots)
	for u := range uint32(100_000) {
		if u%1000 != 0 {
			tab.del(u * 7919)
		}
	}
	require.Equal(t, 100, tab.len())
	require.LessOrEqual(t, len(tab.slots), 1024, "from %d slots", peak)
	for u := range uint32(100_000) {
		v, ok := tab.get(u * 7919)
		require.Equal(t, u%1000 == 0, ok, "user %d", u*7919)
		if ok {
			require.Equal(t, int32(u), v)
		}
	}
}
