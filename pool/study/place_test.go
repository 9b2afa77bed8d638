package study

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"wormwatch/ipv4"
	"wormwatch/pool"
)

// TestPlace: the blocks are a /16 and the /24s per member, disjoint in
// the space (pool.Size takes them all), outside the special-purpose
// ranges, the same for the same seed; in a space of 16 bits every /24 is
// an address of a /16 of its own.
func TestPlace(t *testing.T) {
	v4 := ipv4.Space{Bits: 32}
	special, _ := v4.ParseRanges([]string{ipv4.Special})
	for _, bits := range []int{32, 24, 20, 16} {
		sp := ipv4.Space{Bits: bits}
		for seed := range uint64(5) {
			members, err := Place(seed, sp, 30, 3)
			if err != nil {
				t.Fatal(err)
			}
			var blocks []pool.Block
			for _, m := range members {
				if len(m.Prefixes) != 4 || !strings.HasSuffix(m.Prefixes[0], "/16") || !strings.HasSuffix(m.Prefixes[3], "/24") {
					t.Fatalf("member %s: %v", m.Name, m.Prefixes)
				}
				for _, p := range m.Prefixes {
					r, _ := v4.ParsePrefix(p)
					if special.Overlap(r) > 0 {
						t.Errorf("%s is in special-purpose space", p)
					}
				}
				b, err := m.blocks(sp)
				if err != nil {
					t.Fatal(err)
				}
				blocks = append(blocks, b...)
			}
			size, err := pool.Size(blocks)
			if err != nil {
				t.Fatalf("%d bits, seed %d: %v", bits, seed, err)
			}
			want := 30 * (uint64(1)<<(bits-16) + 3*max(uint64(1)<<max(bits-24, 0), 1))
			if size != want {
				t.Errorf("%d bits: size %d, want %d", bits, size, want)
			}
			again, _ := Place(seed, sp, 30, 3)
			if !slices.EqualFunc(members, again, func(a, b Member) bool { return a.Name == b.Name && slices.Equal(a.Prefixes, b.Prefixes) }) {
				t.Errorf("%d bits, seed %d: placed differently the second time", bits, seed)
			}
		}
	}
	if _, err := Place(1, ipv4.Space{Bits: 32}, MaxMembers+1, 0); err == nil {
		t.Error("too many members were placed")
	}
}

func TestConfigCheck(t *testing.T) {
	good := smallConfig(1)
	if err := good.Check(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.Counts = nil }, "no member counts"},
		{func(c *Config) { c.Counts = []int{0} }, "0 members"},
		{func(c *Config) { c.Counts = []int{2, 2} }, "given twice"},
		{func(c *Config) { c.Seeds = nil }, "no seeds"},
		{func(c *Config) { c.Slash24 = MaxSlash24 + 1 }, "/24s per member"},
		{func(c *Config) { c.After = nil }, "times after the alarm"},
		{func(c *Config) { c.After = []time.Duration{-time.Second} }, "after the alarm"},
	} {
		cfg := smallConfig(1)
		c.change(&cfg)
		if err := cfg.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v, want %q", err, c.want)
		}
	}
}

func TestSpread(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		x    []float64
		want Spread
	}{
		{[]float64{3, nan, 1, 2}, Spread{N: 3, Missing: 1, Median: 2, Min: 1, Max: 3}},
		{[]float64{4, 1, 3, 2}, Spread{N: 4, Median: 2.5, Min: 1, Max: 4}},
	} {
		if got := spread(c.x); got != c.want {
			t.Errorf("spread(%v) = %+v, want %+v", c.x, got, c.want)
		}
	}
	if s := spread([]float64{nan}); s.N != 0 || s.Missing != 1 || !math.IsNaN(s.Median) {
		t.Errorf("spread of nothing: %+v", s)
	}
	b, _ := spread([]float64{nan}).MarshalJSON()
	if string(b) != `{"n":0,"missing":1,"median":null,"min":null,"max":null}` {
		t.Errorf("JSON %s", b)
	}
}
