package sweep

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat"

	"wormwatch/results"
)

// Saltelli's estimators are written by hand: gonum has no sensitivity
// analysis, and they are a few lines each.

// Indices are the Sobol sensitivity indices of one factor for one output,
// with bootstrap intervals.
type Indices struct {
	S1, ST         float64 // first-order and total index
	S1Low, S1High  float64 // bootstrap interval of S1 (NaN without bootstrap)
	STLow, STHigh  float64 // bootstrap interval of ST
	S1Conf, STConf float64 // bootstrap standard errors (NaN without bootstrap)
}

// CILevel is the level of the bootstrap intervals: 95%, the 2.5% and 97.5%
// quantiles of the resampled estimates.
const CILevel = 0.95

// errNoVariance is returned when the output does not vary over A and B.
var errNoVariance = errors.New("the output does not vary over the sample: no index")

// Saltelli returns the first-order and total Sobol indices of each of the d
// factors from the outputs of Saltelli's design (Saltelli et al. 2010,
// "Variance based sensitivity analysis of model output", Computer Physics
// Communications 181, 259-270): yA[j] = f(A_j), yB[j] = f(B_j) and
// yAB[i][j] = f(A_B^(i)_j), the j-th row of A with its column i taken from
// B. With m and V the mean and variance of the outputs of A and B together,
//
//	S1_i = mean_j( (yB[j] - m) × (yAB[i][j] - yA[j]) ) / V   (their Table 2, b)
//	ST_i = mean_j( (yA[j] - yAB[i][j])^2 ) / (2 V)       (Jansen; Table 2, f)
//
// With boot > 0 the rows j are resampled with replacement boot times (a
// generator seeded with seed, so the intervals are reproducible), and each
// index gets the CILevel interval of the resampled estimates (percentile)
// and their standard deviation.
func Saltelli(yA, yB []float64, yAB [][]float64, boot int, seed uint64) ([]Indices, error) {
	n := len(yA)
	if n < 2 || len(yB) != n {
		return nil, errors.New("saltelli: want at least 2 rows, as many of B as of A")
	}
	for _, y := range yAB {
		if len(y) != n {
			return nil, errors.New("saltelli: every A_B matrix has as many rows as A")
		}
	}
	d := len(yAB)
	s1, st, err := estimate(yA, yB, yAB, nil)
	if err != nil {
		return nil, err
	}
	out := make([]Indices, d)
	for i := range out {
		out[i] = Indices{S1: s1[i], ST: st[i], S1Low: math.NaN(), S1High: math.NaN(), STLow: math.NaN(), STHigh: math.NaN(), S1Conf: math.NaN(), STConf: math.NaN()}
	}
	if boot <= 0 {
		return out, nil
	}
	rng := rand.New(rand.NewPCG(seed, 0x5a17e111))
	bs1 := make([][]float64, d)
	bst := make([][]float64, d)
	idx := make([]int, n)
	for range boot {
		for j := range idx {
			idx[j] = rng.IntN(n)
		}
		s1, st, err := estimate(yA, yB, yAB, idx)
		if err != nil {
			continue // a resample without variance: no estimate
		}
		for i := range d {
			bs1[i] = append(bs1[i], s1[i])
			bst[i] = append(bst[i], st[i])
		}
	}
	lo, hi := (1-CILevel)/2, 1-(1-CILevel)/2
	for i := range out {
		if len(bs1[i]) < 2 {
			continue
		}
		out[i].S1Conf, out[i].STConf = stat.StdDev(bs1[i], nil), stat.StdDev(bst[i], nil)
		slices.Sort(bs1[i])
		slices.Sort(bst[i])
		out[i].S1Low, out[i].S1High = results.Quantile(bs1[i], lo), results.Quantile(bs1[i], hi)
		out[i].STLow, out[i].STHigh = results.Quantile(bst[i], lo), results.Quantile(bst[i], hi)
	}
	return out, nil
}

// estimate computes the indices over the rows idx (all rows when nil).
func estimate(yA, yB []float64, yAB [][]float64, idx []int) (s1, st []float64, err error) {
	n := len(yA)
	if idx != nil {
		n = len(idx)
	}
	row := func(j int) int {
		if idx == nil {
			return j
		}
		return idx[j]
	}
	// The variance of A and B together, in one pass (Welford).
	var mean, m2 float64
	k := 0
	for j := range n {
		for _, y := range [2]float64{yA[row(j)], yB[row(j)]} {
			k++
			delta := y - mean
			mean += delta / float64(k)
			m2 += delta * (y - mean)
		}
	}
	v := m2 / float64(k-1)
	if !(v > 0) {
		return nil, nil, errNoVariance
	}
	// The outputs are centred on their mean: S1's numerator is unchanged in
	// expectation (f(A_B^(i)) and f(A) have the same mean) and its variance
	// no longer grows with the square of the mean (thousands of hosts).
	d := len(yAB)
	s1, st = make([]float64, d), make([]float64, d)
	for i := range d {
		var a, b float64
		for j := range n {
			r := row(j)
			a += (yB[r] - mean) * (yAB[i][r] - yA[r])
			diff := yA[r] - yAB[i][r]
			b += diff * diff
		}
		s1[i] = a / float64(n) / v
		st[i] = b / float64(n) / (2 * v)
	}
	return s1, st, nil
}
