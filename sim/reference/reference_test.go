package reference

import (
	"math"
	"slices"
	"testing"
)

// plain is a small plain case at IPv4's size: K = r N / (A-1) is the
// codered2 plain case's (7 probes/s among 360,000 hosts), so half the hosts
// are infected after about 3.6 hours.
var plain = Plain{Space: 1 << 32, Hosts: 2000, Rate: 7 * 180, Horizon: 8 * 3600}

// TestRunShape: the first infection is the initial host's at 0, the times
// increase and stay within the horizon, and a long horizon infects every
// host.
func TestRunShape(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 20; seed++ {
		times := plain.Run(NewRand(seed))
		if len(times) == 0 || times[0] != 0 || len(times) > plain.Hosts {
			t.Fatalf("seed %d: %d times starting %v", seed, len(times), times[:min(len(times), 1)])
		}
		if !slices.IsSorted(times) || times[len(times)-1] > plain.Horizon {
			t.Fatalf("seed %d: times not increasing within the horizon %g (last %g)", seed, plain.Horizon, times[len(times)-1])
		}
	}
	long := plain
	long.Horizon = 1e9
	if n := len(long.Run(NewRand(1))); n != long.Hosts {
		t.Errorf("a horizon of 10^9 s infected %d hosts, want all %d", n, long.Hosts)
	}
	none := plain
	none.Rate = 0
	if got := none.Run(NewRand(1)); !slices.Equal(got, []float64{0}) {
		t.Errorf("rate 0: %v, want only the initial host", got)
	}
	one := Plain{Space: 16, Hosts: 1, Rate: 5, Horizon: 10}
	if got := one.Run(NewRand(1)); !slices.Equal(got, []float64{0}) {
		t.Errorf("one host: %v, want only the initial host", got)
	}
}

// TestMomentsAgree: over 400 runs the mean time to half the hosts agrees
// with the exact mean (a sum of exponential waits) within 4 standard errors
// of the exact variance, and a rate 10% off is told apart by the same test.
func TestMomentsAgree(t *testing.T) {
	t.Parallel()
	const runs = 400
	m := plain.Hosts / 2
	long := plain
	long.Horizon = math.MaxFloat64
	mean, variance := long.Moments(m)
	se := math.Sqrt(variance / runs)
	sample := func(p Plain) float64 {
		sum := 0.0
		for seed := uint64(1); seed <= runs; seed++ {
			sum += p.Run(NewRand(seed))[m-1]
		}
		return sum / runs
	}
	got := sample(long)
	t.Logf("time to %d of %d hosts: mean %.1f s over %d runs, exact %.1f s, sd %.1f s, se %.1f s", m, plain.Hosts, got, runs, mean, math.Sqrt(variance), se)
	if math.Abs(got-mean) > 4*se {
		t.Errorf("mean time to half %.1f s, exact %.1f s: more than 4 standard errors (%.1f s) apart", got, mean, 4*se)
	}
	faster := long
	faster.Rate *= 1.1
	if got := sample(faster); math.Abs(got-mean) <= 4*se {
		t.Errorf("a 10%% faster worm (mean %.1f s) is not told from the exact mean %.1f s (4 se = %.1f s)", got, mean, 4*se)
	}
}

// TestInfectedAt counts the infections at or before each time.
func TestInfectedAt(t *testing.T) {
	t.Parallel()
	times := []float64{0, 1, 1, 2.5, 7}
	got := InfectedAt(times, []float64{-1, 0, 0.5, 1, 3, 7, 100})
	if want := []int{0, 1, 1, 3, 4, 5, 5}; !slices.Equal(got, want) {
		t.Errorf("InfectedAt = %v, want %v", got, want)
	}
}

// TestCheck refuses what cannot be simulated.
func TestCheck(t *testing.T) {
	t.Parallel()
	if err := plain.Check(); err != nil {
		t.Errorf("the plain case: %v", err)
	}
	for _, p := range []Plain{
		{Space: 16, Hosts: 0, Rate: 1, Horizon: 1},
		{Space: 16, Hosts: 17, Rate: 1, Horizon: 1},
		{Space: math.NaN(), Hosts: 1, Rate: 1, Horizon: 1},
		{Space: 16, Hosts: 2, Rate: -1, Horizon: 1},
		{Space: 16, Hosts: 2, Rate: math.Inf(1), Horizon: 1},
		{Space: 16, Hosts: 2, Rate: 1, Horizon: math.NaN()},
	} {
		if err := p.Check(); err == nil {
			t.Errorf("%+v: no error", p)
		}
	}
}

// BenchmarkPlain20 runs seeds 1-20 of issue 11's plain case (360,000 hosts
// in 2^32 at 7 probes/s for 8 hours), as `wormwatch bench`'s
// plain-reference case does; runner's BenchmarkPlain20 is the engine's.
func BenchmarkPlain20(b *testing.B) {
	p := Plain{Space: 1 << 32, Hosts: 360000, Rate: 7, Horizon: 8 * 3600}
	b.ReportAllocs()
	for b.Loop() {
		for seed := uint64(1); seed <= 20; seed++ {
			if len(p.Run(NewRand(seed))) < 2 {
				b.Fatal("no infection")
			}
		}
	}
}
