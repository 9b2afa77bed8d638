package ipv4

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// TestCheckPlacementClusteredSmallSpace is the case `scenario check`
// accepted and `run` refused: in a 16-bit space a /16 is one address, so
// the clustered placement's 64 x 128 blocks hold about 8,000 hosts, fewer
// than the quarter of the space the scenario allowed, and whether a
// population fits depended on the blocks drawn. CheckPlacement refuses
// what does not fit the least roomy draw, and everything it accepts is
// placed whatever the seed.
func TestCheckPlacementClusteredSmallSpace(t *testing.T) {
	t.Parallel()
	sp := Space{Bits: 16}
	res := special(t, sp)
	p := testParams(PlacementClustered, 10_000)
	if _, err := Place(context.Background(), p, sp, res, "", rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Fatal("10,000 clustered hosts placed in a 16-bit space: the test lost its point")
	}
	_, err := CheckPlacement(context.Background(), p, sp, res, "")
	if err == nil || !strings.Contains(err.Error(), "hosts = 10000 may not fit the clustered placement") {
		t.Fatalf("CheckPlacement: %v", err)
	}
	low, err := minClusterRoom(p.Clustered, sp, res)
	if err != nil {
		t.Fatal(err)
	}
	p.Hosts = int(low)
	if n, err := CheckPlacement(context.Background(), p, sp, res, ""); err != nil || n != int(low) {
		t.Fatalf("CheckPlacement at the least room %d: %d, %v", low, n, err)
	}
	for seed := range uint64(40) {
		h, err := Place(context.Background(), p, sp, res, "", rand.New(rand.NewPCG(seed, 2)))
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if h.Len() != int(low) {
			t.Fatalf("seed %d: %d hosts, want %d", seed, h.Len(), low)
		}
	}
	p.Hosts++
	if _, err := CheckPlacement(context.Background(), p, sp, res, ""); err == nil {
		t.Errorf("one host more than the least room %d was accepted", low)
	}
}

// TestMinClusterRoom checks the least room against what the draws give:
// never more than any draw's room, and, when every block is chosen, the
// free addresses of the whole space.
func TestMinClusterRoom(t *testing.T) {
	t.Parallel()
	for _, bits := range []int{16, 20, 24, 32} {
		sp := Space{Bits: bits}
		res := special(t, sp)
		all := ClusterParams{Blocks8: 256, Blocks16: 256, Zipf8: 1, Zipf16: 1}
		low, err := minClusterRoom(all, sp, res)
		if err != nil {
			t.Fatal(err)
		}
		if want := sp.Size() - res.Size(); low != want {
			t.Errorf("%d bits, every block: least room %d, want the free addresses %d", bits, low, want)
		}
		c := ClusterParams{Blocks8: 5, Blocks16: 7, Zipf8: 1, Zipf16: 1}
		low, err = minClusterRoom(c, sp, res)
		if err != nil {
			t.Fatal(err)
		}
		for seed := range uint64(200) {
			cells, err := clusterPlan(c, sp, res, rand.New(rand.NewPCG(seed, 3)))
			if err != nil {
				t.Fatal(err)
			}
			var room uint64
			for _, cl := range cells {
				room += cl.free
			}
			if room < low {
				t.Fatalf("%d bits, seed %d: a draw with room %d, below the least room %d", bits, seed, room, low)
			}
		}
	}
	// Every /8 reserved.
	sp := Space{Bits: 16}
	if _, err := minClusterRoom(ClusterParams{Blocks8: 1, Blocks16: 1}, sp, sp.MakeRanges(Range{Lo: 0, Hi: sp.Size()})); err == nil {
		t.Error("a wholly reserved space was accepted")
	}
}

