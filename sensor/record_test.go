package sensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"wormwatch/internal/param"
)

// windowSetup has hosts scanning all along, hosts starting and stopping
// inside the windows below, and hosts stopping and restarting.
func windowSetup() setup {
	s := setup{bin: 60, nbins: 8}
	s.hosts = append(s.hosts, group(20, 0.05, false, span{0, inf})...)
	s.hosts = append(s.hosts, group(15, 0.1, false, span{100, 250})...)
	s.hosts = append(s.hosts, group(10, 0.08, false, span{0, 130}, span{170, inf})...)
	return s
}

// groups of windowSetup's hosts, by index range.
var windowGroups = []struct {
	name   string
	lo, hi int
}{{"steady", 0, 20}, {"start-stop", 20, 35}, {"restart", 35, 45}}

// TestCaptureWindow checks a telescope's capture: the probes recorded in
// the window [from, to) are, over seeds, Poisson(sum mu x scanning time in
// the window) in distribution (KS against Poisson draws) and in mean and
// variance, for every group of hosts as well; each probe lies in the
// window, comes from a host scanning at that time, goes to an address of
// the block; and the window's whole bins count exactly those probes.
func TestCaptureWindow(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		start    float64 // capture_start, seconds from the scenario start (NaN: unset)
		length   float64
		from, to float64 // the window it makes
	}{
		{"from-start", math.NaN(), 200, 0, 200},
		{"mid-bin", 150, 200, 150, 350},
		{"inside-first-bin", 30, 100, 30, 130},
		{"before-start", -100, 250, 0, 150},
		{"bin-boundary", 120, 60, 120, 180},
		{"past-end", 400, 300, 400, 480},
		{"after-end", 600, 300, 600, 480},
	}
	s := windowSetup()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := Params{Name: "c", Kind: "telescope", Prefix: "44.0.0.0/8", Capture: param.Duration(time.Duration(c.length * float64(time.Second)))}
			if !math.IsNaN(c.start) {
				p.CaptureStart = testStart.Add(time.Duration(c.start * float64(time.Second)))
			}
			// Expected counts, per group and in all.
			lam := make([]float64, len(windowGroups))
			var total float64
			for g, gr := range windowGroups {
				for _, hs := range s.hosts[gr.lo:gr.hi] {
					for _, sp := range hs.spans {
						lam[g] += hs.mu * overlap(sp.from, sp.to, c.from, c.to)
					}
				}
				total += lam[g]
			}
			counts := make([][]float64, len(windowGroups))
			var all, delays []float64
			rng := rand.New(rand.NewPCG(11, 12))
			var want []float64
			for seed := uint64(0); seed < seeds; seed++ {
				tel := drive(t, s, p, seed)
				if !tel.Records() {
					t.Fatal("Records() = false with a capture")
				}
				probes := tel.Probes()
				checkProbes(t, s, tel, probes, c.from, c.to)
				if t.Failed() {
					return
				}
				per := make([]float64, len(windowGroups))
				first := map[uint32]float64{}
				for _, pr := range probes {
					h := hostOf(s, pr.Src)
					for g, gr := range windowGroups {
						if h >= gr.lo && h < gr.hi {
							per[g]++
						}
					}
					if _, ok := first[pr.Src]; !ok {
						first[pr.Src] = pr.Seconds
					}
				}
				// The steady hosts draw their first probe from the window's
				// start: Exp(mu) later, whatever they did before.
				for h := 0; h < 20; h++ {
					if x, ok := first[srcOf(testSpace.Bits, h)]; ok {
						delays = append(delays, x-c.from)
					} else if c.to > c.from {
						delays = append(delays, c.to-c.from) // censored at the window's end
					}
				}
				for g := range per {
					counts[g] = append(counts[g], per[g])
				}
				all = append(all, float64(len(probes)))
				want = append(want, float64(poisson(rng, total)))
				checkWindowRows(t, s, tel.Rows(), probes, c.from, c.to)
			}
			if c.to <= c.from {
				for i, n := range all {
					if n != 0 {
						t.Fatalf("seed %d: %v probes in an empty window", i, n)
					}
				}
				return
			}
			if d, pv := ks(all, want); pv < familyKS {
				t.Errorf("probes in the window: KS D = %.3f, p = %.2g against Poisson(%.2f)", d, pv, total)
			}
			if z := zScore(all, total); math.Abs(z) > maxZ {
				t.Errorf("probes in the window: mean %.2f, want %.2f (z = %.1f)", stat.Mean(all, nil), total, z)
			}
			se := math.Sqrt((total + 2*total*total) / float64(len(all)))
			if v := stat.Variance(all, nil); math.Abs(v-total) > maxZ*se {
				t.Errorf("probes in the window: variance %.2f, want %.2f within %.2f", v, total, maxZ*se)
			}
			for g, gr := range windowGroups {
				if z := zScore(counts[g], lam[g]); math.Abs(z) > maxZ {
					t.Errorf("%s hosts: mean %.2f probes, want %.2f (z = %.1f)", gr.name, stat.Mean(counts[g], nil), lam[g], z)
				}
			}
			// First-probe delays of the steady hosts against Exp(0.05)
			// draws censored the same way.
			exp := make([]float64, len(delays))
			for i := range exp {
				exp[i] = math.Min(rng.ExpFloat64()/0.05, c.to-c.from)
			}
			if d, pv := ks(delays, exp); pv < familyKS {
				t.Errorf("first probe after the window opens: KS D = %.3f, p = %.2g against Exp(0.05)", d, pv)
			}
		})
	}
}

