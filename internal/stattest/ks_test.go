package stattest

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestKS(t *testing.T) {
	t.Parallel()
	// Samples from one distribution: large p; shifted by half a standard
	// deviation with 500 each: tiny p.
	r := rand.New(rand.NewPCG(1, 2))
	a, b, c := make([]float64, 500), make([]float64, 500), make([]float64, 500)
	for i := range a {
		a[i], b[i], c[i] = r.NormFloat64(), r.NormFloat64(), r.NormFloat64()+0.5
	}
	if _, p := KS(a, b); p < 0.01 {
		t.Errorf("same distribution: p = %g", p)
	}
	if _, p := KS(a, c); p > 1e-6 {
		t.Errorf("shifted by 0.5 sd: p = %g", p)
	}
	// Known value: the asymptotic Kolmogorov distribution at lambda = 1.36
	// is about 0.049 (the 5% critical value), here with n = m = 10^6.
	d := 1.36 / math.Sqrt(5e5)
	if p := KSPValue(d, 1_000_000, 1_000_000); math.Abs(p-0.0494) > 0.001 {
		t.Errorf("p at lambda 1.36 = %g, want about 0.049", p)
	}
	// Identical samples (D = 0): p = 1.
	if _, p := KS([]float64{3, 3, 3}, []float64{3, 3}); p != 1 {
		t.Errorf("identical samples: p = %g, want 1", p)
	}
}
