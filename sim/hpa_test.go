package sim

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func defaultHPA(minR, maxR int) *hpa {
	return &hpa{minReplicas: minR, maxReplicas: maxR, tolerance: 0.1, upPercent: 100, upPods: 4, window: 300 * Second}
}

// From 2 replicas with the metric held at 4 × its target, the formula asks for 8, 24, 48,
// ... (ceil(current × 4)), and the default policy — max(100 %, 4 pods) per 15 s — lets
// through 6 (2 + 4 > 2 × 2), then 12, 24, 48: doubling once past 4 replicas; max_replicas
// caps the last step.
func TestHPAFollowsTheFormulaWithinTheScaleUpPolicy(t *testing.T) {
	h := defaultHPA(1, 50)
	current := 2
	var got []int
	for i := 1; i <= 6; i++ {
		d, _, _ := h.next(Time(i)*15*Second, current, 4)
		got = append(got, d)
		current = d
	}
	require.Equal(t, []int{6, 12, 24, 48, 50, 50}, got)

	// Without the policy's bound the formula alone: 2 → 8 → 32 → 128 (periods 1, 2, 3).
	h = defaultHPA(1, 1000)
	h.upPercent = 1e6
	current, got = 2, nil
	for i := 1; i <= 3; i++ {
		d, rec, limit := h.next(Time(i)*15*Second, current, 4)
		require.Equal(t, rec, d)
		require.Empty(t, limit)
		got = append(got, d)
		current = d
	}
	require.Equal(t, []int{8, 32, 128}, got)
}

// The reasons the HPA gives: the policy held it back, or max_replicas did.
func TestHPANamesWhatHeldItBack(t *testing.T) {
	h := defaultHPA(1, 100)
	d, rec, limit := h.next(15*Second, 10, 4)
	require.Equal(t, 40, rec)
	require.Equal(t, 20, d, "the policy allows 2 × 10")
	require.Equal(t, "scale-up policy", limit)
	h = defaultHPA(1, 30)
	d, _, limit = h.next(15*Second, 20, 4)
	require.Equal(t, 30, d)
	require.Equal(t, "max replicas", limit, "80 wanted, 30 allowed; the policy would allow 40")
}

// Within the tolerance (|ratio − 1| <= 0.1) nothing changes; outside it, it does.
func TestHPATolerance(t *testing.T) {
	h := defaultHPA(1, 100)
	d, _, _ := h.next(15*Second, 10, 1.09)
	require.Equal(t, 10, d)
	d, _, _ = h.next(30*Second, 10, 0.91)
	require.Equal(t, 10, d)
	d, _, _ = h.next(45*Second, 10, 1.2)
	require.Equal(t, 12, d)
}

// Scale-down waits out the stabilization window: 20 replicas at the target through 150 s,
// then the metric falls to half. Each evaluation recommends 10, but the window still holds
// a recommendation of 20 until the one made at 150 s is 300 s old (recommendations older
// than now − 300 s are dropped): replicas stay 20 up to 435 s and fall to 10 at 450 s.
func TestHPAScaleDownWaitsTheStabilizationWindow(t *testing.T) {
	h := defaultHPA(1, 100)
	current := 20
	for at := 15 * Second; at <= 150*Second; at += 15 * Second {
		d, _, _ := h.next(at, current, 1)
		require.Equal(t, 20, d)
	}
	for at := 165 * Second; at <= 435*Second; at += 15 * Second {
		d, rec, _ := h.next(at, current, 0.5)
		require.Equal(t, 10, rec)
		require.Equal(t, 20, d, "at %v", at)
	}
	d, _, _ := h.next(450*Second, current, 0.5)
	require.Equal(t, 10, d)
}
