package ipv4

import (
	"context"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"wormwatch/internal/ctxpoll"
	"wormwatch/internal/param"
)

// Operating system codes of Hosts.OS.
const (
	OSWin2000 uint8 = 0 // Windows 2000 with IIS 5.0
	OSNT4     uint8 = 1 // Windows NT 4.0 with IIS 4.0
)

// Language codes of Hosts.Lang: the language of the system, which decides
// whether Code Red defaces (English) and how many threads Code Red II runs
// (Chinese).
const (
	LangEnglish uint8 = 0
	LangChinese uint8 = 1
	LangOther   uint8 = 2
)

// Flag bits of Hosts.Flags.
const (
	FlagHome    uint8 = 1 // a home or small-business machine
	FlagSharing uint8 = 2 // its owner is in an information-sharing group
	FlagPatched uint8 = 4 // patched before the start
)

// Hosts is a placed population, one entry per host in each slice, hosts in
// ascending address order.
type Hosts struct {
	Space      Space
	Addr       []uint32 // ascending, distinct, none inside the reserved ranges
	OS         []uint8  // OSWin2000 or OSNT4
	Lang       []uint8  // LangEnglish, LangChinese or LangOther
	Flags      []uint8  // FlagHome | FlagSharing | FlagPatched
	ClockError []int32  // seconds added to UTC by the host's clock (0 for most)
	UTCOffset  []int16  // minutes east of UTC of the owner's time zone
}

// Len returns the number of hosts.
func (h *Hosts) Len() int { return len(h.Addr) }

// Placement names how the hosts of a population are put in the space
// (PopulationParams.Placement): one of the placements registered in
// placements.
type Placement string

// The placements.
const (
	PlacementClustered Placement = "clustered"
	PlacementUniform   Placement = "uniform"
	PlacementFile      Placement = "file"
)

// placer is what one placement does: place draws the addresses of the
// hosts; check makes, without drawing, the checks of place that do not
// depend on the draws and returns the number of hosts it will place (-1:
// not known before placing).
type placer struct {
	place func(p PopulationParams, sp Space, reserved Ranges, baseDir string, rng *rand.Rand, stop *ctxpoll.Poller) ([]uint32, error)
	check func(ctx context.Context, p PopulationParams, sp Space, reserved Ranges, baseDir string) (int, error)
}

// placements are the placements, in the order the documentation lists
// them.
var placements = param.NewRegistry[Placement, placer]("placement")

func init() {
	placements.Register(PlacementClustered, 0, "Zipf weights over /8 and /16 blocks", placer{
		place: func(p PopulationParams, sp Space, reserved Ranges, _ string, rng *rand.Rand, stop *ctxpoll.Poller) ([]uint32, error) {
			addr, _, err := placeClustered(p.Hosts, p.Clustered, sp, reserved, rng, stop)
			return addr, err
		},
		check: checkClustered,
	})
	placements.Register(PlacementUniform, 1, "any unreserved address", placer{
		place: func(p PopulationParams, sp Space, reserved Ranges, _ string, rng *rand.Rand, stop *ctxpoll.Poller) ([]uint32, error) {
			return placeUniform(p.Hosts, sp, reserved, rng, stop)
		},
		check: func(_ context.Context, p PopulationParams, sp Space, reserved Ranges, _ string) (int, error) {
			if _, _, err := uniformRoom(p.Hosts, sp, reserved); err != nil {
				return 0, err
			}
			return p.Hosts, nil
		},
	})
	placements.Register(PlacementFile, 2, "read from file", placer{
		place: func(p PopulationParams, sp Space, reserved Ranges, baseDir string, rng *rand.Rand, stop *ctxpoll.Poller) ([]uint32, error) {
			path, err := filePath(p, baseDir)
			if err != nil {
				return nil, err
			}
			return placeFile(path, sp, reserved, rng, stop)
		},
		check: checkFile,
	})
}

// Enum lists the placements (see param.Enumerated).
func (Placement) Enum() []string { return placements.Names() }

// ParamDoc documents the placements.
func (Placement) ParamDoc() string { return placements.Doc() }

