package pool

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)

// probe is one probe of a test: the interval, the sensor and the source.
type probe struct {
	interval, sensor int
	src              uint32
}

// randomProbes draws n probes over the intervals and sensors from a pool
// of sources small enough that sources come back, within an interval and
// across intervals and sensors; every fifth interval gets none.
func randomProbes(rng *rand.Rand, n, intervals, sensors, pool int) []probe {
	var ps []probe
	for len(ps) < n {
		i := rng.IntN(intervals)
		if i%5 == 3 {
			continue
		}
		ps = append(ps, probe{i, rng.IntN(sensors), uint32(rng.IntN(pool)) * 2654435761})
	}
	// In interval order (the order within an interval is random).
	out := make([]probe, 0, n)
	for i := range intervals {
		for _, p := range ps {
			if p.interval == i {
				out = append(out, p)
			}
		}
	}
	return out
}

// bruteForce counts the union's rows with sets: the sources of each
// interval, and of all the intervals before.
func bruteForce(ps []probe, intervals int) []Row {
	rows := make([]Row, intervals)
	before := map[uint32]bool{}
	for i := range rows {
		in := map[uint32]bool{}
		for _, p := range ps {
			if p.interval == i {
				rows[i].Probes++
				in[p.src] = true
			}
		}
		for s := range in {
			if !before[s] {
				rows[i].NewSources++
			}
		}
		for s := range in {
			before[s] = true
		}
		rows[i].Time = t0.Add(time.Duration(i) * time.Minute)
		rows[i].Sources = int64(len(in))
		rows[i].CumulativeSources = int64(len(before))
	}
	return rows
}

func testBlocks(n int) []Block {
	bs := make([]Block, n)
	for i := range bs {
		bs[i] = Block{Name: "s" + string(rune('a'+i)), Lo: uint64(i) << 16, Hi: uint64(i)<<16 + 1<<16 - uint64(i)*256}
	}
	return bs
}

// feed gives the probes to a new union with Add and Close.
func feed(t *testing.T, ps []probe, blocks []Block, intervals int) *Union {
	t.Helper()
	u, err := NewUnion(blocks, t0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	for i := range intervals {
		for ; k < len(ps) && ps[k].interval == i; k++ {
			if err := u.Add(ps[k].sensor, ps[k].src); err != nil {
				t.Fatal(err)
			}
		}
		u.Close()
	}
	return u
}

func TestUnionAgainstSets(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 7))
		intervals, sensors := 1+rng.IntN(40), 1+rng.IntN(6)
		ps := randomProbes(rng, rng.IntN(3000), intervals, sensors, 1+rng.IntN(500))
		u := feed(t, ps, testBlocks(sensors), intervals)
		want := bruteForce(ps, intervals)
		got := u.Rows()
		if len(got) != len(want) {
			t.Fatalf("seed %d: %d rows, want %d", seed, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("seed %d, interval %d: %+v, want %+v", seed, i, got[i], want[i])
			}
		}
		if u.Sources() != int(want[len(want)-1].CumulativeSources) {
			t.Errorf("seed %d: Sources %d, want %d", seed, u.Sources(), want[len(want)-1].CumulativeSources)
		}
	}
}

// TestUnionProbesAreTheSum: the union's probes are the sum of its
// sensors' (each counted alone), and its sources at most the sum and at
// least the largest.
func TestUnionProbesAreTheSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const intervals, sensors = 30, 4
	ps := randomProbes(rng, 5000, intervals, sensors, 300)
	blocks := testBlocks(sensors)
	all := feed(t, ps, blocks, intervals).Rows()
	var alone [][]Row
	for s := range sensors {
		var mine []probe
		for _, p := range ps {
			if p.sensor == s {
				mine = append(mine, probe{p.interval, 0, p.src})
			}
		}
		alone = append(alone, feed(t, mine, blocks[s:s+1], intervals).Rows())
	}
	for i, r := range all {
		var probes, sumSrc, maxSrc, sumCum, maxCum int64
		for _, a := range alone {
			probes += a[i].Probes
			sumSrc += a[i].Sources
			maxSrc = max(maxSrc, a[i].Sources)
			sumCum += a[i].CumulativeSources
			maxCum = max(maxCum, a[i].CumulativeSources)
		}
		if r.Probes != probes {
			t.Errorf("interval %d: union probes %d, sensors' sum %d", i, r.Probes, probes)
		}
		if r.Sources > sumSrc || r.Sources < maxSrc || r.CumulativeSources > sumCum || r.CumulativeSources < maxCum {
			t.Errorf("interval %d: union sources %d (cumulative %d) outside [%d, %d] ([%d, %d])", i, r.Sources, r.CumulativeSources, maxSrc, sumSrc, maxCum, sumCum)
		}
	}
}

