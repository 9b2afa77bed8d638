package sweep

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat"
)

// ishigami is Ishigami and Homma's test function with a = 7, b = 0.1.
func ishigami(x []float64) float64 {
	const a, b = 7, 0.1
	return math.Sin(x[0]) + a*math.Pow(math.Sin(x[1]), 2) + b*math.Pow(x[2], 4)*math.Sin(x[0])
}

// ishigamiIndices are the analytic first-order and total indices of
// ishigami on [-π, π]^3 (Sobol' and Levitan 1999; Saltelli et al. 2010):
// S1 = 0.3139, 0.4424, 0; ST = 0.5576, 0.4424, 0.2437.
func ishigamiIndices() (s1, st [3]float64) {
	const a, b = 7, 0.1
	pi4, pi8 := math.Pow(math.Pi, 4), math.Pow(math.Pi, 8)
	v1 := 0.5 * math.Pow(1+b*pi4/5, 2)
	v2 := float64(a*a) / 8
	v13 := 8 * b * b * pi8 / 225
	v := v1 + v2 + v13
	return [3]float64{v1 / v, v2 / v, 0}, [3]float64{(v1 + v13) / v, v2 / v, v13 / v}
}

func TestIshigamiAnalytic(t *testing.T) {
	s1, st := ishigamiIndices()
	want1, wantT := [3]float64{0.3139, 0.4424, 0}, [3]float64{0.5576, 0.4424, 0.2437}
	for i := range 3 {
		if math.Abs(s1[i]-want1[i]) > 1e-4 || math.Abs(st[i]-wantT[i]) > 1e-4 {
			t.Errorf("factor %d: S1 %.5f ST %.5f, published %.4f %.4f", i+1, s1[i], st[i], want1[i], wantT[i])
		}
	}
}

// TestSaltelliIshigamiSobol runs the Sobol design of a sweep file (three
// factors on [-π, π], n = 2^13) through Result.Sensitivities on the
// Ishigami function: each index must lie within 4 bootstrap standard errors
// of its analytic value, and inside its 95% bootstrap interval. (The
// bootstrap treats the rows as independent, so for a Sobol sample it
// overstates the error: the test is on the safe side of the estimator's
// real spread, which TestSaltelliIshigamiRepeated measures.)
func TestSaltelliIshigamiSobol(t *testing.T) {
	spec, err := ParseFile("ishigami.toml", []byte(`
scenario = "none"
design = "sobol"
n = 8192
bootstrap = 500
outputs = ["ever_infected"]
[[factor]]
key = "x1"
min = -3.141592653589793
max = 3.141592653589793
[[factor]]
key = "x2"
min = -3.141592653589793
max = 3.141592653589793
[[factor]]
key = "x3"
min = -3.141592653589793
max = 3.141592653589793
`))
	if err != nil {
		t.Fatal(err)
	}
	pts, err := spec.DesignPoints()
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 8192*5 {
		t.Fatalf("%d points, want n × (d + 2) = %d", len(pts), 8192*5)
	}
	r := &Result{Plan: &Plan{Spec: spec, Points: pts, Seeds: []uint64{1}}, Values: make([][][]float64, len(pts))}
	for k, p := range pts {
		r.Values[k] = [][]float64{{ishigami(p.Num)}}
	}
	sens := r.Sensitivities()
	if len(sens) != 1 || sens[0].Err != "" {
		t.Fatalf("sensitivities: %+v", sens)
	}
	s1, st := ishigamiIndices()
	for i, x := range sens[0].Indices {
		t.Logf("x%d: S1 %.4f ± %.4f (true %.4f), ST %.4f ± %.4f (true %.4f)", i+1, x.S1, x.S1Conf, s1[i], x.ST, x.STConf, st[i])
		if math.Abs(x.S1-s1[i]) > 4*x.S1Conf || x.S1Low > s1[i] || x.S1High < s1[i] {
			t.Errorf("x%d: S1 %.4f [%.4f, %.4f], se %.4f; true %.4f", i+1, x.S1, x.S1Low, x.S1High, x.S1Conf, s1[i])
		}
		if math.Abs(x.ST-st[i]) > 4*x.STConf || x.STLow > st[i] || x.STHigh < st[i] {
			t.Errorf("x%d: ST %.4f [%.4f, %.4f], se %.4f; true %.4f", i+1, x.ST, x.STLow, x.STHigh, x.STConf, st[i])
		}
	}
	if o := Ranking(sens)["ever_infected"]; o[0] != 0 || o[2] != 2 {
		t.Errorf("ranking by total index %v, want x1 first and x3 last", o)
	}
}

