package sim

import (
	"math"
	"sort"
	"sync"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat"
)

// TestUniformFollowsLogistic checks the fast engine against the random
// constant spread model (Staniford, Paxson, Weaver 2002): with no defences
// a uniform scanner at rate r among N vulnerable hosts of a space of A
// addresses grows as a logistic with K = r N / A (here A-1: a host never
// probes itself). For each of 100 runs K is fitted by regressing
// logit(I/N) on time between 10% and 90% infected; the mean must agree with
// theory within 4 standard errors of the runs' spread, and the runs aligned
// at 10% infected must follow a(t) = 1 / (1 + 9 exp(-K t)).
func TestUniformFollowsLogistic(t *testing.T) {
	const (
		runs = 100
		n    = 100000
		rate = 36.0 // K = r N / A = 3.0 per hour, about Code Red's
	)
	sc := testScenario(32, n, "uniform", rate, 8*time.Hour)
	kTheory := rate * n / (math.Exp2(32) - 1) // per second
	grid := []float64{0, 600, 1200, 1800, 2400, 3000, 3600, 5400}
	ks := make([]float64, runs)
	aligned := make([][]float64, runs)
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				res := mustRun(t, sc, uint64(i+1), EngineFast)
				var ts, ys []float64
				for _, b := range res.Bins {
					f := float64(b.Infected) / n
					if f >= 0.1 && f <= 0.9 {
						ts = append(ts, b.Time.Sub(sc.Start).Seconds()+res.BinSeconds) // counts are at bin ends
						ys = append(ys, math.Log(f/(1-f)))
					}
				}
				_, ks[i] = stat.LinearRegression(ts, ys, nil, false)
				t10 := res.Infections[n/10-1].Seconds
				for _, g := range grid {
					k := sort.Search(len(res.Infections), func(j int) bool { return res.Infections[j].Seconds > t10+g })
					aligned[i] = append(aligned[i], float64(k)/n)
				}
			}
		}()
	}
	for i := 0; i < runs; i++ {
		next <- i
	}
	close(next)
	wg.Wait()

	mean, sd := stat.MeanStdDev(ks, nil)
	se := sd / math.Sqrt(runs)
	t.Logf("K fitted: mean %.6g/h, sd %.3g/h, se %.3g/h; theory %.6g/h", mean*3600, sd*3600, se*3600, kTheory*3600)
	if math.Abs(mean-kTheory) > 4*se {
		t.Errorf("mean fitted K %.6g/h differs from r N / A = %.6g/h by more than 4 standard errors (%.3g/h)", mean*3600, kTheory*3600, 4*se*3600)
	}
	for j, g := range grid {
		col := make([]float64, runs)
		for i := range aligned {
			col[i] = aligned[i][j]
		}
		m, s := stat.MeanStdDev(col, nil)
		want := 1 / (1 + 9*math.Exp(-kTheory*g))
		// The count is an integer: allow one host on top of 4 standard errors.
		tol := 4*s/math.Sqrt(runs) + 1.0/n
		t.Logf("aligned +%5.0fs: mean %.5f sd %.2g logistic %.5f", g, m, s, want)
		if math.Abs(m-want) > tol {
			t.Errorf("aligned at 10%%, +%.0fs: mean infected share %.5f, logistic %.5f, tolerance %.2g", g, m, want, tol)
		}
	}
}