// placerOf returns the placement of p, or the error Place and
// CheckPlacement give for an unknown one.
func placerOf(p PopulationParams) (placer, error) {
	pl, ok := placements.Lookup(p.Placement)
	if !ok {
		return pl, fmt.Errorf("population: placement = %q (want %q, %q or %q)", p.Placement, PlacementClustered, PlacementUniform, PlacementFile)
	}
	return pl, nil
}

// MaxHosts is the largest population Place builds.
const MaxHosts = 100_000_000

// Place builds the vulnerable population: it puts the hosts in the space
// outside the reserved ranges, then draws each host's attributes. The
// result is a pure function of (p, sp, reserved, the file's content, the
// state of rng). A cancelled ctx stops it within a bounded number of steps
// (it then returns ctx's error); it does not change what it draws.
//
// Placement (p.Placement):
//   - "uniform": p.Hosts distinct addresses, uniform among the addresses
//     that are not reserved.
//   - "clustered": the Zipf model over /8 and /16 blocks described in the
//     package documentation, with p.Clustered's parameters.
//   - "file": the hosts listed in p.File (a path relative to baseDir,
//     format in ReadPopulation). The file decides the number of hosts:
//     p.Hosts is ignored and Len of the result tells how many were placed.
//
// Attributes are drawn from rng after the placement, in this fixed order,
// each as a pass over all hosts in address order: the OS (Windows 2000
// with probability p.Win2000, else NT 4); the language (English with
// probability p.English, Chinese with p.Chinese, else other); the flags
// (home with p.Home, sharing with p.Sharing, patched with p.Patched, three
// draws per host); the clock (wrong with p.Clock.WrongShare, and then
// ClockError is p.Clock.Error's sample rounded to whole seconds and held
// within the int32 range); the owner's time zone (a region picked with
// probability proportional to its share; UTCOffset is its offset rounded to
// whole minutes, 0 when p.Regions is empty).
//
// CheckPlacement makes, without drawing, every check of Place that does
// not depend on the draws, and more: what passes it always places.
func Place(ctx context.Context, p PopulationParams, sp Space, reserved Ranges, baseDir string, rng *rand.Rand) (*Hosts, error) {
	if err := checkCommon(p, sp, reserved); err != nil {
		return nil, err
	}
	clockErr, err := p.Clock.Error.Distribution() // checkCommon made sure it reads
	if err != nil {
		return nil, err
	}
	stop := ctxpoll.New(ctx)
	if stop.Now() {
		return nil, stop.Err()
	}
	pl, err := placerOf(p)
	if err != nil {
		return nil, err
	}
	addr, err := pl.place(p, sp, reserved, baseDir, rng, stop)
	if err != nil {
		return nil, err
	}
	if stop.Now() {
		return nil, stop.Err()
	}
	h := &Hosts{Space: sp, Addr: addr}
	drawAttributes(h, p, clockErr, rng, stop)
	if stop.Now() {
		return nil, stop.Err()
	}
	return h, nil
}

// CheckPlacement checks, without drawing anything, that Place can place
// the population p: the space and shares, the room for p.Hosts outside the
// reserved ranges (for the clustered placement, in the blocks it could
// draw that hold the fewest free addresses, so that it fits whatever the
// seed), and the population file (read whole: every line, overlaps, counts
// against the free addresses). It returns the number of hosts Place will
// place, or -1 for a population file that is a FIFO, which can be read only
// once (by Place). Its errors are those Place would return, or could
// return for some seed.
func CheckPlacement(ctx context.Context, p PopulationParams, sp Space, reserved Ranges, baseDir string) (int, error) {
	if err := checkCommon(p, sp, reserved); err != nil {
		return 0, err
	}
	pl, err := placerOf(p)
	if err != nil {
		return 0, err
	}
	return pl.check(ctx, p, sp, reserved, baseDir)
}

// checkClustered is CheckPlacement of the clustered placement: room for
// the hosts in the least roomy blocks it can draw.
func checkClustered(_ context.Context, p PopulationParams, sp Space, reserved Ranges, _ string) (int, error) {
	if err := checkHosts(p.Hosts); err != nil {
		return 0, err
	}
	low, err := minClusterRoom(p.Clustered, sp, reserved)
	if err != nil {
		return 0, err
	}
	if uint64(p.Hosts) > low {
		return 0, fmt.Errorf("population: hosts = %d may not fit the clustered placement: the /16 blocks it draws (clustered.blocks8 = %d, clustered.blocks16 = %d; a /16 holds %d addresses in a %d-bit space) hold as few as %d free addresses, depending on the seed (want hosts <= %d: raise clustered.blocks8 or clustered.blocks16, raise space.bits, or use placement = \"uniform\")",
			p.Hosts, p.Clustered.Blocks8, p.Clustered.Blocks16, sp.Size()>>16, sp.Bits, low, low)
	}
	return p.Hosts, nil
}

