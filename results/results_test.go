package results

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestSeedDirName(t *testing.T) {
	for seed, want := range map[uint64]string{1: "seed-0001", 42: "seed-0042", 9999: "seed-9999", 10000: "seed-10000", 1<<64 - 1: "seed-18446744073709551615"} {
		if got := SeedDirName(seed); got != want {
			t.Errorf("SeedDirName(%d) = %q, want %q", seed, got, want)
		}
		if got, ok := ParseSeedDirName(want); !ok || got != seed {
			t.Errorf("ParseSeedDirName(%q) = %d, %v", want, got, ok)
		}
	}
	for _, bad := range []string{"seed-1", "seed-00001", "seed-", "seed-0001.partial-5", ".seed-0001.partial-5", "seed-+001", "seed-99999999999999999999", "xseed-0001"} {
		if _, ok := ParseSeedDirName(bad); ok {
			t.Errorf("ParseSeedDirName(%q) accepted", bad)
		}
	}
}

// TestSeeds checks that only complete seed folders are listed, in numeric
// order.
func TestSeeds(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string, complete bool) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if complete {
			os.WriteFile(filepath.Join(p, SummaryFile), []byte("{}"), 0o644)
		}
	}
	mk("seed-10000", true)
	mk("seed-9999", true)
	mk("seed-0002", true)
	mk("seed-0001.partial-5", true)
	mk(".seed-0001.partial-77", true)
	mk("seed-1", true)
	os.WriteFile(filepath.Join(dir, "seed-0004"), nil, 0o644) // a file, not a folder
	got, err := Seeds(dir)
	if err != nil {
		t.Fatal(err)
	}
	var seeds []uint64
	for _, s := range got {
		seeds = append(seeds, s.Seed)
	}
	if !slices.Equal(seeds, []uint64{2, 9999, 10000}) {
		t.Errorf("Seeds = %v, want [2 9999 10000]", seeds)
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b.csv", "a.csv", ".a.csv.partial-1", "c.pcap", ".hidden.csv"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	os.Mkdir(filepath.Join(dir, "d.csv"), 0o755)
	got, err := Files(dir, ".csv")
	if err != nil || !slices.Equal(got, []string{"a.csv", "b.csv"}) {
		t.Errorf("Files = %v, %v", got, err)
	}
	if got, err := Files(filepath.Join(dir, "none"), ".csv"); err != nil || got != nil {
		t.Errorf("Files of a missing folder = %v, %v", got, err)
	}
}