// hostOf returns the host of the tests' address a (its /16 less one).
func hostOf(s setup, a uint32) int { return int(a>>uint(s.space().Bits-16)) - 1 }

// checkProbes checks every recorded probe: in time order, inside the
// window, from a host scanning then (with its variant), to an address of
// the telescope's block.
func checkProbes(t *testing.T, s setup, tel *Telescope, probes []Probe, from, to float64) {
	t.Helper()
	r := tel.Range()
	for i, pr := range probes {
		h := hostOf(s, pr.Src)
		switch {
		case i > 0 && pr.Seconds < probes[i-1].Seconds:
			t.Errorf("probe %d at %.3f s before probe %d at %.3f s", i, pr.Seconds, i-1, probes[i-1].Seconds)
		case pr.Seconds < from || pr.Seconds >= to:
			t.Errorf("probe %d at %.3f s outside the window [%g, %g)", i, pr.Seconds, from, to)
		case !r.Contains(pr.Dst):
			t.Errorf("probe %d to %d outside the block [%d, %d)", i, pr.Dst, r.Lo, r.Hi)
		case h < 0 || h >= len(s.hosts):
			t.Errorf("probe %d from %d: no such host", i, pr.Src)
		case int(pr.Variant) != h%3:
			t.Errorf("probe %d from host %d: variant %d, want %d", i, h, pr.Variant, h%3)
		case !scanningAt(s.hosts[h], pr.Seconds):
			t.Errorf("probe %d at %.3f s from host %d, which scans only in %v", i, pr.Seconds, h, s.hosts[h].spans)
		}
		if t.Failed() {
			return
		}
	}
}

func scanningAt(hs hostSpec, x float64) bool {
	for _, sp := range hs.spans {
		if x >= sp.from && x < sp.to {
			return true
		}
	}
	return false
}

// checkWindowRows checks that the bins wholly inside the window count
// exactly the recorded probes: probes and distinct sources.
func checkWindowRows(t *testing.T, s setup, rows []Row, probes []Probe, from, to float64) {
	t.Helper()
	for b, r := range rows {
		t0, t1 := float64(b)*s.bin, float64(b+1)*s.bin
		if t0 < from || t1 > to {
			continue
		}
		var n int64
		src := map[uint32]bool{}
		for _, pr := range probes {
			if pr.Seconds >= t0 && pr.Seconds < t1 {
				n++
				src[pr.Src] = true
			}
		}
		if r.Probes != n || r.Sources != int64(len(src)) {
			t.Errorf("bin %d inside the window: row has %d probes from %d sources, the capture %d from %d", b, r.Probes, r.Sources, n, len(src))
		}
	}
}

