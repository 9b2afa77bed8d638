package forecast

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

// TestGrowMatchesODE checks the closed form of the model against a plain
// Runge-Kutta integration of dI/dt = K I - beta I^2 in small steps.
func TestGrowMatchesODE(t *testing.T) {
	t.Parallel()
	tests := []struct{ i, k, beta, h float64 }{
		{1, 4e-4, 4e-4 / 360000, 3600},          // Code Red's K (1.47/h) over an hour, from one host
		{30000, 4e-4, 4e-4 / 360000, 7200},      // near the bend
		{300000, 4e-4, 4e-4 / 360000, 600},      // near saturation
		{500, -1e-4, 1e-9, 3600},                // decline
		{500, 0, 1e-7, 3600},                    // no growth: only the quadratic loss
		{500, 1e-12, 0, 60},                     // K close to zero
		{0, 4e-4, 1e-9, 3600},                   // no host
		{1e5, 2e-3, 2e-3 / 2e5, 10 * 3600},      // long step to saturation
		{2e5, 2e-3, 2e-3 / 1e5, 600},            // above N: falls towards it
		{100, 1e-3, 1e-3 / 1e6, 1e-3},           // tiny step
		{100, -5e-3, 0, 2 * 3600},               // pure decay
		{1, 2.6 / 3600, 2.6 / 3600 / 3e5, 3600}, // Staniford's K = 2.6/h
	}
	for _, tc := range tests {
		n := 20000
		dt := tc.h / float64(n)
		x := tc.i
		f := func(x float64) float64 { return tc.k*x - tc.beta*x*x }
		for range n {
			a := f(x)
			b := f(x + a*dt/2)
			c := f(x + b*dt/2)
			d := f(x + c*dt)
			x += dt / 6 * (a + 2*b + 2*c + d)
		}
		got := grow(tc.i, tc.k, tc.beta, tc.h)
		if math.Abs(got-x) > 1e-7*math.Max(1, math.Abs(x)) {
			t.Errorf("grow(%g, %g, %g, %g) = %.10g, integration gives %.10g", tc.i, tc.k, tc.beta, tc.h, got, x)
		}
	}
}

// TestGrowJac checks the derivatives against central differences.
func TestGrowJac(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ i, k, beta, h float64 }{
		{1000, 4e-4, 1e-9, 60}, {1000, 4e-4, 1e-9, 3600}, {5e4, 1e-3, 1e-8, 600}, {10, 1e-9, 1e-6, 60}, {10, -2e-4, 1e-6, 60}, {10, 2e-8, 1e-6, 3600},
	} {
		f, dI, dK := growJac(tc.i, tc.k, tc.beta, tc.h)
		if g := grow(tc.i, tc.k, tc.beta, tc.h); math.Abs(f-g) > 1e-9*g {
			t.Errorf("growJac value %g, grow %g", f, g)
		}
		hi, hk := 1e-4*tc.i, 1e-6*math.Max(math.Abs(tc.k), 1e-5)
		nI := (grow(tc.i+hi, tc.k, tc.beta, tc.h) - grow(tc.i-hi, tc.k, tc.beta, tc.h)) / (2 * hi)
		nK := (grow(tc.i, tc.k+hk, tc.beta, tc.h) - grow(tc.i, tc.k-hk, tc.beta, tc.h)) / (2 * hk)
		if math.Abs(dI-nI) > 1e-5*math.Abs(nI) || math.Abs(dK-nK) > 1e-5*math.Abs(nK)+1e-9 {
			t.Errorf("%+v: dI %g (numeric %g), dK %g (numeric %g)", tc, dI, nI, dK, nK)
		}
	}
}

// TestTrendGLM draws Poisson counts with a known exponential trend and
// checks the regression's estimate and that its standard error matches
// the spread of the estimates over draws.
func TestTrendGLM(t *testing.T) {
	t.Parallel()
	const k = 1.5 // per hour
	ref := time.Date(2001, 7, 19, 14, 0, 0, 0, time.UTC)
	var zs, za []float64
	for seed := uint64(1); seed <= 200; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		var rows []Row
		var cum int64
		for j := -180; j <= 0; j++ {
			// q = 1: y is just the new sources, mean 5 e^{k s}
			s := float64(j) / 60
			n := int64(distuv.Poisson{Lambda: 5 * math.Exp(k*s), Src: rng}.Rand())
			cum += n
			rows = append(rows, Row{Time: ref.Add(time.Duration(j) * time.Minute), NewSources: n, Sources: n, Probes: n, CumulativeSources: cum})
		}
		// with q = 1 the response also holds the cumulative count; use a
		// tiny q so that y is the new sources alone
		g, ok, err := trendGLM(t.Context(), rows, 0, ref, 1e-12)
		if err != nil || !ok {
			t.Fatalf("seed %d: no fit", seed)
		}
		zs = append(zs, (g.k-k)/math.Sqrt(g.vk))
		za = append(za, (g.a-math.Log(5))/math.Sqrt(g.va))
	}
	for _, c := range []struct {
		name string
		z    []float64
	}{{"K", zs}, {"a", za}} {
		var m, v float64
		for _, z := range c.z {
			m += z
		}
		m /= float64(len(c.z))
		for _, z := range c.z {
			v += (z - m) * (z - m)
		}
		sd := math.Sqrt(v / float64(len(c.z)-1))
		// The mean of 200 z-scores has standard error 0.07; the
		// dispersion factors only widen the standard error, so sd may
		// fall a little below 1 but not much above.
		if math.Abs(m) > 0.25 || sd > 1.25 || sd < 0.6 {
			t.Errorf("z-scores of %s: mean %.3f, sd %.3f; want about 0 and 1", c.name, m, sd)
		}
	}
	if _, ok, _ := trendGLM(t.Context(), []Row{{}, {}, {}}, 0, ref, 0.5); ok {
		t.Error("a fit without any source")
	}
}

