package param

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// Distribution is a distribution of durations, one type per shape (as
// gonum's distuv has one type per distribution): Zero, Fixed, Exponential,
// Uniform and LogNormal. A scenario file writes one as a Dist table.
type Distribution interface {
	// Sample draws one value, in seconds, from r.
	Sample(r *rand.Rand) float64
	// Check reports parameters that cannot be sampled as declared.
	Check() error
	// Lower is the least value the distribution takes.
	Lower() Duration
	// AlwaysZero reports whether every sample is 0 without a draw from
	// the random stream (Zero, and Fixed at 0): such a distribution can
	// be skipped without changing any later draw.
	AlwaysZero() bool
}

// Zero is the distribution that is always 0 (kind "none").
type Zero struct{}

// Sample implements Distribution: 0, without a draw.
func (Zero) Sample(*rand.Rand) float64 { return 0 }

// Check implements Distribution.
func (Zero) Check() error { return nil }

// Lower implements Distribution.
func (Zero) Lower() Duration { return 0 }

// AlwaysZero implements Distribution.
func (Zero) AlwaysZero() bool { return true }

// Fixed is always Value (kind "fixed", key mean).
type Fixed struct{ Value Duration }

// Sample implements Distribution: Value, without a draw.
func (d Fixed) Sample(*rand.Rand) float64 { return d.Value.Seconds() }

// Check implements Distribution.
func (Fixed) Check() error { return nil }

// Lower implements Distribution.
func (d Fixed) Lower() Duration { return d.Value }

// AlwaysZero implements Distribution.
func (d Fixed) AlwaysZero() bool { return d.Value == 0 }

// Exponential has mean Mean (kind "exponential", key mean).
type Exponential struct{ Mean Duration }

// Sample implements Distribution: one ExpFloat64 draw.
func (d Exponential) Sample(r *rand.Rand) float64 { return r.ExpFloat64() * d.Mean.Seconds() }

// Check implements Distribution: the mean is positive.
func (d Exponential) Check() error { return positive(DistExponential, d.Mean) }

// Lower implements Distribution.
func (Exponential) Lower() Duration { return 0 }

// AlwaysZero implements Distribution.
func (Exponential) AlwaysZero() bool { return false }

// Uniform is uniform from Min to Max (kind "uniform", keys min and max).
type Uniform struct{ Min, Max Duration }

// Sample implements Distribution: one Float64 draw.
func (d Uniform) Sample(r *rand.Rand) float64 {
	lo, hi := d.Min.Seconds(), d.Max.Seconds()
	return lo + r.Float64()*(hi-lo)
}

// Check implements Distribution: Max is not below Min.
func (d Uniform) Check() error {
	if d.Max < d.Min {
		return fmt.Errorf("uniform distribution with max %s below min %s", d.Max, d.Min)
	}
	return nil
}

// Lower implements Distribution.
func (d Uniform) Lower() Duration { return d.Min }

// AlwaysZero implements Distribution.
func (Uniform) AlwaysZero() bool { return false }

// LogNormal is Median times exp(Sigma Z), Z standard normal: its median is
// Median and Sigma the standard deviation of its log (kind "lognormal",
// keys mean, which is the median, and sigma).
type LogNormal struct {
	Median Duration
	Sigma  float64
}

// Sample implements Distribution: one NormFloat64 draw.
func (d LogNormal) Sample(r *rand.Rand) float64 {
	return d.Median.Seconds() * math.Exp(d.Sigma*r.NormFloat64())
}

// Check implements Distribution: the median is positive.
func (d LogNormal) Check() error { return positive(DistLogNormal, d.Median) }

// Lower implements Distribution.
func (LogNormal) Lower() Duration { return 0 }

// AlwaysZero implements Distribution.
func (LogNormal) AlwaysZero() bool { return false }

// positive reports a scale (a mean, a median) that is not positive; the
// message names the key a file gives it by, mean.
func positive(k DistKind, d Duration) error {
	if d <= 0 {
		return fmt.Errorf("%s distribution needs a positive mean, got %s", k, d)
	}
	return nil
}

