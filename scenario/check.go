package scenario

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"wormwatch/internal/param"
	"wormwatch/ipv4"
	"wormwatch/sensor"
	"wormwatch/worm"
)

// Bounds that keep a run's work finite, stated in docs/scenario.md.
const (
	// maxBins bounds the rows of the time series, (end - start) / bin.
	maxBins = 5_000_000
	// maxSpan bounds end - start: ten years and a bit.
	maxSpan = 3660 * 24 * time.Hour
	// maxLeases bounds the addresses a home machine gets over the run,
	// (end - start) / population.dhcp_lease: each is an event of every
	// sensor for every machine that scans.
	maxLeases = 100_000
)

// check applies the rules that tie keys together, after each key was
// checked against its own tags, and returns the first broken one. Paths
// are canonical (worm.0.rate); l displays and locates them.
//
// Every check of the engine's setup that needs no random draw is made here
// too (the population's room, the population file, the hit-list's room,
// sensors, the engine's limits on variants), so that what `scenario check`
// accepts, `run` runs.
func check(s *Scenario, l *param.Loader, baseDir string) *param.FieldError {
	c := &checker{s: s, l: l, baseDir: baseDir, sp: ipv4.Space{Bits: s.Space.Bits}}
	for _, step := range []func() *param.FieldError{c.clock, c.space, c.population, c.worms, c.sensors, c.advisories} {
		if fe := step(); fe != nil {
			return fe
		}
	}
	return nil
}

// checker holds what the steps of check share: the scenario, and what the
// earlier steps worked out from it.
type checker struct {
	s        *Scenario
	l        *param.Loader
	baseDir  string
	sp       ipv4.Space
	span     time.Duration // end - start (clock)
	reserved ipv4.Ranges   // space.reserved (space)
	hosts    int           // hosts the population places, -1 for a FIFO (population)
}

// when is how messages write a date-time.
const when = "2006-01-02T15:04:05Z07:00"

// fail returns the error of a broken rule at a canonical path.
func (c *checker) fail(path, format string, args ...any) *param.FieldError {
	e := c.l.Error(path, fmt.Sprintf(format, args...))
	return &e
}

// failKey returns a rule broken at a key of the table at prefix.
func (c *checker) failKey(prefix string, ke *worm.KeyError) *param.FieldError {
	return c.fail(prefix+"."+ke.Key, "%s", ke.Msg)
}

// clock: the simulated clock needs a start and an end after it, at most
// maxSpan later; a bin (at least 1s: its tag) is no longer than the run,
// and the run has at most maxBins of them.
func (c *checker) clock() *param.FieldError {
	s := c.s
	if s.Start.IsZero() {
		return c.fail("start", "missing: give the simulated start as a UTC date-time, like start = 2001-07-19T10:00:00Z")
	}
	if s.End.IsZero() {
		return c.fail("end", "missing: give the simulated end as a UTC date-time after start, like end = 2001-07-20T00:00:00Z")
	}
	if !s.End.After(s.Start) {
		return c.fail("end", "%s is not after start %s", s.End.Format(when), s.Start.Format(when))
	}
	c.span = s.End.Sub(s.Start)
	if c.span > maxSpan {
		return c.fail("end", "%s is %s after start %s; at most %s are allowed", s.End.Format(when), param.Duration(c.span), s.Start.Format(when), param.Duration(maxSpan))
	}
	if s.Bin.D() > c.span {
		return c.fail("bin", "%s is longer than the run (%s from start to end)", s.Bin, param.Duration(c.span))
	}
	if n := c.span / s.Bin.D(); n > maxBins {
		return c.fail("bin", "%s makes %d rows from start to end; at most %d are allowed (use a wider bin)", s.Bin, n, maxBins)
	}
	return nil
}

// space: reserved ranges are "special" or prefixes of the space; the
// addresses that answer and those a router reports unreachable are shares
// of the same addresses.
func (c *checker) space() *param.FieldError {
	s := c.s
	for i, r := range s.Space.Reserved {
		if r == ipv4.Special {
			continue
		}
		if _, err := c.sp.ParsePrefix(r); err != nil {
			return c.fail("space.reserved", "entry %d: %v; want \"special\" or a prefix like 10.0.0.0/8", i+1, err)
		}
	}
	if q := s.Space.AnswerFraction + s.Space.Unreachable; q > 1+1e-9 {
		return c.fail("space.unreachable_fraction", "answer_fraction %v + unreachable_fraction %v is more than 1: they are shares of the same addresses", s.Space.AnswerFraction, s.Space.Unreachable)
	}
	var err error
	if c.reserved, err = c.sp.ParseRanges(s.Space.Reserved); err != nil {
		return c.fail("space.reserved", "%v", err)
	}
	return nil
}

