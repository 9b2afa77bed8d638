package results

import (
	"math"
	"sort"
)

// Quantile is the q-quantile of sorted x by linear interpolation between
// order statistics (R's type 7, numpy's default): how the bands of a
// replay are computed over seeds (docs/output.md), so that every reader
// that takes quantiles over seeds agrees with bands.csv. It is NaN for no
// values. (gonum's stat.Quantile offers only the empirical and type-4
// definitions.)
func Quantile(x []float64, q float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	h := q * float64(len(x)-1)
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= len(x) {
		return x[len(x)-1]
	}
	return x[i] + (h-lo)*(x[i+1]-x[i])
}

// Quantiles sorts v in place and returns its 5%, 50% and 95% quantiles
// (Quantile): a band's three values at one bin.
func Quantiles(v []float64) (p05, p50, p95 float64) {
	sort.Float64s(v)
	return Quantile(v, 0.05), Quantile(v, 0.5), Quantile(v, 0.95)
}
