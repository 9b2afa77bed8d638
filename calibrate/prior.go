package calibrate

import (
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"
)

// The free parameters live in a transformed space where the perturbation
// kernel is a multivariate normal: each parameter θ in [min, max] maps to
//
//	z = logit((g(θ) - g(min)) / (g(max) - g(min)))
//
// with g = log for a log-uniform prior and g = identity otherwise, so that
// every z on the real line is a value within the bounds.

// edge keeps u off 0 and 1, where logit is infinite.
const edge = 1e-12

func (p *Param) g(x float64) float64 {
	if p.Prior == PriorLogUniform {
		return math.Log(x)
	}
	return x
}

func (p *Param) gInv(y float64) float64 {
	if p.Prior == PriorLogUniform {
		return math.Exp(y)
	}
	return y
}

// toZ maps a value within the bounds to the transformed space.
func (p *Param) toZ(theta float64) float64 {
	a, b := p.g(*p.Min), p.g(*p.Max)
	u := (p.g(theta) - a) / (b - a)
	u = min(max(u, edge), 1-edge)
	return math.Log(u) - math.Log1p(-u)
}

// fromZ maps a point of the transformed space to a value within the bounds.
func (p *Param) fromZ(z float64) float64 {
	a, b := p.g(*p.Min), p.g(*p.Max)
	u := 1 / (1 + math.Exp(-z))
	u = min(max(u, edge), 1-edge)
	return min(max(p.gInv(a+(b-a)*u), *p.Min), *p.Max)
}

// logPriorZ is the log density of the prior in the transformed space: the
// prior's density at θ(z) times dθ/dz.
func (p *Param) logPriorZ(z float64) float64 {
	u := 1 / (1 + math.Exp(-z))
	u = min(max(u, edge), 1-edge)
	jac := math.Log(u) + math.Log1p(-u) // du/dz
	lo, hi := *p.Min, *p.Max
	switch p.Prior {
	case PriorUniform, PriorLogUniform:
		// Uniform in g(θ): constant density in u.
		return jac
	case PriorNormal:
		n := distuv.Normal{Mu: *p.Mean, Sigma: *p.SD}
		theta := lo + (hi-lo)*u
		mass := n.CDF(hi) - n.CDF(lo)
		return n.LogProb(theta) - math.Log(mass) + math.Log(hi-lo) + jac
	case PriorBeta:
		b := distuv.Beta{Alpha: *p.Alpha, Beta: *p.Beta}
		return b.LogProb(u) + jac
	}
	return math.NaN()
}

// priorDraw maps u, uniform on [0, 1), to a draw of the prior (the inverse
// of its distribution function).
func (p *Param) priorDraw(u float64) float64 {
	lo, hi := *p.Min, *p.Max
	u = min(max(u, edge), 1-edge)
	var x float64
	switch p.Prior {
	case PriorUniform:
		x = lo + (hi-lo)*u
	case PriorLogUniform:
		a, b := math.Log(lo), math.Log(hi)
		x = math.Exp(a + (b-a)*u)
	case PriorNormal:
		n := distuv.Normal{Mu: *p.Mean, Sigma: *p.SD}
		flo, fhi := n.CDF(lo), n.CDF(hi)
		x = n.Quantile(flo + u*(fhi-flo))
	case PriorBeta:
		x = lo + (hi-lo)*distuv.Beta{Alpha: *p.Alpha, Beta: *p.Beta}.Quantile(u)
	}
	return min(max(x, lo), hi)
}

// setText writes a parameter's value as --set takes it: the shortest form
// that reads back the same, always as a float.
func setText(x float64) string {
	t := strconv.FormatFloat(x, 'g', -1, 64)
	if !strings.ContainsAny(t, ".eEn") {
		t += ".0"
	}
	return t
}

// text writes the value the scenario receives for θ: setText's, or for an
// integer parameter the nearest integer; with a unit, a duration.
func (p *Param) text(theta float64) string {
	return valueText(theta, p.Integer, p.Unit)
}

// valueText writes θ as the scenario receives it: with a unit, a duration
// in decimal notation ("1.5h", "0.0004s": the scenario's durations take no
// exponent), the nearest integer of units for an integer parameter; without
// one, the nearest integer (integer) or setText's number.
func valueText(theta float64, integer bool, unit string) string {
	switch {
	case integer:
		return strconv.FormatFloat(math.Round(theta), 'f', 0, 64) + unit
	case unit != "":
		return strconv.FormatFloat(theta, 'f', -1, 64) + unit
	}
	return setText(theta)
}