// population: the hosts fit the space (at most a quarter of it: a sanity
// bound; placement needs room around the hosts); a population file can be
// read (relative to the scenario file's folder); language shares and
// region shares are shares of one population; the placement succeeds
// whatever the seed; hosts that arrive do so after the start, within a
// span; DHCP leases are bounded.
func (c *checker) population() *param.FieldError {
	s, sp, pop := c.s, c.sp, c.s.Population
	file := pop.Placement == ipv4.PlacementFile
	if !file && uint64(pop.Hosts) > sp.Size()/4 {
		return c.fail("population.hosts", "%d hosts do not fit a %d-bit space of %d addresses: at most a quarter of it (%d) may hold hosts; raise space.bits or lower hosts", pop.Hosts, s.Space.Bits, sp.Size(), sp.Size()/4)
	}
	if file {
		if fe := c.populationFile(); fe != nil {
			return fe
		}
	}
	if pop.English+pop.Chinese > 1+1e-9 {
		return c.fail("population.chinese", "english %v + chinese %v is more than 1: they are shares of the same hosts", pop.English, pop.Chinese)
	}
	if len(pop.Regions) > 0 {
		sum := 0.0
		for _, r := range pop.Regions {
			sum += r.Share
		}
		if math.Abs(sum-1) > 1e-6 {
			return c.fail("population.region", "the shares of the %d regions add up to %v; they must add up to 1", len(pop.Regions), sum)
		}
	}
	// Room for the hosts in the least roomy blocks the clustered placement
	// can draw, a population file that reads and fits. hosts is the number
	// placed (-1: a FIFO, read only by the run).
	var err error
	if c.hosts, err = ipv4.CheckPlacement(context.Background(), pop, sp, c.reserved, c.baseDir); err != nil {
		key := "population.hosts"
		if file {
			key = "population.file"
		}
		return c.fail(key, "%s", strings.TrimPrefix(err.Error(), "population: "))
	}
	if a := pop.Arrivals; a.Share > 0 {
		switch {
		case a.From.IsZero():
			return c.fail("population.arrivals.share", "%v needs population.arrivals.from, the earliest time a host comes online, like from = %s", a.Share, s.Start.Format(when))
		case a.Until.IsZero():
			return c.fail("population.arrivals.share", "%v needs population.arrivals.until, the latest time a host comes online, like until = %s", a.Share, s.End.Format(when))
		case a.From.Before(s.Start):
			return c.fail("population.arrivals.from", "%s is before the run's start %s: arriving hosts are those not on the network at the start", a.From.Format(when), s.Start.Format(when))
		case a.Until.Before(a.From):
			return c.fail("population.arrivals.until", "%s is before from %s", a.Until.Format(when), a.From.Format(when))
		}
	}
	// Each new address of a scanning home machine is an event of every
	// sensor, so the number of leases over the run is bounded.
	if lease := pop.DHCPLease.D(); lease > 0 && c.span/lease > maxLeases {
		return c.fail("population.dhcp_lease", "%s gives each home machine %d addresses over the run (%s); at most %d are allowed (use a longer lease, or 0 for none)", pop.DHCPLease, c.span/lease, param.Duration(c.span), maxLeases)
	}
	return nil
}

// populationFile: placement "file" needs a file that can be read.
func (c *checker) populationFile() *param.FieldError {
	pop := c.s.Population
	if strings.TrimSpace(pop.File) == "" {
		return c.fail("population.placement", "placement \"file\" needs population.file, a file of addresses or prefixes with counts")
	}
	p := pop.File
	if !filepath.IsAbs(p) && c.baseDir != "" {
		p = filepath.Join(c.baseDir, p)
	}
	if fi, err := os.Stat(p); err != nil {
		return c.fail("population.file", "cannot read %s: %v", p, errShort(err))
	} else if fi.IsDir() {
		return c.fail("population.file", "%s is a folder, not a file", p)
	}
	return nil
}

