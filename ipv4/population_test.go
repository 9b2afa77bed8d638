package ipv4

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"wormwatch/internal/param"
)

// testParams returns population parameters with the documented defaults
// written out by hand (the tests do not depend on SetDefaults).
func testParams(placement Placement, hosts int) PopulationParams {
	day := param.Duration(24 * time.Hour)
	return PopulationParams{
		Hosts:     hosts,
		Placement: placement,
		Clustered: ClusterParams{Blocks8: 64, Zipf8: 1, Blocks16: 128, Zipf16: 1},
		Win2000:   0.8,
		English:   0.6,
		Chinese:   0.09,
		Home:      0.6,
		Sharing:   0.1,
		Patched:   0.05,
		Clock: ClockParams{
			WrongShare: 0.01,
			Error:      param.Dist{Kind: "uniform", Min: -3 * day, Max: 3 * day},
		},
		Regions: []Region{
			{Name: "Americas", Share: 0.5, UTCOffset: -5},
			{Name: "Europe", Share: 0.2, UTCOffset: 1},
			{Name: "Asia", Share: 0.3, UTCOffset: 8.5},
		},
	}
}

func special(t testing.TB, sp Space) Ranges {
	t.Helper()
	rs, err := sp.ParseRanges([]string{"special"})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// checkHostsShape checks what every placement promises: hosts ascending,
// distinct, inside the space and outside the reserved ranges, with every
// attribute slice as long as Addr.
func checkHostsShape(t *testing.T, h *Hosts, reserved Ranges) {
	t.Helper()
	n := h.Len()
	for _, l := range []int{len(h.OS), len(h.Lang), len(h.Flags), len(h.ClockError), len(h.UTCOffset)} {
		if l != n {
			t.Fatalf("attribute slice of length %d for %d hosts", l, n)
		}
	}
	for i, a := range h.Addr {
		if i > 0 && a <= h.Addr[i-1] {
			t.Fatalf("addresses %d, %d not strictly ascending", h.Addr[i-1], a)
		}
		if uint64(a) >= h.Space.Size() {
			t.Fatalf("address %d outside a %d-bit space", a, h.Space.Bits)
		}
		if reserved.Contains(a) {
			t.Fatalf("host at reserved address %s", h.Space.Format(a))
		}
	}
}

func TestPlaceUniformShape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		bits  int
		hosts int
	}{
		{32, 50000},
		{20, 600000},       // k > free/2 = 451,934: the complement path
		{16, 65536 - 9048}, // every free address
		{16, 1},
	}
	for _, tt := range tests {
		sp := Space{Bits: tt.bits}
		res := special(t, sp)
		h, err := Place(context.Background(), testParams(PlacementUniform, tt.hosts), sp, res, "", rand.New(rand.NewPCG(1, uint64(tt.bits))))
		if err != nil {
			t.Fatalf("bits %d hosts %d: %v", tt.bits, tt.hosts, err)
		}
		if h.Len() != tt.hosts {
			t.Errorf("bits %d: %d hosts, want %d", tt.bits, h.Len(), tt.hosts)
		}
		checkHostsShape(t, h, res)
	}
}

// TestPlaceUniformChiSquare checks that the hosts per /8 follow the free
// addresses per /8. Sampling without replacement from 3.7e9 addresses is
// binomial to within 1e-4 here, so the statistic is chi-square with (number
// of /8s with free addresses - 1) degrees of freedom.
func TestPlaceUniformChiSquare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		bits, hosts int
		seed        uint64
	}{
		{32, 300000, 11},
		{20, 100000, 12}, // a tenth of the space: the variance shrinks by 1-f
	}
	for _, tt := range tests {
		sp := Space{Bits: tt.bits}
		res := special(t, sp)
		addr, err := placeUniform(tt.hosts, sp, res, rand.New(rand.NewPCG(tt.seed, 0)), nil)
		if err != nil {
			t.Fatal(err)
		}
		var counts [256]float64
		for _, a := range addr {
			counts[uint64(a)>>uint(tt.bits-8)]++
		}
		size8 := sp.Size() >> 8
		free := res.Complement().Size()
		var chi float64
		df := -1
		for b := range 256 {
			// Free addresses of the /8 (Overlap is checked against a
			// bitmap in TestRangesAgainstBitmap).
			f := size8 - res.Overlap(Range{Lo: uint64(b) * size8, Hi: uint64(b+1) * size8})
			if f == 0 {
				if counts[b] != 0 {
					t.Errorf("bits %d: %v hosts in wholly reserved /8 %d", tt.bits, counts[b], b)
				}
				continue
			}
			df++
			exp := float64(tt.hosts) * float64(f) / float64(free)
			d := counts[b] - exp
			chi += d * d / exp
		}
		// Finite population correction: without replacement each count's
		// variance is (N-n)/(N-1) of the binomial one.
		fpc := float64(free-uint64(tt.hosts)) / float64(free-1)
		chi /= fpc
		lo, hi := chiSquareBounds(float64(df))
		if chi < lo || chi > hi {
			t.Errorf("bits %d: chi-square %.1f with %d df outside [%.1f, %.1f]", tt.bits, chi, df, lo, hi)
		}
	}
}

