package forecast_test

import (
	"math"
	"math/rand/v2"
	"time"

	"wormwatch/forecast"
)

// noise describes synthetic background scanning seen by a sensor: no worm,
// only scanners that come and go. Every scanner is a Poisson source of
// probes into the sensor at its own rate (lognormal over scanners), times
// a daily cycle.
type noise struct {
	size      uint64        // sensor size, addresses
	days      float64       // length of the series
	interval  time.Duration // width of a row
	persist   int           // scanners active all the time
	arrivals  float64       // new transient scanners per hour (mean over a day)
	life      time.Duration // mean lifetime of a transient scanner (exponential)
	rate      float64       // median probes per hour a scanner sends into the sensor
	spread    float64       // sigma of the log of the rate over scanners
	amplitude float64       // daily cycle: activity times 1 + amplitude sin(2 pi t / day)
	// burst: at burstAt, burstN extra scanners start at once and scan for
	// burstLife (0: none).
	burstAt   time.Duration
	burstN    int
	burstLife time.Duration
	// ramp: the arrival rate grows linearly to ramp times its start by the
	// end of the series (0 or 1: flat).
	ramp float64
}

var t0 = time.Date(2001, 7, 1, 0, 0, 0, 0, time.UTC)

// generate draws the series with the given seed.
func (n noise) generate(seed uint64) *forecast.Series {
	rng := rand.New(rand.NewPCG(seed, 0x6e6f697365))
	dt := n.interval.Hours()
	rows := int(math.Round(n.days * 24 / dt))
	probes := make([]int64, rows)
	sources := make([]int64, rows)
	newSrc := make([]int64, rows)
	span := float64(rows) * dt
	cycle := func(t float64) float64 { return 1 + n.amplitude*math.Sin(2*math.Pi*t/24) }
	maxCycle := 1 + math.Abs(n.amplitude)
	// scanner follows one scanner active over [from, to) hours, by
	// thinning a Poisson process at its peak rate.
	scanner := func(from, to float64) {
		r := n.rate * math.Exp(n.spread*rng.NormFloat64())
		peak := r * maxCycle
		seen := false
		lastRow := -1
		for t := from + rng.ExpFloat64()/peak; t < to; t += rng.ExpFloat64() / peak {
			if rng.Float64()*maxCycle > cycle(t) {
				continue
			}
			i := int(t / dt)
			if i >= rows {
				break
			}
			probes[i]++
			if i != lastRow {
				sources[i]++
				lastRow = i
			}
			if !seen {
				newSrc[i]++
				seen = true
			}
		}
	}
	for range n.persist {
		scanner(0, span)
	}
	if n.arrivals > 0 {
		// Arrivals: a Poisson process of rate arrivals*cycle*ramp, thinned.
		rampAt := func(t float64) float64 {
			if n.ramp <= 1 {
				return 1
			}
			return 1 + (n.ramp-1)*t/span
		}
		peak := n.arrivals * maxCycle * math.Max(n.ramp, 1)
		for t := rng.ExpFloat64() / peak; t < span; t += rng.ExpFloat64() / peak {
			if rng.Float64()*peak > n.arrivals*cycle(t)*rampAt(t) {
				continue
			}
			scanner(t, math.Min(t+rng.ExpFloat64()*n.life.Hours(), span))
		}
	}
	if n.burstN > 0 {
		at := n.burstAt.Hours()
		for range n.burstN {
			scanner(at, math.Min(at+n.burstLife.Hours(), span))
		}
	}
	s := &forecast.Series{Name: "noise", Size: n.size, Interval: n.interval}
	var cum int64
	for i := range rows {
		cum += newSrc[i]
		s.Rows = append(s.Rows, forecast.Row{
			Time:   t0.Add(time.Duration(i) * n.interval),
			Probes: probes[i], Sources: sources[i], NewSources: newSrc[i], CumulativeSources: cum,
		})
	}
	return s
}
