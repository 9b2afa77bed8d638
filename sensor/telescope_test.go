package sensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat"

	"wormwatch/internal/param"
)

// inf is a scanning span that never ends.
var inf = math.Inf(1)

// exactSetups are the worlds the telescope is compared with the per-probe
// reference on. Each has bins in which the number of hosts scanning changes
// mid-bin (starts, stops, restarts), where a per-bin time average of the
// hosts would be biased.
func exactSetups() []struct {
	name string
	s    setup
} {
	mixed := setup{bin: 60, nbins: 10, lease: 200}
	mixed.hosts = append(mixed.hosts, group(30, 0.02, false, span{0, inf})...)  // steady all along
	mixed.hosts = append(mixed.hosts, group(20, 0.05, false, span{90, 400})...) // start and stop mid-bin
	for i := 0; i < 25; i++ {                                                   // staggered starts over bins 2-4
		mixed.hosts = append(mixed.hosts, hostSpec{mu: 0.01, spans: []span{{120 + 7*float64(i), inf}}})
	}
	mixed.hosts = append(mixed.hosts, group(15, 0.03, true, span{0, inf})...)                  // DHCP, lease 200 s
	mixed.hosts = append(mixed.hosts, group(10, 0.04, false, span{0, 150}, span{250, inf})...) // stop and restart at the same address

	// Expected probes per bin above 40 for some hosts (the Poisson branch),
	// and changes exactly at bin boundaries.
	fast := setup{bin: 60, nbins: 4}
	fast.hosts = append(fast.hosts, group(20, 1.0, false, span{0, inf})...)
	fast.hosts = append(fast.hosts, group(30, 0.2, false, span{60, 180})...)
	fast.hosts = append(fast.hosts, group(10, 0.7, false, span{30, 200})...)

	// Leases shorter than a bin: a host can be two or three sources in one
	// bin, and first seen at several addresses.
	lease := setup{bin: 60, nbins: 6, lease: 45}
	lease.hosts = append(lease.hosts, group(30, 0.05, true, span{0, inf})...)
	lease.hosts = append(lease.hosts, group(10, 0.2, true, span{100, 280})...)

	// Churn: every host scans for 45 s starting at its own time, so most
	// of the scanning happens in bins where the count changes.
	churn := setup{bin: 60, nbins: 8}
	for i := 0; i < 80; i++ {
		a := 5 + 5.3*float64(i)
		churn.hosts = append(churn.hosts, hostSpec{mu: 0.08, spans: []span{{a, a + 45}}})
	}
	return []struct {
		name string
		s    setup
	}{{"mixed", mixed}, {"fast", fast}, {"short-lease", lease}, {"churn", churn}}
}

// sensorKinds are the ways the telescope counts: in aggregate, with a
// capture window that opens and closes mid-bin (per-probe inside it), and
// as a web server (per-probe all along). Rates are given into the block, so
// the same worlds apply to all.
func sensorKinds() []struct {
	name string
	p    Params
} {
	return []struct {
		name string
		p    Params
	}{
		{"telescope", Params{Name: "t", Kind: "telescope", Prefix: "44.0.0.0/8"}},
		{"capture", Params{Name: "c", Kind: "telescope", Prefix: "44.0.0.0/8",
			Capture: param.Duration(130 * time.Second), CaptureStart: testStart.Add(70 * time.Second)}},
		{"webserver", Params{Name: "w", Kind: "webserver", Prefix: "44.0.0.1"}},
	}
}

// check is one compared statistic: a bin and a column, or the cumulative
// sources at the end.
type check struct {
	bin, col int
}

func checksOf(nbins int) []check {
	var cs []check
	for b := 0; b < nbins; b++ {
		for c := 0; c < 3; c++ { // probes, sources, new sources per bin
			cs = append(cs, check{b, c})
		}
	}
	return append(cs, check{nbins - 1, 3}) // cumulative sources at the end
}

const (
	seeds    = 400   // runs per compared distribution
	familyKS = 0.001 // family-wise false-alarm rate of the KS tests of one test
	maxZ     = 4.0   // mean checks: standard errors
)

