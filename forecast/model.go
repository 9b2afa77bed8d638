package forecast

import "math"

// grow returns the number of infected hosts h seconds after a moment when
// there are i, for the random-constant-spread equation
//
//	dI/dt = K I - beta I^2      (beta = K / N)
//
// solved exactly (a Bernoulli equation):
//
//	I(t+h) = I e^{Kh} / (1 + beta I (e^{Kh} - 1) / K).
//
// It holds for any sign of K (the fraction tends to h as K goes to 0) and
// stays positive for i >= 0.
func grow(i, k, beta, h float64) float64 {
	e := math.Exp(k * h)
	return i * e / (1 + beta*i*expm1Over(k, h))
}

// growJac returns grow and its partial derivatives with respect to i and k.
func growJac(i, k, beta, h float64) (f, dI, dK float64) {
	e := math.Exp(k * h)
	g := expm1Over(k, h)
	den := 1 + beta*i*g
	f = i * e / den
	dI = e / (den * den)
	var gp float64 // dg/dk
	if x := k * h; math.Abs(x) < 1e-4 {
		gp = h * h * (0.5 + x/3 + x*x/8)
	} else {
		gp = (h*e*k - math.Expm1(x)) / (k * k)
	}
	dK = i * (h*e*den - e*beta*i*gp) / (den * den)
	return f, dI, dK
}

// expm1Over returns (e^{kh} - 1) / k, which tends to h as k goes to 0.
func expm1Over(k, h float64) float64 {
	x := k * h
	if math.Abs(x) < 1e-8 {
		return h * (1 + x/2)
	}
	return math.Expm1(x) / k
}

// logistic returns N / (1 + e^{-K (t - T)}), the random constant spread
// curve of Staniford, Paxson and Weaver (2002) scaled to N hosts.
func logistic(n, k, t0, t float64) float64 {
	return n / (1 + math.Exp(-k*(t-t0)))
}