func TestPlaceClusteredPlan(t *testing.T) {
	t.Parallel()
	sp := Space{Bits: 32}
	res := special(t, sp)
	c := ClusterParams{Blocks8: 64, Zipf8: 1.2, Blocks16: 128, Zipf16: 0.8}
	addr, cells, err := placeClustered(360000, c, sp, res, rand.New(rand.NewPCG(21, 0)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(addr) != 360000 {
		t.Fatalf("%d hosts, want 360000", len(addr))
	}
	// The plan: 64 distinct /8s ranked 1..64, none wholly reserved, each
	// with 128 distinct /16s ranked 1..128 (every /8 of IPv4 that is not
	// wholly special has at least 192 free /16s: 100/8 loses 64).
	ranks8 := map[int]int{}
	per8 := map[int]map[int]bool{}
	var wsum float64
	for _, cl := range cells {
		if r, ok := ranks8[cl.block8]; ok && r != cl.rank8 {
			t.Fatalf("/8 %d has ranks %d and %d", cl.block8, r, cl.rank8)
		}
		ranks8[cl.block8] = cl.rank8
		if per8[cl.rank8] == nil {
			per8[cl.rank8] = map[int]bool{}
		}
		if per8[cl.rank8][cl.rank16] {
			t.Fatalf("/8 rank %d has two /16s of rank %d", cl.rank8, cl.rank16)
		}
		per8[cl.rank8][cl.rank16] = true
		if cl.free == 0 || res.Overlap(cl.r) == cl.r.Len() {
			t.Fatalf("cell %s is wholly reserved", sp.FormatRange(cl.r))
		}
		if cl.r.Len() != 1<<16 || cl.r.Lo>>24 != uint64(cl.block8) {
			t.Fatalf("cell %s is not a /16 of /8 %d", sp.FormatRange(cl.r), cl.block8)
		}
		// The weight, from the Zipf laws written out here.
		want := math.Pow(float64(cl.rank8), -1.2) / zipfSum(64, 1.2) * math.Pow(float64(cl.rank16), -0.8) / zipfSum(128, 0.8)
		if math.Abs(cl.weight-want) > 1e-12 {
			t.Fatalf("cell weight %g, want %g", cl.weight, want)
		}
		wsum += cl.weight
	}
	if len(ranks8) != 64 || len(cells) != 64*128 {
		t.Fatalf("%d /8s and %d cells, want 64 and 8192", len(ranks8), len(cells))
	}
	if math.Abs(wsum-1) > 1e-9 {
		t.Errorf("weights add up to %v", wsum)
	}
	for b := range ranks8 {
		if res.Overlap(Range{Lo: uint64(b) << 24, Hi: uint64(b+1) << 24}) == 1<<24 {
			t.Errorf("/8 %d is wholly reserved", b)
		}
	}
	// Hosts per /8 rank follow k^-1.2 within 5 binomial standard errors
	// (no /16 is anywhere near full here: the largest expects about
	// 360000 × 0.24 × 0.09 ≈ 7800 of 65536, so no excess is redrawn).
	n := float64(len(addr))
	rank16 := map[uint32]int{} // /16 of the top /8 -> its rank
	for _, cl := range cells {
		if cl.rank8 == 1 {
			rank16[uint32(cl.r.Lo>>16)] = cl.rank16
		}
	}
	var by8 [65]float64
	by16 := map[int]float64{} // rank16 within the /8 of rank 1
	for _, a := range addr {
		k := ranks8[int(a>>24)]
		by8[k]++
		if k == 1 {
			j, ok := rank16[a>>16]
			if !ok {
				t.Fatalf("host %s of the top /8 outside its chosen /16s", sp.Format(a))
			}
			by16[j]++
		}
	}
	for k := 1; k <= 64; k++ {
		p := math.Pow(float64(k), -1.2) / zipfSum(64, 1.2)
		if sd := math.Sqrt(n * p * (1 - p)); math.Abs(by8[k]-n*p) > 5*sd {
			t.Errorf("/8 of rank %d: %v hosts, want %.0f ± %.0f", k, by8[k], n*p, 5*sd)
		}
	}
	// Inside the top /8, hosts per /16 rank follow j^-0.8.
	n1 := by8[1]
	for j := 1; j <= 128; j++ {
		p := math.Pow(float64(j), -0.8) / zipfSum(128, 0.8)
		if sd := math.Sqrt(n1 * p * (1 - p)); math.Abs(by16[j]-n1*p) > 5*sd {
			t.Errorf("/16 of rank %d in the top /8: %v hosts, want %.0f ± %.0f", j, by16[j], n1*p, 5*sd)
		}
	}
}

func zipfSum(n int, s float64) float64 {
	var sum float64
	for k := 1; k <= n; k++ {
		sum += math.Pow(float64(k), -s)
	}
	return sum
}

func TestPlaceClusteredCapacity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		bits     int
		reserved []string
		c        ClusterParams
		hosts    int
		wantErr  string
	}{
		// A /16 of a 16-bit space is one address: 4 × 10 cells hold 40.
		{"16-bit full", 16, nil, ClusterParams{Blocks8: 4, Blocks16: 10, Zipf8: 1, Zipf16: 1}, 40, ""},
		{"16-bit over", 16, nil, ClusterParams{Blocks8: 4, Blocks16: 10, Zipf8: 1, Zipf16: 1}, 41, `placement = "uniform"`},
		// A /16 of a 20-bit space is 16 addresses: 2 × 4 cells hold 128;
		// steep weights send far more than 16 hosts to the top cells.
		{"20-bit steep", 20, nil, ClusterParams{Blocks8: 2, Blocks16: 4, Zipf8: 3, Zipf16: 3}, 100, ""},
		{"20-bit full", 20, nil, ClusterParams{Blocks8: 2, Blocks16: 4, Zipf8: 5, Zipf16: 5}, 128, ""},
		{"20-bit over", 20, nil, ClusterParams{Blocks8: 2, Blocks16: 4, Zipf8: 1, Zipf16: 1}, 129, "have only 128 free addresses"},
		// Special ranges in a 16-bit space: more blocks asked than exist.
		{"16-bit special all", 16, []string{"special"}, ClusterParams{Blocks8: 256, Blocks16: 256, Zipf8: 1, Zipf16: 1}, 65536 - 9048, ""},
		{"blocks8 0", 32, nil, ClusterParams{Blocks8: 0, Blocks16: 4, Zipf8: 1, Zipf16: 1}, 10, "clustered.blocks8 = 0 (want 1 to 256)"},
		{"zipf16 bad", 32, nil, ClusterParams{Blocks8: 1, Blocks16: 4, Zipf8: 1, Zipf16: math.NaN()}, 10, "clustered.zipf16"},
		{"all reserved", 16, []string{"0.0.0.0/0"}, ClusterParams{Blocks8: 1, Blocks16: 1, Zipf8: 1, Zipf16: 1}, 1, "every /8 block is in space.reserved"},
	}
	for _, tt := range tests {
		sp := Space{Bits: tt.bits}
		res, err := sp.ParseRanges(tt.reserved)
		if err != nil {
			t.Fatal(err)
		}
		p := testParams(PlacementClustered, tt.hosts)
		p.Clustered = tt.c
		h, err := Place(context.Background(), p, sp, res, "", rand.New(rand.NewPCG(31, 0)))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if h.Len() != tt.hosts {
			t.Errorf("%s: %d hosts, want %d", tt.name, h.Len(), tt.hosts)
		}
		checkHostsShape(t, h, res)
		// Hosts sit in at most Blocks8 /8s and Blocks16 /16s per /8.
		per8 := map[uint32]map[uint32]bool{}
		for _, a := range h.Addr {
			b8, b16 := a>>uint(tt.bits-8), a>>uint(tt.bits-16)
			if per8[b8] == nil {
				per8[b8] = map[uint32]bool{}
			}
			per8[b8][b16] = true
		}
		if len(per8) > tt.c.Blocks8 {
			t.Errorf("%s: hosts in %d /8s, want at most %d", tt.name, len(per8), tt.c.Blocks8)
		}
		for b8, s := range per8 {
			if len(s) > tt.c.Blocks16 {
				t.Errorf("%s: hosts in %d /16s of /8 %d, want at most %d", tt.name, len(s), b8, tt.c.Blocks16)
			}
		}
	}
}