// DistKind names the shape of a Dist: one of the distributions registered
// in dists.
type DistKind string

// The kinds of Dist.
const (
	DistNone        DistKind = "none"        // Zero
	DistFixed       DistKind = "fixed"       // Fixed
	DistExponential DistKind = "exponential" // Exponential
	DistUniform     DistKind = "uniform"     // Uniform
	DistLogNormal   DistKind = "lognormal"   // LogNormal
)

// dists builds each kind's Distribution from the keys of its table; the
// doc is the keys it reads, for ParamDoc.
var dists = NewRegistry[DistKind, func(Dist) Distribution]("distribution")

func init() {
	dists.Register(DistNone, 0, "always 0", func(Dist) Distribution { return Zero{} })
	dists.Register(DistFixed, 1, "mean", func(d Dist) Distribution { return Fixed{Value: d.Mean} })
	dists.Register(DistExponential, 2, "mean", func(d Dist) Distribution { return Exponential{Mean: d.Mean} })
	dists.Register(DistUniform, 3, "min to max", func(d Dist) Distribution { return Uniform{Min: d.Min, Max: d.Max} })
	dists.Register(DistLogNormal, 4, "median given by mean, sigma of the log", func(d Dist) Distribution { return LogNormal{Median: d.Mean, Sigma: d.Sigma} })
}

// Enum lists the kinds (see Enumerated).
func (DistKind) Enum() []string { return dists.Names() }

// Dist is how a scenario file writes a distribution of durations, for
// example the delay before a dormant worm wakes or the error of a host's
// clock: a table with the kind and the keys of that kind.
//
//	wake_delay = { kind = "exponential", mean = "2h" }    # in [worm.calendar]
//	error = { kind = "uniform", min = "-3d", max = "3d" } # in [population.clock]
//	wake_delay = { kind = "lognormal", mean = "2h", sigma = 0.8 }
//
// The key mean is the median of a lognormal (the name is kept so that
// files and resolved scenarios keep reading the same). Distribution gives
// the typed distribution the table declares.
type Dist struct {
	Kind  DistKind `toml:"kind" default:"none" doc:"shape of the distribution; none means always zero"`
	Mean  Duration `toml:"mean" when:"kind=fixed,exponential,lognormal" min:"-3660d" max:"3660d" doc:"fixed: the value; exponential: the mean; lognormal: the median"`
	Min   Duration `toml:"min" when:"kind=uniform" min:"-3660d" max:"3660d" doc:"uniform: lower end"`
	Max   Duration `toml:"max" when:"kind=uniform" min:"-3660d" max:"3660d" doc:"uniform: upper end (at least min)"`
	Sigma float64  `toml:"sigma" when:"kind=lognormal" min:"0" max:"10" doc:"lognormal: standard deviation of the log"`
}

// Distribution returns the distribution d declares, or an error for a kind
// that is not registered (Validate rejects such a kind at its key). The
// empty kind is none.
func (d Dist) Distribution() (Distribution, error) {
	k := d.Kind
	if k == "" {
		k = DistNone
	}
	build, err := dists.Get(k)
	if err != nil {
		return nil, err
	}
	return build(d), nil
}

// Check reports a distribution that cannot be sampled as declared. An
// unknown kind is left to the check of the kind key, which names it.
func (d Dist) Check() error {
	dist, err := d.Distribution()
	if err != nil {
		return nil
	}
	return dist.Check()
}

// ParamDoc describes the distribution tables of scenario files.
func (*Dist) ParamDoc() string {
	var kinds []string
	dists.Each(func(k DistKind, doc string, _ func(Dist) Distribution) {
		kinds = append(kinds, fmt.Sprintf("%s (%s)", k, doc))
	})
	return "A distribution of durations: kind " + strings.Join(kinds[:len(kinds)-1], ", ") + " or " + kinds[len(kinds)-1] + "."
}
