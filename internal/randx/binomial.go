// Package randx draws binomial variates exactly and fast, from a
// *rand.Rand, without allocating. The engine and the sensors draw millions
// of them per run (packet splits per bin, multinomial counts of telescope
// sources); gonum's sampler was their largest single cost (it builds a
// rand.Rand per draw and uses a slower rejection method). Hand-written for
// that reason; gonum's distuv.Binomial remains the reference in the tests.
package randx

import (
	"math"
	"math/rand/v2"
)

// Binomial draws Binomial(n, p): by inversion through geometric gaps when
// n min(p, 1-p) < 10 (exact; expected cost n p), otherwise by Hörmann's
// BTRS transformed rejection with squeeze (exact; "The generation of
// binomial random variates", J. Statist. Comput. Simul. 46, 1993).
func Binomial(r *rand.Rand, n int64, p float64) int64 {
	if n <= 0 || p <= 0 {
		return 0
	}
	if p >= 1 {
		return n
	}
	if p > 0.5 {
		return n - Binomial(r, n, 1-p)
	}
	if float64(n)*p < 10 {
		return inversion(r, n, p)
	}
	return btrs(r, float64(n), p)
}

// inversion counts the successes among n trials by jumping from one to the
// next: the gaps are geometric.
func inversion(r *rand.Rand, n int64, p float64) int64 {
	logq := math.Log1p(-p)
	var sum, k int64
	for {
		u := 1 - r.Float64() // in (0, 1]
		g := math.Ceil(math.Log(u) / logq)
		if g < 1 {
			g = 1
		}
		if g > float64(n-sum) {
			return k
		}
		sum += int64(g)
		k++
	}
}

// stirlingTail is log(k!) - [(k + 1/2) log(k + 1) - (k + 1) + log(2 pi)/2],
// the tail of Stirling's series.
func stirlingTail(k float64) float64 {
	tail := [...]float64{
		0.0810614667953272, 0.0413406959554092, 0.0276779256849983,
		0.02079067210376509, 0.0166446911898211, 0.0138761288230707,
		0.0118967099458917, 0.0104112652619720, 0.00925546218271273,
		0.00833056343336287,
	}
	if k <= 9 {
		return tail[int(k)]
	}
	k1 := (k + 1) * (k + 1)
	return (1.0/12 - (1.0/360-1.0/1260/k1)/k1) / (k + 1)
}

func btrs(r *rand.Rand, n, p float64) int64 {
	q := 1 - p
	spq := math.Sqrt(n * p * q)
	b := 1.15 + 2.53*spq
	a := -0.0873 + 0.0248*b + 0.01*p
	c := n*p + 0.5
	vr := 0.92 - 4.2/b
	alpha := (2.83 + 5.1/b) * spq
	lpq := math.Log(p / q)
	m := math.Floor((n + 1) * p)
	h := stirlingTail(m) + stirlingTail(n-m)
	for {
		u := r.Float64() - 0.5
		v := r.Float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + c)
		if k < 0 || k > n {
			continue
		}
		if us >= 0.07 && v <= vr {
			return int64(k)
		}
		v = math.Log(v * alpha / (a/(us*us) + b))
		// log f(k)/f(m) for the binomial, through Stirling's series.
		bound := (m+0.5)*math.Log((m+1)/(n-m+1)) + (n+1)*math.Log((n-m+1)/(n-k+1)) +
			(k+0.5)*math.Log((n-k+1)/(k+1)) + (k-m)*lpq + h - stirlingTail(k) - stirlingTail(n-k)
		if v <= bound {
			return int64(k)
		}
	}
}
