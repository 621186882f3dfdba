package reports

import (
	"math"
	"testing"
)

func TestHumanFormats(t *testing.T) {
	cases := []struct {
		name string
		got  string
		want string
	}{
		{"count 0", count(0), "0"},
		{"count 999", count(999), "999"},
		{"count 1000", count(1000), "1.00k"},
		{"count 1234", count(1234), "1.23k"},
		{"count 99_951", count(99_951), "100k"},
		{"count 999_500", count(999_500), "1.00M"},
		{"count 13.8M", count(13_824_000), "13.8M"},
		{"count 160M", count(160_000_000), "160M"},
		{"count 1.2G", count(1_234_567_890), "1.23G"},
		{"rate 8", rate(8), "8.00/s"},
		{"rate 0.5", rate(0.5), "0.500/s"},
		{"rate 1851.9", rate(1851.9), "1.85k/s"},
		{"rate 5555.6", rate(5555.6), "5.56k/s"},
		{"millis 0", millis(0), "0"},
		{"millis 0.52", millis(0.52), "520µs"},
		{"millis 0.9996", millis(0.9996), "1.00ms"},
		{"millis 20.49", millis(20.49), "20.5ms"},
		{"millis 204.59", millis(204.59), "205ms"},
		{"millis 999.6", millis(999.6), "1.00s"},
		{"millis 1234", millis(1234), "1.23s"},
		{"millis 59_990", millis(59_990), "1m00s"},
		{"millis 125_000", millis(125_000), "2m05s"},
		{"millis 3h20m", millis(12_000_000), "3h20m"},
		{"millis 3h59m59.9s", millis(14_399_900), "4h00m"},
		{"span 24h", span(86400), "24h"},
		{"span 400h", span(400 * 3600), "400h"},
		{"span 1h30m", span(5400), "1h30m"},
		{"span 90m", span(5400), "1h30m"},
		{"span 45s", span(45), "45s"},
		{"span 10m5s", span(605), "10m5s"},
		{"span 0.25", span(0.25), "250ms"},
		{"span 0", span(0), "0s"},
		{"percent 0.8", percent(0.8), "80.0%"},
		{"percent 1", percent(1), "100.0%"},
		{"percent 0.0999", percent(0.09999), "10.0%"},
		{"percent 0.0123", percent(0.0123), "1.23%"},
		{"percent 0.0006", percent(0.0006), "0.060%"},
		{"percent tiny", percent(1e-7), "<0.001%"},
		{"percent 0", percent(0), "0%"},
		{"percent 99.991", percent(0.99991), "99.991%"},
		{"percent 99.94", percent(0.9994), "99.9%"},
		{"concurrency 1000", concurrency(1000), "1000"},
		{"concurrency 1840112", concurrency(1_840_112), "1.84M"},
		{"signed +", signedPercent(0.0123), "+1.23%"},
		{"signed -", signedPercent(-0.0072), "-0.720%"},
		{"prob", prob(0.2857142), "0.2857"},
		{"percent 99.99995", percent(0.9999995), ">99.999%"},
		{"NaN", millis(math.NaN()), "NaN"},
		{"share zero whole", share(1, 0), ""},
		{"share", share(1, 4), "25.0%"},
	}
	pm := func(mean, hw float64) string { m, h := meanPM(mean, hw); return m + " " + h }
	cases = append(cases, []struct {
		name string
		got  string
		want string
	}{
		{"pm ms", pm(204.1, 1.7), "204.1 ±1.7"},
		{"pm fraction", pm(0.79991, 0.0004), "0.79991 ±0.00040"},
		{"pm thousands", pm(5300, 41), "5300 ±41"},
		{"pm millions", pm(11_519_870, 3100), "11.5199M ±0.0031M"},
		{"pm wide", pm(12, 30), "12 ±30"},
		{"pm zero", pm(7, 0), "7 ±0"},
		{"pm zero fraction", pm(0.25, 0), "0.25 ±0"},
		{"pm zero big", pm(12_345_678, 0), "12.3M ±0"},
	}...)
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
}
