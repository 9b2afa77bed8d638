package sensor

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"wormwatch/internal/stattest"
	"wormwatch/ipv4"
)

// This file holds the oracle the telescope is compared with: a per-probe
// simulation of a handful of hosts, written independently of the
// telescope's bookkeeping (every probe of every host is drawn, then
// counted), and the exact expected counts from the Poisson model.

// testSpace is the address space of the tests: 20 bits, so 44.0.0.0/8 is
// 4,096 addresses from 44 << 12.
var testSpace = ipv4.Space{Bits: 20}

// testStart is the scenario start of the tests.
var testStart = time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)

// span is one scanning interval [from, to) of a host, in seconds.
type span struct{ from, to float64 }

// hostSpec is one host of a test: its probe rate into the block while it
// scans, when it scans, and whether it gets a new address every lease.
type hostSpec struct {
	mu    float64
	spans []span
	dhcp  bool
}

// setup is a test world: bins, the DHCP lease and the hosts, in a space
// of bits bits (0: testSpace).
type setup struct {
	bin   float64
	nbins int
	lease float64
	hosts []hostSpec
	bits  int
}

func (s setup) space() ipv4.Space {
	if s.bits == 0 {
		return testSpace
	}
	return ipv4.Space{Bits: s.bits}
}

func (s setup) end() float64 { return s.bin * float64(s.nbins) }

// group returns n hosts with the same rate and spans.
func group(n int, mu float64, dhcp bool, spans ...span) []hostSpec {
	out := make([]hostSpec, n)
	for i := range out {
		out[i] = hostSpec{mu: mu, spans: spans, dhcp: dhcp}
	}
	return out
}

// srcOf is the address the tests give host h in a space of the given
// bits: the first address of the (h+1)th /16, so that hosts never share a
// /16 (nor the addresses DHCP gives them there).
func srcOf(bits, h int) uint32 { return uint32(h+1) << uint(bits-16) }

// tevent is a scan start or stop in the driver.
type tevent struct {
	t     float64
	start bool
	h     int32
	mu    float64
}

// events returns the starts and stops of s in the order a run makes them:
// by time, a stop before a start at the same time, then by host.
func (s setup) events() []tevent {
	var ev []tevent
	for h, hs := range s.hosts {
		for _, sp := range hs.spans {
			if sp.from < s.end() {
				ev = append(ev, tevent{t: sp.from, start: true, h: int32(h), mu: hs.mu})
			}
			if sp.to < s.end() {
				ev = append(ev, tevent{t: sp.to, start: false, h: int32(h)})
			}
		}
	}
	sort.SliceStable(ev, func(i, j int) bool {
		a, b := ev[i], ev[j]
		if a.t != b.t {
			return a.t < b.t
		}
		if a.start != b.start {
			return !a.start
		}
		return a.h < b.h
	})
	return ev
}

// drive runs a telescope (or web server) of parameters p through s with
// the given seed, the way sim does: events of a bin, then the bin's close
// (an event at a bin's end belongs to the next bin).
func drive(tb testing.TB, s setup, p Params, seed uint64) *Telescope {
	tb.Helper()
	t, err := NewTelescope(p, s.space(), testStart, s.bin, s.nbins, len(s.hosts), s.lease, rand.New(rand.NewPCG(seed, 0x5e750)), nil)
	if err != nil {
		tb.Fatal(err)
	}
	for h, hs := range s.hosts {
		if hs.dhcp {
			t.SetDHCP(int32(h))
		}
	}
	ev := s.events()
	i := 0
	for b := 0; b < s.nbins; b++ {
		t0, t1 := float64(b)*s.bin, math.Min(float64(b+1)*s.bin, s.end())
		for ; i < len(ev) && ev[i].t < t1; i++ {
			e := ev[i]
			if e.start {
				t.ScanStart(e.h, e.mu, e.t, srcOf(s.space().Bits, int(e.h)), uint8(e.h%3))
			} else {
				t.ScanStop(e.h, e.t)
			}
		}
		t.CloseBin(b, t0, t1)
	}
	return t
}

// refProbe is one probe of the per-probe reference.
type refProbe struct {
	t     float64
	h     int
	epoch int64
}

