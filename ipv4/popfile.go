package ipv4

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"wormwatch/internal/ctxpoll"
	"wormwatch/internal/infile"
)

// MaxPopulationFileBytes is the largest population file read: 2 GiB, room
// for MaxHosts bare addresses of up to 20 bytes a line. Past it, reading
// stops with an error.
const MaxPopulationFileBytes = 2 << 30

// PopulationEntry is one line of a population file.
type PopulationEntry struct {
	Line  int    // line number, from 1
	Text  string // the address or prefix as written
	Range Range  // the addresses of the space the line covers
	Count uint64 // hosts the line asks for (1 for a bare address)
	Exact bool   // a bare address: the host sits at Range.Lo
}

// ReadPopulation reads a population file. Each line holds either an
// address ("192.0.2.7"), the place of one host, or a prefix and a count
// ("192.0.2.0/24 17"), that many hosts at distinct random addresses of the
// prefix. A '#' starts a comment that runs to the end of the line; blank
// lines are skipped; a line is at most 64 KiB. Addresses and prefixes are
// mapped into the space sp (in a scaled space several IPv4 addresses share
// one address of sp). The counts of all lines may add up to at most
// MaxHosts. name is used in errors, which read "name:line: what (want
// ...)".
//
// An error never quotes the line it is about: pointed at a file that is
// not a population file (a password file, say), it must not print what is
// in it. It says what it expected and where. A cancelled ctx stops the
// reading within a bounded number of lines, with ctx's error.
func ReadPopulation(ctx context.Context, r io.Reader, name string, sp Space) ([]PopulationEntry, error) {
	return readPopulation(r, name, sp, ctxpoll.New(ctx))
}