// TestAllocateRedistribution checks the capped multinomial on two cells:
// with weights 0.9 and 0.1, room 10 and 100, and 50 hosts, the first cell
// fills (it expects 45) and the second takes the rest.
func TestAllocateRedistribution(t *testing.T) {
	t.Parallel()
	cells := []cell{{weight: 0.9, free: 10}, {weight: 0.1, free: 100}}
	rng := rand.New(rand.NewPCG(41, 0))
	for range 100 {
		c := allocate(cells, 50, rng, nil)
		if c[0] != 10 || c[1] != 40 {
			t.Fatalf("counts %v, want [10 40]", c)
		}
	}
	// Without capping the counts are binomial(200, 0.25).
	cells = []cell{{weight: 1, free: 1000}, {weight: 3, free: 1000}}
	var sum, sum2 float64
	const trials = 4000
	for range trials {
		c := allocate(cells, 200, rng, nil)
		if c[0]+c[1] != 200 {
			t.Fatalf("counts %v do not add up to 200", c)
		}
		x := float64(c[0])
		sum += x
		sum2 += x * x
	}
	mean := sum / trials
	variance := sum2/trials - mean*mean
	// Mean 50, variance 37.5: the mean of 4000 draws has sd 0.097; the
	// sample variance has sd about 37.5·sqrt(2/4000) ≈ 0.84.
	if math.Abs(mean-50) > 5*0.097 || math.Abs(variance-37.5) > 5*0.84 {
		t.Errorf("first cell: mean %.2f variance %.2f, want 50 and 37.5", mean, variance)
	}
}

