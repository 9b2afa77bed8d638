package notify

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// MaxDelegationLine bounds a line of a delegation file, in bytes.
const MaxDelegationLine = 4096

// registryNames are the names for people of the registries whose
// delegation files are read; another registry is named in upper case.
var registryNames = map[string]string{"afrinic": "AFRINIC", "apnic": "APNIC", "arin": "ARIN", "iana": "IANA", "lacnic": "LACNIC", "ripencc": "RIPE NCC"}

// delegation is what ParseDelegations keeps of a file while reading it.
type delegation struct {
	name     string
	version  int            // the version line's line, 0 before it
	records  int64          // the records the version line announces
	summary  map[string]int // type -> the line of its summary
	declared map[string]int64
	counted  map[string]int64
	total    int64
}

// ParseDelegations reads a delegation file of a regional Internet
// registry in the RIR statistics exchange format, extended
// (delegated-REGISTRY-extended-latest): a version line, summary lines,
// then one record a line,
//
//	registry|cc|type|start|value|date|status|opaque-id[|extensions...]
//
// It returns the IPv4 and IPv6 records allocated or assigned (available
// and reserved space has no holder), the holder being the opaque id:
// IPv4 ranges are a start and a count of addresses (not always a CIDR
// block), IPv6 ones a start and a prefix length. The counts of the summary
// and version lines are checked against the records, so that a truncated
// download is refused. name is the file's name in errors.
func ParseDelegations(r io.Reader, name string) ([]Assignment, error) {
	d := &delegation{name: name, summary: map[string]int{}, declared: map[string]int64{}, counted: map[string]int64{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxDelegationLine)
	var out []Assignment
	ln := 0
	for sc.Scan() {
		ln++
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		a, ok, err := d.line(strings.Split(text, "|"), ln)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, a)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, inputErr(name, ln+1, "", "a line longer than %d bytes: not a delegation file", MaxDelegationLine)
		}
		return nil, inputErr(name, 0, "", "%v", err)
	}
	return out, d.check()
}

// line reads one line that is not a comment.
func (d *delegation) line(f []string, ln int) (Assignment, bool, error) {
	if d.version == 0 {
		return Assignment{}, false, d.versionLine(f, ln)
	}
	if f[len(f)-1] == "summary" {
		return Assignment{}, false, d.summaryLine(f, ln)
	}
	return d.record(f, ln)
}

// versionLine reads version|registry|serial|records|startdate|enddate|UTCoffset.
func (d *delegation) versionLine(f []string, ln int) error {
	if len(f) != 7 {
		return inputErr(d.name, ln, "version", "%d fields: the first line must be the version line, version|registry|serial|records|startdate|enddate|UTCoffset", len(f))
	}
	if v, err := strconv.ParseFloat(f[0], 64); err != nil || v < 2 || v >= 3 {
		return inputErr(d.name, ln, "version", "%q: this reader knows version 2 of the format", f[0])
	}
	n, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil || n < 0 {
		return inputErr(d.name, ln, "records", "%q is not a count", f[3])
	}
	d.version, d.records = ln, n
	return nil
}

// summaryLine reads registry|*|type|*|count|summary.
func (d *delegation) summaryLine(f []string, ln int) error {
	if len(f) != 6 || f[1] != "*" || f[3] != "*" {
		return inputErr(d.name, ln, "", "a summary line is registry|*|type|*|count|summary")
	}
	if _, ok := d.summary[f[2]]; ok {
		return inputErr(d.name, ln, "type", "a second summary of %q (the first is on line %d)", f[2], d.summary[f[2]])
	}
	n, err := strconv.ParseInt(f[4], 10, 64)
	if err != nil || n < 0 {
		return inputErr(d.name, ln, "count", "%q is not a count", f[4])
	}
	d.summary[f[2]], d.declared[f[2]] = ln, n
	return nil
}

// check compares the records read with the counts the file announces.
func (d *delegation) check() error {
	if d.version == 0 {
		return inputErr(d.name, 0, "", "no version line: not a delegation file in the RIR statistics exchange format")
	}
	for typ, n := range d.declared {
		if d.counted[typ] != n {
			return inputErr(d.name, d.summary[typ], "count", "the summary announces %d %s records, the file holds %d (a truncated file?)", n, typ, d.counted[typ])
		}
	}
	if d.total != d.records {
		return inputErr(d.name, d.version, "records", "the version line announces %d records, the file holds %d (a truncated file?)", d.records, d.total)
	}
	return nil
}

