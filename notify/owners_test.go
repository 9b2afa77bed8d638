package notify

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"strings"
	"testing"
)

// testOwners reads the owner table and the delegation file of testdata.
func testOwners(t testing.TB) *Owners {
	t.Helper()
	table := readTable(t, "testdata/owners.csv")
	f, err := os.Open("testdata/delegated-test-extended")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dels, err := ParseDelegations(f, "delegated-test-extended")
	if err != nil {
		t.Fatal(err)
	}
	o, err := NewOwners(table, dels)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func readTable(t testing.TB, path string) []Assignment {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	as, err := ParseTable(f, path)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func TestLookup(t *testing.T) {
	o := testOwners(t)
	for _, c := range []struct {
		addr, owner string
		asn         uint32
	}{
		{"192.0.2.1", "Example Networks", 64500},
		{"192.0.2.127", "Example Networks", 64500},
		{"192.0.2.128", "Example Hosting", 64501},
		{"192.0.2.199", "Example Hosting", 64501},
		{"192.0.2.200", "Example Hosting", 64502}, // the /29 inside the /25
		{"192.0.2.207", "Example Hosting", 64502},
		{"192.0.2.208", "Example Hosting", 64501}, // back in the /25
		{"::ffff:192.0.2.1", "Example Networks", 64500},
		{"198.51.100.6", "Documentation Two", 0},
		{"198.51.100.7", "Single Host Ltd", 0},
		{"198.51.100.8", "Documentation Two", 0},
		{"2001:db8::1", "Example Networks", 64500},
		{"2001:db8:1::5", "IPv6 Subnet Co", 0},
		{"2001:db8:2::1", "Example Networks", 64500},
		{"100.127.255.255", "Shared Space, Inc.", 0},
		// From the delegation file: ranges that are not CIDR blocks.
		{"203.0.113.0", "RIPE NCC holder org-alpha (NL)", 0},
		{"203.0.113.95", "RIPE NCC holder org-alpha (NL)", 0},
		{"203.0.113.96", "RIPE NCC holder org-beta (DE)", 0},
		{"203.0.113.255", "RIPE NCC holder org-beta (DE)", 0},
		{"198.19.255.255", "RIPE NCC holder org-alpha (NL)", 0},
		{"2001:db9:ffff::1", "RIPE NCC holder org-gamma (FR)", 0},
		// Nobody: available, reserved, outside every range.
		{"198.20.0.1", "", 0},
		{"198.20.1.1", "", 0},
		{"192.0.3.0", "", 0},
		{"2001:dba::1", "", 0},
		{"::1", "", 0},
	} {
		i, asn, ok := o.Lookup(netip.MustParseAddr(c.addr))
		got := ""
		if ok {
			got = o.Owner(i).Name
		}
		if got != c.owner || asn != c.asn {
			t.Errorf("%s: owner %q AS%d, want %q AS%d", c.addr, got, asn, c.owner, c.asn)
		}
	}
	if o.Len() != 9 {
		t.Errorf("%d owners, want 9 (6 of the table, org-alpha, org-beta and org-gamma)", o.Len())
	}
	i, _, _ := o.Lookup(netip.MustParseAddr("203.0.113.1"))
	if ow := o.Owner(i); ow.Key != "ripencc:org-alpha" || ow.Country != "NL" || ow.Contact != "" {
		t.Errorf("delegation owner %+v", ow)
	}
}

// TestLookupRandom compares Lookup with a search of every prefix on random
// nested tables (the longest prefix holding the address wins) and random
// addresses, near the prefixes' edges more often than not.
func TestLookupRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var table []Assignment
		seen := map[netip.Prefix]bool{}
		var prefixes []netip.Prefix
		for len(prefixes) < 1+r.IntN(40) {
			bits := 8 + r.IntN(25)
			base := uint32(0x0a000000) | r.Uint32()&0x00ffffff // inside 10/8 so that prefixes nest often
			p := netip.PrefixFrom(addr4(base), bits).Masked()
			if seen[p] {
				continue
			}
			seen[p] = true
			prefixes = append(prefixes, p)
			table = append(table, Assignment{First: p.Addr(), Last: lastOf(p), Owner: Owner{Key: p.String()}, File: "t", Line: len(table) + 1})
		}
		o, err := NewOwners(table, nil)
		if err != nil {
			t.Fatal(err)
		}
		for range 500 {
			var a netip.Addr
			if r.IntN(3) > 0 {
				p := prefixes[r.IntN(len(prefixes))]
				a = p.Addr()
				if r.IntN(2) == 0 {
					a = lastOf(p)
				}
				if r.IntN(2) == 0 {
					a = a.Next()
				} else if r.IntN(2) == 0 {
					a = a.Prev()
				}
			} else {
				a = addr4(0x0a000000 | r.Uint32()&0x00ffffff)
			}
			want := ""
			best := -1
			for _, p := range prefixes {
				if p.Contains(a) && p.Bits() > best {
					want, best = p.String(), p.Bits()
				}
			}
			got := ""
			if i, _, ok := o.Lookup(a); ok {
				got = o.Owner(i).Key
			}
			if got != want {
				t.Fatalf("round %d: %v: owner %q, want %q (prefixes %v)", round, a, got, want, prefixes)
			}
		}
	}
}