// TestReferenceMatchesFormulas checks the oracle itself: the per-probe
// reference's mean counts agree with the formulas of the Poisson model.
func TestReferenceMatchesFormulas(t *testing.T) {
	t.Parallel()
	for _, c := range exactSetups() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ex := expected(c.s, 4000)
			rows := make([][]Row, seeds)
			for i := range rows {
				rows[i] = refRows(c.s, refProbes(c.s, rand.New(rand.NewPCG(uint64(i), 0xbeef))))
			}
			for _, k := range checksOf(c.s.nbins) {
				x := sample(rows, k)
				if z := zScore(x, ex[k.bin][k.col]); math.Abs(z) > maxZ {
					t.Errorf("bin %d %s: reference mean %.3f, formula %.3f (z = %.1f)", k.bin, columns[k.col], stat.Mean(x, nil), ex[k.bin][k.col], z)
				}
			}
		})
	}
}

// TestTelescopeMatchesPerProbe compares the telescope's rows with the
// per-probe reference over many seeds: two-sample KS tests per bin and
// column (Bonferroni over the test's checks), means within 4 standard
// errors of the formulas, and the variance of probes per bin (a sum of
// independent Poisson counts, so equal to its mean).
func TestTelescopeMatchesPerProbe(t *testing.T) {
	t.Parallel()
	for _, c := range exactSetups() {
		ref := make([][]Row, seeds)
		for i := range ref {
			ref[i] = refRows(c.s, refProbes(c.s, rand.New(rand.NewPCG(uint64(i), 0xbeef))))
		}
		ex := expected(c.s, 4000)
		for _, kind := range sensorKinds() {
			t.Run(c.name+"/"+kind.name, func(t *testing.T) {
				t.Parallel()
				rows := make([][]Row, seeds)
				for i := range rows {
					rows[i] = drive(t, c.s, kind.p, uint64(i)).Rows()
					if len(rows[i]) != c.s.nbins {
						t.Fatalf("seed %d: %d rows, want %d", i, len(rows[i]), c.s.nbins)
					}
				}
				cs := checksOf(c.s.nbins)
				alpha := familyKS / float64(len(cs))
				for _, k := range cs {
					x, y := sample(rows, k), sample(ref, k)
					if d, p := ks(x, y); p < alpha {
						t.Errorf("bin %d %s: KS D = %.3f, p = %.2g < %.2g (telescope mean %.3f, reference %.3f)", k.bin, columns[k.col], d, p, alpha, stat.Mean(x, nil), stat.Mean(y, nil))
					}
					if z := zScore(x, ex[k.bin][k.col]); math.Abs(z) > maxZ {
						t.Errorf("bin %d %s: mean %.3f, formula %.3f (z = %.1f)", k.bin, columns[k.col], stat.Mean(x, nil), ex[k.bin][k.col], z)
					}
					if k.col == 0 {
						lam := ex[k.bin][0]
						v := stat.Variance(x, nil)
						// Var of the sample variance of Poisson(lam): (mu4 - sigma^4)/n
						// with mu4 = lam + 3 lam^2.
						se := math.Sqrt((lam + 2*lam*lam) / float64(len(x)))
						if math.Abs(v-lam) > maxZ*se {
							t.Errorf("bin %d probes: variance %.2f, want %.2f (Poisson) within %.2f", k.bin, v, lam, maxZ*se)
						}
					}
				}
				for i, r := range rows {
					checkRowsConsistent(t, fmt.Sprintf("seed %d", i), r)
				}
			})
		}
	}
}

