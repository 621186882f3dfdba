package sim

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// The table agrees with a map through a long churn of puts and deletes — users clustered so
// that probe runs form, wrap around the end and are shifted back on deletion.
func TestUserTableAgreesWithAMap(t *testing.T) {
	var tab userTable
	ref := map[uint32]int32{}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200_000 {
		u := uint32(rng.IntN(3000))
		switch {
		case rng.IntN(3) == 0:
			tab.del(u)
			delete(ref, u)
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
