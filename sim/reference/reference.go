// Package reference is a minimal exact simulator of the plain case, written
// apart from the engine (package sim) to check it and to measure it against:
// uniform random scanning over a space of A addresses, N vulnerable hosts
// at distinct addresses, every infected host sending probes at a fixed rate
// r, one host infected at the start, no defences and no calendar.
//
// The model is the engine's (docs/architecture.md): each infected host is a
// Poisson source of probes at rate r, each probe going to an address drawn
// uniformly among the A-1 addresses other than the host's own. A probe that
// reaches a susceptible host infects it at once, and the new host scans at
// once; a probe that reaches an infected host, or no host, changes nothing.
// With I hosts infected, the probes that infect therefore form a Poisson
// process of rate r I (N-I) / (A-1), constant until the next infection, so
// the time to the next infection is exponential with that rate (Gillespie's
// direct method, stepping on infections only). Where the hosts are placed
// does not matter to uniform scanning, nor which host infects which, so the
// simulator keeps only the count. Time is continuous.
//
// It uses the standard library only (math/rand/v2), nothing of the module.
package reference

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// Plain is one plain case.
type Plain struct {
	Space   float64 // addresses in the space, A (2^32 for IPv4)
	Hosts   int     // vulnerable hosts, N
	Rate    float64 // probes per second of one infected host, r
	Horizon float64 // seconds simulated from the start
}

// Check reports a case the simulator cannot run.
func (p Plain) Check() error {
	switch {
	case p.Hosts < 1:
		return fmt.Errorf("reference: %d hosts; want at least 1", p.Hosts)
	case !(p.Space >= float64(p.Hosts)) || math.IsInf(p.Space, 0):
		return fmt.Errorf("reference: a space of %g addresses cannot hold %d hosts", p.Space, p.Hosts)
	case !(p.Rate >= 0) || math.IsInf(p.Rate, 0):
		return fmt.Errorf("reference: rate %g; want a finite rate of at least 0", p.Rate)
	case !(p.Horizon >= 0) || math.IsInf(p.Horizon, 0):
		return errors.New("reference: the horizon must be finite and at least 0")
	}
	return nil
}

// stream tells the reference's random stream from any other stream of the
// same seed (the first 64 bits of the fraction of the square root of 2).
const stream = 0x6a09e667f3bcc908

// NewRand returns the random stream of seed for Run.
func NewRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }

// Run simulates one outbreak and returns the time of every infection up to
// the horizon, in seconds from the start, in increasing order: the first
// is the initial host's, 0. The i-th time (from 1) is when i hosts had been
// infected.
func (p Plain) Run(rng *rand.Rand) []float64 {
	times := make([]float64, 1, p.Hosts)
	t := 0.0
	for i := 1; i < p.Hosts; i++ {
		t += rng.ExpFloat64() / p.rate(i)
		if t > p.Horizon {
			break
		}
		times = append(times, t)
	}
	return times
}

// rate is the rate of infecting probes with i hosts infected.
func (p Plain) rate(i int) float64 {
	return p.Rate * float64(i) * float64(p.Hosts-i) / (p.Space - 1)
}

// Moments returns the mean and the variance of the time at which m hosts
// have been infected (1 <= m <= Hosts), with no horizon: the sum of m-1
// independent exponential waits, of means 1/rate(i) for i = 1 .. m-1.
func (p Plain) Moments(m int) (mean, variance float64) {
	for i := 1; i < m; i++ {
		w := 1 / p.rate(i)
		mean += w
		variance += w * w
	}
	return mean, variance
}

// InfectedAt returns, for each time of grid, the hosts infected by then
// (infections at or before it), from the increasing times Run returned.
func InfectedAt(times, grid []float64) []int {
	out := make([]int, len(grid))
	for k, g := range grid {
		out[k] = sort.Search(len(times), func(i int) bool { return times[i] > g })
	}
	return out
}
