package sim

import (
	"fmt"
	"math"
	"strconv"
	"sync"
	"testing"

	"gonum.org/v1/gonum/stat"

	"wormwatch/internal/stattest"
	"wormwatch/scenario"
	"wormwatch/sim/reference"
)

// The plain case of issue 11 made small: the built-in fast-uniform with
// uniform placement and 2,000 hosts scanning at 180 x 7 probes/s, so that
// K = r N / (A-1) is that of 360,000 hosts at 7 probes/s; 8 hours.
const (
	plainHosts   = 2000
	plainRate    = 7 * 180
	plainHorizon = 8 * 3600
	plainSeeds   = 200
	// plainAlpha is the chance, per statistic, that the KS test fails
	// when the engine and the reference agree; 4 statistics keep the
	// chance of any false alarm under 0.4%.
	plainAlpha = 0.001
	// plainZ bounds the difference of mean times to half: 4 standard
	// errors (a false alarm once in about 16,000).
	plainZ = 4
)

// plainAt are the times (seconds, whole minutes: bin ends) at which the
// infected counts are compared: about a quarter, half and three quarters.
var plainAt = []float64{12000, 14000, 16000}

func plainSets() []string {
	return []string{"population.placement=uniform", "population.hosts=" + strconv.Itoa(plainHosts),
		"worm.rate.fixed=" + strconv.Itoa(plainRate), "end=2001-07-19T18:00:00Z"}
}

// plainRef is the same case for package reference.
func plainRef(sc *scenario.Scenario) reference.Plain {
	return reference.Plain{Space: math.Exp2(float64(sc.Space.Bits)), Hosts: sc.Population.Hosts, Rate: sc.Worms[0].Rate.Fixed, Horizon: sc.End.Sub(sc.Start).Seconds()}
}

// plainSample is what is compared of each run: the time to half the hosts
// (twice the horizon if never) and the infected hosts at each of plainAt.
type plainSample struct {
	t50 float64
	at  []float64
}

// plainEngine runs seeds 1..plainSeeds of engine on two workers: the
// time of the infection that reaches half the hosts, and the infected
// column of the time series at the end of the bins ending at plainAt.
func plainEngine(t *testing.T, engine string) []plainSample {
	out := make([]plainSample, plainSeeds)
	var wg sync.WaitGroup
	next := make(chan int)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc, _, err := scenario.Load("fast-uniform", plainSets())
			if err != nil {
				t.Error(err)
				return
			}
			for i := range next {
				res := mustRun(t, sc, uint64(i+1), engine)
				s := plainSample{t50: 2 * plainHorizon}
				if len(res.Infections) >= plainHosts/2 {
					s.t50 = res.Infections[plainHosts/2-1].Seconds
				}
				for _, a := range plainAt {
					s.at = append(s.at, float64(res.Bins[int(a/res.BinSeconds)-1].Infected))
				}
				out[i] = s
			}
		}()
	}
	for i := range plainSeeds {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// plainReference runs seeds 1..plainSeeds of the reference.
func plainReference(p reference.Plain) []plainSample {
	out := make([]plainSample, plainSeeds)
	for i := range out {
		times := p.Run(reference.NewRand(uint64(i + 1)))
		s := plainSample{t50: 2 * plainHorizon}
		if len(times) >= plainHosts/2 {
			s.t50 = times[plainHosts/2-1]
		}
		for _, n := range reference.InfectedAt(times, plainAt) {
			s.at = append(s.at, float64(n))
		}
		out[i] = s
	}
	return out
}

// ksCritical is the two-sample Kolmogorov-Smirnov statistic above which
// samples of sizes n and m are told apart at level alpha: the asymptotic
// Kolmogorov quantile sqrt(-ln(alpha/2)/2) scaled by sqrt((n+m)/(n m)).
// For the counts, which are discrete, the test is conservative.
func ksCritical(alpha float64, n, m int) float64 {
	return math.Sqrt(-math.Log(alpha/2)/2) * math.Sqrt(float64(n+m)/float64(n*m))
}

// plainDiffer compares two sets of samples statistic by statistic and
// returns a description of each test that fails, and of all.
func plainDiffer(a, b []plainSample) (failed []string, desc string) {
	col := func(s []plainSample, k int) []float64 {
		v := make([]float64, len(s))
		for i := range s {
			v[i] = s[i].t50
			if k >= 0 {
				v[i] = s[i].at[k]
			}
		}
		return v
	}
	crit := ksCritical(plainAlpha, len(a), len(b))
	for k := -1; k < len(plainAt); k++ {
		name := "t50"
		if k >= 0 {
			name = fmt.Sprintf("I(%gs)", plainAt[k])
		}
		d, p := stattest.KS(col(a, k), col(b, k))
		line := fmt.Sprintf("%s: D=%.3f (critical %.3f) p=%.3g", name, d, crit, p)
		desc += line + "; "
		if d > crit {
			failed = append(failed, line)
		}
	}
	return failed, desc
}

// TestEngineAgreesWithReference runs the engine and package reference on
// the plain case (200 seeds each) and compares the distributions of the
// time to half the hosts and of the infected hosts at three times with
// two-sample Kolmogorov-Smirnov tests at level plainAlpha, and the mean
// times to half with each other and with their exact mean, within plainZ
// standard errors. A reference worm 10% faster must be told apart. The
// engine runs the plain case by counts (lumped.go) unless told to run it
// host by host: both ways are checked.
func TestEngineAgreesWithReference(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, engine string }{{"lumped", EngineFast}, {"host by host", engineHost}} {
		t.Run(c.name, func(t *testing.T) { engineAgreesWithReference(t, c.engine) })
	}
}

