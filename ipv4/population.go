package ipv4

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
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

// Placement names of PopulationParams.Placement.
const (
	PlacementClustered = "clustered"
	PlacementUniform   = "uniform"
	PlacementFile      = "file"
)

// MaxHosts is the largest population Place builds.
const MaxHosts = 100_000_000

// Place builds the vulnerable population: it puts the hosts in the space
// outside the reserved ranges, then draws each host's attributes. The
// result is a pure function of (p, sp, reserved, the file's content, the
// state of rng).
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
func Place(p PopulationParams, sp Space, reserved Ranges, baseDir string, rng *rand.Rand) (*Hosts, error) {
	if sp.Bits < 16 || sp.Bits > 32 {
		return nil, fmt.Errorf("space has %d bits (want 16 to 32)", sp.Bits)
	}
	if reserved.Len() > 0 && reserved.Space() != sp {
		return nil, fmt.Errorf("reserved ranges belong to a %d-bit space, not to the %d-bit space of the population", reserved.Space().Bits, sp.Bits)
	}
	if err := checkAttributes(p); err != nil {
		return nil, err
	}
	var addr []uint32
	var err error
	switch p.Placement {
	case PlacementUniform:
		addr, err = placeUniform(p.Hosts, sp, reserved, rng)
	case PlacementClustered:
		addr, _, err = placeClustered(p.Hosts, p.Clustered, sp, reserved, rng)
	case PlacementFile:
		if p.File == "" {
			return nil, fmt.Errorf("population: placement = \"file\" needs a file (want file = \"path\", relative to the scenario file)")
		}
		path := p.File
		if !filepath.IsAbs(path) {
			path = filepath.Join(baseDir, path)
		}
		addr, err = placeFile(path, sp, reserved, rng)
	default:
		return nil, fmt.Errorf("population: placement = %q (want %q, %q or %q)", p.Placement, PlacementClustered, PlacementUniform, PlacementFile)
	}
	if err != nil {
		return nil, err
	}
	h := &Hosts{Space: sp, Addr: addr}
	drawAttributes(h, p, rng)
	return h, nil
}

// checkHosts checks the number of hosts asked of a drawn placement.
func checkHosts(hosts int) error {
	if hosts < 1 || hosts > MaxHosts {
		return fmt.Errorf("population: hosts = %d (want 1 to %d)", hosts, MaxHosts)
	}
	return nil
}

// placeUniform draws hosts distinct addresses uniformly among the
// unreserved ones, in ascending order.
func placeUniform(hosts int, sp Space, reserved Ranges, rng *rand.Rand) ([]uint32, error) {
	if err := checkHosts(hosts); err != nil {
		return nil, err
	}
	free := reserved.Gaps(Range{Lo: 0, Hi: sp.Size()})
	var n uint64
	for _, r := range free {
		n += r.Len()
	}
	if uint64(hosts) > n {
		return nil, fmt.Errorf("population: hosts = %d but the %d-bit space has only %d addresses outside space.reserved (want hosts <= %d)", hosts, sp.Bits, n, n)
	}
	addr := sampleSorted(rng, n, hosts, nil)
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
	return nil
}

// drawAttributes fills the attribute slices of h, in the order Place
// documents.
func drawAttributes(h *Hosts, p PopulationParams, rng *rand.Rand) {
	n := len(h.Addr)
	h.OS = make([]uint8, n)
	h.Lang = make([]uint8, n)
	h.Flags = make([]uint8, n)
	h.ClockError = make([]int32, n)
	h.UTCOffset = make([]int16, n)
	for i := range n {
		if rng.Float64() >= p.Win2000 {
			h.OS[i] = OSNT4
		}
	}
	for i := range n {
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
	for i := range n {
		if rng.Float64() < p.Clock.WrongShare {
			v := math.Round(p.Clock.Error.Sample(rng))
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
	if len(p.Regions) == 0 {
		return
	}
	cum := make([]float64, len(p.Regions))
	offs := make([]int16, len(p.Regions))
	var sum float64
	for i, r := range p.Regions {
		sum += r.Share
		cum[i] = sum
		offs[i] = int16(math.Round(r.UTCOffset * 60))
	}
	last := 0 // the last region with a positive share, for rounding at the top
	for k, r := range p.Regions {
		if r.Share > 0 {
			last = k
		}
	}
	for i := range n {
		u := rng.Float64() * sum
		k := 0
		for k < last && (u >= cum[k] || p.Regions[k].Share == 0) {
			k++
		}
		h.UTCOffset[i] = offs[k]
	}
}