func addr4(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// TestLookupEdges: prefixes at the ends of the address spaces.
func TestLookupEdges(t *testing.T) {
	var table []Assignment
	for i, s := range []string{"0.0.0.0/0", "255.255.255.255/32", "0.0.0.0/32", "::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "8000::/1"} {
		p := netip.MustParsePrefix(s)
		table = append(table, Assignment{First: p.Addr(), Last: lastOf(p), Owner: Owner{Key: s}, File: "t", Line: i + 1})
	}
	o, err := NewOwners(table, nil)
	if err != nil {
		t.Fatal(err)
	}
	for a, want := range map[string]string{
		"0.0.0.0": "0.0.0.0/32", "0.0.0.1": "0.0.0.0/0", "255.255.255.254": "0.0.0.0/0", "255.255.255.255": "255.255.255.255/32",
		"::": "::/0", "::ffff:0:1": "0.0.0.0/0", "7fff::": "::/0", "8000::": "8000::/1",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe": "8000::/1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff": "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
	} {
		i, _, ok := o.Lookup(netip.MustParseAddr(a))
		if !ok || o.Owner(i).Key != want {
			t.Errorf("%s: %v %q, want %q", a, ok, o.Owner(i).Key, want)
		}
	}
}

// checkInputError fails unless err is an *InputError saying file:line:
// field name and holding want.
func checkInputError(t *testing.T, err error, file string, line int, field, want string) {
	t.Helper()
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v (%T), want an *InputError", err, err)
	}
	if ie.File != file || ie.Line != line || ie.Field != field || !strings.Contains(ie.Error(), want) {
		t.Errorf("error %q (file %q line %d field %q), want %s:%d field %q with %q", ie, ie.File, ie.Line, ie.Field, file, line, field, want)
	}
	if strings.Count(ie.Error(), "\n") > 0 {
		t.Errorf("error %q spans several lines", ie)
	}
}

