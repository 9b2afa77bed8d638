package study

import (
	"math"
	"slices"
	"time"

	"wormwatch/scenario"
)

// Study is a finished study: what ran, each seed's series, and one line
// of the table per member count.
type Study struct {
	Scenario  string          `json:"scenario"`
	SpaceBits int             `json:"space_bits"`
	Start     time.Time       `json:"start"`
	End       time.Time       `json:"end"`
	Interval  time.Duration   `json:"-"`
	Members   int             `json:"members"`          // members of each run (the largest count)
	Slash24   int             `json:"slash24"`          // /24s per member besides its /16
	Size      uint64          `json:"member_size"`      // addresses a member watches
	Counts    []int           `json:"counts"`           // members per pool
	After     []time.Duration `json:"-"`                // in AfterHours
	AfterH    []float64       `json:"after_hours"`      // the times after an alarm the estimates are read at, in hours
	Seeds     []*Seed         `json:"seeds"`            // in seed order
	Lines     []Line          `json:"lines"`            // one per count, in increasing order
	IntervalS float64         `json:"interval_seconds"` // the width of an interval
}

// Line is one member count's figures, over its pools and their members
// in every seed. Alarm times are hours after the start; errors are
// relative (estimate / truth - 1); fractions are of the vulnerable hosts.
type Line struct {
	Count   int `json:"count"`
	Pools   int `json:"pools"`   // pools of Count members, over the seeds
	Members int `json:"members"` // their members

	PoolAlarm      Spread         `json:"pool_alarm_hours"`   // the pools' alarms
	MemberAlarm    Spread         `json:"member_alarm_hours"` // their members' own
	SumAlarm       Spread         `json:"sum_alarm_hours"`    // the pools from their members' series alone (pool.Sum)
	Earlier        Spread         `json:"earlier_minutes"`    // a member's own alarm minus its pool's, members with both
	PoolInfected   Spread         `json:"pool_infected_at_alarm"`
	MemberInfected Spread         `json:"member_infected_at_alarm"`
	Estimates      []LineEstimate `json:"estimates"` // one per time after the alarm
}

// LineEstimate are a count's relative errors of N and K at one time after
// each pool's alarm: of the pool's exact series, of its members' own
// series then, and of its summed series then.
type LineEstimate struct {
	AfterHours float64 `json:"after_hours"`
	PoolN      Spread  `json:"pool_n_error"`
	MemberN    Spread  `json:"member_n_error"`
	SumN       Spread  `json:"sum_n_error"`
	PoolK      Spread  `json:"pool_k_error"`
	MemberK    Spread  `json:"member_k_error"`
	SumK       Spread  `json:"sum_k_error"`
}

// Spread is the median and range of some figures; Missing counts those
// that are not there (no alarm; an estimate past the run's end or that
// the filter does not have).
type Spread struct {
	N       int     `json:"n"`
	Missing int     `json:"missing"`
	Median  float64 `json:"median"`
	Min     float64 `json:"min"`
	Max     float64 `json:"max"`
}

// spread returns the Spread of xs, NaN values counted as missing.
func spread(xs []float64) Spread {
	var v []float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	s := Spread{N: len(v), Missing: len(xs) - len(v), Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	if len(v) == 0 {
		return s
	}
	slices.Sort(v)
	s.Min, s.Max = v[0], v[len(v)-1]
	s.Median = v[len(v)/2]
	if len(v)%2 == 0 {
		s.Median = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return s
}

func newStudy(sc *scenario.Scenario, cfg Config, seeds []*Seed) *Study {
	s := &Study{Scenario: sc.Name, SpaceBits: sc.Space.Bits, Start: sc.Start, End: sc.End, Interval: sc.Bin.D(),
		Members: cfg.members(), Slash24: cfg.Slash24, Counts: cfg.Counts, After: cfg.After, Seeds: seeds}
	s.IntervalS = s.Interval.Seconds()
	for _, d := range cfg.After {
		s.AfterH = append(s.AfterH, d.Hours())
	}
	if len(seeds) > 0 && len(seeds[0].Pools) > 0 {
		s.Size = seeds[0].Pools[0].Members[0].Size
	}
	for _, n := range cfg.Counts {
		s.Lines = append(s.Lines, s.line(n))
	}
	return s
}

// figures gathers one count's figures from the seeds.
type figures struct {
	pool, member, sum, earlier, poolInf, memberInf []float64
	est                                            [][6][]float64 // per time after: pool, member, sum N; pool, member, sum K
}

// line returns count n's line.
func (s *Study) line(n int) Line {
	f := figures{est: make([][6][]float64, len(s.After))}
	l := Line{Count: n}
	for _, seed := range s.Seeds {
		for i := range seed.Pools {
			if p := &seed.Pools[i]; p.Count == n {
				l.Pools++
				l.Members += len(p.Members)
				f.add(s, p)
			}
		}
	}
	l.PoolAlarm, l.MemberAlarm, l.SumAlarm = spread(f.pool), spread(f.member), spread(f.sum)
	l.Earlier, l.PoolInfected, l.MemberInfected = spread(f.earlier), spread(f.poolInf), spread(f.memberInf)
	for i := range s.After {
		e := f.est[i]
		l.Estimates = append(l.Estimates, LineEstimate{AfterHours: s.AfterH[i],
			PoolN: spread(e[0]), MemberN: spread(e[1]), SumN: spread(e[2]), PoolK: spread(e[3]), MemberK: spread(e[4]), SumK: spread(e[5])})
	}
	return l
}

// add adds a pool: its exact series, its sum and its members.
func (f *figures) add(s *Study, p *Pool) {
	f.pool = append(f.pool, s.hours(&p.Exact))
	f.sum = append(f.sum, s.hours(&p.Summed))
	f.poolInf = append(f.poolInf, p.Exact.Infected)
	f.addEstimates(&p.Exact, 0)
	f.addEstimates(&p.Summed, 2)
	for i := range p.Members {
		m := &p.Members[i]
		f.member = append(f.member, s.hours(m))
		f.memberInf = append(f.memberInf, m.Infected)
		f.earlier = append(f.earlier, (s.hours(m)-s.hours(&p.Exact))*60)
		f.addEstimates(m, 1)
	}
}

// addEstimates adds a series' relative errors of N (at which) and K
// (at which+3); NaN for those it does not have.
func (f *figures) addEstimates(x *Outcome, which int) {
	for i := range f.est {
		n, k := math.NaN(), math.NaN()
		if i < len(x.Estimates) && x.Estimates[i].OK {
			e := x.Estimates[i]
			n, k = e.N/e.TrueN-1, e.K/e.TrueK-1
		}
		f.est[i][which] = append(f.est[i][which], n)
		f.est[i][which+3] = append(f.est[i][which+3], k)
	}
}

// hours returns a series' alarm in hours after the start, NaN without.
func (s *Study) hours(x *Outcome) float64 {
	if !x.Alarmed {
		return math.NaN()
	}
	return x.Alarm.Sub(s.Start).Hours()
}
