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
	fail := func(path, format string, args ...any) *param.FieldError {
		e := l.Error(path, fmt.Sprintf(format, args...))
		return &e
	}
	const when = "2006-01-02T15:04:05Z07:00"

	// The simulated clock needs a start and an end after it, at most
	// maxSpan later.
	if s.Start.IsZero() {
		return fail("start", "missing: give the simulated start as a UTC date-time, like start = 2001-07-19T10:00:00Z")
	}
	if s.End.IsZero() {
		return fail("end", "missing: give the simulated end as a UTC date-time after start, like end = 2001-07-20T00:00:00Z")
	}
	if !s.End.After(s.Start) {
		return fail("end", "%s is not after start %s", s.End.Format(when), s.Start.Format(when))
	}
	span := s.End.Sub(s.Start)
	if span > maxSpan {
		return fail("end", "%s is %s after start %s; at most %s are allowed", s.End.Format(when), param.Duration(span), s.Start.Format(when), param.Duration(maxSpan))
	}

	// A bin (at least 1s: its tag) is no longer than the run, and the run
	// has at most maxBins of them.
	if s.Bin.D() > span {
		return fail("bin", "%s is longer than the run (%s from start to end)", s.Bin, param.Duration(span))
	}
	if n := span / s.Bin.D(); n > maxBins {
		return fail("bin", "%s makes %d rows from start to end; at most %d are allowed (use a wider bin)", s.Bin, n, maxBins)
	}

	// Reserved ranges are "special" or prefixes of the space.
	sp := ipv4.Space{Bits: s.Space.Bits}
	for i, r := range s.Space.Reserved {
		if r == "special" {
			continue
		}
		if _, err := sp.ParsePrefix(r); err != nil {
			return fail("space.reserved", "entry %d: %v; want \"special\" or a prefix like 10.0.0.0/8", i+1, err)
		}
	}
	// The addresses that answer and those a router reports unreachable are
	// shares of the same addresses.
	if q := s.Space.AnswerFraction + s.Space.Unreachable; q > 1+1e-9 {
		return fail("space.unreachable_fraction", "answer_fraction %v + unreachable_fraction %v is more than 1: they are shares of the same addresses", s.Space.AnswerFraction, s.Space.Unreachable)
	}
	reserved, err := sp.ParseRanges(s.Space.Reserved)
	if err != nil {
		return fail("space.reserved", "%v", err)
	}

	// The population fits the space: hosts may fill at most a quarter of it
	// (a sanity bound; placement needs room around the hosts).
	pop := s.Population
	if pop.Placement != "file" && uint64(pop.Hosts) > sp.Size()/4 {
		return fail("population.hosts", "%d hosts do not fit a %d-bit space of %d addresses: at most a quarter of it (%d) may hold hosts; raise space.bits or lower hosts", pop.Hosts, s.Space.Bits, sp.Size(), sp.Size()/4)
	}

	// Placement "file" needs a file that can be read (relative to the
	// scenario file's folder).
	if pop.Placement == "file" {
		if strings.TrimSpace(pop.File) == "" {
			return fail("population.placement", "placement \"file\" needs population.file, a file of addresses or prefixes with counts")
		}
		p := pop.File
		if !filepath.IsAbs(p) && baseDir != "" {
			p = filepath.Join(baseDir, p)
		}
		if fi, err := os.Stat(p); err != nil {
			return fail("population.file", "cannot read %s: %v", p, errShort(err))
		} else if fi.IsDir() {
			return fail("population.file", "%s is a folder, not a file", p)
		}
	}

	// Language shares are shares of one population: together at most 1.
	if pop.English+pop.Chinese > 1+1e-9 {
		return fail("population.chinese", "english %v + chinese %v is more than 1: they are shares of the same hosts", pop.English, pop.Chinese)
	}

	// Region shares add up to 1 (when regions are given at all).
	if len(pop.Regions) > 0 {
		sum := 0.0
		for _, r := range pop.Regions {
			sum += r.Share
		}
		if math.Abs(sum-1) > 1e-6 {
			return fail("population.region", "the shares of the %d regions add up to %v; they must add up to 1", len(pop.Regions), sum)
		}
	}

	// The placement succeeds whatever the seed: room for the hosts in the
	// least roomy blocks the clustered placement can draw, a population
	// file that reads and fits. hosts is the number placed (-1: a FIFO,
	// read only by the run).
	hosts, err := ipv4.CheckPlacement(context.Background(), pop, sp, reserved, baseDir)
	if err != nil {
		key := "population.hosts"
		if pop.Placement == "file" {
			key = "population.file"
		}
		return fail(key, "%s", strings.TrimPrefix(err.Error(), "population: "))
	}

	// DHCP leases: each new address of a scanning home machine is an
	// event of every sensor, so the number of leases over the run is
	// bounded.
	if lease := pop.DHCPLease.D(); lease > 0 && span/lease > maxLeases {
		return fail("population.dhcp_lease", "%s gives each home machine %d addresses over the run (%s); at most %d are allowed (use a longer lease, or 0 for none)", pop.DHCPLease, span/lease, param.Duration(span), maxLeases)
	}

	// There is at least one worm.
	if len(s.Worms) == 0 {
		return fail("worm", "no [[worm]] table: a scenario needs at least one worm")
	}

	seen := map[string]int{}
	groups := map[string]bool{}
	for i, w := range s.Worms {
		p := "worm." + strconv.Itoa(i)

		// Names are unique (they label the variants in the outputs and
		// address them in --set; the name rule made sure each is given).
		if j, dup := seen[w.Name]; dup {
			return fail(p+".name", "%q is also the name of worm %d: names must be unique", w.Name, j)
		}
		seen[w.Name] = i

		// A worm starts within the run (not set: at the scenario start), or
		// at or after its end, which leaves it out (what-ifs: "no CRv2").
		start := s.Start
		if !w.Start.IsZero() {
			if w.Start.Before(s.Start) {
				return fail(p+".start", "%s is before the run's start %s: want a time from the start on (at or after the end leaves the worm out)", w.Start.Format(when), s.Start.Format(when))
			}
			start = w.Start
		}

		// There are enough hosts for the seeds (a population file decides
		// its own count; the engine then takes as many seeds as it can).
		if pop.Placement != "file" && w.Seeds > pop.Hosts {
			return fail(p+".seeds", "%d seeds is more than the %d hosts of the population", w.Seeds, pop.Hosts)
		}

		// Local preference: the shares to the own /8 and /16 leave a
		// non-negative share for the rest of the space.
		tg := w.Targeting
		if tg.Strategy == "local" && tg.Local.Own8+tg.Local.Own16 > 1+1e-9 {
			return fail(p+".targeting.local.own16", "own8 %v + own16 %v is more than 1: together they are the share of probes that stay near the host", tg.Local.Own8, tg.Local.Own16)
		}

		// A hit list cannot hold more addresses than the space, and the
		// entries that are not hosts need addresses without one.
		if tg.Strategy == "hitlist" {
			if uint64(tg.HitList.Size) > sp.Size() {
				return fail(p+".targeting.hitlist.size", "%d is more than the %d addresses of the %d-bit space", tg.HitList.Size, sp.Size(), s.Space.Bits)
			}
			if hosts >= 0 {
				if err := worm.CheckHitList(tg.HitList, hosts, sp.Size()); err != nil {
					return fail(p+".targeting.hitlist.size", "%v", err)
				}
			}
		}

		// Excluded prefixes parse, and only strategies that draw each
		// address afresh can skip them: sequence, permutation and
		// sequential walk one fixed order of the space (shared by all hosts
		// or from a start address), and redrawing would change that walk.
		for j, x := range tg.Exclude {
			if _, err := sp.ParsePrefix(x); err != nil {
				return fail(p+".targeting.exclude", "entry %d: %v", j+1, err)
			}
		}
		switch tg.Strategy {
		case "sequence", "permutation", "sequential":
			if len(tg.Exclude) > 0 {
				return fail(p+".targeting.exclude", "not supported with strategy %q: it walks one fixed order of the space, and skipping addresses would change the walk; exclude works with uniform, local and hitlist (remove exclude)", tg.Strategy)
			}
		}

		// With the threads model, English-language hosts keep at least one
		// scanning thread.
		if r := w.Rate; r.Model == "threads" && r.NonScanningEnglish >= r.Threads {
			return fail(p+".rate.non_scanning_english", "%d leaves no scanning thread out of threads = %d", r.NonScanningEnglish, r.Threads)
		}

		// Monthly calendar: the flood follows the spreading days, the
		// flood target is an address, and the wake-up delay is not
		// negative.
		c := w.Calendar
		if c.Kind == "monthly" {
			if c.FloodUntilDay < c.SpreadUntilDay {
				return fail(p+".calendar.flood_until_day", "%d is before spread_until_day = %d: the flood days follow the spreading days", c.FloodUntilDay, c.SpreadUntilDay)
			}
			if _, err := sp.ParseAddr(c.FloodTarget); err != nil {
				return fail(p+".calendar.flood_target", "%v", err)
			}
			d := c.WakeDelay
			if (d.Kind == "fixed" && d.Mean < 0) || (d.Kind == "uniform" && d.Min < 0) {
				return fail(p+".calendar.wake_delay", "a delay cannot be negative (want a distribution of durations of 0 or more)")
			}
		}

		// The worm's end of life comes after it starts.
		if !c.End.IsZero() && !c.End.After(start) {
			return fail(p+".calendar.end", "%s is not after the worm's start %s", c.End.Format(when), start.Format(when))
		}

		// The engine's limits: its target groups (OS classes and excluded
		// ranges) and the rate classes of its hosts.
		v, err := worm.Compile(i, w, sp, s.Start, s.Space.AnswerFraction+s.Space.Unreachable)
		if err != nil {
			return fail(p, "%v", err)
		}
		if groups[v.GroupKey()] = true; len(groups) > worm.MaxTargetGroups {
			return fail(p, "the worms target %d different groups of hosts (sets of infects and targeting.exclude); at most %d are allowed: give more worms the same infects and exclude", len(groups), worm.MaxTargetGroups)
		}
		if n := v.RateClasses(worm.MaxRateClasses); n > worm.MaxRateClasses {
			return fail(p+".targeting.exclude", "splits the hosts into more than %d classes of probe rate and share of probes not excluded; use fewer, larger excluded prefixes", worm.MaxRateClasses)
		}
	}

	// Sensors: names unique (each names its files), a block of the space,
	// one address for a web server.
	sensors := map[string]int{}
	for i, sn := range s.Sensors {
		p := "sensor." + strconv.Itoa(i)
		if j, dup := sensors[sn.Name]; dup {
			return fail(p+".name", "%q is also the name of sensor %d: names must be unique (each names the sensor's files)", sn.Name, j)
		}
		sensors[sn.Name] = i
		r, err := sp.ParsePrefix(sn.Prefix)
		if err != nil {
			return fail(p+".prefix", "%v", err)
		}
		if sn.Kind == "webserver" && r.Len() != 1 {
			return fail(p+".prefix", "a web server has one address, and %s covers %d in a %d-bit space (want an address, or a /%d)", sn.Prefix, r.Len(), sp.Bits, sp.Bits)
		}
	}

	// Advisories: names unique (--set addresses them by name).
	advisories := map[string]int{}
	for i, a := range s.Defense.Advisories {
		if j, dup := advisories[a.Name]; dup {
			return fail("defense.advisory."+strconv.Itoa(i)+".name", "%q is also the name of advisory %d: names must be unique", a.Name, j)
		}
		advisories[a.Name] = i
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