func TestTableErrors(t *testing.T) {
	const head = "prefix,owner,contact,asn\n"
	for _, c := range []struct {
		text, field, want string
		line              int
	}{
		{"", "", "empty", 0},
		{"prefix,owner\n", "contact", `no column "contact"`, 1},
		{"prefix,owner,contact,color\n", "header", `unknown column "color"`, 1},
		{"prefix,owner,contact,owner\n", "owner", "named twice", 1},
		{head + "192.0.2.0/24,A,a@example.net,1\n192.0.2.0/33,B,b@example.net,\n", "prefix", "192.0.2.0/33", 3},
		{head + "# a comment\n192.0.2.1/24,A,a@example.net,\n", "prefix", "the prefix is 192.0.2.0/24", 3},
		{head + "::ffff:192.0.2.0/120,A,a@example.net,\n", "prefix", "write it as IPv4", 2},
		{head + "fe80::1%eth0,A,a@example.net,\n", "prefix", "zone", 2},
		{head + ",A,a@example.net,\n", "prefix", "empty", 2},
		{head + "192.0.2.0/24,,a@example.net,\n", "owner", "empty", 2},
		{head + "192.0.2.0/24,A\x01B,a@example.net,\n", "owner", "control character", 2},
		{head + "192.0.2.0/24,A,not-an-address,\n", "contact", "not an e-mail address", 2},
		{head + "192.0.2.0/24,A,Abuse <a@example.net>,\n", "contact", "not an e-mail address", 2},
		{head + "192.0.2.0/24,A,a@example.net,ASX\n", "asn", "not an AS number", 2},
		{head + "192.0.2.0/24,A,a@example.net,4294967295\n", "asn", "not an AS number", 2},
		{head + "192.0.2.0/24,A,a@example.net\n", "", "3 fields, the header names 4", 2},
		{head + "192.0.2.0/24,A,a@example.net,1\n198.51.100.0/24,A,b@example.net,2\n", "contact", "an owner has one contact", 3},
		{head + "192.0.2.0/24,A,a@example.net,1\n\"192.0.2.0/24,B,b@example.net,2\n", "", "quote", 3},
	} {
		_, err := ParseTable(strings.NewReader(c.text), "owners.csv")
		checkInputError(t, err, "owners.csv", c.line, c.field, c.want)
	}
	// A prefix given twice is found when the lookup is built.
	as, err := ParseTable(strings.NewReader(head+"192.0.2.0/24,A,a@example.net,\n198.51.100.0/24,B,,\n192.0.2.0/24,C,,\n"), "owners.csv")
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewOwners(as, nil)
	checkInputError(t, err, "owners.csv", 4, "prefix", "192.0.2.0/24 is given twice (also on line 2)")
}

func TestDelegationErrors(t *testing.T) {
	const ver = "2|ripencc|20261202|%d|19830705|20261201|+0100\n"
	rec := func(s string) string { return fmt.Sprintf(ver, 1) + "ripencc|*|ipv4|*|1|summary\n" + s + "\n" }
	for _, c := range []struct {
		text, field, want string
		line              int
	}{
		{"", "", "no version line", 0},
		{"# only a comment\n", "", "no version line", 0},
		{"ripencc|NL|ipv4|203.0.113.0|96|20010101|allocated|x\n", "version", "the first line must be the version line", 1},
		{"3|ripencc|1|0|1|1|+0\n", "version", "version 2", 1},
		{"2|ripencc|1|many|1|1|+0\n", "records", "not a count", 1},
		{rec("ripencc|NL|ipv4|203.0.113.0|96|20010101|allocated"), "opaque-id", "extended", 3},
		{rec("ripencc|NL|ipv4|203.0.113.0|96|20010101|allocated|"), "opaque-id", "extended", 3},
		{rec("ripencc|NL|ipv4|203.0.113.0|0|20010101|allocated|x"), "value", "not a count of addresses", 3},
		{rec("ripencc|NL|ipv4|255.255.255.0|257|20010101|allocated|x"), "value", "not a count of addresses", 3},
		{rec("ripencc|NL|ipv4|203.0.113|96|20010101|allocated|x"), "start", "not an ipv4 address", 3},
		{rec("ripencc|NL|ipv4|2001:db8::|96|20010101|allocated|x"), "start", "not an ipv4 address", 3},
		{rec("ripencc|NL|ipv4|203.0.113.0|96|20010101|stolen|x"), "status", "want allocated", 3},
		{rec("ripencc|Netherlands|ipv4|203.0.113.0|96|20010101|allocated|x"), "cc", "ISO 3166", 3},
		{rec("RIPE|NL|ipv4|203.0.113.0|96|20010101|allocated|x"), "registry", "not a registry name", 3},
		{rec("ripencc|NL|ipv5|203.0.113.0|96|20010101|allocated|x"), "type", "want asn, ipv4 or ipv6", 3},
		{rec("ripencc|NL|ipv4|203.0.113.0"), "", "4 fields", 3},
		{rec("ripencc|NL|ipv4|203.0.113.0|96|20010101|allocated|has space"), "opaque-id", "not an opaque id", 3},
		{fmt.Sprintf(ver, 1) + "ripencc|*|ipv6|*|1|summary\nripencc|FR|ipv6|2001:db8::1|32|20010101|allocated|x\n", "start", "bits set past the prefix length", 3},
		{fmt.Sprintf(ver, 1) + "ripencc|*|ipv6|*|1|summary\nripencc|FR|ipv6|2001:db8::|129|20010101|allocated|x\n", "value", "not an IPv6 prefix length", 3},
		// Truncated files: the counts do not add up.
		{fmt.Sprintf(ver, 2) + "ripencc|*|ipv4|*|2|summary\nripencc|NL|ipv4|203.0.113.0|96|20010101|allocated|x\n", "count", "announces 2 ipv4 records, the file holds 1", 2},
		{fmt.Sprintf(ver, 2) + "ripencc|*|ipv4|*|1|summary\nripencc|NL|ipv4|203.0.113.0|96|20010101|allocated|x\n", "records", "announces 2 records, the file holds 1", 1},
		{fmt.Sprintf(ver, 0) + "ripencc|*|ipv4|*|1|summary\nripencc|*|ipv4|*|1|summary\n", "type", "a second summary", 3},
		{fmt.Sprintf(ver, 0) + "ripencc|*|ipv4|1|summary\n", "", "registry|*|type|*|count|summary", 2},
		{fmt.Sprintf(ver, 0) + strings.Repeat("x", MaxDelegationLine+1) + "\n", "", "longer than", 2},
	} {
		_, err := ParseDelegations(strings.NewReader(c.text), "delegated-x")
		checkInputError(t, err, "delegated-x", c.line, c.field, c.want)
	}
	// Overlapping records, in one file or across two.
	text := fmt.Sprintf(ver, 2) + "ripencc|NL|ipv4|203.0.113.0|96|20010101|allocated|a\nripencc|NL|ipv4|203.0.113.64|64|20010101|allocated|b\n"
	as, err := ParseDelegations(strings.NewReader(text), "delegated-x")
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewOwners(nil, as)
	checkInputError(t, err, "delegated-x", 3, "start", "203.0.113.64 to 203.0.113.127 overlaps 203.0.113.0 to 203.0.113.95 of delegated-x:2")
}

