package sim

import (
	"testing"

	"wormwatch/scenario"
)

// BenchmarkSummer is one seed of the whole Code Red summer (codered-2001).
func BenchmarkSummer(b *testing.B) {
	sc, _, err := scenario.Load("codered-2001", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		mustRun(b, sc, uint64(i+1), EngineFast)
	}
}
