package scenarios

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// A duration is written either as a duration string under the bare key ("timeout: 30s") or
// as a bare number under the key with a unit suffix ("timeout_s: 30"). These are the
// suffixes, in the order they are suggested.
var durationUnits = []struct {
	suffix string
	unit   time.Duration
}{
	{"_ms", time.Millisecond},
	{"_s", time.Second},
	{"_us", time.Microsecond},
	{"_m", time.Minute},
	{"_h", time.Hour},
}

// splitUnit splits key into its stem and duration unit, if it ends with a unit suffix.
func splitUnit(key string) (stem string, unit time.Duration, ok bool) {
	for _, u := range durationUnits {
		if s, found := strings.CutSuffix(key, u.suffix); found && s != "" {
			return s, u.unit, true
		}
	}
	return key, 0, false
}

// unitName is the suffix of a unit, for messages.
func unitName(u time.Duration) string {
	if u == 24*time.Hour {
		return "d"
	}
	for _, x := range durationUnits {
		if x.unit == u {
			return strings.TrimPrefix(x.suffix, "_")
		}
	}
	return u.String()
}

// parseDuration parses a duration string: Go's syntax ("1h30m", "250ms", "1.5h"), plus a
// day suffix ("2d") because horizons are often whole days.
func parseDuration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		f, err := strconv.ParseFloat(d, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return scaleDuration(f, 24*time.Hour)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	return d, nil
}

// scaleDuration returns x units, refusing what does not fit in a time.Duration.
func scaleDuration(x float64, unit time.Duration) (time.Duration, error) {
	v := x * float64(unit)
	if math.IsNaN(v) || math.Abs(v) >= math.MaxInt64 {
		return 0, fmt.Errorf("%g %s is too large (at most about 292 years)", x, unitName(unit))
	}
	return time.Duration(math.Round(v)), nil
}
