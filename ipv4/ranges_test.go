package ipv4

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestParseRangesSpecialSize(t *testing.T) {
	t.Parallel()
	// Sizes of the union of SpecialPurpose worked out by hand per space
	// (see the comments), not from the code.
	tests := []struct {
		bits int
		want uint64
	}{
		// 0/8, 10/8, 127/8; 100.64/10; 169.254/16; 172.16/12; five
		// distinct /24s; 192.168/16; 198.18/15; 224/3 (which holds
		// 255.255.255.255).
		{32, 3<<24 + 1<<22 + 1<<16 + 1<<20 + 5*256 + 1<<16 + 1<<17 + 1<<29},
		// A /8 is 4096 addresses, a /16 16, a /24 one: 192.0.0/24 and
		// 192.0.2/24 fall on the same address, so four /24s.
		{20, 3*4096 + 1024 + 16 + 256 + 4 + 16 + 32 + 32*4096},
		// A /8 is 256 addresses, /10 64, /12 16, /15 2, /16 and longer
		// one: 192.0.0/24 and 192.0.2/24 share 192.0, 203.0.113/24 is
		// 203.0; 169.254, 192.88, 192.168, 198.51 one each.
		{16, 3*256 + 64 + 16 + 1 + 1 + 1 + 1 + 2 + 1 + 1 + 32*256},
	}
	for _, tt := range tests {
		sp := Space{Bits: tt.bits}
		rs, err := sp.ParseRanges([]string{"special"})
		if err != nil {
			t.Fatalf("bits %d: %v", tt.bits, err)
		}
		if got := rs.Size(); got != tt.want {
			t.Errorf("bits %d: special covers %d addresses, want %d", tt.bits, got, tt.want)
		}
		if got := rs.Size() + rs.Complement().Size(); got != sp.Size() {
			t.Errorf("bits %d: set plus complement = %d addresses, want %d", tt.bits, got, sp.Size())
		}
	}
}

