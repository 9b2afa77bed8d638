package study

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"wormwatch/ipv4"
	"wormwatch/scenario"
	"wormwatch/sensor"
	"wormwatch/sim"
)

// Seed is what one seed's run gave.
type Seed struct {
	Seed    uint64   `json:"seed"`
	Members []Member `json:"members"`
	Truth   Truth    `json:"truth"`
	Pools   []Pool   `json:"-"` // in the CSV
}

// Truth is what the estimates are compared with, from the run.
type Truth struct {
	// N is the vulnerable population at the start: hosts susceptible or
	// infected (not patched, not removed).
	N float64 `json:"n"`
	// Rate is the probes a scanning host sends per second, measured: the
	// run's probes over its host-seconds of scanning.
	Rate float64 `json:"rate_per_host"`
	// K is the growth rate per hour of the logistic model: Rate times N
	// over the space's addresses.
	K float64 `json:"k_per_hour"`
}

// Pool is one pool of members in one seed: the filter on the exact union
// of their telescopes, on the sum of their series (pool.Sum), and on each
// member's own series. A pool of one member is the member (all three are
// its series).
type Pool struct {
	Count   int // members in it
	Index   int // among the pools of Count members: members Index*Count to (Index+1)*Count-1
	Exact   Outcome
	Summed  Outcome
	Members []Outcome
}

// Outcome is what the filter made of one series: its alarm, and its
// estimates at the pool's alarm (Exact's) and the times after it.
type Outcome struct {
	Size uint64
	// Alarm is when the series' own alarm fired (the end of its
	// interval), and Infected the infected share of the vulnerable hosts
	// then; Alarmed is false when it never did.
	Alarmed  bool
	Alarm    time.Time
	Infected float64
	// Estimates are read at the pool's alarm plus Config.After (none
	// when the pool's exact series has no alarm).
	Estimates []Estimate
}

// Estimate is a series' estimates at one time.
type Estimate struct {
	After    time.Duration // after the pool's alarm
	Time     time.Time     // the end of the interval read
	OK       bool          // false when that is past the run's end
	N        float64       // the filter's N (NaN when it has none)
	NLow     float64
	NHigh    float64
	K        float64 // per hour (NaN when the filter has not started)
	TrueN    float64 // hosts susceptible or infected then
	TrueK    float64 // Truth.Rate times TrueN over the space, per hour
	Infected float64 // infected share of the vulnerable hosts then
}

// spaceOf returns the scenario's space.
func spaceOf(sc *scenario.Scenario) ipv4.Space { return ipv4.Space{Bits: sc.Space.Bits} }

// analyse builds the members' and the pools' series from the run's
// probes, runs the filter on each, and reads the alarms and estimates.
func analyse(ctx context.Context, res *sim.Result, members []Member, cfg Config) (*Seed, error) {
	for _, s := range res.Saturated {
		if name, ok := strings.CutPrefix(s, "sensor."); ok && strings.HasSuffix(name, ".record") {
			return nil, fmt.Errorf("seed %d: sensor %s recorded more than its cap of %d probes: the pooled series would be cut (use a shorter or smaller scenario)", res.Seed, strings.TrimSuffix(name, ".record"), sensor.DefaultRecordMax)
		}
	}
	b, err := newBuilder(res, members, cfg)
	if err != nil {
		return nil, err
	}
	for i := range res.Bins {
		if i%64 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err := b.bin(ctx, i); err != nil {
			return nil, fmt.Errorf("seed %d: %w", res.Seed, err)
		}
	}
	seed := &Seed{Seed: res.Seed, Members: members, Truth: truthOf(res)}
	r := reader{res: res, truth: seed.Truth, after: cfg.After}
	for _, p := range b.pools {
		at := -1
		if al := p.exact.mon.Alarm(); al != nil {
			at = al.Index
		}
		out := Pool{Count: p.count, Index: p.index, Exact: r.read(p.exact, at), Summed: r.read(p.summed, at)}
		for _, m := range p.members {
			out.Members = append(out.Members, r.read(m, at))
		}
		seed.Pools = append(seed.Pools, out)
	}
	return seed, nil
}

// truthOf measures the run's vulnerable population and scan rate.
func truthOf(res *sim.Result) Truth {
	var probes, hostSeconds float64
	prev := 0.0
	for i, b := range res.Bins {
		now := float64(b.InfectedScanning)
		if i == 0 {
			prev = now
		}
		probes += float64(b.Probes)
		hostSeconds += (prev + now) / 2 * res.BinSeconds
		prev = now
	}
	t := Truth{N: float64(res.Bins[0].Susceptible + res.Bins[0].Infected)}
	if hostSeconds > 0 {
		t.Rate = probes / hostSeconds
	}
	t.K = t.Rate * t.N / math.Ldexp(1, res.SpaceBits) * 3600
	return t
}

// reader reads outcomes against the truth of a run.
type reader struct {
	res   *sim.Result
	truth Truth
	after []time.Duration
}

// read returns a series' alarm and its estimates at the times after the
// interval at (the pool's alarm; -1: none, and no estimates).
func (r reader) read(x *built, at int) Outcome {
	out := Outcome{Size: x.size, Infected: math.NaN()}
	if al := x.mon.Alarm(); al != nil {
		out.Alarmed, out.Alarm, out.Infected = true, al.Time, r.infected(al.Index)
	}
	if at < 0 {
		return out
	}
	steps := x.mon.Steps()
	ivl := time.Duration(r.res.BinSeconds * float64(time.Second))
	nan := math.NaN()
	for _, d := range r.after {
		k := at + int(d/ivl)
		e := Estimate{After: d, Time: steps[at].Time.Add(time.Duration(k-at) * ivl), N: nan, NLow: nan, NHigh: nan, K: nan, TrueN: nan, TrueK: nan, Infected: nan}
		if k < len(steps) {
			st, bin := steps[k], r.res.Bins[k]
			e.OK = true
			e.N, e.NLow, e.NHigh, e.K = st.N, st.NLow, st.NHigh, st.K
			e.TrueN = float64(bin.Susceptible + bin.Infected)
			e.TrueK = r.truth.Rate * e.TrueN / math.Ldexp(1, r.res.SpaceBits) * 3600
			e.Infected = r.infected(k)
		}
		out.Estimates = append(out.Estimates, e)
	}
	return out
}

// infected returns the infected share of the vulnerable hosts at the end
// of bin k.
func (r reader) infected(k int) float64 {
	b := r.res.Bins[k]
	if n := b.Susceptible + b.Infected; n > 0 {
		return float64(b.Infected) / float64(n)
	}
	return math.NaN()
}
