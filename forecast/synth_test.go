package forecast_test

import (
	"math"
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"wormwatch/forecast"
)

// outbreak describes a synthetic uniform-scanning worm seen by a sensor,
// independent of the package's own model code: the epidemic is a
// stochastic SI process in small steps (new infections Poisson with mean
// K I (1 - I/N) per unit of time), each infected host probes the sensor as
// a Poisson source of rate mu, and the sensor reports probes, distinct
// sources, first sightings and the cumulative count, drawn host class by
// host class (not yet seen, seen before) from those Poisson processes.
type outbreak struct {
	n        float64       // vulnerable hosts
	k        float64       // growth rate per hour
	mu       float64       // probes per hour one host sends into the sensor
	size     uint64        // sensor size
	start    time.Duration // when the first host is infected, from the series start
	interval time.Duration
	hours    float64 // length of the series
}

// truth is the number of infected hosts at the end of each row.
type truth []float64

// generate draws the sensor's series and the true infected counts.
func (o outbreak) generate(seed uint64) (*forecast.Series, truth) {
	rng := rand.New(rand.NewPCG(seed, 0x776f726d))
	dt := o.interval.Hours()
	rows := int(math.Round(o.hours / dt))
	sub := 20 // epidemic steps per row
	h := dt / float64(sub)
	var inf, unseen, seen float64 // hosts: infected, infected not seen, seen
	var cum int64
	s := &forecast.Series{Name: "synthetic", Size: o.size, Interval: o.interval}
	tr := make(truth, rows)
	pois := func(m float64) float64 {
		if m <= 0 {
			return 0
		}
		return distuv.Poisson{Lambda: m, Src: rng}.Rand()
	}
	binom := func(n, p float64) float64 {
		if n <= 0 || p <= 0 {
			return 0
		}
		return distuv.Binomial{N: n, P: p, Src: rng}.Rand()
	}
	startH := o.start.Hours()
	for r := range rows {
		t0 := float64(r) * dt
		// Hosts seen before the row, scanning all of it: how many send at
		// least one probe, and how many probes.
		q := 1 - math.Exp(-o.mu*dt)
		old := seen
		resighted := binom(old, q)
		// probes of re-sighted hosts: each at least one, the rest Poisson
		probes := resighted + pois(old*o.mu*dt-resighted)
		var newSrc float64
		for j := range sub {
			t := t0 + float64(j)*h
			if inf == 0 && t >= startH {
				inf, unseen = 1, 1
			}
			// first sightings of unseen hosts during the step; they
			// then probe for the rest of the row
			ns := binom(unseen, 1-math.Exp(-o.mu*h))
			unseen -= ns
			seen += ns
			newSrc += ns
			rest := dt - float64(j+1)*h + h/2
			probes += ns + pois(ns*o.mu*rest)
			// unseen hosts probe nothing (by definition); new infections
			if inf > 0 {
				ni := math.Min(pois(o.k*inf*(1-inf/o.n)*h), o.n-inf)
				inf += ni
				unseen += ni
			}
		}
		cum += int64(newSrc)
		s.Rows = append(s.Rows, forecast.Row{
			Time:   t0time.Add(time.Duration(r) * o.interval),
			Probes: int64(probes), Sources: int64(resighted + newSrc), NewSources: int64(newSrc), CumulativeSources: cum,
		})
		tr[r] = inf
	}
	return s, tr
}

var t0time = time.Date(2001, 7, 19, 0, 0, 0, 0, time.UTC)

// add returns the sum of two series of the same times and size: two
// disjoint populations of sources seen by the same sensor.
func add(a, b *forecast.Series) *forecast.Series {
	s := &forecast.Series{Name: a.Name + "+" + b.Name, Size: a.Size, Interval: a.Interval}
	for i := range a.Rows {
		x, y := a.Rows[i], b.Rows[i]
		s.Rows = append(s.Rows, forecast.Row{Time: x.Time, Probes: x.Probes + y.Probes, Sources: x.Sources + y.Sources,
			NewSources: x.NewSources + y.NewSources, CumulativeSources: x.CumulativeSources + y.CumulativeSources})
	}
	return s
}
