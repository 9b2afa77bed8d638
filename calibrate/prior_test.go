package calibrate

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"wormwatch/internal/stattest"
)

func ptr(x float64) *float64 { return &x }

var testPriors = []Param{
	{Key: "u", Prior: PriorUniform, Min: ptr(-2), Max: ptr(3)},
	{Key: "lu", Prior: PriorLogUniform, Min: ptr(0.01), Max: ptr(100)},
	{Key: "n", Prior: PriorNormal, Min: ptr(0), Max: ptr(10), Mean: ptr(3), SD: ptr(2)},
	{Key: "b", Prior: PriorBeta, Min: ptr(1), Max: ptr(2), Alpha: ptr(2), Beta: ptr(5)},
}

// TestPriorDensityInZ: the prior's density in the transformed space,
// exp(logPriorZ), integrates to 1 (trapezoids over z in [-40, 40]), so the
// Jacobian of the transform is right; and toZ, fromZ are inverse.
func TestPriorDensityInZ(t *testing.T) {
	t.Parallel()
	for _, p := range testPriors {
		const lo, hi, n = -40.0, 40.0, 400_000
		h := (hi - lo) / n
		var sum float64
		for i := 0; i <= n; i++ {
			w := 1.0
			if i == 0 || i == n {
				w = 0.5
			}
			sum += w * math.Exp(p.logPriorZ(lo+float64(i)*h))
		}
		if math.Abs(sum*h-1) > 1e-4 {
			t.Errorf("%s: the density in z integrates to %g", p.Prior, sum*h)
		}
		for _, x := range []float64{0.3, 0.5, 0.9} {
			theta := p.priorDraw(x)
			if back := p.fromZ(p.toZ(theta)); math.Abs(back-theta) > 1e-9*math.Max(1, math.Abs(theta)) {
				t.Errorf("%s: fromZ(toZ(%g)) = %g", p.Prior, theta, back)
			}
		}
	}
}

// TestPriorDraws: the prior's draws (inverse distribution function) and the
// density in z agree: the draws mapped to z against draws from the density
// in z by rejection sampling, two-sample Kolmogorov-Smirnov, p > 0.001.
func TestPriorDraws(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, p := range testPriors {
		const n = 3000
		a := make([]float64, n)
		for i := range a {
			a[i] = p.toZ(p.priorDraw(rng.Float64()))
		}
		// Rejection from a uniform on [-15, 15] under the density's maximum.
		top := math.Inf(-1)
		for z := -15.0; z <= 15; z += 0.001 {
			top = max(top, p.logPriorZ(z))
		}
		var b []float64
		for len(b) < n {
			z := -15 + 30*rng.Float64()
			if math.Log(rng.Float64()) < p.logPriorZ(z)-top-1e-9 {
				b = append(b, z)
			}
		}
		sort.Float64s(a)
		if _, pv := stattest.KS(a, b); pv < 0.001 {
			t.Errorf("%s: draws and density in z disagree (KS p = %g)", p.Prior, pv)
		}
	}
}