// TestLogisticFit fits curves with known parameters and Poisson noise:
// the estimates must be close and the 95% intervals must cover the truth
// about as often as they claim.
func TestLogisticFit(t *testing.T) {
	t.Parallel()
	const n, k, t0, q = 200000.0, 1.4, 6.0, 0.3
	z := 1.959964
	cover := [3]int{}
	const draws = 100
	for seed := uint64(1); seed <= draws; seed++ {
		rng := rand.New(rand.NewPCG(seed, 11))
		var data []obs
		for j := 0; j <= 12*60; j += 5 {
			tt := float64(j) / 60
			m := logistic(n, k, t0, tt)
			// the bias-corrected count: Poisson sightings over q
			y := distuv.Poisson{Lambda: q * m, Src: rng}.Rand() / q
			data = append(data, obs{t: tt, y: y, n: 1})
		}
		fit, err := fitLogistic(t.Context(), data, q, 1, 1e5, z)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		for i, c := range []struct {
			iv    Interval
			truth float64
		}{{fit.N, n}, {fit.K, k}, {fit.T, t0}} {
			if c.iv.Low <= c.truth && c.truth <= c.iv.High {
				cover[i]++
			}
			if math.Abs(c.iv.Value/c.truth-1) > 0.05 {
				t.Errorf("seed %d: estimate %g, truth %g", seed, c.iv.Value, c.truth)
			}
		}
	}
	for i, c := range cover {
		// 95% of 100: a binomial count below 88 has probability < 0.001
		if c < 88 {
			t.Errorf("parameter %d: the 95%% interval covers the truth in %d of %d fits", i, c, draws)
		}
	}
}

func TestLag1(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		x    []float64
		want float64
	}{
		{[]float64{1, -1, 1, -1, 1, -1}, 0},             // negative: clamped to 0
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8}, 0.625},      // a trend: sum of lagged products over the sum of squares
		{[]float64{1, 1, 1, 1}, 0},                      // no variance
		{[]float64{1, 2}, 0},                            // too short
		{[]float64{0, 0, 0, 10, 10, 10, 10, 10}, 0.625}, // a step, same as the trend's by symmetry? see below
	} {
		got := lag1(tc.x)
		want := tc.want
		if len(tc.x) == 8 && tc.x[0] == 0 {
			// mean 6.25; deviations -6.25 x3, 3.75 x5: sum of squares
			// 3*39.0625 + 5*14.0625 = 187.5; lagged products 2*39.0625
			// - 23.4375 + 4*14.0625 = 110.9375
			want = 110.9375 / 187.5
		}
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("lag1(%v) = %g, want %g", tc.x, got, want)
		}
	}
}

// TestWakeCDF checks the closed form of the wake-up distribution against
// a numerical integration of the lognormal CDF over the uniform clock
// error, and its limits.
func TestWakeCDF(t *testing.T) {
	t.Parallel()
	r := DefaultReemergence
	r.WrongClocks = 0.2
	F, G := r.wakeCDF()
	m, s := r.WakeMedian.D().Hours(), r.WakeSigma
	ln := distuv.LogNormal{Mu: math.Log(m), Sigma: s}
	a, b := r.ClockMin.D().Hours(), r.ClockMax.D().Hours()
	prev := -1.0
	for x := -80.0; x <= 80; x += 0.5 {
		const n = 20000
		var sum float64
		for i := range n {
			e := a + (b-a)*(float64(i)+0.5)/n
			if y := x + e; y > 0 {
				sum += ln.CDF(y)
			}
		}
		want := 0.8*math.Max(0, cdf0(ln, x)) + 0.2*sum/n
		if got := F(x); math.Abs(got-want) > 1e-4 {
			t.Errorf("F(%g) = %.6f, numerical integration %.6f", x, got, want)
		}
		if F(x) < prev-1e-12 {
			t.Errorf("F decreases at %g", x)
		}
		prev = F(x)
		if got := G(x); math.Abs(got-cdf0(ln, x)) > 1e-12 {
			t.Errorf("G(%g) = %g, lognormal CDF %g", x, got, cdf0(ln, x))
		}
	}
	if F(-1000) != 0 || math.Abs(F(1000)-1) > 1e-9 {
		t.Errorf("F(-1000) = %g, F(1000) = %g", F(-1000), F(1000))
	}
}

func cdf0(ln distuv.LogNormal, x float64) float64 {
	if x <= 0 {
		return 0
	}
	return ln.CDF(x)
}
