package ipv4

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadPopulation(t *testing.T) {
	t.Parallel()
	in := "# comment\n\n  192.0.2.7  \n10.0.0.0/8 17 # seventeen\n\t198.51.100.0/24\t0\n1.2.3.4 1\n"
	got, err := ReadPopulation(context.Background(), strings.NewReader(in), "pop.txt", Space{Bits: 32})
	if err != nil {
		t.Fatal(err)
	}
	want := []PopulationEntry{
		{Line: 3, Text: "192.0.2.7", Range: Range{0xC0000207, 0xC0000208}, Count: 1, Exact: true},
		{Line: 4, Text: "10.0.0.0/8", Range: Range{10 << 24, 11 << 24}, Count: 17},
		{Line: 5, Text: "198.51.100.0/24", Range: Range{0xC6336400, 0xC6336500}, Count: 0},
		{Line: 6, Text: "1.2.3.4", Range: Range{0x01020304, 0x01020305}, Count: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries %v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestReadPopulationErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		bits int
		in   string
		want string
	}{
		{32, "1.2.3.4\n10.0.0.0/8\n", `pop.txt:2: a prefix without a host count (want a bare address as in "192.0.2.7", or a prefix and a host count as in "192.0.2.0/24 17")`},
		{32, "\n\nhello\n", `pop.txt:3: not an IPv4 address (want a bare address`},
		{32, "10.0.0.0/8 many\n", `pop.txt:1: the host count after the prefix is not a whole number (want a count of 0 or more`},
		{32, "10.0.0.0/8 -1\n", `pop.txt:1: the host count after the prefix is not a whole number`},
		{32, "10.0.0.1/8 3\n", "pop.txt:1: the prefix has bits set after its length"},
		{32, "10.0.0.0/33 3\n", `pop.txt:1: not a prefix and a host count (want a bare address`},
		{32, "1.2.3.0/30 5\n", "pop.txt:1: host count 5 is more than the 4 addresses of 1.2.3.0/30 in a 32-bit space (want at most 4)"},
		{20, "1.2.3.0/24 2\n", "pop.txt:1: host count 2 is more than the 1 addresses of 1.2.3.0/24 in a 20-bit space (want at most 1)"},
		{32, "1.2.3.4 1 2\n", "pop.txt:1: 3 fields (want a bare address"},
		{32, "::1\n", `pop.txt:1: not an IPv4 address`},
		{32, "10.0.0.0/40\n", `pop.txt:1: not an address or a prefix`},
		{32, "0.0.0.0/0 99999999\n0.0.0.0/0 2\n", "pop.txt:2: the file asks for more than 100000000 hosts"},
		{32, "1.2.3.4\n" + strings.Repeat("x", 70000) + "\n", "pop.txt:2: line longer than"},
	}
	for _, tt := range tests {
		_, err := ReadPopulation(context.Background(), strings.NewReader(tt.in), "pop.txt", Space{Bits: tt.bits})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want one containing %q", short(tt.in), err, tt.want)
		}
	}
}

// TestPopulationErrorsQuoteNothing points the reader at lines that are
// not of a population file, each holding a secret: no error may print it
// (one printed a line of /etc/shadow). It says what it wanted and where.
func TestPopulationErrorsQuoteNothing(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t"
	for _, in := range []string{
		"root:$6$s3cr3t$xyz:19000:0:99999:7:::\n",
		"s3cr3t\n",
		"s3cr3t/8\n",
		"10.0.0.0/8 s3cr3t\n",
		"s3cr3t 17\n",
		"10.0.0.0/8 17 s3cr3t\n",
		"password = s3cr3t\n",
		"10.0.0.1/8 s3cr3t\n",
		"1.2.3.4\nexport TOKEN=s3cr3t\n",
		"\x00\x01s3cr3t\xff\n",
	} {
		_, err := ReadPopulation(context.Background(), strings.NewReader(in), "pop.txt", Space{Bits: 32})
		if err == nil {
			t.Errorf("%q: no error", in)
			continue
		}
		if strings.Contains(err.Error(), secret) || !strings.HasPrefix(err.Error(), "pop.txt:") || !strings.Contains(err.Error(), "(want ") {
			t.Errorf("%q: error %q quotes the file or does not say what it wanted", in, err)
		}
	}
}

