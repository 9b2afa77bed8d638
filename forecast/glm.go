package forecast

import (
	"context"
	"math"
	"time"
)

// glmFit is a log-linear quasi-Poisson regression of q times Zou's
// bias-corrected count, y = q C_{t-1} + new_t, whose mean is q I_t, on
// time: q I_t = e^{a + k s}, s in hours from the reference time. (Its
// variance, q (1-q) (I - C), is at most its mean, so the Poisson score
// gives consistent estimates, and the dispersion below scales the
// variances.) va, vk and cak are the variances and covariance of a and k,
// scaled by the dispersion (Pearson chi-square over the degrees of freedom, at least 1,
// times the AR(1) factor of the residuals).
type glmFit struct {
	a, k, va, vk, cak float64
}

// trendGLM fits the regression to rows, from the first row with a new
// source on, by Newton's method, with cBase sources taken off every
// cumulative count (those seen before the filter's base). With two
// parameters the Hessian is a 2x2 matrix inverted in closed form; a
// general optimiser would add nothing but allocations. It fails (ok false)
// with fewer than three rows or three sources to fit, or when the
// iteration does not settle. It checks ctx at every iteration; the error
// is ctx's, once it is done.
func trendGLM(ctx context.Context, rows []Row, cBase int64, ref time.Time, q float64) (fit glmFit, ok bool, err error) {
	s, y, ok := glmData(rows, cBase, ref, q)
	if !ok {
		return glmFit{}, false, nil
	}
	a, k, ok, err := glmNewton(ctx, s, y)
	if !ok || err != nil {
		return glmFit{}, false, err
	}
	fit, ok = glmCovariance(s, y, a, k)
	return fit, ok, nil
}

// glmData returns the regression's data: the times s in hours from ref and
// the responses y, from the first row with a new source on; ok is false
// with fewer than three such rows or three sources in all.
func glmData(rows []Row, cBase int64, ref time.Time, q float64) (s, y []float64, ok bool) {
	first := -1
	var total int64
	for i, r := range rows {
		if r.NewSources > 0 && first < 0 {
			first = i
		}
		total += r.NewSources
	}
	if first < 0 || len(rows)-first < 3 || total < 3 {
		return nil, nil, false
	}
	rows = rows[first:]
	s = make([]float64, len(rows))
	y = make([]float64, len(rows))
	for i, r := range rows {
		s[i] = r.Time.Sub(ref).Hours()
		y[i] = q*float64(r.CumulativeSources-cBase-r.NewSources) + float64(r.NewSources)
	}
	return s, y, true
}

// glmNewton maximises the Poisson likelihood of y = e^{a + k s} by
// Newton's method from a flat start, halving a step until the likelihood
// does not fall; ok is false when the Hessian is singular or the estimate
// is not finite. It checks ctx at every iteration.
func glmNewton(ctx context.Context, s, y []float64) (a, k float64, ok bool, err error) {
	var mean float64
	for _, v := range y {
		mean += v
	}
	mean /= float64(len(y))
	a, k = math.Log(mean), 0.0
	loglik := func(a, k float64) float64 {
		var l float64
		for i := range y {
			eta := a + k*s[i]
			l += y[i]*eta - math.Exp(eta)
		}
		return l
	}
	cur := loglik(a, k)
	for iter := 0; iter < 100; iter++ {
		if err := ctx.Err(); err != nil {
			return 0, 0, false, err
		}
		var g0, g1, h00, h01, h11 float64
		for i := range y {
			m := math.Exp(a + k*s[i])
			d := y[i] - m
			g0 += d
			g1 += d * s[i]
			h00 += m
			h01 += m * s[i]
			h11 += m * s[i] * s[i]
		}
		det := h00*h11 - h01*h01
		if !(det > 0) {
			return 0, 0, false, nil
		}
		da := (h11*g0 - h01*g1) / det
		dk := (h00*g1 - h01*g0) / det
		// Halve the step until the likelihood does not fall.
		step := 1.0
		var na, nk, nl float64
		for j := 0; j < 30; j++ {
			na, nk = a+step*da, k+step*dk
			nl = loglik(na, nk)
			if nl >= cur-1e-12 {
				break
			}
			step /= 2
		}
		conv := math.Abs(na-a) < 1e-9 && math.Abs(nk-k) < 1e-9
		a, k, cur = na, nk, nl
		if conv {
			break
		}
	}
	if math.IsNaN(a) || math.IsNaN(k) || math.IsInf(k, 0) {
		return 0, 0, false, nil
	}
	return a, k, true, nil
}

// glmCovariance returns the fit (a, k) with its variances, scaled by the
// dispersion: Pearson's chi-square over the degrees of freedom (at least
// 1), times the AR(1) factor of the residuals; ok is false when the
// Hessian is singular.
func glmCovariance(s, y []float64, a, k float64) (glmFit, bool) {
	var chi2, h00, h01, h11 float64
	pearson := make([]float64, len(y))
	for i := range y {
		m := math.Exp(a + k*s[i])
		d := y[i] - m
		chi2 += d * d / m
		pearson[i] = d / math.Sqrt(m)
		h00 += m
		h01 += m * s[i]
		h11 += m * s[i] * s[i]
	}
	det := h00*h11 - h01*h01
	if !(det > 0) {
		return glmFit{}, false
	}
	disp := 1.0
	if n := len(y) - 2; n > 0 {
		disp = math.Max(chi2/float64(n), 1)
	}
	// Residuals that run in streaks (an early phase that went faster or
	// slower than the exponential, by chance) carry less information than
	// independent ones: widen by the AR(1) factor, as the logistic fit does.
	rho := lag1(pearson)
	disp *= (1 + rho) / (1 - rho)
	return glmFit{a: a, k: k, va: disp * h11 / det, vk: disp * h00 / det, cak: -disp * h01 / det}, true
}
