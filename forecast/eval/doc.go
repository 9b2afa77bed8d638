// Package eval holds the acceptance test of package forecast on
// simulated Code Red telescopes: it runs the engine (which package forecast
// must never import) to make the series, then checks the criteria
// over many seeds: the alarm before 5% of the vulnerable hosts are
// infected, and the vulnerable population N within 20% by the time 10%
// are, for a /8 and a /16 telescope.
//
// EVAL_SEEDS=100 go test ./forecast/eval -run TestCodeRedTelescopes -v
// runs more seeds and prints the figures for BENCHMARKS.md.
package eval
