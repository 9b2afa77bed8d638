// Package sweep runs a scenario over many settings of its keys and says
// which of them change the outcome most: the command `wormwatch sweep`
// (docs/sweep.md).
//
// A sweep file (TOML, read strictly by ParseFile) names a scenario, the
// keys to vary (factors, as `--set` accepts them), a design (a full grid,
// a Latin hypercube, or Saltelli's Sobol design) and the outputs to report,
// taken from each run's summary (report.Summary, docs/output.md). Every
// point of the design is run for the same seeds through a RunFunc the
// caller passes (the command line: runner.Simulate, as `wormwatch run --seeds`
// runs), so that, like package replay, this package does not depend on the
// runner. Write turns the results into points.csv,
// summary.csv, sensitivity.csv (Sobol indices with bootstrap intervals),
// heat maps for two-factor grids, and sweep.json.
//
// Two pieces are written by hand because no library the module uses has
// them: the Sobol low-discrepancy sequence (Sobol, with Joe and Kuo's
// direction numbers) and Saltelli's (2010) estimators of first-order and
// total sensitivity indices.
package sweep
