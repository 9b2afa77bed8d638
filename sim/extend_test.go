package sim

import (
	"math/rand/v2"
	"testing"
	"time"

	"wormwatch/internal/ctxpoll"
	"wormwatch/ipv4"
	"wormwatch/scenario"
	"wormwatch/worm"
)

// The two strategies of docs/extending.md, each added the way that page
// says: one type and one RegisterStrategy call. They are registered in
// this test binary only, so that no output of wormwatch lists them.

// own8 sends every probe to a uniform address of the host's own /8.
type own8 struct{}

// down is the walk N-1, N-2, ..., 0 over a space of N addresses.
type down struct{ n uint64 }

func (w down) Len() uint64                    { return w.n }
func (w down) Addr(m uint64) uint32           { return uint32(w.n - 1 - m) }
func (w down) Index(a uint32) (uint64, bool)  { return w.n - 1 - uint64(a), uint64(a) < w.n }
func (w down) Cyclic() bool                   { return true }
func (w down) Cursor(m uint64) uint64         { return m }
func (w down) Step(c uint64) (uint32, uint64) { return w.Addr(c), (c + 1) % w.n }
func (w down) CursorIndex(c uint64) uint64    { return c }

// downward walks down from the host's own address, wrapping at 0.
type downward struct{}

func init() {
	worm.RegisterStrategy("own8", 70, "every probe to the host's own /8 (a LAN worm)", own8{})
	worm.RegisterStrategy("downward", 80, "downward from the host's own address", downward{})
}

func (own8) Components(worm.Targeting) []worm.Component {
	return []worm.Component{{Level: 8, Weight: 1}}
}

func (downward) Components(worm.Targeting) []worm.Component {
	return []worm.Component{{Level: 0, Weight: 1}}
}

func (downward) NewWalk(v *worm.Variant, _ uint64, _ *ipv4.Hosts, _ *rand.Rand, _ *ctxpoll.Poller) (worm.Walk, error) {
	return down{v.Space.Size()}, nil
}

func (downward) Rules(worm.Targeting) worm.WalkRules { return worm.WalkRules{FixedOrder: true} }

func (downward) Begin(s *worm.WalkStart) (uint64, uint64, bool) {
	return (s.Len - uint64(s.Addr)) % s.Len, worm.NoEnd, true
}

// extendCases are the equivalence cases of the strategies registered
// above: own8 on hosts clustered in a few /8s (one seed infects only its
// own /8), downward on a few hosts of a 2^16 space.
func extendCases() []equivCase {
	own8Scenario := func() *scenario.Scenario {
		sc := testScenario(20, 1000, "own8", 1, 200*time.Second)
		sc.Population.Placement = "clustered"
		sc.Population.Clustered.Blocks8 = 4
		sc.Population.Clustered.Blocks16 = 32
		return sc
	}
	return []equivCase{
		{"own8", 1000, 1, 200 * time.Second, []float64{40, 80, 120}, own8Scenario},
		{"downward", 20, 50, 1200 * time.Second, []float64{300, 600, 900},
			func() *scenario.Scenario { return testScenario(16, 20, "downward", 50, 1200*time.Second) }},
	}
}

// TestExtendedStrategies runs the strategies that this file adds in both
// engines: they read from a scenario, the engines' outcome distributions
// agree (as TestEnginesAgree checks for the built-ins), and own8's
// infections never leave the infector's /8.
func TestExtendedStrategies(t *testing.T) {
	if testing.Short() {
		t.Skip("the per-probe oracle takes a while; run without -short")
	}
	const seeds = 100
	for _, c := range extendCases() {
		t.Run(c.name, func(t *testing.T) {
			fast := runMany(t, c, EngineFast, 1, seeds, nil)
			probe := runMany(t, c, EngineProbe, 1_000_001, seeds, nil)
			p, desc := compare(fast, probe, c.at)
			t.Logf("%s fast vs probe: %s", c.name, desc)
			if p < equivAlpha {
				t.Errorf("%s: the engines' outcome distributions differ (smallest KS p-value %.3g < %g): %s", c.name, p, equivAlpha, desc)
			}
			if last := fast[seeds-1].infected; last[len(last)-1] < 2 {
				t.Errorf("%s: the fast engine infected %v hosts by the check times: the strategy does not spread", c.name, last)
			}
		})
	}
	for _, engine := range []string{EngineFast, EngineProbe} {
		res := mustRun(t, extendCases()[0].scenario(), 7, engine)
		shift := uint(res.SpaceBits - 8)
		for _, inf := range res.Infections {
			if inf.Infector != NoInfector && inf.Address>>shift != inf.Infector>>shift {
				t.Fatalf("%s engine: own8 infection of %d by %d, in another /8", engine, inf.Address, inf.Infector)
			}
		}
		if len(res.Infections) < 10 {
			t.Errorf("%s engine: own8 infected %d hosts, want it to spread in the seed's /8", engine, len(res.Infections))
		}
	}
}