// TestWebServer checks a web server: it records every probe of the run,
// and its rows are those probes counted, exactly: probes and distinct
// source addresses per bin, and new and cumulative sources. DHCP hosts
// appear at a new address of their own /16 every lease (a 32-bit space,
// so that addresses do not collide).
func TestWebServer(t *testing.T) {
	t.Parallel()
	s := setup{bin: 600, nbins: 36, lease: 3 * 3600, bits: 32}
	s.hosts = append(s.hosts, group(20, 0.002, true, span{0, inf})...)
	s.hosts = append(s.hosts, group(20, 0.004, true, span{1800, 15000})...)
	s.hosts = append(s.hosts, group(10, 0.003, false, span{0, inf})...)
	p := Params{Name: "w", Kind: "webserver", Prefix: "44.1.2.3"}
	sp := s.space()
	var totals, want []float64
	var lam float64
	for _, hs := range s.hosts {
		for _, x := range hs.spans {
			lam += hs.mu * overlap(x.from, x.to, 0, s.end())
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for seed := uint64(0); seed < 100; seed++ {
		tel := drive(t, s, p, seed)
		probes, rows := tel.Probes(), tel.Rows()
		checkProbes(t, s, tel, probes, 0, s.end())
		if dst, _ := sp.ParseAddr("44.1.2.3"); len(probes) > 0 && probes[0].Dst != dst {
			t.Fatalf("web server probed at %s, want 44.1.2.3", sp.Format(probes[0].Dst))
		}
		ever := map[uint32]bool{}
		var sum, cum int64
		k := 0
		for b, r := range rows {
			inBin := map[uint32]bool{}
			var n, fresh int64
			for ; k < len(probes) && probes[k].Seconds < float64(b+1)*s.bin; k++ {
				a := probes[k].Src
				n++
				inBin[a] = true
				if !ever[a] {
					ever[a] = true
					fresh++
				}
			}
			cum += fresh
			got := [4]int64{r.Probes, r.Sources, r.NewSources, r.CumulativeSources}
			if w := [4]int64{n, int64(len(inBin)), fresh, cum}; got != w {
				t.Fatalf("seed %d bin %d: row %v, the log gives %v (probes, sources, new, cumulative)", seed, b, got, w)
			}
			sum += r.Probes
		}
		if sum != int64(len(probes)) {
			t.Fatalf("seed %d: rows count %d probes, the log %d", seed, sum, len(probes))
		}
		// Each host's addresses: its own in its first lease, then one per
		// lease, all in its /16 (distinct: collisions there have chance
		// 2^-16).
		epochs, addrs := map[int]map[int32]bool{}, map[int]map[uint32]bool{}
		for _, pr := range probes {
			h := hostOf(s, pr.Src)
			if pr.Src>>16 != srcOf(32, h)>>16 {
				t.Fatalf("seed %d: host %d at %s, outside its /16 %s", seed, h, sp.Format(pr.Src), sp.Format(srcOf(32, h)))
			}
			e, _ := tel.epoch(int32(h), pr.Seconds)
			if own := pr.Src == srcOf(32, h); own != (e == 0) {
				t.Fatalf("seed %d: host %d in lease %d at %s (its own address %s)", seed, h, e, sp.Format(pr.Src), sp.Format(srcOf(32, h)))
			}
			if epochs[h] == nil {
				epochs[h], addrs[h] = map[int32]bool{}, map[uint32]bool{}
			}
			epochs[h][e], addrs[h][pr.Src] = true, true
		}
		for h := range epochs {
			if len(epochs[h]) != len(addrs[h]) || !s.hosts[h].dhcp && len(addrs[h]) != 1 {
				t.Fatalf("seed %d: host %d (DHCP %v) probed from %d addresses in %d leases", seed, h, s.hosts[h].dhcp, len(addrs[h]), len(epochs[h]))
			}
		}
		totals = append(totals, float64(len(probes)))
		want = append(want, float64(poisson(rng, lam)))
	}
	if d, pv := ks(totals, want); pv < familyKS {
		t.Errorf("probes over the run: KS D = %.3f, p = %.2g against Poisson(%.1f)", d, pv, lam)
	}
	if z := zScore(totals, lam); math.Abs(z) > maxZ {
		t.Errorf("probes over the run: mean %.1f, want %.1f (z = %.1f)", stat.Mean(totals, nil), lam, z)
	}
}

// TestDHCPAddressesInCapture checks that a DHCP host's probes show one
// address per lease: the number of distinct addresses of the log per
// host follows the leases it scanned through (mean within 4 standard
// errors of the formula with a uniform phase).
func TestDHCPAddressesInCapture(t *testing.T) {
	t.Parallel()
	// Fast hosts: every address is seen almost surely (mu x lease = 72).
	s := setup{bin: 600, nbins: 36, lease: 3600, bits: 32, hosts: group(30, 0.02, true, span{0, inf})}
	// 6 h of scanning: 6 boundaries, or 7 pieces; the first and last
	// pieces are missed with probability E[e^-(mu U lease)] = 1/72 each.
	want := 1 + s.end()/s.lease - 2*(1-math.Exp(-0.02*s.lease))/(0.02*s.lease)
	var got []float64
	for seed := uint64(0); seed < 100; seed++ {
		tel := drive(t, s, Params{Name: "w", Kind: "webserver", Prefix: "44.1.2.3"}, seed)
		per := map[int]map[uint32]bool{}
		for _, pr := range tel.Probes() {
			h := hostOf(s, pr.Src)
			if per[h] == nil {
				per[h] = map[uint32]bool{}
			}
			per[h][pr.Src] = true
		}
		for h := range s.hosts {
			got = append(got, float64(len(per[h])))
		}
	}
	if z := zScore(got, want); math.Abs(z) > maxZ {
		t.Errorf("addresses per host over %g h: mean %.3f, want %.3f (z = %.1f)", s.end()/3600, stat.Mean(got, nil), want, z)
	}
}

// TestPoissonHelper checks the test's own Poisson draws against gonum's
// CDF, since the window tests compare with them.
func TestPoissonHelper(t *testing.T) {
	t.Parallel()
	for _, lam := range []float64{0.3, 4, 37, 250} {
		t.Run(fmt.Sprint(lam), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(1, math.Float64bits(lam)))
			x := make([]float64, 4000)
			for i := range x {
				x[i] = float64(poisson(rng, lam))
			}
			sort.Float64s(x)
			d := distuv.Poisson{Lambda: lam}
			// One-sample KS on the integers: the largest gap between the
			// empirical and the true CDF at the support points.
			var dmax float64
			for i := 0; i < len(x); {
				j := i
				for j < len(x) && x[j] == x[i] {
					j++
				}
				dmax = math.Max(dmax, math.Abs(float64(j)/float64(len(x))-d.CDF(x[i])))
				i = j
			}
			if crit := 1.95 / math.Sqrt(float64(len(x))); dmax > crit { // alpha 0.001
				t.Errorf("max CDF gap %.4f > %.4f", dmax, crit)
			}
		})
	}
}