func TestOptOut(t *testing.T) {
	f, err := os.Open("testdata/optout.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	o, err := ParseOptOut(f, "optout.txt")
	if err != nil {
		t.Fatal(err)
	}
	if o.Len() != 4 {
		t.Errorf("%d entries, want 4", o.Len())
	}
	for a, want := range map[string]bool{"192.0.2.63": false, "192.0.2.64": true, "192.0.2.127": true, "192.0.2.128": false,
		"203.0.113.100": true, "203.0.113.101": false, "2001:db8::1": false} {
		if got := o.Addr(netip.MustParseAddr(a)); got != want {
			t.Errorf("Addr(%s) = %v, want %v", a, got, want)
		}
	}
	for _, c := range []struct {
		ow   Owner
		want bool
	}{
		{Owner{Key: "Documentation Two", Contact: "noc@two.example"}, true},
		{Owner{Key: "IPv6 Subnet Co", Contact: "abuse@V6.example"}, true}, // contacts compare without case
		{Owner{Key: "Example Networks", Contact: "abuse@example.net"}, false},
		{Owner{Key: "documentation two"}, false}, // owners are named exactly
	} {
		if got := o.Owner(&c.ow); got != c.want {
			t.Errorf("Owner(%+v) = %v, want %v", c.ow, got, c.want)
		}
	}
	var none *OptOut
	if none.Addr(netip.MustParseAddr("192.0.2.64")) || none.Owner(&Owner{Key: "x"}) || none.Len() != 0 {
		t.Error("a nil list opts out something")
	}
	for _, c := range []struct{ text, field, want string }{
		{"owners Example\n", "kind", `"owners"`},
		{"prefix 192.0.2.0/33\n", "prefix", "192.0.2.0/33"},
		{"prefix\n", "prefix", "empty"},
		{"owner \n", "owner", "empty"},
		{"contact\n", "contact", "empty"},
		{"contact someone\n", "contact", "not an e-mail address"},
	} {
		_, err := ParseOptOut(strings.NewReader("# list\n\n"+c.text), "optout.txt")
		checkInputError(t, err, "optout.txt", 3, c.field, c.want)
	}
}
