package thousands

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// reference is the hand-written grouping the packages used before this
// one: every digit kept, a comma before each group of three from the right.
func reference(digits string) string {
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(digits, "-")
	var b strings.Builder
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func TestInt(t *testing.T) {
	for _, n := range []int64{0, 1, -1, 12, 999, 1000, -1000, 9999, 12345, 123456, 1234567, -1234567, 359104, math.MaxInt64, math.MinInt64} {
		want := reference(strconv.FormatInt(n, 10))
		if got := Int(n); got != want {
			t.Errorf("Int(%d) = %q, want %q", n, got, want)
		}
	}
	if got := Int(359104); got != "359,104" {
		t.Errorf("Int(359104) = %q", got)
	}
}

func TestRound(t *testing.T) {
	for _, c := range []struct {
		x    float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "0"}, {-0.4, "0"}, {0.5, "1"}, {-0.5, "-1"}, {2.5, "3"}, {999.5, "1,000"},
		{359104.2, "359,104"}, {-1234567.8, "-1,234,568"}, {1e20, "100,000,000,000,000,000,000"},
		{math.NaN(), "NaN"}, {math.Inf(1), "+Inf"}, {math.Inf(-1), "-Inf"},
	} {
		if got := Round(c.x); got != c.want {
			t.Errorf("Round(%v) = %q, want %q", c.x, got, c.want)
		}
	}
	// Every digit of a large value, as strconv writes it.
	for _, x := range []float64{1 << 62, 1 << 63, 3.4e11, 1e300, -1e25} {
		want := reference(strconv.FormatFloat(math.Round(x), 'f', 0, 64))
		if got := Round(x); got != want {
			t.Errorf("Round(%g) = %q, want %q", x, got, want)
		}
	}
}
