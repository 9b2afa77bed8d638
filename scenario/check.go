package scenario

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"wormwatch/internal/param"
	"wormwatch/ipv4"
)

// maxBins bounds the rows of the time series, (end - start) / bin.
const maxBins = 5_000_000

// check applies the rules that tie keys together, after each key was
// checked against its own tags, and returns the first broken one. Paths
// are canonical (worm.0.rate); l displays and locates them.
func check(s *Scenario, l *param.Loader, baseDir string) *param.FieldError {
	fail := func(path, format string, args ...any) *param.FieldError {
		e := l.Error(path, fmt.Sprintf(format, args...))
		return &e
	}
	const when = "2006-01-02T15:04:05Z07:00"

	// The simulated clock needs a start and an end after it.
	if s.Start.IsZero() {
		return fail("start", "missing: give the simulated start as a UTC date-time, like start = 2001-07-19T10:00:00Z")
	}
	if s.End.IsZero() {
		return fail("end", "missing: give the simulated end as a UTC date-time after start, like end = 2001-07-20T00:00:00Z")
	}
	if !s.End.After(s.Start) {
		return fail("end", "%s is not after start %s", s.End.Format(when), s.Start.Format(when))
	}

	// A bin is positive, no longer than the run, and the run has at most
	// maxBins of them.
	span := s.End.Sub(s.Start)
	if s.Bin <= 0 {
		return fail("bin", "must be positive, got %s (like bin = \"1m\")", s.Bin)
	}
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

	// There is at least one worm.
	if len(s.Worms) == 0 {
		return fail("worm", "no [[worm]] table: a scenario needs at least one worm")
	}

	seen := map[string]int{}
	for i, w := range s.Worms {
		p := "worm." + strconv.Itoa(i)

		// Every worm has a name, and names are unique (they label the
		// variants in the outputs and address them in --set).
		if strings.TrimSpace(w.Name) == "" {
			return fail(p+".name", "missing: every [[worm]] needs a name, like name = \"crv2\"")
		}
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

		// A hit list cannot hold more addresses than the space.
		if tg.Strategy == "hitlist" && uint64(tg.HitList.Size) > sp.Size() {
			return fail(p+".targeting.hitlist.size", "%d is more than the %d addresses of the %d-bit space", tg.HitList.Size, sp.Size(), s.Space.Bits)
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

		// Monthly calendar: the flood follows the spreading days, and the
		// flood target is an address.
		c := w.Calendar
		if c.Kind == "monthly" {
			if c.FloodUntilDay < c.SpreadUntilDay {
				return fail(p+".calendar.flood_until_day", "%d is before spread_until_day = %d: the flood days follow the spreading days", c.FloodUntilDay, c.SpreadUntilDay)
			}
			if _, err := sp.ParseAddr(c.FloodTarget); err != nil {
				return fail(p+".calendar.flood_target", "%v", err)
			}
		}

		// The worm's end of life comes after it starts.
		if !c.End.IsZero() && !c.End.After(start) {
			return fail(p+".calendar.end", "%s is not after the worm's start %s", c.End.Format(when), start.Format(when))
		}
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