// refProbes draws every probe of every host of s: gaps Exp(mu) within each
// scanning span; a DHCP host's address epoch is floor((t + phase) / lease)
// with a uniform phase.
func refProbes(s setup, rng *rand.Rand) []refProbe {
	var out []refProbe
	for h, hs := range s.hosts {
		phase := 0.0
		if hs.dhcp && s.lease > 0 {
			phase = rng.Float64() * s.lease
		}
		for _, sp := range hs.spans {
			to := math.Min(sp.to, s.end())
			for t := sp.from + rng.ExpFloat64()/hs.mu; t < to; t += rng.ExpFloat64() / hs.mu {
				var e int64
				if hs.dhcp && s.lease > 0 {
					e = int64(math.Floor((t + phase) / s.lease))
				}
				out = append(out, refProbe{t: t, h: h, epoch: e})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].t < out[j].t })
	return out
}

// refRows counts the reference's probes per bin the way a telescope
// operator would from a full packet trace.
func refRows(s setup, probes []refProbe) []Row {
	type addr struct {
		h int
		e int64
	}
	rows := make([]Row, s.nbins)
	ever := map[addr]bool{}
	inBin := map[addr]bool{}
	k := 0
	var cum int64
	for b := range rows {
		clear(inBin)
		t1 := float64(b+1) * s.bin
		rows[b].Time = testStart.Add(time.Duration(float64(b) * s.bin * float64(time.Second)))
		for ; k < len(probes) && probes[k].t < t1; k++ {
			a := addr{probes[k].h, probes[k].epoch}
			rows[b].Probes++
			if !inBin[a] {
				inBin[a] = true
				rows[b].Sources++
			}
			if !ever[a] {
				ever[a] = true
				rows[b].NewSources++
				cum++
			}
		}
		rows[b].CumulativeSources = cum
	}
	return rows
}

// overlap returns the length of [a, b) ∩ [c, d).
func overlap(a, b, c, d float64) float64 { return math.Max(0, math.Min(b, d)-math.Max(a, c)) }

// expected returns the exact expected rows of s under the Poisson model,
// computed from the formulas (not by simulation): probes in a bin are
// sum mu x (scanning time in the bin); an address is a source in a bin
// with probability 1 - exp(-mu x its scanning time at that address in
// the bin), and has been seen by time t with probability 1 - exp(-mu x
// its scanning time at that address before t). For DHCP hosts the
// address epochs depend on a uniform phase: the expectation is averaged
// over phases by the midpoint rule (phases points).
func expected(s setup, phases int) expRows {
	exp := make(expRows, s.nbins) // probes, sources, new, cumulative
	for _, hs := range s.hosts {
		np := 1
		if hs.dhcp && s.lease > 0 {
			np = phases
		}
		w := 1 / float64(np)
		for k := 0; k < np; k++ {
			// the address epochs [lo, hi) over the run for this phase
			type seg struct{ lo, hi float64 }
			segs := []seg{{0, s.end()}}
			if np > 1 {
				phase := (float64(k) + 0.5) / float64(np) * s.lease
				segs = segs[:0]
				for lo := -phase; lo < s.end(); lo += s.lease {
					segs = append(segs, seg{math.Max(lo, 0), math.Min(lo+s.lease, s.end())})
				}
			}
			for b := 0; b < s.nbins; b++ {
				t0, t1 := float64(b)*s.bin, float64(b+1)*s.bin
				for _, g := range segs {
					var inBin, before float64
					for _, sp := range hs.spans {
						inBin += overlap(sp.from, sp.to, math.Max(t0, g.lo), math.Min(t1, g.hi))
						before += overlap(sp.from, sp.to, g.lo, math.Min(t1, g.hi))
					}
					exp[b][0] += w * hs.mu * inBin
					exp[b][1] += w * -math.Expm1(-hs.mu*inBin)
					exp[b][3] += w * -math.Expm1(-hs.mu*before)
				}
			}
		}
	}
	for b := range exp {
		exp[b][2] = exp[b][3]
		if b > 0 {
			exp[b][2] -= exp[b-1][3]
		}
	}
	return exp
}

// expRows is a slice of expected counts, per bin, per column.
type expRows [][4]float64

// columns names the compared columns of a Row.
var columns = [4]string{"probes", "sources", "new_sources", "cumulative_sources"}

// col returns column c of r.
func col(r Row, c int) float64 {
	switch c {
	case 0:
		return float64(r.Probes)
	case 1:
		return float64(r.Sources)
	case 2:
		return float64(r.NewSources)
	}
	return float64(r.CumulativeSources)
}

// ks is the two-sample Kolmogorov-Smirnov statistic and its p-value.
func ks(a, b []float64) (float64, float64) { return stattest.KS(a, b) }