// TestExtendedStrategiesRead checks that the registered strategies are
// allowed values of targeting.strategy, and an unknown one is not.
func TestExtendedStrategiesRead(t *testing.T) {
	base := "start = 2001-07-19T10:00:00Z\nend = 2001-07-19T11:00:00Z\n[space]\nbits = 20\n[population]\nhosts = 100\nplacement = \"uniform\"\n[[worm]]\nname = \"w\"\n[worm.targeting]\n"
	for _, s := range []string{"own8", "downward"} {
		sc, err := scenario.Parse("x.toml", []byte(base+"strategy = \""+s+"\"\n"), "", nil)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if got := sc.Worms[0].Targeting.Strategy; got != worm.Strategy(s) {
			t.Errorf("strategy %q, want %q", got, s)
		}
	}
	_, err := scenario.Parse("x.toml", []byte(base+"strategy = \"upward\"\n"), "", nil)
	want := `x.toml:11: worm.w.targeting.strategy: "upward" is not allowed (allowed uniform, sequence, local, hitlist, permutation, sequential, own8, downward)`
	if err == nil || err.Error() != want {
		t.Errorf("unknown strategy: %v, want %s", err, want)
	}
	_, err = scenario.Parse("x.toml", []byte(base+"strategy = \"downward\"\nexclude = [\"10.0.0.0/8\"]\n"), "", nil)
	want = `x.toml:12: worm.w.targeting.exclude: not supported with strategy "downward": it walks one fixed order of the space, and skipping addresses would change the walk; exclude works with uniform, local, hitlist and own8 (remove exclude)`
	if err == nil || err.Error() != want {
		t.Errorf("exclude with downward: %v, want %s", err, want)
	}
}

// TestPatchHomeFactor: defense.patch.home_factor reaches the owners of
// home and small-business machines only. With a factor of 0 they never
// patch: a population of them all patches no host, one of none patches
// many.
func TestPatchHomeFactor(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		home    string
		patched bool
	}{{"1", false}, {"0", true}} {
		sc := loadSets(t, "fast-uniform", "space.bits=24", "population.hosts=1000", "population.placement=uniform",
			"defense.patch.rate=20", "defense.patch.home_factor=0", "population.home="+c.home)
		res := mustRun(t, sc, 1, EngineFast)
		if got := res.Final.Patched > 0; got != c.patched {
			t.Errorf("population.home = %s, home_factor = 0: %d hosts patched", c.home, res.Final.Patched)
		}
	}
}

// TestRebootHomeFactor: defense.reboot.home_factor reaches home and
// small-business machines only. Rebooted every few minutes, infected
// hosts are cured and infected again (more infections than hosts ever
// infected); with a factor of 0 and every machine a home one, none is.
func TestRebootHomeFactor(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		home     string
		reinfect bool
	}{{"1", false}, {"0", true}} {
		sc := loadSets(t, "fast-uniform", "space.bits=20", "population.hosts=1000", "population.placement=uniform",
			"defense.reboot.mean_interval=5m", "defense.reboot.home_factor=0", "population.home="+c.home)
		res := mustRun(t, sc, 1, EngineFast)
		events := int64(0)
		for _, b := range res.Bins {
			events += b.NewInfections
		}
		if got := events > res.EverInfected; got != c.reinfect {
			t.Errorf("population.home = %s, home_factor = 0: %d infections of %d hosts", c.home, events, res.EverInfected)
		}
	}
}
