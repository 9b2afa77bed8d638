package pool

import (
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkUnionAdd counts probes into a union of 20 sensors from 360,000
// sources at random (Code Red's hosts), 1,600 probes an interval (a /16's
// at the peak of 19 July): ns/op is per probe.
func BenchmarkUnionAdd(b *testing.B) {
	const sources, perInterval = 360_000, 1_600
	rng := rand.New(rand.NewPCG(1, 2))
	srcs := make([]uint32, 1<<20)
	for i := range srcs {
		srcs[i] = rng.Uint32N(sources) * 2654435761
	}
	u, err := NewUnion(testBlocks(20), t0, time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i += perInterval {
		n := min(perInterval, b.N-i)
		j := i % (len(srcs) - perInterval)
		u.Add(i%20, srcs[j:j+n]...)
		u.Close()
	}
}