// TestRecordCap checks Params.RecordMax: with a cap below what the window
// records, the recording keeps exactly the probes an uncapped run records
// before the start of the bin in which the cap was reached, and none
// after; the series is unchanged; RecordCut says when it ends. Without
// reaching it, nothing changes.
func TestRecordCap(t *testing.T) {
	t.Parallel()
	s := windowSetup()
	p := Params{Name: "c", Kind: "telescope", Prefix: "44.0.0.0/8", Capture: param.Duration(400 * time.Second)}
	for seed := uint64(0); seed < 20; seed++ {
		whole := drive(t, s, p, seed)
		all := whole.Probes()
		if len(all) < 10 {
			t.Fatalf("seed %d: %d probes recorded: the setup records too few to test a cap", seed, len(all))
		}
		if _, cut := whole.RecordCut(); cut {
			t.Fatalf("seed %d: cut without a cap reached", seed)
		}
		capped := p
		capped.RecordMax = int64(len(all) / 2)
		tel := drive(t, s, capped, seed)
		at, cut := tel.RecordCut()
		if !cut {
			t.Fatalf("seed %d: %d probes with a cap of %d, and no cut", seed, len(all), capped.RecordMax)
		}
		if math.Mod(at, s.bin) != 0 {
			t.Errorf("seed %d: cut at %v s, not a bin's start", seed, at)
		}
		var want []Probe
		for _, pr := range all {
			if pr.Seconds < at {
				want = append(want, pr)
			}
		}
		got := tel.Probes()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("seed %d: capped at %d (cut at %v s): %d probes kept, want the %d of the uncapped run before the cut", seed, capped.RecordMax, at, len(got), len(want))
		}
		if len(got) > int(capped.RecordMax) {
			t.Errorf("seed %d: %d probes kept, past the cap %d", seed, len(got), capped.RecordMax)
		}
		if fmt.Sprint(tel.Rows()) != fmt.Sprint(whole.Rows()) {
			t.Errorf("seed %d: the series changed with the cap", seed)
		}
		roomy := p
		roomy.RecordMax = int64(len(all))
		if tel := drive(t, s, roomy, seed); fmt.Sprint(tel.Probes()) != fmt.Sprint(all) {
			t.Errorf("seed %d: a cap equal to the probes recorded changed them", seed)
		}
	}
}