// TestPlaceAttributes checks each attribute share against its parameter
// within 4 binomial standard errors, and two pairs for independence.
func TestPlaceAttributes(t *testing.T) {
	t.Parallel()
	const n = 200000
	sp := Space{Bits: 32}
	p := testParams(PlacementUniform, n)
	p.Clock.WrongShare = 0.2
	h, err := Place(context.Background(), p, sp, special(t, sp), "", rand.New(rand.NewPCG(51, 0)))
	if err != nil {
		t.Fatal(err)
	}
	count := func(f func(i int) bool) float64 {
		c := 0
		for i := range n {
			if f(i) {
				c++
			}
		}
		return float64(c)
	}
	tests := []struct {
		name string
		p    float64
		got  float64
	}{
		{"win2000", p.Win2000, count(func(i int) bool { return h.OS[i] == OSWin2000 })},
		{"nt4", 1 - p.Win2000, count(func(i int) bool { return h.OS[i] == OSNT4 })},
		{"english", p.English, count(func(i int) bool { return h.Lang[i] == LangEnglish })},
		{"chinese", p.Chinese, count(func(i int) bool { return h.Lang[i] == LangChinese })},
		{"other", 1 - p.English - p.Chinese, count(func(i int) bool { return h.Lang[i] == LangOther })},
		{"home", p.Home, count(func(i int) bool { return h.Flags[i]&FlagHome != 0 })},
		{"sharing", p.Sharing, count(func(i int) bool { return h.Flags[i]&FlagSharing != 0 })},
		{"patched", p.Patched, count(func(i int) bool { return h.Flags[i]&FlagPatched != 0 })},
		{"home and patched", p.Home * p.Patched, count(func(i int) bool { return h.Flags[i]&(FlagHome|FlagPatched) == FlagHome|FlagPatched })},
		{"win2000 and chinese", p.Win2000 * p.Chinese, count(func(i int) bool { return h.OS[i] == OSWin2000 && h.Lang[i] == LangChinese })},
		// A uniform error on ±3 days is 0 with probability 0 (after
		// rounding, 1 in 518,400), so wrong clocks are the nonzero ones.
		{"wrong clock", p.Clock.WrongShare, count(func(i int) bool { return h.ClockError[i] != 0 })},
		{"Americas", 0.5, count(func(i int) bool { return h.UTCOffset[i] == -300 })},
		{"Europe", 0.2, count(func(i int) bool { return h.UTCOffset[i] == 60 })},
		{"Asia", 0.3, count(func(i int) bool { return h.UTCOffset[i] == 510 })},
	}
	for _, tt := range tests {
		sd := math.Sqrt(n * tt.p * (1 - tt.p))
		if math.Abs(tt.got-n*tt.p) > 4*sd {
			t.Errorf("%s: %v hosts, want %.0f ± %.0f", tt.name, tt.got, n*tt.p, 4*sd)
		}
	}
	if flags := count(func(i int) bool { return h.Flags[i]&^(FlagHome|FlagSharing|FlagPatched) != 0 }); flags != 0 {
		t.Errorf("%v hosts carry unknown flags", flags)
	}
	// Wrong clocks: within ±3 days, mean 0 (sd of one error 3d/sqrt(3)).
	var sum, wrong float64
	for _, e := range h.ClockError {
		if e < -259200 || e > 259200 {
			t.Fatalf("clock error %d s outside ±3 days", e)
		}
		if e != 0 {
			sum += float64(e)
			wrong++
		}
	}
	if sd := 259200 / math.Sqrt(3) / math.Sqrt(wrong); math.Abs(sum/wrong) > 4*sd {
		t.Errorf("mean clock error %.0f s, want 0 ± %.0f", sum/wrong, 4*sd)
	}
}

