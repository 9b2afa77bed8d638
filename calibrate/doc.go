// Package calibrate fits a scenario's keys to observations: the command
// `wormwatch calibrate` (docs/calibrate.md).
//
// A calibration file (TOML, read strictly by ParseFile) names a scenario,
// free parameters (scenario keys as --set takes them, each with a prior
// and bounds) and targets (observed points or series of a documented
// summary statistic, each with an error model and a role: calibrate, in
// the distance, or validate, held out). Run performs ABC-SMC with adaptive
// tolerances (Toni et al. 2009; Del Moral, Doucet and Jasra 2012): each
// generation's tolerance is a quantile of the last one's distances, new
// particles perturb old ones with a multivariate normal kernel of twice
// their weighted covariance (Beaumont et al. 2009) in a transformed space
// (logit of the bounds, of the logarithm for log-uniform priors), and
// importance weights are prior density over the kernel mixture. Every
// simulation's seed derives from (calibration seed, generation, particle,
// attempt), so the result does not depend on the workers, and each
// generation is stored as it completes, so a stopped calibration resumes
// to the same result. Write turns the result into the posterior folder:
// posterior samples (Parquet), marginal and pair plots, posterior
// predictive bands, the validation table and report.html.
//
// Like package sweep, whose RunFunc it takes, it does not run seeds
// itself: the command line passes runner.Simulate. The ABC-SMC loop is
// written by hand (gonum gives the distributions, the covariance and the
// multivariate normal; no Go library the module uses has ABC).
package calibrate
