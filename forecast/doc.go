// Package forecast finds a worm's trend in what a sensor saw, estimates
// the outbreak and forecasts it; and it forecasts the restart of a
// dormant worm. It never imports the engine: it works on real data as on
// simulated telescopes. docs/forecast.md has the same with the figures.
//
// # Input
//
// A sensor series (ReadSeries): per interval of width D, the probes Z, the
// distinct sources S, the sources seen for the first time New, the
// cumulative count C and the sensor's size (its addresses).
//
// # Scan rate and Zou's bias correction
//
// A scanning host is seen within an interval with probability
// q = 1 - (1-p)^(eta D) (Zou et al.: p the share of the space the sensor
// covers, eta the host's probes per second). Every source seen before an
// interval still scans (the epidemic has no removal), so the sources seen
// again, S - New, are Binomial(C_{t-1}, q), and
//
//	q = sum_t (S_t - New_t) / sum_t C_{t-1}
//
// is its maximum-likelihood estimate (scanTally). Then mu = -ln(1-q)/D is
// the probes per second a host sends into the sensor, and
// eta = mu / -ln(1-p).
//
// The sensor has not yet seen every infected host. Each of the I_t - C_t
// hosts not seen by time t is seen during the next interval with
// probability q, so E[C_{t+1}] = C_t + q (I_t - C_t), which gives Zou's
// bias-corrected count
//
//	Î_t = (C_{t+1} - (1-q) C_t) / q = C_t + New_{t+1} / q,
//
// with variance (1-q)(I_t - C_t)/q (binomial sightings; the filter floors
// I - C at 1/q, one sighting's worth).
//
// # The early-warning filter
//
// Zou, Gao, Gong and Towsley (CCS 2003) estimate the infection rate alpha
// of the discrete epidemic I_t = (1+alpha) I_{t-1} - (alpha/N) I_{t-1}^2,
// the Euler step of the random constant spread equation
//
//	dI/dt = K I - beta I^2,  beta = K / N,  alpha = e^{K D} - 1.
//
// For a worm that scans uniformly, K = eta N / Omega (Omega the scanned
// space) and mu = eta size / Omega, so beta = mu / size: the quadratic
// term is known from the scan rate, and N = K / beta = K size / mu comes
// from the growth rate (Zou et al. derive N from alpha and eta the same
// way). The filter is an extended Kalman filter on the state (I, K): it
// propagates the exact solution of the equation over one interval,
//
//	I(t+D) = I e^{KD} / (1 + beta I (e^{KD} - 1) / K)
//
// (so the estimates do not depend on the interval's width, as the Euler
// step would make them), with process noise on I of the new infections
// (a Poisson count), and observes Î with the variance above. K has a
// fading memory (its variance grows by e^{D/Memory} per interval), and
// when the weighted mean of the last biasMemory normalised innovations
// leans one way by more than biasZ standard errors its variance is
// widened further, so that K follows a change instead of averaging over
// it. The filter starts once MinResightings re-sightings give q, from a
// log-linear quasi-Poisson regression of q Î on time (trendGLM) over the
// rows so far; when q's estimate moves, the hosts not yet seen are
// rescaled by q_old/q (a drifting q would read as growth).
//
// # The alarm rule
//
// A worm is declared when the estimate "settles on a positive constant"
// (Zou et al.): see AlarmRule. Growth-fold growth of the filtered infected
// count with K significantly positive and within a relative tolerance of
// its current value all along. Linear growth, daily cycles and bursts do
// not pass; the figures are in docs/forecast.md.
//
// # Long series
//
// Zou's counts are cumulative, so sources seen long ago would dwarf a new
// outbreak's. When no outbreak is under way (the filtered count has not
// doubled within Memory) for Options.Rebase, the filter restarts,
// counting only sources first seen from then on (and taking the
// re-sightings of the older ones off at their recent rate).
//
// # The logistic fit
//
// a(t) = N e^{K(t-T)} / (1 + e^{K(t-T)}) is fitted to Î over the trend
// that raised the alarm by weighted least squares (gonum/optimize, BFGS)
// on (ln N, K, T), reweighted three times with variances m/q (the
// quasi-Poisson form of the binomial sightings). Its intervals are Wald
// intervals from the Jacobian, J'WJ inverted (gonum/mat, Cholesky), times
// the residual dispersion and the AR(1) factor (1+r)/(1-r) of the lag-1
// autocorrelation r of the residuals; the interval of N is taken on ln N.
// Before the curve bends N is barely bounded and the interval says so.
//
// # Forecast
//
// The filter's final (I, K) is drawn from its normal approximation (and mu
// from its binomial one), each draw is followed with the closed form, and
// the median and the Level band of the draws are reported. The band holds
// the estimates' uncertainty, not the model's error.
//
// # Row by row
//
// A Monitor runs the same pass as Analyze one row at a time, as a live
// sensor's intervals close (package watch feeds one per series): after
// each row its steps and alarm are Analyze's on the rows so far, bit for
// bit, and its Analysis is Analyze's.
//
// # Re-emergence
//
// RunReemergence forecasts the restart of a dormant worm from the state at
// dormancy; the model is in its documentation and in docs/forecast.md.
//
// # Parameters, declared once
//
// Reemergence (the state) and Settings (the analysis's options) declare
// each parameter once, with the tags of package param: its key, default,
// bounds and doc. The state file is read by param's Loader (ReadState,
// LoadState), the commands' flags are generated from the tags
// (internal/paramcli), and so are the state in the JSON output and the
// tables of docs/forecast.md (go run ./forecast/gendoc). The rules the
// tags cannot say are Validate's.
//
// # Limits
//
// Every input is capped and every duration bounded, so that the work is
// finite and the memory bounded: a series has at most MaxRows rows, read
// from at most MaxCSVBytes in lines of at most MaxLineBytes; a state file
// has at most MaxStateBytes; files are regular files or FIFOs, never
// devices; durations are at most MaxSpan, dates from MinTime to before
// MaxTime, and a sensor's size at most MaxSensorSize and below the
// scanned space. Analyze, RunReemergence and the readers take a context
// and return its error once it is done.
package forecast