func TestPlaceDeterministic(t *testing.T) {
	t.Parallel()
	sp := Space{Bits: 24}
	res := special(t, sp)
	for _, placement := range []Placement{PlacementUniform, PlacementClustered, PlacementFile} {
		p := testParams(placement, 20000)
		p.File = "population.txt"
		a, err := Place(context.Background(), p, sp, res, "testdata", rand.New(rand.NewPCG(61, 1)))
		if err != nil {
			t.Fatalf("%s: %v", placement, err)
		}
		b, err := Place(context.Background(), p, sp, res, "testdata", rand.New(rand.NewPCG(61, 1)))
		if err != nil {
			t.Fatalf("%s: %v", placement, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: two runs with one seed differ", placement)
		}
		c, err := Place(context.Background(), p, sp, res, "testdata", rand.New(rand.NewPCG(62, 1)))
		if err != nil {
			t.Fatalf("%s: %v", placement, err)
		}
		if reflect.DeepEqual(a, c) {
			t.Errorf("%s: two seeds give the same population", placement)
		}
	}
}

func TestPlaceErrors(t *testing.T) {
	t.Parallel()
	sp := Space{Bits: 32}
	res := special(t, sp)
	tests := []struct {
		name string
		edit func(p *PopulationParams)
		sp   Space
		want string
	}{
		{"placement empty", func(p *PopulationParams) { p.Placement = "" }, sp, `want "clustered", "uniform" or "file"`},
		{"placement bad", func(p *PopulationParams) { p.Placement = "random" }, sp, `placement = "random"`},
		{"hosts 0", func(p *PopulationParams) { p.Hosts = 0 }, sp, "hosts = 0 (want 1 to 100000000)"},
		{"hosts too many", func(p *PopulationParams) { p.Hosts = 1 << 40 }, sp, "want 1 to 100000000"},
		{"uniform over", func(p *PopulationParams) { p.Placement = PlacementUniform; p.Hosts = 60000 }, Space{Bits: 16}, "only 56488 addresses outside space.reserved"},
		{"languages", func(p *PopulationParams) { p.English = 0.95 }, sp, "english + chinese"},
		{"share", func(p *PopulationParams) { p.Home = 1.5 }, sp, "home = 1.5 (want a share from 0 to 1)"},
		{"nan share", func(p *PopulationParams) { p.Patched = math.NaN() }, sp, "patched = NaN"},
		{"region share", func(p *PopulationParams) { p.Regions[1].Share = -1 }, sp, `region 2 ("Europe"): share = -1`},
		{"region offset", func(p *PopulationParams) { p.Regions[0].UTCOffset = 15 }, sp, "utc_offset = 15"},
		{"region zero", func(p *PopulationParams) { p.Regions = []Region{{Name: "x"}} }, sp, "add up to 0"},
		{"bits", func(p *PopulationParams) {}, Space{Bits: 12}, "space has 12 bits (want 16 to 32)"},
		{"file empty", func(p *PopulationParams) { p.Placement = PlacementFile }, sp, "needs a file"},
		{"file missing", func(p *PopulationParams) { p.Placement = PlacementFile; p.File = "nope.txt" }, sp, "nope.txt"},
	}
	for _, tt := range tests {
		p := testParams(PlacementClustered, 1000)
		tt.edit(&p)
		r := res
		if tt.sp != sp {
			r = special(t, tt.sp)
			if tt.sp.Bits < 16 {
				r = Ranges{}
			}
		}
		_, err := Place(context.Background(), p, tt.sp, r, "testdata", rand.New(rand.NewPCG(1, 1)))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
	// Reserved ranges of another space.
	_, err := Place(context.Background(), testParams(PlacementUniform, 10), Space{Bits: 20}, res, "", rand.New(rand.NewPCG(1, 1)))
	if err == nil || !strings.Contains(err.Error(), "32-bit space") {
		t.Errorf("mismatched spaces: error %v", err)
	}
}

func TestPlaceNoRegions(t *testing.T) {
	t.Parallel()
	p := testParams(PlacementUniform, 1000)
	p.Regions = nil
	p.Clock.WrongShare = 1
	p.Clock.Error = param.Dist{Kind: "fixed", Mean: param.Duration(90 * time.Minute)}
	h, err := Place(context.Background(), p, Space{Bits: 20}, Ranges{}, "", rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range h.Len() {
		if h.UTCOffset[i] != 0 || h.ClockError[i] != 5400 {
			t.Fatalf("host %d: offset %d, clock error %d; want 0 and 5400", i, h.UTCOffset[i], h.ClockError[i])
		}
	}
}

func BenchmarkPlaceUniform10M(b *testing.B) {
	sp := Space{Bits: 32}
	res := special(b, sp)
	p := testParams(PlacementUniform, 10_000_000)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := Place(context.Background(), p, sp, res, "", rand.New(rand.NewPCG(uint64(i), 0))); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPlaceClustered360k(b *testing.B) {
	sp := Space{Bits: 32}
	res := special(b, sp)
	p := testParams(PlacementClustered, 360_000)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := Place(context.Background(), p, sp, res, "", rand.New(rand.NewPCG(uint64(i), 0))); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPlacementsDocumented checks the placements' values and
// documentation, written in every resolved scenario.toml: unchanged from
// the enum and doc tags they replace.
func TestPlacementsDocumented(t *testing.T) {
	t.Parallel()
	if got := strings.Join(Placement("").Enum(), ","); got != "clustered,uniform,file" {
		t.Errorf("placements %s", got)
	}
	if got, want := Placement("").ParamDoc(), "clustered: Zipf weights over /8 and /16 blocks; uniform: any unreserved address; file: read from file"; got != want {
		t.Errorf("doc %s", got)
	}
	if _, err := CheckPlacement(context.Background(), testParams("grid", 10), Space{Bits: 20}, Ranges{}, ""); err == nil || !strings.Contains(err.Error(), `placement = "grid"`) {
		t.Errorf("unknown placement: %v", err)
	}
}

// TestGuideIsBinarySearch checks that the guide table of allocate finds
// the index a binary search finds (the first k with cum[k] > u, the last
// one if none), for weights with zeros, ties and wide ranges, at random
// points and at the cumulative sums themselves and their neighbours.
func TestGuideIsBinarySearch(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 12))
	binary := func(cum []float64, u float64) int {
		lo, hi := 0, len(cum)-1
		for lo < hi {
			m := (lo + hi) / 2
			if cum[m] > u {
				hi = m
			} else {
				lo = m + 1
			}
		}
		return lo
	}
	for trial := range 300 {
		n := 1 + rng.IntN(50)
		cum := make([]float64, n)
		sum := 0.0
		for i := range cum {
			switch rng.IntN(4) {
			case 0: // zero weight
			case 1:
				sum += math.Ldexp(rng.Float64(), rng.IntN(60)-30)
			default:
				sum += rng.Float64()
			}
			cum[i] = sum
		}
		g := newGuide(cum)
		us := []float64{0, sum, math.Nextafter(sum, 0), math.Nextafter(sum, math.Inf(1))}
		for _, c := range cum {
			us = append(us, c, math.Nextafter(c, 0), math.Nextafter(c, math.Inf(1)))
		}
		for range 200 {
			us = append(us, rng.Float64()*sum)
		}
		for _, u := range us {
			if got, want := g.first(u), binary(cum, u); got != want {
				t.Fatalf("trial %d: cum %v, u %v: guide gives %d, binary search %d", trial, cum, u, got, want)
			}
		}
	}
}
