package param

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Dist declares a distribution of durations in a scenario, for example the
// delay before a dormant worm wakes or the error of a host's clock.
//
//	wake_delay = { kind = "exponential", mean = "2h" }    # in [worm.calendar]
//	error = { kind = "uniform", min = "-3d", max = "3d" } # in [population.clock]
type Dist struct {
	Kind  string   `toml:"kind" default:"none" enum:"none,fixed,exponential,uniform,lognormal" doc:"shape of the distribution; none means always zero"`
	Mean  Duration `toml:"mean" when:"kind=fixed,exponential,lognormal" min:"-3660d" max:"3660d" doc:"fixed: the value; exponential: the mean; lognormal: the median"`
	Min   Duration `toml:"min" when:"kind=uniform" min:"-3660d" max:"3660d" doc:"uniform: lower end"`
	Max   Duration `toml:"max" when:"kind=uniform" min:"-3660d" max:"3660d" doc:"uniform: upper end (at least min)"`
	Sigma float64  `toml:"sigma" when:"kind=lognormal" min:"0" max:"10" doc:"lognormal: standard deviation of the log"`
}

// Check reports a distribution that cannot be sampled as declared.
func (d Dist) Check() error {
	switch d.Kind {
	case "uniform":
		if d.Max < d.Min {
			return fmt.Errorf("uniform distribution with max %s below min %s", d.Max, d.Min)
		}
	case "exponential", "lognormal":
		if d.Mean <= 0 {
			return fmt.Errorf("%s distribution needs a positive mean, got %s", d.Kind, d.Mean)
		}
	}
	return nil
}

// ParamDoc describes the distribution tables of scenario files.
func (*Dist) ParamDoc() string {
	return "A distribution of durations: kind none (always 0), fixed (mean), exponential (mean), uniform (min to max) or lognormal (median mean, sigma of the log)."
}

// Sample draws one value in seconds.
func (d Dist) Sample(r *rand.Rand) float64 {
	switch d.Kind {
	case "fixed":
		return d.Mean.Seconds()
	case "exponential":
		return r.ExpFloat64() * d.Mean.Seconds()
	case "uniform":
		lo, hi := d.Min.Seconds(), d.Max.Seconds()
		return lo + r.Float64()*(hi-lo)
	case "lognormal":
		return d.Mean.Seconds() * math.Exp(d.Sigma*r.NormFloat64())
	}
	return 0
}

// IsZero reports whether the distribution always gives zero.
func (d Dist) IsZero() bool {
	return d.Kind == "" || d.Kind == "none" || (d.Kind == "fixed" && d.Mean == 0)
}