// worms: at least one; names unique (they label the variants in the
// outputs and address them in --set; the name rule made sure each is
// given); each worm's own rules (see worm); the engine's limit on target
// groups across the worms.
func (c *checker) worms() *param.FieldError {
	if len(c.s.Worms) == 0 {
		return c.fail("worm", "no [[worm]] table: a scenario needs at least one worm")
	}
	seen := map[string]int{}
	groups := map[string]bool{}
	for i, w := range c.s.Worms {
		p := "worm." + strconv.Itoa(i)
		if j, dup := seen[w.Name]; dup {
			return c.fail(p+".name", "%q is also the name of worm %d: names must be unique", w.Name, j)
		}
		seen[w.Name] = i
		v, fe := c.worm(i, w)
		if fe != nil {
			return fe
		}
		// The engine's limits: its target groups (OS classes and excluded
		// ranges) and the rate classes of its hosts.
		if groups[v.GroupKey()] = true; len(groups) > worm.MaxTargetGroups {
			return c.fail(p, "the worms target %d different groups of hosts (sets of infects and targeting.exclude); at most %d are allowed: give more worms the same infects and exclude", len(groups), worm.MaxTargetGroups)
		}
		if n := v.RateClasses(worm.MaxRateClasses); n > worm.MaxRateClasses {
			return c.fail(p+".targeting.exclude", "splits the hosts into more than %d classes of probe rate and share of probes not excluded; use fewer, larger excluded prefixes", worm.MaxRateClasses)
		}
	}
	return nil
}

// worm checks worm i's rules and returns it compiled: it starts within the
// run (or at or after its end, which leaves it out: what-ifs such as "no
// CRv2"), has enough hosts for its seeds, and follows the rules of its
// strategy, its rate model and its calendar; its end of life comes after
// its start; it compiles.
func (c *checker) worm(i int, w worm.Params) (*worm.Variant, *param.FieldError) {
	s, p := c.s, "worm."+strconv.Itoa(i)
	start := s.Start
	if !w.Start.IsZero() {
		if w.Start.Before(s.Start) {
			return nil, c.fail(p+".start", "%s is before the run's start %s: want a time from the start on (at or after the end leaves the worm out)", w.Start.Format(when), s.Start.Format(when))
		}
		start = w.Start
	}
	// A population file decides its own count; the engine then takes as
	// many seeds as it can.
	if s.Population.Placement != ipv4.PlacementFile && w.Seeds > s.Population.Hosts {
		return nil, c.fail(p+".seeds", "%d seeds is more than the %d hosts of the population", w.Seeds, s.Population.Hosts)
	}
	if ke := worm.CheckTargeting(w.Targeting, worm.CheckEnv{Space: c.sp, Hosts: c.hosts}); ke != nil {
		return nil, c.failKey(p, ke)
	}
	for j, x := range w.Targeting.Exclude {
		if _, err := c.sp.ParsePrefix(x); err != nil {
			return nil, c.fail(p+".targeting.exclude", "entry %d: %v", j+1, err)
		}
	}
	for _, ke := range []*worm.KeyError{worm.CheckExclude(w.Targeting), worm.CheckRate(w.Rate), worm.CheckCalendar(w.Calendar, c.sp)} {
		if ke != nil {
			return nil, c.failKey(p, ke)
		}
	}
	if end := w.Calendar.End; !end.IsZero() && !end.After(start) {
		return nil, c.fail(p+".calendar.end", "%s is not after the worm's start %s", end.Format(when), start.Format(when))
	}
	v, err := worm.Compile(i, w, c.sp, s.Start, s.Space.AnswerFraction+s.Space.Unreachable)
	if err != nil {
		return nil, c.fail(p, "%v", err)
	}
	return v, nil
}

// sensors: names unique (each names its files), a block of the space, one
// address for a kind that watches one (a web server).
func (c *checker) sensors() *param.FieldError {
	seen := map[string]int{}
	for i, sn := range c.s.Sensors {
		p := "sensor." + strconv.Itoa(i)
		if j, dup := seen[sn.Name]; dup {
			return c.fail(p+".name", "%q is also the name of sensor %d: names must be unique (each names the sensor's files)", sn.Name, j)
		}
		seen[sn.Name] = i
		if _, err := sensor.CheckPrefix(sn, c.sp); err != nil {
			return c.fail(p+".prefix", "%v", err)
		}
	}
	return nil
}

// advisories: names unique (--set addresses them by name).
func (c *checker) advisories() *param.FieldError {
	seen := map[string]int{}
	for i, a := range c.s.Defense.Advisories {
		if j, dup := seen[a.Name]; dup {
			return c.fail("defense.advisory."+strconv.Itoa(i)+".name", "%q is also the name of advisory %d: names must be unique", a.Name, j)
		}
		seen[a.Name] = i
	}
	return nil
}

// errShort drops the path that os errors repeat.
func errShort(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