// TestAddAt: probes given with their times make the rows that Add and
// Close make; late and early probes are refused and change nothing.
func TestAddAt(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const intervals, sensors = 25, 3
	ps := randomProbes(rng, 2000, intervals, sensors, 200)
	blocks := testBlocks(sensors)
	want := feed(t, ps, blocks, intervals).Rows()
	u, err := NewUnion(blocks, t0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		at := t0.Add(time.Duration(p.interval)*time.Minute + time.Duration(rng.Int64N(int64(time.Minute))))
		if err := u.AddAt(p.sensor, at, p.src); err != nil {
			t.Fatal(err)
		}
	}
	before := u.Sources()
	if err := u.AddAt(0, t0.Add(-time.Nanosecond), 1); err == nil || !strings.Contains(err.Error(), "before the union's start") {
		t.Errorf("a probe before the start: %v", err)
	}
	if len(u.Rows()) > 0 {
		if err := u.AddAt(0, t0, 12345); err == nil || !strings.Contains(err.Error(), "late") {
			t.Errorf("a late probe: %v", err)
		}
	}
	if err := u.AddAt(sensors, u.Open(), 1); err == nil {
		t.Error("a probe of sensor 3 of 3 was taken")
	}
	if u.Sources() != before {
		t.Errorf("refused probes changed the sources: %d, were %d", u.Sources(), before)
	}
	closed, err := u.CloseUntil(t0.Add(intervals * time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	got := u.Rows()
	if len(got) != intervals || len(closed) == 0 || closed[len(closed)-1] != got[intervals-1] {
		t.Fatalf("%d rows (CloseUntil closed %d), want %d", len(got), len(closed), intervals)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("interval %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestBlocks(t *testing.T) {
	b, err := PrefixBlock("x", netip.MustParsePrefix("44.1.0.0/16"))
	if err != nil || b.Lo != 44<<24|1<<16 || b.Size() != 65536 {
		t.Fatalf("PrefixBlock: %+v, %v", b, err)
	}
	if _, err := PrefixBlock("v6", netip.MustParsePrefix("2001:db8::/32")); err == nil {
		t.Error("an IPv6 prefix was taken")
	}
	c, _ := PrefixBlock("y", netip.MustParsePrefix("44.1.7.0/24"))
	d, _ := PrefixBlock("z", netip.MustParsePrefix("44.2.0.0/24"))
	if n, err := Size([]Block{d, b}); err != nil || n != 65536+256 {
		t.Errorf("Size of a /16 and a /24 apart: %d, %v", n, err)
	}
	_, err = NewUnion([]Block{d, b, c}, t0, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "sensors x and y overlap") || !strings.Contains(err.Error(), "share 256 addresses") {
		t.Errorf("overlapping blocks: %v", err)
	}
	for _, bad := range [][]Block{nil, {{Name: "e", Lo: 5, Hi: 5}}} {
		if _, err := Size(bad); err == nil {
			t.Errorf("Size(%v) took it", bad)
		}
	}
	if _, err := NewUnion([]Block{b}, t0, 0); err == nil {
		t.Error("an interval of 0 was taken")
	}
}

// TestAddN: counting each source of an interval once with its count of
// probes (AddN) gives the rows of Add probe by probe; a count below 1 or
// a bad sensor is refused and counts nothing.
func TestAddN(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const intervals, sensors = 25, 3
	ps := randomProbes(rng, 2000, intervals, sensors, 300)
	want := feed(t, ps, testBlocks(sensors), intervals).Rows()
	u, err := NewUnion(testBlocks(sensors), t0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	for i := range intervals {
		counts := map[probe]int64{}
		for ; k < len(ps) && ps[k].interval == i; k++ {
			counts[ps[k]]++
		}
		for p, n := range counts {
			if err := u.AddN(p.sensor, p.src, n); err != nil {
				t.Fatal(err)
			}
		}
		if err := u.AddN(0, 1, 0); err == nil {
			t.Fatal("AddN of 0 probes: no error")
		}
		if err := u.AddN(sensors, 1, 1); err == nil {
			t.Fatal("AddN of a sensor out of range: no error")
		}
		u.Close()
	}
	if got := u.Rows(); !slices.Equal(got, want) {
		t.Fatalf("AddN's rows differ from Add's:\n%+v\n%+v", got, want)
	}
}