// checkRowsConsistent checks what must hold in every run: sources between
// new sources and probes, cumulative sources adding up, times one bin apart.
func checkRowsConsistent(t *testing.T, what string, rows []Row) {
	t.Helper()
	var cum int64
	for b, r := range rows {
		cum += r.NewSources
		switch {
		case r.NewSources > r.Sources:
			t.Errorf("%s: bin %d: %d new sources > %d sources", what, b, r.NewSources, r.Sources)
		case r.Sources > r.Probes:
			t.Errorf("%s: bin %d: %d sources > %d probes", what, b, r.Sources, r.Probes)
		case r.CumulativeSources != cum:
			t.Errorf("%s: bin %d: cumulative %d, sum of new %d", what, b, r.CumulativeSources, cum)
		case b > 0 && r.Time.Sub(rows[b-1].Time) <= 0:
			t.Errorf("%s: bin %d: time %v not after %v", what, b, r.Time, rows[b-1].Time)
		}
		if t.Failed() {
			return
		}
	}
}

// sample returns check k of every run.
func sample(rows [][]Row, k check) []float64 {
	x := make([]float64, len(rows))
	for i, r := range rows {
		x[i] = col(r[k.bin], k.col)
	}
	return x
}

// zScore returns how many standard errors the mean of x is from want.
// The standard error is at least 1/n: a count that came out the same in
// all n runs (a host certain to be seen, up to e^-12) differs from its
// expectation by about the chance of another value, which n equal runs
// put below a few 1/n.
func zScore(x []float64, want float64) float64 {
	m, v := stat.MeanVariance(x, nil)
	n := float64(len(x))
	return (m - want) / math.Max(math.Sqrt(v/n), 1/n)
}

// TestSteadyDraw checks the joint draw of sources and probes of n hosts
// with Poisson(m) probes each against a direct draw of every host's
// count (KS), and against the exact moments: E[S] = n q with
// q = 1 - e^-m, Var S = n q (1-q), E[P] = Var P = n m, and
// Cov(S, P) = n m e^-m.
func TestSteadyDraw(t *testing.T) {
	t.Parallel()
	cases := []struct {
		n int64
		m float64
	}{
		{1, 0.7}, {50, 0.01}, {200, 0.5}, {1000, 2.58}, {40, 12}, {300, 39}, {30, 45}, {100000, 0.043},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("n=%d,m=%g", c.n, c.m), func(t *testing.T) {
			t.Parallel()
			const runs = 2000
			rng := rand.New(rand.NewPCG(uint64(c.n), math.Float64bits(c.m)))
			direct := rand.New(rand.NewPCG(7, math.Float64bits(c.m)))
			var s, p, ds, dp []float64
			for i := 0; i < runs; i++ {
				a, b := steadyDraw(rng, condCache{}, c.n, c.m)
				s, p = append(s, float64(a)), append(p, float64(b))
				if c.n <= 1000 { // the direct draw, host by host
					var x, y int64
					for h := int64(0); h < c.n; h++ {
						k := poisson(direct, c.m)
						y += k
						if k > 0 {
							x++
						}
					}
					ds, dp = append(ds, float64(x)), append(dp, float64(y))
				}
			}
			if ds != nil {
				alpha := familyKS / 2 / float64(len(cases))
				if d, pv := ks(s, ds); pv < alpha {
					t.Errorf("sources: KS D = %.3f, p = %.2g against host-by-host draws", d, pv)
				}
				if d, pv := ks(p, dp); pv < alpha {
					t.Errorf("probes: KS D = %.3f, p = %.2g against host-by-host draws", d, pv)
				}
			}
			n := float64(c.n)
			q := -math.Expm1(-c.m)
			if z := zScore(s, n*q); math.Abs(z) > maxZ {
				t.Errorf("sources: mean %.3f, want %.3f (z = %.1f)", stat.Mean(s, nil), n*q, z)
			}
			if z := zScore(p, n*c.m); math.Abs(z) > maxZ {
				t.Errorf("probes: mean %.3f, want %.3f (z = %.1f)", stat.Mean(p, nil), n*c.m, z)
			}
			// Variances and covariance within 4 standard errors, the
			// standard error of a sample (co)variance taken as
			// sqrt(Var(XY-like products)/runs) from the sample itself.
			checkMoment(t, "Var probes", p, p, n*c.m)
			// Where fewer than 20 runs are expected to miss a host, the
			// sample cannot show the spread of sources.
			if miss := -math.Expm1(n * math.Log(q)); miss*runs >= 20 {
				checkMoment(t, "Var sources", s, s, n*q*(1-q))
				checkMoment(t, "Cov(sources, probes)", s, p, n*c.m*math.Exp(-c.m))
			}
			for i := range s {
				if s[i] > p[i] || s[i] > n {
					t.Fatalf("run %d: %v sources, %v probes, %v hosts", i, s[i], p[i], n)
				}
			}
		})
	}
}

