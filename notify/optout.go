package notify

import (
	"bufio"
	"errors"
	"io"
	"net/netip"
	"slices"
	"strings"
)

// MaxOptOutLine bounds a line of an opt-out list, in bytes.
const MaxOptOutLine = 4096

// OptOut is the opt-out list: owners, contacts and prefixes that are
// never told. The zero value (and nil) lets every notice through.
type OptOut struct {
	owners   map[string]bool
	contacts map[string]bool
	prefixes []netip.Prefix
	spans    [2][]span // the prefixes as disjoint spans, by family
}

// ParseOptOut reads an opt-out list: one entry a line, a kind and a value,
//
//	prefix 192.0.2.0/24        addresses in it are left out of every notice
//	owner Example Networks     the owner's notice is not written or sent
//	contact abuse@example.net  no notice to this address
//
// Lines starting with # are comments. An owner is named by its Key: the
// owner table's name, or REGISTRY:OPAQUE-ID for a delegation file's
// holder. name is the file's name in errors.
func ParseOptOut(r io.Reader, name string) (*OptOut, error) {
	o := &OptOut{owners: map[string]bool{}, contacts: map[string]bool{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxOptOutLine)
	var prefixes []Assignment
	ln := 0
	for sc.Scan() {
		ln++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		kind, value, _ := strings.Cut(text, " ")
		value = strings.TrimSpace(value)
		switch kind {
		case "prefix":
			p, err := ParsePrefix(value)
			if err != nil {
				return nil, inputErr(name, ln, "prefix", "%v", err)
			}
			o.prefixes = append(o.prefixes, p)
			prefixes = append(prefixes, Assignment{First: p.Addr(), Last: lastOf(p), File: name, Line: ln})
		case "owner":
			if err := checkName(value); err != nil {
				return nil, inputErr(name, ln, "owner", "%v", err)
			}
			o.owners[value] = true
		case "contact":
			c, err := ParseContact(value)
			if err == nil && c == "" {
				err = errors.New("empty: want an e-mail address")
			}
			if err != nil {
				return nil, inputErr(name, ln, "contact", "%v", err)
			}
			o.contacts[strings.ToLower(c)] = true
		default:
			return nil, inputErr(name, ln, "kind", "%q: a line is \"prefix P\", \"owner NAME\" or \"contact ADDRESS\"", kind)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, inputErr(name, ln+1, "", "a line longer than %d bytes", MaxOptOutLine)
		}
		return nil, inputErr(name, 0, "", "%v", err)
	}
	return o, o.index(prefixes)
}

// index builds the spans of the prefixes (which may repeat or nest: any
// of them leaves an address out).
func (o *OptOut) index(ps []Assignment) error {
	for fam := range 2 {
		var spans []span
		for _, p := range ofFamily(ps, fam) {
			spans = append(spans, span{lo: keyOf(p.First), hi: keyOf(p.Last)})
		}
		o.spans[fam] = mergeSpans(spans)
	}
	return nil
}

// mergeSpans sorts spans and merges those that overlap or touch.
func mergeSpans(spans []span) []span {
	slices.SortFunc(spans, func(a, b span) int { return a.lo.cmp(b.lo) })
	var out []span
	for _, s := range spans {
		if n := len(out); n > 0 {
			if next, ok := out[n-1].hi.next(); !ok || s.lo.cmp(next) <= 0 {
				if s.hi.cmp(out[n-1].hi) > 0 {
					out[n-1].hi = s.hi
				}
				continue
			}
		}
		out = append(out, s)
	}
	return out
}

// Owner reports whether an owner (by Key) or its contact opted out.
func (o *OptOut) Owner(ow *Owner) bool {
	if o == nil {
		return false
	}
	return o.owners[ow.Key] || (ow.Contact != "" && o.contacts[strings.ToLower(ow.Contact)])
}

// Addr reports whether an address lies in an opted-out prefix.
func (o *OptOut) Addr(a netip.Addr) bool {
	if o == nil {
		return false
	}
	spans, k := o.spans[family(a)], keyOf(a)
	lo, hi := 0, len(spans)
	for lo < hi {
		m := (lo + hi) / 2
		switch {
		case spans[m].hi.cmp(k) < 0:
			lo = m + 1
		case spans[m].lo.cmp(k) > 0:
			hi = m
		default:
			return true
		}
	}
	return false
}

// Len returns the number of entries: owners, contacts and prefixes.
func (o *OptOut) Len() int {
	if o == nil {
		return 0
	}
	return len(o.owners) + len(o.contacts) + len(o.prefixes)
}
