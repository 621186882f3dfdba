package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The functions here format figures for people: three significant digits, SI suffixes and
// time units chosen by magnitude. They are pure functions of the value (no locale, no
// clock), so a result always renders to the same text.

// roundSig rounds x to n significant digits.
func roundSig(x float64, n int) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	e := math.Floor(math.Log10(math.Abs(x)))
	p := math.Pow(10, float64(n-1)-e)
	return math.Round(x*p) / p
}

// sig3 formats x with three significant digits and no exponent: 0.00123, 1.23, 12.3, 123,
// 1235 (digits left of the point are never dropped).
func sig3(x float64) string {
	switch {
	case math.IsNaN(x):
		return "NaN"
	case math.IsInf(x, 1):
		return "+Inf"
	case math.IsInf(x, -1):
		return "-Inf"
	case x == 0:
		return "0"
	}
	r := roundSig(x, 3)
	prec := 2 - int(math.Floor(math.Log10(math.Abs(r))))
	if prec < 0 {
		prec = 0
	}
	return strconv.FormatFloat(r, 'f', prec, 64)
}

var siSuffixes = []string{"", "k", "M", "G", "T", "P"}

// si formats x with three significant digits and an SI suffix: 950, 1.23k, 13.8M.
// Magnitudes below 1000 keep sig3's form.
func si(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return sig3(x)
	}
	neg := x < 0
	v := math.Abs(x)
	i := 0
	for i < len(siSuffixes)-1 && roundSig(v, 3) >= 1000 {
		v /= 1000
		i++
	}
	s := sig3(v) + siSuffixes[i]
	if neg {
		s = "-" + s
	}
	return s
}

// count formats a count of things: exact below 1000, then 1.23k, 13.8M.
func count(n int64) string {
	if n > -1000 && n < 1000 {
		return strconv.FormatInt(n, 10)
	}
	return si(float64(n))
}

// rate formats a per-second rate: 8.00/s, 1.85k/s.
func rate(perS float64) string { return si(perS) + "/s" }

// millis formats a duration given in milliseconds with a unit chosen by magnitude:
// 520µs, 20.5ms, 1.23s, 2m05s, 3h20m.
func millis(ms float64) string {
	switch {
	case math.IsNaN(ms) || math.IsInf(ms, 0):
		return sig3(ms)
	case ms == 0:
		return "0"
	case ms < 0:
		return "-" + millis(-ms)
	}
	if ms < 1 {
		if v := roundSig(ms*1e3, 3); v < 1000 {
			return sig3(v) + "µs"
		}
	}
	if v := roundSig(ms, 3); v < 1000 {
		return sig3(v) + "ms"
	}
	s := ms / 1e3
	if v := roundSig(s, 3); v < 60 {
		return sig3(v) + "s"
	}
	total := int64(math.Round(s))
	if total < 3600 {
		return fmt.Sprintf("%dm%02ds", total/60, total%60)
	}
	minutes := (total + 30) / 60
	return fmt.Sprintf("%dh%02dm", minutes/60, minutes%60)
}

// concurrency formats a number of concurrent things: exact up to 99999 (so a peak reads
// against its limit digit for digit), then like count.
func concurrency(n int64) string {
	if n > -100_000 && n < 100_000 {
		return strconv.FormatInt(n, 10)
	}
	return si(float64(n))
}

// span formats a span of seconds the way a scenario writes it: 24h, 1h30m, 45s, 250ms.
// Whole seconds and above are exact (to the second); below a second it is millis.
func span(s float64) string {
	if math.IsNaN(s) || math.IsInf(s, 0) {
		return sig3(s)
	}
	if s != 0 && math.Abs(s) < 1 {
		return millis(s * 1e3)
	}
	d := time.Duration(math.Round(s)) * time.Second
	out := d.String()
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
}

// percent formats a fraction (0.8 → 80.0%) with precision that keeps small shares visible.
func percent(frac float64) string {
	if math.IsNaN(frac) || math.IsInf(frac, 0) {
		return sig3(frac)
	}
	p := frac * 100
	a := math.Abs(p)
	switch {
	case p == 0:
		return "0%"
	case a >= 99.95 && a < 100:
		// Never round a share that is not all of it up to 100%.
		if s := strconv.FormatFloat(p, 'f', 3, 64); s != "100.000" && s != "-100.000" {
			return s + "%"
		}
		if p > 0 {
			return ">99.999%"
		}
		return "<-99.999%"
	case a >= 9.995:
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	case a >= 0.9995:
		return strconv.FormatFloat(p, 'f', 2, 64) + "%"
	case a >= 0.0005:
		return strconv.FormatFloat(p, 'f', 3, 64) + "%"
	case p > 0:
		return "<0.001%"
	default:
		return ">-0.001%"
	}
}

// share formats part as a percentage of whole, or "" when whole is 0.
func share(part, whole int64) string {
	if whole == 0 {
		return ""
	}
	return percent(float64(part) / float64(whole))
}

// prob formats a probability with four decimals.
func prob(p float64) string { return strconv.FormatFloat(p, 'f', 4, 64) }

// signedPercent formats a relative difference: +1.23%, -0.72%.
func signedPercent(frac float64) string {
	s := percent(frac)
	if frac > 0 {
		s = "+" + s
	}
	return s
}

// meanPM formats a mean and its confidence half-width, both of unknown unit, to the
// precision the half-width warrants (two significant digits of it) and on one SI scale:
// 204.1 ±1.7, 0.79991 ±0.00040, 11.5199M ±0.0031M.
func meanPM(mean, hw float64) (string, string) {
	if hw == 0 && math.Abs(mean) < 1e6 {
		// No spread: the figure is the same in every replication, show it as it is.
		return strconv.FormatFloat(mean, 'f', -1, 64), "±0"
	}
	if hw == 0 || math.IsNaN(hw) || math.IsInf(hw, 0) || math.IsNaN(mean) || math.IsInf(mean, 0) {
		return si(mean), "±" + sig3(hw)
	}
	hw = math.Abs(hw)
	scale, i := 1.0, 0
	if math.Abs(mean) >= 1e4 {
		for i < len(siSuffixes)-1 && math.Abs(mean)/scale >= 1000 {
			scale *= 1000
			i++
		}
	}
	prec := 1 - int(math.Floor(math.Log10(hw/scale)))
	prec = min(max(prec, 0), 12)
	suffix := siSuffixes[i]
	return strconv.FormatFloat(mean/scale, 'f', prec, 64) + suffix,
		"±" + strconv.FormatFloat(hw/scale, 'f', prec, 64) + suffix
}
