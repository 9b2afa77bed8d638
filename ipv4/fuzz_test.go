package ipv4

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseRanges feeds lists of prefixes (one per line), as space.reserved
// and worm.targeting.exclude give them, to ParseRanges: it never panics,
// and what it returns is a set of sorted, disjoint, non-adjacent ranges of
// the space that holds every entry.
func FuzzParseRanges(f *testing.F) {
	for _, s := range []string{
		"special", "10.0.0.0/8\n127.0.0.0/8", "0.0.0.0/0", "255.255.255.255", "1.2.3.4/33", "10.0.0.1/8",
		"SPECIAL\n192.0.2.0/24", " 10.0.0.0/8 ", "::1", "1.2.3.4/-1", "", "0.0.0.0/1\n128.0.0.0/1",
	} {
		f.Add(s, 32)
		f.Add(s, 16)
	}
	f.Fuzz(func(t *testing.T, text string, bits int) {
		bits = 16 + (bits%17+17)%17
		sp := Space{Bits: bits}
		list := strings.Split(text, "\n")
		rs, err := sp.ParseRanges(list)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "entry ") {
				t.Fatalf("error %q does not name the entry", err)
			}
			return
		}
		l := rs.List()
		for i, r := range l {
			if r.Lo >= r.Hi || r.Hi > sp.Size() {
				t.Fatalf("range %v outside a %d-bit space", r, bits)
			}
			if i > 0 && r.Lo <= l[i-1].Hi {
				t.Fatalf("ranges %v and %v overlap or touch", l[i-1], r)
			}
		}
		for _, e := range list {
			if strings.EqualFold(strings.TrimSpace(e), "special") {
				continue
			}
			r, err := sp.ParsePrefix(e)
			if err != nil {
				t.Fatalf("entry %q parsed in the list, not alone: %v", e, err)
			}
			if rs.Overlap(r) != r.Len() {
				t.Fatalf("entry %q (%v) not wholly in the set", e, r)
			}
		}
	})
}

// FuzzPlaceFile writes a population file and places it: CheckPlacement
// and Place never panic, agree on whether the file is good and on its
// number of hosts, and neither quotes a line it does not take for
// addresses ("s3cr3t" never is one).
func FuzzPlaceFile(f *testing.F) {
	for _, s := range []string{
		"61.0.0.1\n61.0.0.0/24 17\n",
		"61.0.0.0/8 5\n61.1.0.0/16 5\n",
		"10.1.2.3\n",
		"61.0.0.5\n61.0.0.4/30 4\n",
		"# nothing\n",
		"0.0.0.0/0 1000\n",
		"61.0.0.1\n61.0.0.1\n61.0.0.0/30 3\n",
		"root:$6$s3cr3t:19000:0:99999:7:::\n",
		"61.0.0.0/24 s3cr3t\n",
		"240.0.0.0/4 2\n",
	} {
		f.Add(s, 32)
		f.Add(s, 16)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text string, bits int) {
		bits = 16 + (bits%17+17)%17
		sp := Space{Bits: bits}
		res, err := sp.ParseRanges([]string{"special"})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "pop.txt")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		p := PopulationParams{Hosts: 1, Placement: PlacementFile, File: path, Win2000: 0.5, English: 0.5, Home: 0.5}
		n, cerr := CheckPlacement(context.Background(), p, sp, res, "")
		if cerr == nil && n > 1_000_000 {
			return // right, but slow to place for a fuzz run
		}
		h, perr := Place(context.Background(), p, sp, res, "", rand.New(rand.NewPCG(1, 2)))
		for _, err := range []error{cerr, perr} {
			if err != nil && strings.Contains(err.Error(), "s3cr3t") {
				t.Fatalf("error %q quotes the file", err)
			}
		}
		switch {
		case (cerr == nil) != (perr == nil):
			t.Fatalf("CheckPlacement: %v; Place: %v", cerr, perr)
		case cerr != nil:
			if cerr.Error() != perr.Error() {
				t.Fatalf("CheckPlacement: %v; Place: %v", cerr, perr)
			}
		case h.Len() != n:
			t.Fatalf("CheckPlacement counts %d hosts, Place placed %d", n, h.Len())
		default:
			for i, a := range h.Addr {
				if i > 0 && a <= h.Addr[i-1] || res.Contains(a) || uint64(a) >= sp.Size() {
					t.Fatalf("host %d at %d: not ascending, reserved or outside the space", i, a)
				}
			}
		}
	})
}
