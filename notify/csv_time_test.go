package notify

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestAppendTime compares appendTime with time's own formatting.
func TestAppendTime(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 100_000 {
		tm := time.Unix(r.Int64N(300_000_000_000)-62_000_000_000, r.Int64N(1e9)).In(time.FixedZone("x", 3600*(r.IntN(25)-12)))
		if got, want := string(appendTime(nil, tm)), tm.UTC().Format(shadowTime); got != want {
			t.Fatalf("%v: %q, want %q", tm, got, want)
		}
	}
}
