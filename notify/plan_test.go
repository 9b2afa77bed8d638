package notify

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"
)

// at is a time on 4 August 2001, Code Red II's first day.
func at(hhmm string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", "2001-08-04 "+hhmm)
	if err != nil {
		panic(err)
	}
	return t
}

// testSources are sources over the test owner table and delegation file:
// owned by the table (longest prefix), by the delegation file, by no one,
// opted out by prefix, by owner and by contact, and one address reported
// by two sensors.
func testSources() []Source {
	src := func(a, first, last string, n int64, fams ...string) Source {
		return Source{Addr: netip.MustParseAddr(a), FirstSeen: at(first), LastSeen: at(last), Count: n, Families: fams, Reporters: []string{"sensor-a"}}
	}
	out := []Source{
		src("192.0.2.10", "14:02", "14:30", 3, "codered2", "ida-idq"),
		src("192.0.2.11", "15:00", "15:00", 1, "codered1", "ida-idq"),
		src("192.0.2.70", "15:00", "15:05", 2, "codered2"), // opted out: 192.0.2.64/26
		src("192.0.2.130", "16:00", "16:01", 16, "nimda", "root-exe", "cmd-exe"),
		src("192.0.2.201", "09:00", "21:00", 40, "codered2"),
		src("198.51.100.7", "10:00", "10:00", 1, "codered2"),
		src("198.51.100.9", "10:00", "10:00", 1, "codered2"),      // opted out: owner Documentation Two
		src("2001:db8:1::9", "11:00", "11:00", 1, "codered2"),     // opted out: contact abuse@v6.example
		src("2001:db8:5::1", "12:00", "12:30", 2, "slapper"),      // Example Networks, a family the guide does not know
		src("203.0.113.5", "13:00", "13:00", 1, "codered2"),       // org-alpha: no contact
		src("203.0.113.100", "13:00", "13:00", 1, "codered2"),     // opted out: 203.0.113.100
		src("203.0.113.200", "13:00", "13:10", 5, "codered2"),     // org-beta: no contact
		src("100.64.0.1", "13:00", "13:10", 5, "codered1"),        // Shared Space: no contact
		src("192.0.3.1", "13:00", "13:10", 5, "codered2"),         // no owner
		src("::ffff:192.0.2.10", "08:00", "14:10", 2, "codered2"), // the same address from another sensor
	}
	out[len(out)-1].Reporters = []string{"member-b"}
	return out
}