// record reads registry|cc|type|start|value|date|status|opaque-id[|...].
func (d *delegation) record(f []string, ln int) (Assignment, bool, error) {
	a := Assignment{File: d.name, Line: ln}
	if len(f) < 7 {
		return a, false, inputErr(d.name, ln, "", "%d fields: a record is registry|cc|type|start|value|date|status|opaque-id", len(f))
	}
	d.total++
	typ := f[2]
	d.counted[typ]++
	if err := checkToken(f[0]); err != nil {
		return a, false, inputErr(d.name, ln, "registry", "%v", err)
	}
	status := f[6]
	switch status {
	case "allocated", "assigned", "available", "reserved":
	default:
		return a, false, inputErr(d.name, ln, "status", "%q: want allocated, assigned, available or reserved", status)
	}
	if typ == "asn" {
		return a, false, nil
	}
	if typ != "ipv4" && typ != "ipv6" {
		return a, false, inputErr(d.name, ln, "type", "%q: want asn, ipv4 or ipv6", typ)
	}
	var err error
	if a.First, a.Last, err = recordRange(typ, f[3], f[4]); err != nil {
		field := "start"
		if errors.Is(err, errValue) {
			field = "value"
		}
		return a, false, inputErr(d.name, ln, field, "%v", err)
	}
	if status == "available" || status == "reserved" {
		return a, false, nil
	}
	return d.holder(a, f, ln)
}

// holder sets the owner of an allocated or assigned record.
func (d *delegation) holder(a Assignment, f []string, ln int) (Assignment, bool, error) {
	cc := f[1]
	if len(cc) != 2 || strings.ToUpper(cc) != cc || strings.IndexFunc(cc, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		return a, false, inputErr(d.name, ln, "cc", "%q is not an ISO 3166 country code (two capital letters)", cc)
	}
	if len(f) < 8 || f[7] == "" {
		return a, false, inputErr(d.name, ln, "opaque-id", "missing: an allocated or assigned record of the extended format names its holder (delegated-REGISTRY-extended)")
	}
	if err := checkOpaque(f[7]); err != nil {
		return a, false, inputErr(d.name, ln, "opaque-id", "%v", err)
	}
	reg := registryNames[f[0]]
	if reg == "" {
		reg = strings.ToUpper(f[0])
	}
	a.Owner = Owner{Key: f[0] + ":" + f[7], Name: fmt.Sprintf("%s holder %s (%s)", reg, f[7], cc), Country: cc}
	return a, true, nil
}

// errValue marks a bad value field (count or prefix length).
var errValue = errors.New("value")

// recordRange reads a record's start and value: a count of addresses for
// IPv4, a prefix length for IPv6.
func recordRange(typ, start, value string) (first, last netip.Addr, err error) {
	a, perr := netip.ParseAddr(start)
	if perr != nil || a.Zone() != "" || (typ == "ipv4") != a.Is4() {
		return a, a, fmt.Errorf("%q is not an %s address", start, typ)
	}
	if typ == "ipv6" {
		bits, err := strconv.Atoi(value)
		if err != nil || bits < 0 || bits > 128 {
			return a, a, fmt.Errorf("%w: %q is not an IPv6 prefix length (0 to 128)", errValue, value)
		}
		p := netip.PrefixFrom(a, bits)
		if p.Masked().Addr() != a {
			return a, a, fmt.Errorf("%s/%d has bits set past the prefix length", start, bits)
		}
		return a, lastOf(p), nil
	}
	n, err := strconv.ParseUint(value, 10, 64)
	b := a.As4()
	s := uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
	if err != nil || n == 0 || s+n-1 > 1<<32-1 {
		return a, a, fmt.Errorf("%w: %q is not a count of addresses from %s (1 to the end of the IPv4 space)", errValue, value, start)
	}
	e := s + n - 1
	return a, netip.AddrFrom4([4]byte{byte(e >> 24), byte(e >> 16), byte(e >> 8), byte(e)}), nil
}

// checkToken checks a registry name: lowercase letters and digits.
func checkToken(s string) error {
	if s == "" || len(s) > 32 || strings.IndexFunc(s, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') }) >= 0 {
		return fmt.Errorf("%q is not a registry name (afrinic, apnic, arin, lacnic, ripencc)", s)
	}
	return nil
}

// checkOpaque checks an opaque id: at most 128 printable ASCII characters.
func checkOpaque(s string) error {
	if len(s) > 128 || strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
		return fmt.Errorf("%q is not an opaque id (at most 128 printable ASCII characters, no space)", s)
	}
	return nil
}
