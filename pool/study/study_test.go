package study

import (
	"bytes"
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"wormwatch/forecast"
	"wormwatch/ipv4"
	"wormwatch/pool"
	"wormwatch/scenario"
	"wormwatch/sim"
)

// reduced is codered2-july19 scaled to a 2^24 space with 1,406 hosts (the
// same K and the same share of the probes per /16 as the full scenario's
// 360,000 hosts in 2^32): a run takes a few milliseconds.
var reduced = []string{"space.bits=24", "population.hosts=1406"}

func load(t *testing.T, sets ...string) *scenario.Scenario {
	t.Helper()
	sc, _, err := scenario.Load("codered2-july19", sets)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// runMembers runs sc with members placed from seed, each a /16 and
// slash24 /24s.
func runMembers(t *testing.T, sc *scenario.Scenario, seed uint64, n, slash24 int) (*sim.Result, []Member) {
	t.Helper()
	members, err := Place(seed, spaceOf(sc), n, slash24)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sim.Run(t.Context(), withMembers(sc, members), seed, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res, members
}

// unionOf counts the union of the run's sensors idx (of the members'
// blocks) from their probes, binned as the study bins them.
func unionOf(t *testing.T, res *sim.Result, blocks []pool.Block, idx []int) []pool.Row {
	t.Helper()
	u, err := pool.NewUnion(blocks, res.Start, time.Duration(res.BinSeconds*float64(time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	var srcs [][]uint32
	var offs [][]int32
	for _, j := range idx {
		s, o := binned(res.Sensors[j].Probes, res.BinSeconds, len(res.Bins))
		srcs, offs = append(srcs, s), append(offs, o)
	}
	for b := range res.Bins {
		for k := range idx {
			u.Add(k, srcs[k][offs[k][b]:offs[k][b+1]]...)
		}
		u.Close()
	}
	return u.Rows()
}

func allBlocks(t *testing.T, sp ipv4.Space, members []Member) []pool.Block {
	t.Helper()
	var out []pool.Block
	for _, m := range members {
		b, err := m.blocks(sp)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}

// TestOneSensorIsItsEngineSeries: the union of one sensor, counted from
// its probes, is the series the engine counted for it, row for row, in
// spaces of 24 and 32 bits (Code Red's K in both: in 2^32 with 20,000
// hosts scanning 18 times as fast, over 6 hours, to stay fast).
func TestOneSensorIsItsEngineSeries(t *testing.T) {
	for _, sets := range [][]string{reduced, {"population.hosts=20000", "worm.0.rate.threads=1800", "end=2001-07-19T16:00:00Z"}} {
		sc := load(t, sets...)
		for seed := uint64(1); seed <= 3; seed++ {
			res, members := runMembers(t, sc, seed, 3, 2)
			blocks := allBlocks(t, spaceOf(sc), members)
			probes := 0
			for j, s := range res.Sensors {
				got := unionOf(t, res, blocks[j:j+1], []int{j})
				if len(got) != len(s.Rows) {
					t.Fatalf("%v seed %d, sensor %s: %d rows from the probes, %d from the engine", sets, seed, s.Name, len(got), len(s.Rows))
				}
				for i := range got {
					if got[i] != pool.Row(s.Rows[i]) {
						t.Fatalf("%v seed %d, sensor %s, bin %d: from the probes %+v, the engine's %+v", sets, seed, s.Name, i, got[i], s.Rows[i])
					}
				}
				probes += len(s.Probes)
			}
			t.Logf("%v seed %d: %d probes compared", sets, seed, probes)
			if probes == 0 {
				t.Fatalf("%v seed %d: no probes: nothing was compared", sets, seed)
			}
		}
	}
}

// TestPoolAgainstItsSensors: the exact union of every member's sensors
// has, per bin, the sum of their probes, the distinct sources a set of
// their probes' sources has, at least the sources of each and at most
// their sum; its cumulative sources are hosts, no more than were ever
// infected.
func TestPoolAgainstItsSensors(t *testing.T) {
	sc := load(t, reduced...)
	res, members := runMembers(t, sc, 7, 4, 2)
	blocks := allBlocks(t, spaceOf(sc), members)
	idx := make([]int, len(blocks))
	for j := range idx {
		idx[j] = j
	}
	got := unionOf(t, res, blocks, idx)
	seen := map[uint32]bool{}
	for b, r := range got {
		var probes, most, sum int64
		in := map[uint32]bool{}
		for _, s := range res.Sensors {
			probes += s.Rows[b].Probes
			most, sum = max(most, s.Rows[b].Sources), sum+s.Rows[b].Sources
			for _, p := range s.Probes {
				if int(math.Floor(p.Seconds/res.BinSeconds)) == b {
					in[p.Src] = true
				}
			}
		}
		newSrc := 0
		for a := range in {
			if !seen[a] {
				newSrc++
				seen[a] = true
			}
		}
		want := pool.Row{Time: r.Time, Probes: probes, Sources: int64(len(in)), NewSources: int64(newSrc), CumulativeSources: int64(len(seen))}
		if r != want || r.Sources < most || r.Sources > sum {
			t.Fatalf("bin %d: union %+v, want %+v (sources between %d and %d)", b, r, want, most, sum)
		}
	}
	last := got[len(got)-1].CumulativeSources
	if last == 0 || last > res.EverInfected {
		t.Errorf("the union saw %d sources, of %d hosts ever infected", last, res.EverInfected)
	}
}

func smallConfig(seeds ...uint64) Config {
	set := forecast.DefaultSettings
	return Config{Counts: []int{4, 1, 2}, Slash24: 1, Seeds: seeds, After: []time.Duration{0, 30 * time.Minute, time.Hour}, Forecast: set.Options(24)}
}

// TestReproducible: a study is the same, byte for byte, run again and on
// another number of workers; another seed places other blocks.
func TestReproducible(t *testing.T) {
	sc := load(t, reduced...)
	var outs [][]byte
	for _, workers := range []int{1, 2, 1} {
		cfg := smallConfig(1, 2, 3)
		cfg.Workers = workers
		s, err := Run(t.Context(), sc, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		for _, w := range []func(*bytes.Buffer) error{
			func(b *bytes.Buffer) error { return s.WriteCSV(b) },
			func(b *bytes.Buffer) error { return s.WriteJSON(b) },
			func(b *bytes.Buffer) error { return s.WriteText(b) },
		} {
			if err := w(&buf); err != nil {
				t.Fatal(err)
			}
		}
		outs = append(outs, buf.Bytes())
		if len(s.Lines) != 3 || s.Lines[0].Count != 1 || s.Lines[2].Count != 4 || s.Lines[2].Pools != 3 || s.Lines[0].Pools != 12 {
			t.Fatalf("lines: %+v", s.Lines)
		}
	}
	for i := 1; i < len(outs); i++ {
		if !bytes.Equal(outs[0], outs[i]) {
			t.Errorf("study %d differs from the first", i+1)
		}
	}
	a, _ := Place(1, ipv4.Space{Bits: 32}, 4, 1)
	b, _ := Place(2, ipv4.Space{Bits: 32}, 4, 1)
	if slices.EqualFunc(a, b, func(x, y Member) bool { return slices.Equal(x.Prefixes, y.Prefixes) }) {
		t.Error("seeds 1 and 2 placed the same blocks")
	}
}

// TestPoolSeesMore: a pool's exact series has at least the cumulative
// sources of each of its members, and its sum at least the pool's, at
// every bin (read back through the study's own builder).
func TestPoolSeesMore(t *testing.T) {
	sc := load(t, reduced...)
	res, members := runMembers(t, sc, 5, 4, 1)
	b, err := newBuilder(res, members, smallConfig(5))
	if err != nil {
		t.Fatal(err)
	}
	for i := range res.Bins {
		if err := b.bin(context.Background(), i); err != nil {
			t.Fatal(err)
		}
		for _, p := range b.pools {
			for _, m := range p.members {
				if m.last.CumulativeSources > p.exact.last.CumulativeSources || m.last.Probes > p.exact.last.Probes {
					t.Fatalf("bin %d: a member saw more than its pool of %d: %+v, pool %+v", i, p.count, m.last, p.exact.last)
				}
			}
			if p.summed.last.CumulativeSources < p.exact.last.CumulativeSources || p.summed.last.Probes != p.exact.last.Probes {
				t.Fatalf("bin %d: pool of %d summed %+v, exact %+v", i, p.count, p.summed.last, p.exact.last)
			}
		}
	}
}

// BenchmarkSeed runs one seed of the default study: codered2-july19 with
// 20 members of a /16 and two /24s, pools of 1, 5 and 20.
func BenchmarkSeed(b *testing.B) {
	sc, _, err := scenario.Load("codered2-july19", nil)
	if err != nil {
		b.Fatal(err)
	}
	set := forecast.DefaultSettings
	cfg := Config{Counts: []int{1, 5, 20}, Slash24: 2, After: []time.Duration{0, time.Hour, 2 * time.Hour}, Forecast: set.Options(32), Workers: 1}
	for i := 0; b.Loop(); i++ {
		cfg.Seeds = []uint64{uint64(i + 1)}
		if _, err := Run(b.Context(), sc, cfg); err != nil {
			b.Fatal(err)
		}
	}
}