// TestCheckPlacementErrors checks that CheckPlacement gives the errors
// Place gives, for every check that needs no draw.
func TestCheckPlacementErrors(t *testing.T) {
	t.Parallel()
	sp := Space{Bits: 32}
	res := special(t, sp)
	dir := t.TempDir()
	write := func(name, text string) string {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return name
	}
	tests := []struct {
		name string
		edit func(p *PopulationParams)
		sp   Space
		want string
	}{
		{"hosts 0", func(p *PopulationParams) { p.Hosts = 0 }, sp, "hosts = 0 (want 1 to 100000000)"},
		{"uniform over", func(p *PopulationParams) { p.Placement = PlacementUniform; p.Hosts = 60000 }, Space{Bits: 16}, "only 56488 addresses outside space.reserved"},
		{"languages", func(p *PopulationParams) { p.English = 0.95 }, sp, "english + chinese"},
		{"blocks", func(p *PopulationParams) { p.Clustered.Blocks8 = 0 }, sp, "clustered.blocks8 = 0"},
		{"file missing", func(p *PopulationParams) { p.Placement = PlacementFile; p.File = "nope.txt" }, sp, "nope.txt"},
		{"file bad line", func(p *PopulationParams) {
			p.Placement, p.File = PlacementFile, write("bad.txt", "1.2.3.4\nroot:x:0:0\n")
		}, sp, "bad.txt:2: not an IPv4 address"},
		{"file reserved", func(p *PopulationParams) { p.Placement, p.File = PlacementFile, write("res.txt", "10.1.2.3\n") }, sp, "res.txt:1: 10.1.2.3 is in the reserved range 10.0.0.0/8"},
		{"file overlap", func(p *PopulationParams) {
			p.Placement, p.File = PlacementFile, write("ov.txt", "61.0.0.0/8 5\n61.1.0.0/16 5\n")
		}, sp, "ov.txt:2: 61.1.0.0/16 overlaps 61.0.0.0/8 on line 1"},
		{"file over", func(p *PopulationParams) {
			p.Placement, p.File = PlacementFile, write("over.txt", "61.0.0.5\n61.0.0.4/30 4\n")
		}, sp, "over.txt:2: host count 4 is more than the 3 free addresses"},
		{"file empty", func(p *PopulationParams) { p.Placement, p.File = PlacementFile, write("empty.txt", "# nothing\n") }, sp, "no hosts"},
		{"file a folder", func(p *PopulationParams) { p.Placement, p.File = PlacementFile, "." }, sp, "is a folder, not a population file"},
	}
	for _, tt := range tests {
		p := testParams(PlacementClustered, 1000)
		tt.edit(&p)
		r := res
		if tt.sp != sp {
			r = special(t, tt.sp)
		}
		_, perr := Place(context.Background(), p, tt.sp, r, dir, rand.New(rand.NewPCG(1, 1)))
		_, cerr := CheckPlacement(context.Background(), p, tt.sp, r, dir)
		for _, err := range []error{perr, cerr} {
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
			}
		}
	}
	// A device is refused before it is read: /dev/zero never ends.
	if _, err := os.Stat("/dev/zero"); err == nil {
		p := testParams(PlacementFile, 1)
		p.File = "/dev/zero"
		_, err := CheckPlacement(context.Background(), p, sp, res, "")
		if err == nil || !strings.Contains(err.Error(), "/dev/zero is a device, not a population file") {
			t.Errorf("/dev/zero: %v", err)
		}
	}
}

func TestCheckPlacementFile(t *testing.T) {
	t.Parallel()
	sp := Space{Bits: 32}
	res := special(t, sp)
	p := testParams(PlacementFile, 1)
	p.File = "population.txt"
	n, err := CheckPlacement(context.Background(), p, sp, res, "testdata")
	if err != nil {
		t.Fatal(err)
	}
	h, err := Place(context.Background(), p, sp, res, "testdata", rand.New(rand.NewPCG(5, 5)))
	if err != nil {
		t.Fatal(err)
	}
	if n != h.Len() {
		t.Errorf("CheckPlacement counts %d hosts, Place placed %d", n, h.Len())
	}
	// A FIFO can be read once: CheckPlacement leaves it to Place.
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs:", err)
	}
	p.File = fifo
	if n, err := CheckPlacement(context.Background(), p, sp, res, ""); n != -1 || err != nil {
		t.Errorf("FIFO: %d, %v; want -1 and no error", n, err)
	}
}

// countdown is a context whose Err turns to context.Canceled after a given
// number of calls: a cancellation in the middle of a computation, at a
// place that does not depend on timing.
type countdown struct {
	context.Context
	left  atomic.Int64
	calls atomic.Int64
}

func newCountdown(n int64) *countdown {
	c := &countdown{Context: context.Background()}
	c.left.Store(n)
	return c
}

func (c *countdown) Err() error {
	c.calls.Add(1)
	if c.left.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// TestPlaceCancelled checks that a cancelled context stops a large
// placement, before it starts and in the middle of each phase, with
// context.Canceled.
func TestPlaceCancelled(t *testing.T) {
	t.Parallel()
	sp := Space{Bits: 32}
	res := special(t, sp)
	for _, placement := range []Placement{PlacementUniform, PlacementClustered} {
		p := testParams(placement, 20_000_000)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := Place(ctx, p, sp, res, "", rand.New(rand.NewPCG(1, 1))); !errors.Is(err, context.Canceled) {
			t.Errorf("%s, cancelled before: %v", placement, err)
		}
		// Cancelled after a few looks: in the middle of drawing the
		// addresses, far from the 20 million draws.
		for _, after := range []int64{1, 2, 5, 50} {
			c := newCountdown(after)
			if _, err := Place(c, p, sp, res, "", rand.New(rand.NewPCG(1, 1))); !errors.Is(err, context.Canceled) {
				t.Errorf("%s, cancelled after %d looks: %v", placement, after, err)
			}
			if c.calls.Load() > after+1 {
				t.Errorf("%s: %d looks at the context after it was cancelled at look %d", placement, c.calls.Load(), after)
			}
		}
	}
}
