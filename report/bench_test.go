package report

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"wormwatch/sim"
)

// largeResult builds a Code-Red-sized result: n infections spread over 14
// hours in increasing time order, in a 32-bit space, each (but the first 10
// seeds) infected by an earlier host, and a month of one-minute bins.
func largeResult(n, bins int) *sim.Result {
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)
	res := &sim.Result{
		Scenario: "bench", Seed: 1, Engine: "fast", Start: start, BinSeconds: 60,
		SpaceBits: 32, Variants: []string{"crv1", "crv2", "crii"},
		Bins: make([]sim.Bin, bins), Infections: make([]sim.Infection, n),
		SimulatedProbes: 1 << 40, EverInfected: int64(n), WallSeconds: 12.5, Events: int64(3 * n),
	}
	for i := range res.Bins {
		res.Bins[i] = sim.Bin{
			Time: start.Add(time.Duration(i) * time.Minute), Susceptible: rng.Int64N(1e6),
			Infected: rng.Int64N(1e6), NewInfections: rng.Int64N(3000), EverInfected: int64(i),
			Probes: rng.Int64N(1e12), SynPackets: rng.Int64N(3e12), BytesOnWire: rng.Int64N(1e15),
		}
	}
	t := 0.0
	for i := range res.Infections {
		t += rng.ExpFloat64() * 14 * 3600 / float64(n)
		inf := sim.NoInfector
		if i >= 10 {
			inf = res.Infections[rng.IntN(i)].Address
		}
		res.Infections[i] = sim.Infection{
			Seconds: t, Address: rng.Uint32(), Infector: inf,
			Variant: uint8(rng.IntN(3)), Backdoor: rng.IntN(8) == 0,
		}
	}
	return res
}

// BenchmarkWriteRun writes whole results folders; the sub-benchmarks are the
// number of infections (July 19 2001 had about 360,000 infected hosts).
func BenchmarkWriteRun(b *testing.B) {
	for _, n := range []int{360_000, 10_000_000} {
		b.Run(fmt.Sprintf("infections=%d", n), func(b *testing.B) {
			res := largeResult(n, 43_200)
			tmp := b.TempDir()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				dir := filepath.Join(tmp, fmt.Sprint("run", i))
				i++
				if err := WriteRun(dir, res, []byte("name = \"bench\"\n"), "bench"); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if fi, err := os.Stat(filepath.Join(dir, InfectionsFile)); err == nil {
					b.ReportMetric(float64(fi.Size())/float64(n), "file-bytes/infection")
				}
				if err := os.RemoveAll(dir); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}