// TestSaltelliIshigamiRepeated estimates the indices of the Ishigami
// function 60 times from independent random matrices A and B (n = 2000):
// the mean of the estimates must be within 4 standard errors of the mean
// (their standard deviation / √60) of the analytic value (the estimators
// are unbiased but for the ratio to the sample variance, a bias of order
// 1/n), and the 95%
// bootstrap intervals must cover the analytic values at their nominal
// rate, within 4 binomial standard deviations.
func TestSaltelliIshigamiRepeated(t *testing.T) {
	const reps, n, d = 60, 2000, 3
	rng := rand.New(rand.NewPCG(2026, 12))
	s1, st := ishigamiIndices()
	est := make([][]float64, 2*d)
	covered, intervals := 0, 0
	for rep := range reps {
		yA, yB := make([]float64, n), make([]float64, n)
		yAB := make([][]float64, d)
		for i := range yAB {
			yAB[i] = make([]float64, n)
		}
		for j := range n {
			var a, b [d]float64
			for i := range d {
				a[i] = (2*rng.Float64() - 1) * math.Pi
				b[i] = (2*rng.Float64() - 1) * math.Pi
			}
			yA[j], yB[j] = ishigami(a[:]), ishigami(b[:])
			for i := range d {
				ab := a
				ab[i] = b[i]
				yAB[i][j] = ishigami(ab[:])
			}
		}
		idx, err := Saltelli(yA, yB, yAB, 200, uint64(rep))
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range idx {
			est[i] = append(est[i], x.S1)
			est[d+i] = append(est[d+i], x.ST)
			for _, c := range [][3]float64{{x.S1Low, x.S1High, s1[i]}, {x.STLow, x.STHigh, st[i]}} {
				intervals++
				if c[0] <= c[2] && c[2] <= c[1] {
					covered++
				}
			}
		}
	}
	for k, e := range est {
		truth, name := s1[k%d], "S1"
		if k >= d {
			truth, name = st[k%d], "ST"
		}
		mean, sd := stat.MeanStdDev(e, nil)
		se := sd / math.Sqrt(reps)
		t.Logf("%s x%d: mean %.4f, sd %.4f, se of mean %.4f, true %.4f", name, k%d+1, mean, sd, se, truth)
		if math.Abs(mean-truth) > 4*se {
			t.Errorf("%s x%d: mean of %d estimates %.4f, true %.4f: off by %.1f standard errors", name, k%d+1, reps, mean, truth, math.Abs(mean-truth)/se)
		}
	}
	p := CILevel
	min := p*float64(intervals) - 4*math.Sqrt(float64(intervals)*p*(1-p))
	t.Logf("95%% intervals covering the truth: %d of %d (at least %.0f)", covered, intervals, math.Ceil(min))
	if float64(covered) < min {
		t.Errorf("95%% intervals covered the truth %d times of %d; want at least %.0f", covered, intervals, math.Ceil(min))
	}
}

func TestSaltelliNoVariance(t *testing.T) {
	y := []float64{3, 3, 3, 3}
	if _, err := Saltelli(y, y, [][]float64{y}, 10, 1); !errors.Is(err, errNoVariance) {
		t.Errorf("constant output: error %v, want %v", err, errNoVariance)
	}
}

// TestSaltelliBootstrapFixedSeed: the intervals depend on the seed only.
func TestSaltelliBootstrapFixedSeed(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	mk := func() []float64 {
		v := make([]float64, 50)
		for i := range v {
			v[i] = rng.Float64()
		}
		return v
	}
	yA, yB, yC := mk(), mk(), mk()
	a, _ := Saltelli(yA, yB, [][]float64{yC}, 100, 7)
	b, _ := Saltelli(yA, yB, [][]float64{yC}, 100, 7)
	if a[0] != b[0] {
		t.Errorf("same seed, different results: %+v and %+v", a[0], b[0])
	}
}
