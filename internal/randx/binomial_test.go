package randx

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// logPMF is log P(X = k) for X ~ Binomial(n, p), computed independently
// of the sampler with log-gamma functions.
func logPMF(n, k int64, p float64) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p)
}

// TestBinomialMatchesPMF draws many variates per (n, p) and compares their
// histogram with the exact distribution by a chi-square test: cells of the
// support with an expected count of at least 20, the tails pooled. The test
// fails only with probability 0.001 per case if the sampler is exact.
func TestBinomialMatchesPMF(t *testing.T) {
	t.Parallel()
	cases := []struct {
		n int64
		p float64
	}{
		{1, 0.5}, {5, 0.3}, {20, 0.1}, {60, 0.15}, // inversion
		{100, 0.3}, {1000, 0.02}, {50, 0.7}, {200, 0.5}, // BTRS, and the symmetric path
		{1_000_000, 0.3}, {1_000_000_000, 1e-7}, {10_000_000, 0.5}, {37, 0.99},
	}
	const draws = 200_000
	for i, c := range cases {
		r := rand.New(rand.NewPCG(uint64(i+1), 7))
		counts := map[int64]int{}
		for range draws {
			k := Binomial(r, c.n, c.p)
			if k < 0 || k > c.n {
				t.Fatalf("Binomial(%d, %g) = %d: outside 0..n", c.n, c.p, k)
			}
			counts[k]++
		}
		mean := float64(c.n) * c.p
		sd := math.Sqrt(mean * (1 - c.p))
		lo := max(0, int64(mean-10*sd-2))
		hi := min(c.n, int64(mean+10*sd+2))
		// Cells: consecutive values, merged until each expects >= 20.
		var chi2 float64
		var cells int
		var exp float64
		var obs int
		seen := 0
		for k := lo; k <= hi; k++ {
			e := draws * math.Exp(logPMF(c.n, k, c.p))
			exp += e
			obs += counts[k]
			seen += counts[k]
			if exp >= 20 {
				chi2 += (float64(obs) - exp) * (float64(obs) - exp) / exp
				cells++
				exp, obs = 0, 0
			}
		}
		if exp > 0 { // the last partial cell joins the tail
			chi2 += (float64(obs) - exp) * (float64(obs) - exp) / math.Max(exp, 1e-9)
			cells++
		}
		if seen != draws {
			t.Fatalf("Binomial(%d, %g): %d draws beyond 10 sd of the mean", c.n, c.p, draws-seen)
		}
		df := float64(cells - 1)
		crit := distuv.ChiSquared{K: math.Max(df, 1)}.Quantile(0.999)
		if chi2 > crit {
			t.Errorf("Binomial(%d, %g): chi-square %.1f over %d cells, critical %.1f at 0.001", c.n, c.p, chi2, cells, crit)
		}
	}
}

func TestBinomialEdges(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 1))
	for _, c := range []struct {
		n    int64
		p    float64
		want int64
	}{{0, 0.5, 0}, {-3, 0.5, 0}, {10, 0, 0}, {10, -1, 0}, {10, 1, 10}, {10, 2, 10}} {
		if got := Binomial(r, c.n, c.p); got != c.want {
			t.Errorf("Binomial(%d, %g) = %d, want %d", c.n, c.p, got, c.want)
		}
	}
}

func BenchmarkBinomial(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, c := range []struct {
		name string
		n    int64
		p    float64
	}{{"np=3", 300, 0.01}, {"np=3e4", 100_000, 0.3}} {
		b.Run("randx/"+c.name, func(b *testing.B) {
			for range b.N {
				Binomial(r, c.n, c.p)
			}
		})
		b.Run("gonum/"+c.name, func(b *testing.B) {
			d := distuv.Binomial{N: float64(c.n), P: c.p, Src: rand.NewPCG(1, 1)}
			for range b.N {
				d.Rand()
			}
		})
	}
}
