package pool

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// knuthPoisson draws Poisson(m) for a small mean (the tests' means are
// below 1).
func knuthPoisson(rng *rand.Rand, m float64) int {
	l, k, p := math.Exp(-m), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// scanned is a test outbreak seen by sensors: hosts scanning at random
// through every interval, host h sending a Poisson(means[i]) number of
// probes into sensor i per interval, independently.
type scanned struct {
	exact []Row   // the union counted from the probes
	alone [][]Row // each sensor's own series
}

func scan(t *testing.T, rng *rand.Rand, hosts, intervals int, means []float64) scanned {
	t.Helper()
	blocks := testBlocks(len(means))
	u, err := NewUnion(blocks, t0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	own := make([]*Union, len(means))
	for i := range own {
		own[i], _ = NewUnion(blocks[i:i+1], t0, time.Minute)
	}
	for range intervals {
		for h := range hosts {
			for i, m := range means {
				for range knuthPoisson(rng, m) {
					u.Add(i, uint32(h))
					own[i].Add(0, uint32(h))
				}
			}
		}
		u.Close()
		for _, o := range own {
			o.Close()
		}
	}
	s := scanned{exact: u.Rows()}
	for _, o := range own {
		s.alone = append(s.alone, o.Rows())
	}
	return s
}

// checkSeries checks that rows are a sensor series: new <= sources <=
// probes, cumulative grown by new.
func checkSeries(t *testing.T, what string, rows []Row) {
	t.Helper()
	for i, r := range rows {
		prev := int64(0)
		if i > 0 {
			prev = rows[i-1].CumulativeSources
		}
		if r.NewSources > r.Sources || r.Sources > r.Probes || r.NewSources < 0 || (i > 0 && r.CumulativeSources != prev+r.NewSources) {
			t.Fatalf("%s, row %d: not a sensor series: %+v after cumulative %d", what, i, r, prev)
		}
	}
}

// TestSumBounds: Sum and Lower bound the exact union column by column
// (probes equal), and both are sensor series.
func TestSumBounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	s := scan(t, rng, 400, 40, []float64{0.3, 0.05, 0.6, 0.01})
	hi, err := Sum(s.alone...)
	if err != nil {
		t.Fatal(err)
	}
	lo, err := Lower(s.alone...)
	if err != nil {
		t.Fatal(err)
	}
	checkSeries(t, "Sum", hi)
	checkSeries(t, "Lower", lo)
	for i, e := range s.exact {
		h, l := hi[i], lo[i]
		if h.Probes != e.Probes || l.Probes != e.Probes || !h.Time.Equal(e.Time) || !l.Time.Equal(e.Time) {
			t.Fatalf("row %d: probes or time differ: exact %+v, Sum %+v, Lower %+v", i, e, h, l)
		}
		if !(l.Sources <= e.Sources && e.Sources <= h.Sources) || !(l.CumulativeSources <= e.CumulativeSources && e.CumulativeSources <= h.CumulativeSources) || e.NewSources > h.NewSources {
			t.Fatalf("row %d: not bounded: exact %+v, Sum %+v, Lower %+v", i, e, h, l)
		}
	}
	// One sensor: both are its series.
	one, _ := Sum(s.alone[2])
	low, _ := Lower(s.alone[2])
	for i := range one {
		if one[i] != s.alone[2][i] || low[i] != s.alone[2][i] {
			t.Fatalf("row %d of one series: Sum %+v, Lower %+v, want %+v", i, one[i], low[i], s.alone[2][i])
		}
	}
}

// TestSumError measures Sum's error against the exact union on hosts
// that scan at random, and checks it against its expectation: a host seen
// by sensor i within an interval with probability p_i = 1 - e^-m_i is one
// source of the union but sum_i 1{seen by i} of Sum, so Sum's sources
// exceed the union's by hosts x (sum p_i - 1 + prod (1 - p_i)) on average
// per interval; cumulative sources after t intervals likewise with c_i =
// 1 - (1 - p_i)^t. The means over intervals (sources) and over runs
// (cumulative) must be within 4 standard errors of these.
func TestSumError(t *testing.T) {
	const hosts, intervals, runs = 300, 30, 24
	means := []float64{0.02, 0.02, 0.02, 0.02, 0.02, 0.1}
	excess := func(p []float64) float64 {
		sum, none := 0.0, 1.0
		for _, x := range p {
			sum += x
			none *= 1 - x
		}
		return hosts * (sum - 1 + none)
	}
	p, c := make([]float64, len(means)), make([]float64, len(means))
	for i, m := range means {
		p[i] = -math.Expm1(-m)
		c[i] = 1 - math.Pow(1-p[i], intervals)
	}
	var srcErr, cumErr, srcRel, cumRel []float64
	rng := rand.New(rand.NewPCG(21, 22))
	for range runs {
		s := scan(t, rng, hosts, intervals, means)
		hi, _ := Sum(s.alone...)
		for i, e := range s.exact {
			srcErr = append(srcErr, float64(hi[i].Sources-e.Sources))
			srcRel = append(srcRel, float64(hi[i].Sources-e.Sources)/float64(max(e.Sources, 1)))
		}
		last := len(hi) - 1
		cumErr = append(cumErr, float64(hi[last].CumulativeSources-s.exact[last].CumulativeSources))
		cumRel = append(cumRel, float64(hi[last].CumulativeSources-s.exact[last].CumulativeSources)/float64(s.exact[last].CumulativeSources))
	}
	for _, c := range []struct {
		what string
		x    []float64
		want float64
	}{{"sources per interval", srcErr, excess(p)}, {"cumulative sources at the end", cumErr, excess(c)}} {
		mean, se := meanSE(c.x)
		if math.Abs(mean-c.want) > 4*se {
			t.Errorf("Sum's excess of %s: %.3f +- %.3f, expected %.3f", c.what, mean, se, c.want)
		}
	}
	mr, _ := meanSE(srcRel)
	mc, _ := meanSE(cumRel)
	t.Logf("Sum over the exact union: sources per interval +%.2f (expected %.2f; +%.1f%%), cumulative sources after %d intervals +%.1f (expected %.1f; +%.1f%%)",
		mean(srcErr), excess(p), 100*mr, intervals, mean(cumErr), excess(c), 100*mc)
}

func mean(x []float64) float64 { m, _ := meanSE(x); return m }

func meanSE(x []float64) (float64, float64) {
	var s, ss float64
	for _, v := range x {
		s += v
	}
	m := s / float64(len(x))
	for _, v := range x {
		ss += (v - m) * (v - m)
	}
	return m, math.Sqrt(ss / float64(len(x)-1) / float64(len(x)))
}

func TestSumRefusesMisaligned(t *testing.T) {
	a := []Row{{Time: t0}, {Time: t0.Add(time.Minute)}}
	b := []Row{{Time: t0}}
	c := []Row{{Time: t0}, {Time: t0.Add(2 * time.Minute)}}
	for _, tc := range []struct {
		series [][]Row
		want   string
	}{{nil, "no series"}, {[][]Row{a, b}, "series 2 has 1 rows"}, {[][]Row{a, c}, "series 2, row 2"}} {
		for _, f := range []func(...[]Row) ([]Row, error){Sum, Lower} {
			if _, err := f(tc.series...); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%d series: %v, want %q", len(tc.series), err, tc.want)
			}
		}
	}
}

func TestSumSaturates(t *testing.T) {
	a := []Row{{Time: t0, Probes: math.MaxInt64 - 1}}
	got, _ := Sum(a, a)
	if got[0].Probes != math.MaxInt64 {
		t.Errorf("probes %d, want held at MaxInt64", got[0].Probes)
	}
}