func readPopulation(r io.Reader, name string, sp Space, stop *ctxpoll.Poller) ([]PopulationEntry, error) {
	sc := bufio.NewScanner(r)
	var out []PopulationEntry
	var total uint64
	line := 0
	const forms = "a bare address as in \"192.0.2.7\", or a prefix and a host count as in \"192.0.2.0/24 17\""
	for sc.Scan() {
		if stop.Stop() {
			return nil, stop.Err()
		}
		line++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		f := strings.Fields(text)
		if len(f) == 0 {
			continue
		}
		e := PopulationEntry{Line: line, Text: f[0]}
		switch len(f) {
		case 1:
			if strings.Contains(f[0], "/") {
				if _, err := sp.ParsePrefix(f[0]); err != nil {
					return nil, fmt.Errorf("%s:%d: not an address or a prefix (want %s)", name, line, forms)
				}
				return nil, fmt.Errorf("%s:%d: a prefix without a host count (want %s)", name, line, forms)
			}
			a, err := sp.ParseAddr(f[0])
			if err != nil {
				return nil, fmt.Errorf("%s:%d: not an IPv4 address (want %s)", name, line, forms)
			}
			e.Range = Range{Lo: uint64(a), Hi: uint64(a) + 1}
			e.Count = 1
			e.Exact = true
		case 2:
			rg, err := sp.ParsePrefix(f[0])
			if err != nil {
				if strings.Contains(err.Error(), "bits set after the prefix length") {
					return nil, fmt.Errorf("%s:%d: the prefix has bits set after its length (want a prefix whose address ends with zero bits, as in \"192.0.2.0/24 17\")", name, line)
				}
				return nil, fmt.Errorf("%s:%d: not a prefix and a host count (want %s)", name, line, forms)
			}
			n, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: the host count after the prefix is not a whole number (want a count of 0 or more, as in \"192.0.2.0/24 17\")", name, line)
			}
			if n > rg.Len() {
				return nil, fmt.Errorf("%s:%d: host count %d is more than the %d addresses of %s in a %d-bit space (want at most %d)", name, line, n, rg.Len(), f[0], sp.Bits, rg.Len())
			}
			e.Range, e.Count = rg, n
		default:
			return nil, fmt.Errorf("%s:%d: %d fields (want %s)", name, line, len(f), forms)
		}
		total += e.Count
		if total > MaxHosts {
			return nil, fmt.Errorf("%s:%d: the file asks for more than %d hosts so far (want at most %d in all)", name, line, MaxHosts, MaxHosts)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		switch {
		case errors.Is(err, bufio.ErrTooLong):
			return nil, fmt.Errorf("%s:%d: line longer than %d bytes (want one address or prefix per line)", name, line+1, bufio.MaxScanTokenSize)
		case errors.Is(err, infile.ErrTooLarge):
			return nil, err // names the file and its cap
		}
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	return out, nil
}

// filePlan is what placing a population file does that needs no draws:
// the bare addresses, and the prefix lines with the free addresses of each.
type filePlan struct {
	exact    []uint32 // the bare addresses, ascending, distinct
	prefixes []PopulationEntry
	free     [][]Range // free ranges of each prefix line
	room     []uint64  // free addresses of each prefix line
	total    int       // hosts placed
}

// readFilePlan reads the population file at path and makes the checks of
// placeFile: bare addresses outside the reserved ranges, prefix lines with
// a count that do not overlap and whose counts fit their free addresses,
// at least one host.
func readFilePlan(path string, sp Space, reserved Ranges, stop *ctxpoll.Poller) (*filePlan, error) {
	f, err := infile.Open(path, "population file", MaxPopulationFileBytes)
	if err != nil {
		return nil, fmt.Errorf("population file: %w", err)
	}
	defer f.Close()
	entries, err := readPopulation(f, path, sp, stop)
	if err != nil {
		return nil, err
	}
	plan := &filePlan{}
	for _, e := range entries {
		switch {
		case e.Exact:
			if r, in := reserved.Containing(uint32(e.Range.Lo)); in {
				return nil, fmt.Errorf("%s:%d: %s is in the reserved range %s (want an address outside space.reserved, or take the range out of space.reserved)", path, e.Line, e.Text, sp.FormatRange(r))
			}
			plan.exact = append(plan.exact, uint32(e.Range.Lo))
		case e.Count > 0:
			plan.prefixes = append(plan.prefixes, e)
		}
	}
	if err := checkDisjoint(plan.prefixes, path, sp); err != nil {
		return nil, err
	}
	slices.Sort(plan.exact)
	plan.exact = dedupeSorted(plan.exact)
	// Addresses a prefix line may not use: the reserved ones and the
	// bare addresses.
	taken := append(reserved.List(), make([]Range, 0, len(plan.exact))...)
	for _, a := range plan.exact {
		taken = append(taken, Range{Lo: uint64(a), Hi: uint64(a) + 1})
	}
	excluded := sp.MakeRanges(taken...)
	plan.total = len(plan.exact)
	for _, e := range plan.prefixes {
		free := excluded.Gaps(e.Range)
		var n uint64
		for _, g := range free {
			n += g.Len()
		}
		if e.Count > n {
			return nil, fmt.Errorf("%s:%d: host count %d is more than the %d free addresses of %s (want at most %d; the others are reserved or named on bare-address lines)", path, e.Line, e.Count, n, e.Text, n)
		}
		plan.free = append(plan.free, free)
		plan.room = append(plan.room, n)
		plan.total += int(e.Count)
	}
	if plan.total == 0 {
		return nil, fmt.Errorf("%s: no hosts (want at least one address line, or a prefix line with a positive count)", path)
	}
	return plan, nil
}

// placeFile reads the population file at path and places its hosts:
// bare addresses where they say (several lines naming one address make one
// host), then each prefix line's count at distinct addresses drawn
// uniformly, in file order, among the prefix's addresses that are neither
// reserved nor named by a bare-address line. Prefix lines with a count
// must not overlap one another (their hosts could not be told apart from
// the other line's). A bare address inside a reserved range is an error:
// the file asked for it, so dropping it silently would be wrong (empty
// space.reserved to allow it).
func placeFile(path string, sp Space, reserved Ranges, rng *rand.Rand, stop *ctxpoll.Poller) ([]uint32, error) {
	plan, err := readFilePlan(path, sp, reserved, stop)
	if err != nil {
		return nil, err
	}
	addr := plan.exact
	for i, e := range plan.prefixes {
		picks := sampleSorted(rng, plan.room[i], int(e.Count), nil, stop)
		if stop.Err() != nil {
			return nil, stop.Err()
		}
		mapToRanges(picks, plan.free[i])
		addr = append(addr, picks...)
	}
	// The parts are disjoint, so sorting the concatenation is enough.
	sortUint32(addr, nil)
	return addr, nil
}

// checkDisjoint reports a pair of prefix lines whose ranges overlap, if
// any. Prefixes are aligned blocks, so two of them overlap only if one
// holds the other. Sort by start (the larger first on a tie): if line m
// overlaps a later line i, it holds it, so the line m+1, which starts
// between the two starts, lies in block m too; either m+1 = i or lines m
// and m+1 overlap. So some neighbours overlap whenever any lines do.
func checkDisjoint(prefixes []PopulationEntry, path string, sp Space) error {
	s := slices.Clone(prefixes)
	slices.SortFunc(s, func(a, b PopulationEntry) int {
		switch {
		case a.Range.Lo != b.Range.Lo:
			if a.Range.Lo < b.Range.Lo {
				return -1
			}
			return 1
		case a.Range.Hi != b.Range.Hi:
			if a.Range.Hi > b.Range.Hi {
				return -1
			}
			return 1
		}
		return a.Line - b.Line
	})
	for i := 1; i < len(s); i++ {
		if s[i].Range.Lo < s[i-1].Range.Hi {
			a, b := s[i-1], s[i]
			if a.Line > b.Line {
				a, b = b, a
			}
			return fmt.Errorf("%s:%d: %s overlaps %s on line %d in a %d-bit space (want prefixes with counts that do not overlap; merge them into one line)", path, b.Line, b.Text, a.Text, a.Line, sp.Bits)
		}
	}
	return nil
}