// TestReadPopulationCancelled checks that a cancelled context stops the
// reading of a long file.
func TestReadPopulationCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ReadPopulation(ctx, strings.NewReader(strings.Repeat("1.2.3.4\n", 10000)), "pop.txt", Space{Bits: 32})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func short(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// TestPlaceFile places testdata/population.txt and counts the hosts per
// line of the file, which are written out here by hand.
func TestPlaceFile(t *testing.T) {
	t.Parallel()
	for _, bits := range []int{32, 24} {
		sp := Space{Bits: bits}
		res := special(t, sp)
		p := testParams(PlacementFile, 7) // hosts is ignored by "file"
		p.File = "population.txt"
		h, err := Place(context.Background(), p, sp, res, "testdata", rand.New(rand.NewPCG(71, 0)))
		if err != nil {
			t.Fatal(err)
		}
		checkHostsShape(t, h, res)
		// 1.2.3.4 (twice), 4.4.0.1, 61.0.0.9 and 100 + 50 + 1000.
		if h.Len() != 1153 {
			t.Errorf("bits %d: %d hosts, want 1153", bits, h.Len())
		}
		in := func(prefix string) int {
			r, err := sp.ParsePrefix(prefix)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, a := range h.Addr {
				if r.Contains(a) {
					n++
				}
			}
			return n
		}
		tests := []struct {
			prefix string
			want   int
		}{
			{"1.2.3.4/32", 1},
			{"4.4.0.1/32", 1},
			{"61.0.0.9/32", 1},
			{"61.0.0.0/16", 101},
			{"61.1.0.0/16", 50},
			{"130.0.0.0/12", 1000},
			{"0.0.0.0/1", 153},
		}
		for _, tt := range tests {
			if got := in(tt.prefix); got != tt.want {
				t.Errorf("bits %d: %d hosts in %s, want %d", bits, got, tt.prefix, tt.want)
			}
		}
	}
}

func TestPlaceFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name     string
		content  string
		reserved []string
		want     string // "" for no error
		hosts    int
	}{
		{"reserved address", "1.2.3.4\n10.1.2.3\n", []string{"special"}, "f.txt:2: 10.1.2.3 is in the reserved range 10.0.0.0/8 (want an address outside space.reserved", 0},
		{"reserved allowed when none", "1.2.3.4\n10.1.2.3\n", nil, "", 2},
		{"overlap", "10.0.0.0/8 5\n# c\n10.1.0.0/16 3\n", nil, "f.txt:3: 10.1.0.0/16 overlaps 10.0.0.0/8 on line 1", 0},
		{"overlap reversed", "10.1.0.0/16 3\n10.0.0.0/8 5\n", nil, "f.txt:2: 10.0.0.0/8 overlaps 10.1.0.0/16 on line 1", 0},
		{"same prefix twice", "10.1.0.0/16 3\n10.1.0.0/16 3\n", nil, "f.txt:2: 10.1.0.0/16 overlaps 10.1.0.0/16 on line 1", 0},
		{"overlap with count 0", "10.1.0.0/16 0\n10.0.0.0/8 5\n", nil, "", 5},
		{"disjoint neighbours", "10.0.0.0/24 256\n10.0.1.0/24 256\n", nil, "", 512},
		{"full after addresses", "1.2.3.0/30 4\n1.2.3.1\n", nil, "f.txt:1: host count 4 is more than the 3 free addresses of 1.2.3.0/30", 0},
		{"exactly full", "1.2.3.0/30 3\n1.2.3.1\n", nil, "", 4},
		{"wholly reserved prefix", "10.0.0.0/16 1\n", []string{"special"}, "f.txt:1: host count 1 is more than the 0 free addresses of 10.0.0.0/16", 0},
		{"partly reserved prefix", "192.168.0.0/15 65536\n", []string{"special"}, "", 65536},
		{"no hosts", "# nothing\n\n10.0.0.0/8 0\n", nil, "f.txt: no hosts", 0},
	}
	for i, tt := range tests {
		sub := filepath.Join(dir, string(rune('a'+i)))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, "f.txt"), []byte(tt.content), 0o644); err != nil {
			t.Fatal(err)
		}
		sp := Space{Bits: 32}
		res, err := sp.ParseRanges(tt.reserved)
		if err != nil {
			t.Fatal(err)
		}
		p := testParams(PlacementFile, 1)
		p.File = "f.txt"
		h, err := Place(context.Background(), p, sp, res, sub, rand.New(rand.NewPCG(81, 0)))
		if tt.want != "" {
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
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
	}
}

func FuzzReadPopulation(f *testing.F) {
	seeds := []string{
		"192.0.2.7\n",
		"# c\n\n10.0.0.0/8 17 # x\n",
		"1.2.3.0/30 5\n",
		"0.0.0.0/0 4294967296\n",
		"255.255.255.255/32 1\n255.255.255.255\n",
		"1.2.3.4 1 2\n",
		"10.0.0.0/8\n",
		"\xff\xfe\n",
		"1.2.3.4\r\n5.6.7.8\r\n",
		"10.0.0.0/8 18446744073709551615\n",
		// Lines of other files, with a secret no error may print.
		"root:$6$s3cr3t$xyz:19000:0:99999:7:::\n",
		"10.0.0.0/8 s3cr3t\n",
		"s3cr3t/8 1\n",
		"1.2.3.4\nKEY=s3cr3t\n",
	}
	for _, s := range seeds {
		f.Add(s, 32)
		f.Add(s, 16)
	}
	f.Fuzz(func(t *testing.T, in string, bits int) {
		if bits < 16 || bits > 32 {
			bits = 16 + (bits%17+17)%17
		}
		sp := Space{Bits: bits}
		entries, err := ReadPopulation(context.Background(), strings.NewReader(in), "fuzz.txt", sp)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.txt:") {
				t.Fatalf("error %q does not name the file", err)
			}
			// "s3cr3t" is never an address, a prefix or a count, so an
			// error that holds it quotes the file.
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Fatalf("error %q quotes the file", err)
			}
			return
		}
		var total uint64
		last := 0
		for _, e := range entries {
			if e.Line <= last {
				t.Fatalf("line %d after line %d", e.Line, last)
			}
			last = e.Line
			if e.Range.Lo >= e.Range.Hi || e.Range.Hi > sp.Size() {
				t.Fatalf("line %d: range %v outside a %d-bit space", e.Line, e.Range, bits)
			}
			if e.Count > e.Range.Len() {
				t.Fatalf("line %d: count %d in %d addresses", e.Line, e.Count, e.Range.Len())
			}
			if e.Exact && (e.Count != 1 || e.Range.Len() != 1) {
				t.Fatalf("line %d: bare address with count %d, range %v", e.Line, e.Count, e.Range)
			}
			total += e.Count
		}
		if total > MaxHosts {
			t.Fatalf("total %d over MaxHosts", total)
		}
	})
}