// checkFile is CheckPlacement of a population file: read whole (-1 for a
// FIFO, which only Place may read).
func checkFile(ctx context.Context, p PopulationParams, sp Space, reserved Ranges, baseDir string) (int, error) {
	path, err := filePath(p, baseDir)
	if err != nil {
		return 0, err
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode()&fs.ModeNamedPipe != 0 {
		return -1, nil
	}
	plan, err := readFilePlan(path, sp, reserved, ctxpoll.New(ctx))
	if err != nil {
		return 0, err
	}
	return plan.total, nil
}

// checkCommon checks what every placement needs: the space, the reserved
// ranges' space, the shares of the attributes.
func checkCommon(p PopulationParams, sp Space, reserved Ranges) error {
	if sp.Bits < 16 || sp.Bits > 32 {
		return fmt.Errorf("space has %d bits (want 16 to 32)", sp.Bits)
	}
	if reserved.Len() > 0 && reserved.Space() != sp {
		return fmt.Errorf("reserved ranges belong to a %d-bit space, not to the %d-bit space of the population", reserved.Space().Bits, sp.Bits)
	}
	return checkAttributes(p)
}

// filePath returns the path of the population file of p.
func filePath(p PopulationParams, baseDir string) (string, error) {
	if p.File == "" {
		return "", fmt.Errorf("population: placement = \"file\" needs a file (want file = \"path\", relative to the scenario file)")
	}
	if filepath.IsAbs(p.File) {
		return p.File, nil
	}
	return filepath.Join(baseDir, p.File), nil
}

// checkHosts checks the number of hosts asked of a drawn placement.
func checkHosts(hosts int) error {
	if hosts < 1 || hosts > MaxHosts {
		return fmt.Errorf("population: hosts = %d (want 1 to %d)", hosts, MaxHosts)
	}
	return nil
}

// uniformRoom returns the free ranges of a uniform placement and how many
// addresses they hold, after checking that they hold the hosts.
func uniformRoom(hosts int, sp Space, reserved Ranges) ([]Range, uint64, error) {
	if err := checkHosts(hosts); err != nil {
		return nil, 0, err
	}
	free := reserved.Gaps(Range{Lo: 0, Hi: sp.Size()})
	var n uint64
	for _, r := range free {
		n += r.Len()
	}
	if uint64(hosts) > n {
		return nil, 0, fmt.Errorf("population: hosts = %d but the %d-bit space has only %d addresses outside space.reserved (want hosts <= %d)", hosts, sp.Bits, n, n)
	}
	return free, n, nil
}

// placeUniform draws hosts distinct addresses uniformly among the
// unreserved ones, in ascending order.
func placeUniform(hosts int, sp Space, reserved Ranges, rng *rand.Rand, stop *ctxpoll.Poller) ([]uint32, error) {
	free, n, err := uniformRoom(hosts, sp, reserved)
	if err != nil {
		return nil, err
	}
	addr := sampleSorted(rng, n, hosts, nil, stop)
	if stop.Err() != nil {
		return nil, stop.Err()
	}
	mapToRanges(addr, free)
	return addr, nil
}

// checkAttributes checks the shares that drawAttributes uses.
func checkAttributes(p PopulationParams) error {
	shares := []struct {
		key string
		v   float64
	}{
		{"win2000", p.Win2000}, {"english", p.English}, {"chinese", p.Chinese},
		{"home", p.Home}, {"sharing", p.Sharing}, {"patched", p.Patched},
		{"clock.wrong_share", p.Clock.WrongShare},
	}
	for _, s := range shares {
		if !(s.v >= 0 && s.v <= 1) {
			return fmt.Errorf("population: %s = %v (want a share from 0 to 1)", s.key, s.v)
		}
	}
	if p.English+p.Chinese > 1+1e-9 {
		return fmt.Errorf("population: english + chinese = %v + %v = %v (want at most 1; the rest is other languages)", p.English, p.Chinese, p.English+p.Chinese)
	}
	var sum float64
	for i, r := range p.Regions {
		if !(r.Share >= 0 && r.Share <= 1) {
			return fmt.Errorf("population: region %d (%q): share = %v (want 0 to 1)", i+1, r.Name, r.Share)
		}
		if !(r.UTCOffset >= -12 && r.UTCOffset <= 14) {
			return fmt.Errorf("population: region %d (%q): utc_offset = %v (want hours from -12 to 14)", i+1, r.Name, r.UTCOffset)
		}
		sum += r.Share
	}
	if len(p.Regions) > 0 && sum <= 0 {
		return fmt.Errorf("population: the regions' shares add up to 0 (want a positive share in at least one region)")
	}
	if _, err := p.Clock.Error.Distribution(); err != nil {
		return fmt.Errorf("population: clock.error: %w", err)
	}
	return nil
}

// drawAttributes fills the attribute slices of h, in the order Place
// documents, the clock errors from clockErr (p.Clock.Error). When stop
// says so it returns early, with h incomplete.
func drawAttributes(h *Hosts, p PopulationParams, clockErr param.Distribution, rng *rand.Rand, stop *ctxpoll.Poller) {
	n := len(h.Addr)
	h.OS = make([]uint8, n)
	h.Lang = make([]uint8, n)
	h.Flags = make([]uint8, n)
	h.ClockError = make([]int32, n)
	h.UTCOffset = make([]int16, n)
	for i := range n {
		if stop.Stop() {
			return
		}
		if rng.Float64() >= p.Win2000 {
			h.OS[i] = OSNT4
		}
	}
	for i := range n {
		if stop.Stop() {
			return
		}
		switch u := rng.Float64(); {
		case u < p.English:
			h.Lang[i] = LangEnglish
		case u < p.English+p.Chinese:
			h.Lang[i] = LangChinese
		default:
			h.Lang[i] = LangOther
		}
	}
	for i := range n {
		if stop.Stop() {
			return
		}
		var f uint8
		if rng.Float64() < p.Home {
			f |= FlagHome
		}
		if rng.Float64() < p.Sharing {
			f |= FlagSharing
		}
		if rng.Float64() < p.Patched {
			f |= FlagPatched
		}
		h.Flags[i] = f
	}
	if !drawClocks(h, p.Clock.WrongShare, clockErr, rng, stop) {
		return
	}
	drawZones(h, p.Regions, rng, stop)
}

// drawClocks draws the clock error of each host: wrong with probability
// wrongShare, and then clockErr's sample rounded to whole seconds, held
// within the int32 range. It reports false when stop said to stop.
func drawClocks(h *Hosts, wrongShare float64, clockErr param.Distribution, rng *rand.Rand, stop *ctxpoll.Poller) bool {
	for i := range h.Addr {
		if stop.Stop() {
			return false
		}
		if rng.Float64() < wrongShare {
			v := math.Round(clockErr.Sample(rng))
			switch {
			case v > math.MaxInt32:
				v = math.MaxInt32
			case v < math.MinInt32:
				v = math.MinInt32
			case v != v: // NaN from a broken distribution: treat as right.
				v = 0
			}
			h.ClockError[i] = int32(v)
		}
	}
	return true
}

// drawZones draws each host's time zone: a region picked with
// probability proportional to its share (none: UTC for every host).
func drawZones(h *Hosts, regions []Region, rng *rand.Rand, stop *ctxpoll.Poller) {
	n := len(h.Addr)
	if len(regions) == 0 {
		return
	}
	cum := make([]float64, len(regions))
	offs := make([]int16, len(regions))
	var sum float64
	for i, r := range regions {
		sum += r.Share
		cum[i] = sum
		offs[i] = int16(math.Round(r.UTCOffset * 60))
	}
	last := 0 // the last region with a positive share, for rounding at the top
	for k, r := range regions {
		if r.Share > 0 {
			last = k
		}
	}
	for i := range n {
		if stop.Stop() {
			return
		}
		u := rng.Float64() * sum
		k := 0
		for k < last && (u >= cum[k] || regions[k].Share == 0) {
			k++
		}
		h.UTCOffset[i] = offs[k]
	}
}
