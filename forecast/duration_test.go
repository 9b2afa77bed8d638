package forecast_test

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"wormwatch/forecast"
	"wormwatch/internal/param"
)

// oldParseDuration is the duration parser forecast had before the state's
// durations were read by package param (a Go duration, or a number of
// days like "3d" or "-1.5d"), kept here to check that param accepts
// everything it did.
func oldParseDuration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(strings.TrimSpace(s), "d"); ok {
		x, err := strconv.ParseFloat(d, 64)
		if err != nil || math.IsNaN(x) || math.Abs(x) > 100*365 {
			return 0, fmt.Errorf("%q is not a duration (like 90m, 2h or 3d)", s)
		}
		return time.Duration(x * 24 * float64(time.Hour)), nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (like 90m, 2h or 3d)", s)
	}
	return d, nil
}

// oldOnly reports the durations the old parser took and param does not, on
// purpose: a number of days written with an exponent or in hexadecimal
// ("1e2d", "0x1p1d"), which no one writes for a duration.
func oldOnly(s string) bool {
	days, ok := strings.CutSuffix(strings.TrimSpace(s), "d")
	return ok && strings.ContainsAny(strings.TrimLeft(days, "+-"), "eEpPxX_+-")
}

// checkSuperset fails when the old parser took s, within the bounds of
// every duration forecast reads (MaxSpan either way), and param does not,
// or reads it as another duration: param adds the days and the rest in
// float64 and rounds to the nanosecond, where the old parser truncated, so
// the two may differ by that rounding (a few nanoseconds at a year).
func checkSuperset(t *testing.T, s string) {
	t.Helper()
	old, err := oldParseDuration(s)
	if err != nil || oldOnly(s) || old > forecast.MaxSpan || old < -forecast.MaxSpan {
		return
	}
	got, err := param.ParseDuration(s)
	if err != nil {
		t.Fatalf("%q: the old parser read %s, param refuses it: %v", s, old, err)
	}
	tol := max(1, 2*time.Duration(ulp(float64(old))))
	if d := got.D() - old; d < -tol || d > tol {
		t.Fatalf("%q: the old parser read %s, param %s", s, old, got.D())
	}
}

// ulp is the gap between x and the next float64 away from zero.
func ulp(x float64) float64 {
	x = math.Abs(x)
	return math.Nextafter(x, math.Inf(1)) - x
}

var durationCorpus = []string{
	"2h", "-3d", "1.5d", "90m", "d", "3 days", "NaNd", "", "1e308d", "-0d", "Infd", " 3d ", "2562047h47m16.854775807s",
	"36500d", "-36500d", "+3d", "0", "0s", "1h30m", "-1h30m", ".5d", "5.d", "1ms", "1us", "1µs", "1ns", "+1h", "48h", "366d", "-366d",
}

// TestDurationSuperset: every duration forecast's own parser read is read
// by param's the same (but for the exponent and hexadecimal day counts of
// oldOnly), so that no state file or flag valid before is refused now.
func TestDurationSuperset(t *testing.T) {
	t.Parallel()
	for _, s := range durationCorpus {
		checkSuperset(t, s)
	}
	for _, s := range []string{"1e2d", "0x1p1d", "1E0d"} {
		if _, err := oldParseDuration(s); err != nil || !oldOnly(s) {
			t.Errorf("%q: want a day count the old parser read and param refuses (oldOnly)", s)
		}
	}
}

// FuzzDurationSuperset is TestDurationSuperset on any text.
func FuzzDurationSuperset(f *testing.F) {
	for _, s := range durationCorpus {
		f.Add(s)
	}
	f.Fuzz(checkSuperset)
}