func TestRangesContains32(t *testing.T) {
	t.Parallel()
	sp := Space{Bits: 32}
	rs, err := sp.ParseRanges([]string{"special"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr string
		want bool
	}{
		{"0.0.0.0", true},
		{"0.255.255.255", true},
		{"1.0.0.0", false},
		{"9.255.255.255", false},
		{"10.0.0.0", true},
		{"100.63.255.255", false},
		{"100.64.0.0", true},
		{"100.127.255.255", true},
		{"100.128.0.0", false},
		{"172.15.255.255", false},
		{"172.31.255.255", true},
		{"172.32.0.0", false},
		{"192.0.1.0", false},
		{"192.0.2.200", true},
		{"198.17.255.255", false},
		{"198.19.255.255", true},
		{"223.255.255.255", false},
		{"224.0.0.0", true},
		{"255.255.255.254", true},
		{"255.255.255.255", true},
	}
	for _, tt := range tests {
		a, err := sp.ParseAddr(tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := rs.Contains(a); got != tt.want {
			t.Errorf("Contains(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}

func TestRangesTopEdge(t *testing.T) {
	t.Parallel()
	sp := Space{Bits: 32}
	rs, err := sp.ParseRanges([]string{"255.255.255.255/32"})
	if err != nil {
		t.Fatal(err)
	}
	list := rs.List()
	if len(list) != 1 || list[0] != (Range{Lo: 1<<32 - 1, Hi: 1 << 32}) {
		t.Fatalf("List = %v, want [{4294967295 4294967296}]", list)
	}
	if !rs.Contains(0xFFFFFFFF) || rs.Contains(0xFFFFFFFE) || rs.Contains(0) {
		t.Errorf("Contains wrong at the top edge")
	}
	if rs.Size() != 1 {
		t.Errorf("Size = %d, want 1", rs.Size())
	}
	if got := rs.Overlap(Range{Lo: 0, Hi: 1 << 32}); got != 1 {
		t.Errorf("Overlap(whole space) = %d, want 1", got)
	}
	c := rs.Complement().List()
	if len(c) != 1 || c[0] != (Range{Lo: 0, Hi: 1<<32 - 1}) {
		t.Errorf("Complement = %v, want [{0 4294967295}]", c)
	}
	all, err := sp.ParseRanges([]string{"0.0.0.0/0"})
	if err != nil {
		t.Fatal(err)
	}
	if all.Size() != 1<<32 || !all.Contains(0xFFFFFFFF) || all.Complement().Size() != 0 {
		t.Errorf("0.0.0.0/0: Size %d, Complement %d", all.Size(), all.Complement().Size())
	}
}

func TestParseRangesScaled(t *testing.T) {
	t.Parallel()
	tests := []struct {
		bits int
		in   []string
		want []Range
	}{
		{16, []string{"10.0.0.0/8"}, []Range{{10 * 256, 11 * 256}}},
		{16, []string{"192.168.0.0/16", "192.168.7.0/24"}, []Range{{192*256 + 168, 192*256 + 169}}},
		// Adjacent prefixes merge.
		{16, []string{"11.0.0.0/8", "10.0.0.0/8"}, []Range{{10 * 256, 12 * 256}}},
		{20, []string{"10.0.0.0/8"}, []Range{{10 << 12, 11 << 12}}},
		{20, []string{"10.16.0.0/12", "10.0.0.0/12"}, []Range{{10 << 12, 10<<12 + 512}}},
		// A /24 is one address of a 20-bit space: 192.0.2/24 is 192.0.0.
		{20, []string{"192.0.2.0/24"}, []Range{{192 << 12, 192<<12 + 1}}},
		{32, []string{"192.0.2.7"}, []Range{{0xC0000207, 0xC0000208}}},
		{32, []string{" Special ", "0.0.0.0/8"}, nil}, // checked by size below
	}
	for _, tt := range tests {
		sp := Space{Bits: tt.bits}
		rs, err := sp.ParseRanges(tt.in)
		if err != nil {
			t.Errorf("bits %d %v: %v", tt.bits, tt.in, err)
			continue
		}
		if tt.want == nil {
			if rs.Len() == 0 {
				t.Errorf("bits %d %v: empty set", tt.bits, tt.in)
			}
			continue
		}
		got := rs.List()
		if len(got) != len(tt.want) {
			t.Errorf("bits %d %v: %v, want %v", tt.bits, tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("bits %d %v: %v, want %v", tt.bits, tt.in, got, tt.want)
				break
			}
		}
	}
}

func TestParseRangesErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   []string
		want []string
	}{
		{[]string{"special", "10.0.0.0/33", "x"}, []string{"entry 2 of 3", `"10.0.0.0/33"`, `"special"`}},
		{[]string{"10.0.0.1/8"}, []string{"entry 1 of 1", "did you mean 10.0.0.0/8"}},
		{[]string{"specials"}, []string{"entry 1 of 1", `"specials"`}},
		{[]string{"::1/128"}, []string{"entry 1 of 1", "not an IPv4 prefix"}},
		{[]string{""}, []string{"entry 1 of 1"}},
	}
	for _, tt := range tests {
		_, err := Space{Bits: 32}.ParseRanges(tt.in)
		if err == nil {
			t.Errorf("%q: no error", tt.in)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error %q does not contain %q", tt.in, err, w)
			}
		}
	}
}

// TestRangesAgainstBitmap checks every operation against a plain bitmap of
// a 16-bit space, on random sets.
func TestRangesAgainstBitmap(t *testing.T) {
	t.Parallel()
	sp := Space{Bits: 16}
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		var in []Range
		bitmap := make([]bool, sp.Size())
		for range rng.IntN(12) {
			lo := rng.Uint64N(sp.Size())
			hi := lo + rng.Uint64N(min(3000, sp.Size()-lo)+1)
			in = append(in, Range{Lo: lo, Hi: hi})
			for a := lo; a < hi; a++ {
				bitmap[a] = true
			}
		}
		rs := sp.MakeRanges(in...)
		var size uint64
		for a, b := range bitmap {
			if b {
				size++
			}
			if rs.Contains(uint32(a)) != b {
				t.Fatalf("trial %d: Contains(%d) = %v, bitmap %v", trial, a, !b, b)
			}
		}
		if rs.Size() != size {
			t.Fatalf("trial %d: Size = %d, bitmap %d", trial, rs.Size(), size)
		}
		list := rs.List()
		for i := 1; i < len(list); i++ {
			if list[i].Lo <= list[i-1].Hi {
				t.Fatalf("trial %d: ranges %v and %v not disjoint and apart", trial, list[i-1], list[i])
			}
		}
		for range 20 {
			lo := rng.Uint64N(sp.Size())
			r := Range{Lo: lo, Hi: lo + rng.Uint64N(sp.Size()-lo+1)}
			var ov uint64
			for a := r.Lo; a < r.Hi; a++ {
				if bitmap[a] {
					ov++
				}
			}
			if got := rs.Overlap(r); got != ov {
				t.Fatalf("trial %d: Overlap(%v) = %d, bitmap %d", trial, r, got, ov)
			}
			var gapN uint64
			at := r.Lo
			for _, g := range rs.Gaps(r) {
				if g.Lo < at || g.Hi > r.Hi || g.Len() == 0 {
					t.Fatalf("trial %d: Gaps(%v) has %v out of order or range", trial, r, g)
				}
				for a := g.Lo; a < g.Hi; a++ {
					if bitmap[a] {
						t.Fatalf("trial %d: Gaps(%v) holds %d, which is in the set", trial, r, a)
					}
				}
				gapN += g.Len()
				at = g.Hi
			}
			if gapN != r.Len()-ov {
				t.Fatalf("trial %d: Gaps(%v) cover %d, want %d", trial, r, gapN, r.Len()-ov)
			}
		}
	}
}

func TestRangesZeroValue(t *testing.T) {
	t.Parallel()
	var rs Ranges
	if rs.Contains(0) || rs.Size() != 0 || rs.Overlap(Range{0, 1 << 32}) != 0 || rs.Len() != 0 {
		t.Error("zero Ranges is not empty")
	}
	if g := rs.Gaps(Range{Lo: 5, Hi: 9}); len(g) != 1 || g[0] != (Range{Lo: 5, Hi: 9}) {
		t.Errorf("zero Ranges Gaps = %v, want [{5 9}]", g)
	}
	if got := (Space{Bits: 16}).MakeRanges().Complement().Size(); got != 1<<16 {
		t.Errorf("complement of an empty 16-bit set has %d addresses, want 65536", got)
	}
	// Ranges past the end of the space are clipped.
	if got := (Space{Bits: 16}).MakeRanges(Range{Lo: 65000, Hi: 70000}).Size(); got != 536 {
		t.Errorf("clipped size = %d, want 536", got)
	}
}

func TestFormatRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		bits int
		r    Range
		want string
	}{
		{32, Range{10 << 24, 11 << 24}, "10.0.0.0/8"},
		{32, Range{1<<32 - 1, 1 << 32}, "255.255.255.255/32"},
		{32, Range{0, 1 << 32}, "0.0.0.0/0"},
		{32, Range{10 << 24, 12 << 24}, "10.0.0.0/7"}, // 10 is even, so 10/7 is 10/8 and 11/8
		{32, Range{11 << 24, 13 << 24}, "11.0.0.0-12.255.255.255"},
		{32, Range{5, 8}, "0.0.0.5-0.0.0.7"},
		{16, Range{10 * 256, 11 * 256}, "10.0.0.0/8"},
		{16, Range{192*256 + 168, 192*256 + 169}, "192.168.0.0/16"},
		{16, Range{1, 4}, "0.1.0.0-0.3.255.255"},
		{20, Range{1, 2}, "0.0.16.0/20"},
	}
	for _, tt := range tests {
		if got := (Space{Bits: tt.bits}).FormatRange(tt.r); got != tt.want {
			t.Errorf("bits %d %v: %q, want %q", tt.bits, tt.r, got, tt.want)
		}
	}
}
