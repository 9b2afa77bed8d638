package follow

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestWithinCap compares withinCap with a look at every line, on lines
// of random lengths around the cap, one of them past it or none.
func TestWithinCap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		maxLine := 1 + rng.IntN(40)
		var b []byte
		for range rng.IntN(30) {
			n := rng.IntN(maxLine + 1)
			if rng.IntN(40) == 0 {
				n = maxLine + 1 + rng.IntN(3) // past the cap
			}
			b = append(append(b, bytes.Repeat([]byte{'x'}, n)...), '\n')
		}
		want := true
		for _, l := range bytes.SplitAfter(b, []byte{'\n'}) {
			if len(l) > 0 && len(l)-1 > maxLine {
				want = false
			}
		}
		if got := withinCap(b, maxLine); got != want {
			t.Fatalf("cap %d, %q: %v, want %v", maxLine, b, got, want)
		}
	}
}
