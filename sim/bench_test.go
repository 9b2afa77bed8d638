package sim

import (
	"testing"
	"time"

	"wormwatch/scenario"
)

// BenchmarkUniform360k is one CRv2-sized outbreak: 2^32 addresses, 360,000
// hosts, uniform scanning at 10 probes/s, 8 simulated hours, 1-minute bins.
func BenchmarkUniform360k(b *testing.B) {
	sc := testScenario(32, 360000, "uniform", 10, 8*time.Hour)
	b.ReportAllocs()
	var probes int64
	for i := 0; i < b.N; i++ {
		res := mustRun(b, sc, uint64(i+1), EngineFast)
		probes += res.SimulatedProbes
	}
	b.ReportMetric(float64(probes)/b.Elapsed().Seconds(), "probes/s")
}

// BenchmarkCodeRed2 is the built-in codered2-july19 at full scale.
func BenchmarkCodeRed2(b *testing.B) {
	sc, _, err := scenario.Load("codered2-july19", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var probes int64
	for i := 0; i < b.N; i++ {
		res := mustRun(b, sc, uint64(i+1), EngineFast)
		probes += res.SimulatedProbes
	}
	b.ReportMetric(float64(probes)/b.Elapsed().Seconds(), "probes/s")
}