func testOptOut(t testing.TB) *OptOut {
	t.Helper()
	f, err := os.Open("testdata/optout.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	o, err := ParseOptOut(f, "optout.txt")
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestPlan(t *testing.T) {
	notices, left := Plan(testSources(), testOwners(t), PlanOptions{OptOut: testOptOut(t)})
	want := map[string][]string{
		"Example Hosting":    {"192.0.2.130", "192.0.2.201"},
		"Example Networks":   {"192.0.2.10", "192.0.2.11", "2001:db8:5::1"},
		"Shared Space, Inc.": {"100.64.0.1"},
		"Single Host Ltd":    {"198.51.100.7"},
		"ripencc:org-alpha":  {"203.0.113.5"},
		"ripencc:org-beta":   {"203.0.113.200"},
	}
	var keys []string
	for _, n := range notices {
		keys = append(keys, n.Owner.Key)
		var got []string
		for _, s := range n.Sources {
			got = append(got, s.Addr.String())
		}
		if !slices.Equal(got, want[n.Owner.Key]) {
			t.Errorf("%s: addresses %v, want %v", n.Owner.Key, got, want[n.Owner.Key])
		}
	}
	if !slices.Equal(keys, []string{"Example Hosting", "Example Networks", "Shared Space, Inc.", "Single Host Ltd", "ripencc:org-alpha", "ripencc:org-beta"}) {
		t.Errorf("notices of %v", keys)
	}
	if left != (Left{Unowned: 1, OptedOut: 2, OptedOutOwners: 2, OptedOutAddrs: 2}) {
		t.Errorf("left %+v", left)
	}
	// The address two sensors reported is one source: counts added, times
	// spanned, families and reporters joined.
	en := notices[1]
	s := en.Sources[0]
	if s.Count != 5 || !s.FirstSeen.Equal(at("08:00")) || !s.LastSeen.Equal(at("14:30")) ||
		!slices.Equal(s.Families, []string{"codered2", "ida-idq"}) || !slices.Equal(s.Reporters, []string{"member-b", "sensor-a"}) {
		t.Errorf("merged source %+v", s)
	}
	if en.Count != 5+1+2 || !en.FirstSeen.Equal(at("08:00")) || !en.LastSeen.Equal(at("15:00")) ||
		!slices.Equal(en.Families, []string{"codered1", "codered2", "ida-idq", "slapper"}) || !slices.Equal(en.Reporters, []string{"member-b", "sensor-a"}) {
		t.Errorf("notice summary %+v", en)
	}
	if !slices.Equal(en.ASNs, []uint32{64500, 64500, 64500}) || !slices.Equal(notices[0].ASNs, []uint32{64501, 64502}) {
		t.Errorf("AS numbers %v, %v", en.ASNs, notices[0].ASNs)
	}
	// Only some families.
	notices, left = Plan(testSources(), testOwners(t), PlanOptions{Families: []string{"nimda", "slapper"}})
	if len(notices) != 2 || left.OtherFamilies != 12 || !slices.Equal(notices[0].Families, []string{"nimda"}) || !slices.Equal(notices[1].Families, []string{"slapper"}) {
		t.Errorf("families nimda, slapper: %d notices, left %+v", len(notices), left)
	}
}

// TestPlanRandom checks Plan against a plain count on random sources: every
// address is in exactly one notice, of its owner, or counted as left out.
func TestPlanRandom(t *testing.T) {
	owners := testOwners(t)
	var src []Source
	for i := range 3000 {
		a := addr4(0xc0000200 + uint32(i*7919)%1024) // 192.0.2.0 to 192.0.5.255, with repeats
		src = append(src, Source{Addr: a, FirstSeen: at("10:00"), LastSeen: at("11:00"), Count: 1, Families: []string{"codered2"}, Reporters: []string{"s"}})
	}
	distinct := map[netip.Addr]int64{}
	for _, s := range src {
		distinct[s.Addr]++
	}
	notices, left := Plan(slices.Clone(src), owners, PlanOptions{})
	seen := map[netip.Addr]bool{}
	for _, n := range notices {
		for _, s := range n.Sources {
			if seen[s.Addr] {
				t.Fatalf("%v in two notices", s.Addr)
			}
			seen[s.Addr] = true
			if i, _, ok := owners.Lookup(s.Addr); !ok || owners.Owner(i).Key != n.Owner.Key {
				t.Errorf("%v in the notice of %s", s.Addr, n.Owner.Key)
			}
			if s.Count != distinct[s.Addr] {
				t.Errorf("%v: count %d, want %d", s.Addr, s.Count, distinct[s.Addr])
			}
		}
	}
	if int64(len(seen))+left.Unowned != int64(len(distinct)) {
		t.Errorf("%d addresses in notices and %d unowned, of %d", len(seen), left.Unowned, len(distinct))
	}
}

// TestRadixSort: radixSort orders as a stable sort by key does, on keys
// that share some bytes and differ in others, with repeats.
func TestRadixSort(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 2, 3, 1000, 20000} {
		ords := make([]ord, n)
		for i := range ords {
			k := keyOf(addr4(11<<24 + r.Uint32N(1<<(8+r.IntN(17)))))
			switch r.IntN(4) {
			case 0:
				k = key{0x20010db8<<32 | r.Uint64N(4), r.Uint64()}
			case 1:
				k = key{r.Uint64(), r.Uint64N(3) << 60}
			}
			ords[i] = ord{k, uint32(i)}
		}
		want := slices.Clone(ords)
		slices.SortStableFunc(want, func(a, b ord) int { return a.k.cmp(b.k) })
		if got := radixSort(ords); !slices.Equal(got, want) {
			t.Errorf("%d keys: radixSort differs from a stable sort", n)
		}
	}
}
