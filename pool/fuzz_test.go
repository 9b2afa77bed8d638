package pool

import (
	"testing"
	"time"
)

// FuzzUnion checks a Union fed any probes against the brute-force count
// of bruteForce: the bytes are read in threes, a sensor (of three; 3 and
// above closes the interval) and a source of two bytes.
func FuzzUnion(f *testing.F) {
	f.Add([]byte{0, 0, 1, 1, 0, 1, 3, 0, 0, 2, 0, 2, 0, 0, 1})
	f.Add([]byte{3, 0, 0, 3, 0, 0, 0, 255, 255})
	f.Fuzz(func(t *testing.T, data []byte) {
		var ps []probe
		interval := 0
		for i := 0; i+2 < len(data); i += 3 {
			if data[i] >= 3 {
				interval++
				continue
			}
			ps = append(ps, probe{interval, int(data[i]), uint32(data[i+1])<<8 | uint32(data[i+2])})
		}
		u := feed(t, ps, testBlocks(3), interval+1)
		want := bruteForce(ps, interval+1)
		got := u.Rows()
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("interval %d: %+v, want %+v", i, got[i], want[i])
			}
		}
		if err := u.AddAt(0, t0.Add(time.Duration(interval)*time.Minute), 1); err == nil {
			t.Fatal("a probe of a closed interval was taken")
		}
	})
}
