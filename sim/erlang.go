package sim

import "math"

// ErlangB is the blocking probability of an M/M/c/c loss system with offered load a = λ/μ
// erlangs, by the numerically stable recursion B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1)).
func ErlangB(c int, a float64) float64 {
	b := 1.0
	for k := 1; k <= c; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return b
}

// ErlangC is the probability that an arrival waits in an M/M/c queue (a < c required).
func ErlangC(c int, a float64) float64 {
	if a >= float64(c) {
		return 1
	}
	b := ErlangB(c, a)
	return float64(c) * b / (float64(c) - a*(1-b))
}

// MMc returns the mean wait in queue (seconds) and the probability of waiting of an M/M/c
// queue with arrival rate lambda and service rate mu per server.
func MMc(c int, lambda, mu float64) (wait, pWait float64) {
	a := lambda / mu
	if a >= float64(c) {
		return math.Inf(1), 1
	}
	pWait = ErlangC(c, a)
	return pWait / (float64(c)*mu - lambda), pWait
}

// MMcK returns, for an M/M/c/K queue (K places in all, servers included), the blocking
// probability, the mean wait in queue of admitted customers (seconds) and the probability
// that an admitted customer waits. The state probabilities are built by the birth–death
// recursion p(n) = p(n−1)·λ / (min(n, c)·μ), then normalised, which stays finite for any c.
func MMcK(c, k int, lambda, mu float64) (pBlock, wait, pWait float64) {
	p := make([]float64, k+1)
	p[0] = 1
	sum := 1.0
	for n := 1; n <= k; n++ {
		p[n] = p[n-1] * lambda / (float64(min(n, c)) * mu)
		sum += p[n]
	}
	var lq, waitMass float64
	for n := range p {
		p[n] /= sum
		if n > c {
			lq += float64(n-c) * p[n]
		}
		if n >= c && n < k {
			waitMass += p[n]
		}
	}
	pBlock = p[k]
	admitted := lambda * (1 - pBlock)
	if admitted > 0 {
		wait = lq / admitted
	}
	if pBlock < 1 {
		pWait = waitMass / (1 - pBlock)
	}
	return pBlock, wait, pWait
}
