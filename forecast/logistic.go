package forecast

import (
	"context"
	"errors"
	"math"
	"time"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// Logistic is a fit of the random constant spread curve
//
//	a(t) = N e^{K(t-T)} / (1 + e^{K(t-T)})
//
// to the bias-corrected counts of infected hosts, by weighted nonlinear
// least squares (see the package documentation for the weights and the
// intervals).
type Logistic struct {
	From, To time.Time // the fitted window: starts of its first and last observations
	Points   int       // observations fitted (after merging, see maxFitPoints)
	N        Interval  // hosts the curve saturates at
	K        Interval  // growth rate per hour
	T        Interval  // midpoint, hours after From
	Midpoint time.Time // From + T
	// Dispersion is the weighted residual variance: 1 when the counts
	// vary as binomial sightings alone, more when the epidemic's own
	// randomness and model error add to them.
	Dispersion float64
	// Lag1 is the lag-1 autocorrelation of the weighted residuals; the
	// intervals are widened by sqrt((1+Lag1)/(1-Lag1)) for it.
	Lag1 float64
}

// maxFitPoints caps the observations of a fit: longer windows are merged
// into this many groups of consecutive intervals (averaging the counts),
// which keeps a fit over a year of minutes well under a second.
const maxFitPoints = 4000

// obs is one observation for the fit: time in hours from the window start,
// the bias-corrected count, and its weight's scale.
type obs struct {
	t, y float64
	n    float64 // intervals merged into it
}

// fitLogistic fits the curve to the observations, starting from the
// guesses k0 (per hour) and n0, with variance v(m) = m / q per interval
// (binomial sightings of the hosts not yet seen, scaled). z sets the width
// of the intervals. The optimiser checks ctx at every evaluation; the
// error is then ctx's.
func fitLogistic(ctx context.Context, data []obs, q, k0, n0, z float64) (*Logistic, error) {
	theta, err := logisticStart(data, k0, n0)
	if err != nil {
		return nil, err
	}
	lp := &logisticProblem{data: data, q: q, w: make([]float64, len(data))}
	// Iteratively reweighted least squares: the weights come from the
	// previous fit's curve, as quasi-likelihood estimation does.
	lp.setWeights(theta)
	prob := lp.problem(ctx)
	for pass := 0; pass < 3; pass++ {
		res, err := optimize.Minimize(prob, theta, &optimize.Settings{GradientThreshold: 1e-9, MajorIterations: 500}, &optimize.BFGS{})
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err != nil && res == nil {
			return nil, err
		}
		theta = res.X
		if math.IsNaN(theta[0]) || math.IsNaN(theta[1]) || math.IsNaN(theta[2]) {
			return nil, errors.New("the fit did not converge")
		}
		lp.setWeights(theta)
	}
	return lp.intervals(theta, z), nil
}

// logisticStart returns the starting point (ln N, K, T) of the fit: n0 and
// k0 when they are plausible (else twice the largest count, and 1 per
// hour), and the midpoint that puts the curve through the last count.
func logisticStart(data []obs, k0, n0 float64) ([]float64, error) {
	if len(data) < 4 {
		return nil, errors.New("fewer than 4 observations")
	}
	last := data[len(data)-1]
	ymax := 0.0
	for _, o := range data {
		ymax = math.Max(ymax, o.y)
	}
	if ymax <= 0 {
		return nil, errors.New("no infected host observed")
	}
	if !(k0 > 0) {
		k0 = 1
	}
	if !(n0 > ymax) {
		n0 = 2 * ymax
	}
	yl := math.Max(last.y, 1)
	if yl >= n0 {
		yl = n0 / 2
	}
	t0 := last.t - math.Log(yl/(n0-yl))/k0
	return []float64{math.Log(n0), k0, t0}, nil
}

// logisticProblem is the weighted least squares of the fit, on
// theta = (ln N, K, T), with weights w from the last curve.
type logisticProblem struct {
	data []obs
	q    float64
	w    []float64
}

// setWeights sets the weights from the curve of th: the intervals merged
// into an observation times q over the curve's count (at least 1).
func (lp *logisticProblem) setWeights(th []float64) {
	n, k, t := math.Exp(th[0]), th[1], th[2]
	for i, o := range lp.data {
		lp.w[i] = o.n * lp.q / math.Max(logistic(n, k, t, o.t), 1)
	}
}

// problem returns the objective and its gradient for the optimiser, which
// stops once ctx is done.
func (lp *logisticProblem) problem(ctx context.Context) optimize.Problem {
	return optimize.Problem{
		Status: func() (optimize.Status, error) {
			if err := ctx.Err(); err != nil {
				return optimize.Failure, err
			}
			return optimize.NotTerminated, nil
		},
		Func: func(th []float64) float64 {
			n, k, t := math.Exp(th[0]), th[1], th[2]
			var s float64
			for i, o := range lp.data {
				r := o.y - logistic(n, k, t, o.t)
				s += lp.w[i] * r * r
			}
			return s
		},
		Grad: func(g, th []float64) {
			n, k, t := math.Exp(th[0]), th[1], th[2]
			g[0], g[1], g[2] = 0, 0, 0
			for i, o := range lp.data {
				m := logistic(n, k, t, o.t)
				r := o.y - m
				d := m * (1 - m/n)
				c := -2 * lp.w[i] * r
				g[0] += c * m
				g[1] += c * d * (o.t - t)
				g[2] += c * -k * d
			}
		},
	}
}

// intervals returns the fit at theta with its intervals: the covariance
// (J' W J)^-1 on (ln N, K, T) times the dispersion, widened for the
// residuals' lag-1 autocorrelation; z sets the width. A bound the data do
// not limit is infinite.
func (lp *logisticProblem) intervals(theta []float64, z float64) *Logistic {
	data, w := lp.data, lp.w
	n, k, t := math.Exp(theta[0]), theta[1], theta[2]
	jtj := mat.NewSymDense(3, nil)
	var rss float64
	res := make([]float64, len(data))
	for i, o := range data {
		m := logistic(n, k, t, o.t)
		d := m * (1 - m/n)
		j := [3]float64{m, d * (o.t - t), -k * d}
		for a := 0; a < 3; a++ {
			for b := a; b < 3; b++ {
				jtj.SetSym(a, b, jtj.At(a, b)+w[i]*j[a]*j[b])
			}
		}
		r := o.y - m
		rss += w[i] * r * r
		res[i] = math.Sqrt(w[i]) * r
	}
	disp := rss / float64(max(len(data)-3, 1))
	rho := lag1(res)
	var cov mat.SymDense
	var ch mat.Cholesky
	fit := &Logistic{Points: len(data), Dispersion: disp, Lag1: rho}
	inf := math.Inf(1)
	se := [3]float64{inf, inf, inf}
	if ch.Factorize(jtj) {
		if err := ch.InverseTo(&cov); err == nil {
			scale := disp * (1 + rho) / (1 - rho)
			for a := 0; a < 3; a++ {
				if v := cov.At(a, a) * scale; v >= 0 {
					se[a] = math.Sqrt(v)
				}
			}
		}
	}
	fit.N = Interval{n, math.Exp(theta[0] - z*se[0]), math.Exp(theta[0] + z*se[0])}
	if se[0] == inf {
		fit.N.Low = 0
	}
	fit.K = Interval{k, k - z*se[1], k + z*se[1]}
	fit.T = Interval{t, t - z*se[2], t + z*se[2]}
	return fit
}

// lag1 returns the lag-1 autocorrelation of x, clamped to [0, 0.95] so
// that it only ever widens intervals, and by a bounded factor.
func lag1(x []float64) float64 {
	if len(x) < 3 {
		return 0
	}
	var mean float64
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	var num, den float64
	for i, v := range x {
		d := v - mean
		den += d * d
		if i > 0 {
			num += d * (x[i-1] - mean)
		}
	}
	if den == 0 {
		return 0
	}
	return math.Min(math.Max(num/den, 0), 0.95)
}