// checkMoment checks the sample covariance of x and y against want, within
// 4 standard errors estimated from the products of deviations.
func checkMoment(t *testing.T, what string, x, y []float64, want float64) {
	t.Helper()
	mx, my := stat.Mean(x, nil), stat.Mean(y, nil)
	prod := make([]float64, len(x))
	for i := range x {
		prod[i] = (x[i] - mx) * (y[i] - my)
	}
	m, v := stat.MeanVariance(prod, nil)
	se := math.Sqrt(v / float64(len(x)))
	if se == 0 {
		if math.Abs(m-want) > 1e-9*math.Max(1, want) {
			t.Errorf("%s = %.4g, want %.4g exactly", what, m, want)
		}
		return
	}
	if math.Abs(m-want) > maxZ*se {
		t.Errorf("%s = %.4g, want %.4g (z = %.1f)", what, m, want, (m-want)/se)
	}
}

// TestDHCPChurn checks that over days DHCP hosts are counted once per
// address: the distinct sources exceed the hosts by hosts x the expected
// number of lease boundaries while they scan (T / lease with a uniform
// phase), less the addresses held too briefly to be seen; hosts without
// DHCP are counted once.
func TestDHCPChurn(t *testing.T) {
	t.Parallel()
	const (
		hosts = 200
		lease = 86400.0
		mu    = 0.01 // a new address is seen after 100 s on average
	)
	day := 86400.0
	cases := []struct {
		name  string
		dhcp  bool
		spans []span
	}{
		{"dhcp-5-days", true, []span{{0, inf}}},
		{"dhcp-from-day-1-to-4", true, []span{{day + 3600, 4*day - 7200}}},
		{"no-dhcp", false, []span{{0, inf}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := setup{bin: 3600, nbins: 120, lease: lease, hosts: group(hosts, mu, c.dhcp, c.spans...)}
			var T float64 // scanning time
			for _, sp := range c.spans {
				T += math.Min(sp.to, s.end()) - sp.from
			}
			boundaries := 0.0
			if c.dhcp {
				boundaries = T / lease
			}
			one := s // the hosts are alike: the formula for one, times hosts
			one.hosts = s.hosts[:1]
			ex := hosts * expected(one, 20000)[s.nbins-1][3]
			// The formula and the plain count differ by the addresses that
			// go unseen: each lease piece of length x is missed with
			// probability e^-(mu x); at most about one piece per boundary
			// and end, of expected loss below 1/(mu lease) each.
			plain := hosts * (1 + boundaries)
			if slack := hosts * (boundaries + 2) / (mu * lease); math.Abs(ex-plain) > slack {
				t.Fatalf("formula %.2f, plain count %.2f: more than %.2f apart", ex, plain, slack)
			}
			var cum []float64
			for seed := uint64(0); seed < 200; seed++ {
				rows := drive(t, s, Params{Name: "t", Kind: "telescope", Prefix: "44.0.0.0/8"}, seed).Rows()
				checkRowsConsistent(t, fmt.Sprintf("seed %d", seed), rows)
				cum = append(cum, float64(rows[len(rows)-1].CumulativeSources))
			}
			if z := zScore(cum, ex); math.Abs(z) > maxZ {
				t.Errorf("distinct sources: mean %.2f, want %.2f = %d hosts x (1 + %.3f boundaries) less unseen (z = %.1f)", stat.Mean(cum, nil), ex, hosts, boundaries, z)
			}
			if !c.dhcp {
				for i, x := range cum {
					if x != hosts { // P(a host unseen over days) = e^-4320
						t.Fatalf("seed %d: %v distinct sources, want %d", i, x, hosts)
					}
				}
			}
		})
	}
}
