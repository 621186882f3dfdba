package sim

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestErlangFormulasAgainstTextbookValues(t *testing.T) {
	// M/M/10, λ = 8, μ = 1: Erlang C = 0.409180, Wq = C / (cμ − λ) = 0.204590 s.
	w, pw := MMc(10, 8, 1)
	require.InDelta(t, 0.204590, w, 1e-6)
	require.InDelta(t, 0.409180, pw, 1e-6)
	// Erlang B(37, 30) = 0.0336049235 (exact rational arithmetic: (a^c/c!) / Σ a^k/k!).
	require.InDelta(t, 0.0336049235, ErlangB(37, 30), 1e-10)
	require.InDelta(t, 0.5, ErlangB(1, 1), 1e-12)
	// M/M/c/K with K = c is the loss system.
	pb, wq, _ := MMcK(37, 37, 30, 1)
	require.InDelta(t, ErlangB(37, 30), pb, 1e-12)
	require.Zero(t, wq)
	// M/M/1/K closed form: p_K = (1−ρ)ρ^K / (1−ρ^{K+1}).
	rho := 0.9
	pb, _, _ = MMcK(1, 5, rho, 1)
	require.InDelta(t, (1-rho)*pow(rho, 5)/(1-pow(rho, 6)), pb, 1e-12)
	// A very large K converges to M/M/c.
	_, wq, pwk := MMcK(10, 2000, 8, 1)
	require.InDelta(t, w, wq, 1e-9)
	require.InDelta(t, pw, pwk, 1e-9)
}

func pow(x float64, n int) float64 {
	r := 1.0
	for i := 0; i < n; i++ {
		r *= x
	}
	return r
}