func engineAgreesWithReference(t *testing.T, engine string) {
	sc, _, err := scenario.Load("fast-uniform", plainSets())
	if err != nil {
		t.Fatal(err)
	}
	ref := plainRef(sc)
	eng, exact := plainEngine(t, engine), plainReference(ref)
	failed, desc := plainDiffer(eng, exact)
	t.Logf("engine vs reference: %s", desc)
	for _, f := range failed {
		t.Errorf("the engine and the reference differ in distribution: %s", f)
	}
	col := func(s []plainSample) []float64 {
		v := make([]float64, len(s))
		for i := range s {
			v[i] = s[i].t50
		}
		return v
	}
	me, ve := stat.MeanVariance(col(eng), nil)
	mr, vr := stat.MeanVariance(col(exact), nil)
	mean, variance := ref.Moments(plainHosts / 2)
	se := math.Sqrt(ve/plainSeeds + vr/plainSeeds)
	t.Logf("mean time to half: engine %.0f s (sd %.0f), reference %.0f s (sd %.0f), exact %.0f s (sd %.0f)", me, math.Sqrt(ve), mr, math.Sqrt(vr), mean, math.Sqrt(variance))
	if math.Abs(me-mr) > plainZ*se {
		t.Errorf("mean time to half: engine %.0f s, reference %.0f s, more than %d standard errors (%.0f s) apart", me, mr, plainZ, plainZ*se)
	}
	if seExact := math.Sqrt(variance / plainSeeds); math.Abs(me-mean) > plainZ*seExact {
		t.Errorf("mean time to half: engine %.0f s, exact %.0f s, more than %d standard errors (%.0f s) apart", me, mean, plainZ, plainZ*seExact)
	}
	// The comparison has power: a reference worm 10% faster is told apart.
	faster := ref
	faster.Rate *= 1.1
	failed, desc = plainDiffer(eng, plainReference(faster))
	t.Logf("engine vs reference at rate x1.1: %s", desc)
	if len(failed) == 0 {
		t.Errorf("the KS comparison cannot tell a 10%% faster worm from the engine: %s", desc)
	}
}
