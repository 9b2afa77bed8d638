package notify

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
)

// Owner is who holds a network: a name for people, the key that groups
// its networks into one notice, and an abuse contact when known.
type Owner struct {
	// Key identifies the owner: the owner table's name, or
	// "REGISTRY:OPAQUE-ID" for a holder known from a delegation file (the
	// RIR's opaque id is the same for every resource of one holder).
	Key string
	// Name is the owner for people: the table's name, or "holder
	// OPAQUE-ID of REGISTRY (CC)".
	Name string
	// Contact is the abuse contact's e-mail address; "" when not known
	// (delegation files hold none): such notices are written, never sent.
	Contact string
	// Country is the ISO 3166 code a delegation file gives; "" from the
	// table.
	Country string
}

// Assignment is one range of addresses and who holds it: a prefix of the
// owner table, or a record of a delegation file.
type Assignment struct {
	First, Last netip.Addr // the range, both included; one family
	Owner       Owner
	ASN         uint32 // the table's AS number; 0 when not known
	File        string // where the assignment comes from
	Line        int
}

// span is a run of addresses with one assignment.
type span struct {
	lo, hi key
	as     int32 // index into Owners.assign
}

// Owners finds who holds an address: first the longest prefix of the
// owner table that holds it, then the delegation record that holds it.
type Owners struct {
	owners []Owner
	assign []assigned
	// layers holds disjoint spans sorted by address: the table's, then the
	// delegations', each as IPv4's (0) and IPv6's (1), so that no IPv6
	// prefix (::/0) holds an IPv4 address.
	layers [2][2][]span
	v4     [2]spans4 // the IPv4 spans of each layer again, as 32-bit numbers for a faster search
}

// spans4 are disjoint IPv4 spans, sorted: starts and ends apart, so that
// the binary search reads 4 bytes a step.
type spans4 struct {
	lo, hi []uint32
	as     []int32
}

// v4 returns an IPv4 key's address as a number.
func (k key) v4() uint32 { return uint32(k.lo) }

// assigned is an Assignment as Owners keeps it.
type assigned struct {
	owner int32
	asn   uint32
}

// NewOwners builds the lookup from the owner table's prefixes (which nest
// or are disjoint: the longest prefix holding an address wins) and the
// delegation files' ranges (which must not overlap one another: an
// *InputError names the second of two that do). An owner's Key groups its
// assignments; the first assignment of a key gives its Name, Contact and
// Country.
func NewOwners(table, delegations []Assignment) (*Owners, error) {
	o := &Owners{}
	ids := map[string]int32{}
	for fam := range 2 {
		var err error
		if o.layers[0][fam], err = o.nested(ofFamily(table, fam), ids); err != nil {
			return nil, err
		}
		if o.layers[1][fam], err = o.disjoint(ofFamily(delegations, fam), ids); err != nil {
			return nil, err
		}
	}
	for l := range o.layers {
		for _, sp := range o.layers[l][0] {
			o.v4[l].lo = append(o.v4[l].lo, sp.lo.v4())
			o.v4[l].hi = append(o.v4[l].hi, sp.hi.v4())
			o.v4[l].as = append(o.v4[l].as, sp.as)
		}
	}
	return o, nil
}

// family is 0 for an IPv4 address, 1 for IPv6.
func family(a netip.Addr) int {
	if a.Unmap().Is4() {
		return 0
	}
	return 1
}

// ofFamily returns the assignments of one family.
func ofFamily(as []Assignment, fam int) []Assignment {
	var out []Assignment
	for _, a := range as {
		if family(a.First) == fam {
			out = append(out, a)
		}
	}
	return out
}

// add records an assignment and returns its index.
func (o *Owners) add(a *Assignment, ids map[string]int32) int32 {
	id, ok := ids[a.Owner.Key]
	if !ok {
		id = int32(len(o.owners))
		ids[a.Owner.Key] = id
		o.owners = append(o.owners, a.Owner)
	}
	o.assign = append(o.assign, assigned{owner: id, asn: a.ASN})
	return int32(len(o.assign) - 1)
}

// ranged is an assignment's range as keys, with its index.
type ranged struct {
	lo, hi key
	as     int32
	src    *Assignment
}

// ranges records the assignments and returns their ranges sorted by
// first address, the wider first where two start together.
func (o *Owners) ranges(as []Assignment, ids map[string]int32) ([]ranged, error) {
	rs := make([]ranged, len(as))
	for i := range as {
		a := &as[i]
		lo, hi := keyOf(a.First), keyOf(a.Last)
		if !a.First.IsValid() || family(a.First) != family(a.Last) || hi.cmp(lo) < 0 {
			return nil, inputErr(a.File, a.Line, "", "not a range of addresses: %v to %v", a.First, a.Last)
		}
		rs[i] = ranged{lo: lo, hi: hi, as: o.add(a, ids), src: a}
	}
	slices.SortFunc(rs, func(a, b ranged) int {
		return cmp.Or(a.lo.cmp(b.lo), b.hi.cmp(a.hi), cmp.Compare(a.as, b.as))
	})
	return rs, nil
}

// disjoint returns the spans of ranges that must not overlap.
func (o *Owners) disjoint(as []Assignment, ids map[string]int32) ([]span, error) {
	rs, err := o.ranges(as, ids)
	if err != nil {
		return nil, err
	}
	out := make([]span, len(rs))
	for i, r := range rs {
		if i > 0 && r.lo.cmp(rs[i-1].hi) <= 0 {
			p := rs[i-1].src
			return nil, inputErr(r.src.File, r.src.Line, "start", "%v to %v overlaps %v to %v of %s:%d",
				r.src.First, r.src.Last, p.First, p.Last, p.File, p.Line)
		}
		out[i] = span{r.lo, r.hi, r.as}
	}
	return out, nil
}

// nested returns the disjoint spans of ranges that nest or are disjoint
// (prefixes), each address given to the narrowest range that holds it.
func (o *Owners) nested(as []Assignment, ids map[string]int32) ([]span, error) {
	rs, err := o.ranges(as, ids)
	if err != nil {
		return nil, err
	}
	var out []span
	var stack []ranged // the ranges holding cur, widest first
	var cur key        // the first address not yet given a span
	done := false      // cur is past the last address
	// emit gives [cur, upto] to the innermost open range.
	emit := func(upto key) {
		if !done && len(stack) > 0 && cur.cmp(upto) <= 0 {
			out = append(out, span{cur, upto, stack[len(stack)-1].as})
		}
	}
	// closeTo closes the open ranges that end before k.
	closeTo := func(k key, all bool) {
		for len(stack) > 0 && (all || stack[len(stack)-1].hi.cmp(k) < 0) {
			top := stack[len(stack)-1]
			emit(top.hi)
			if !done && cur.cmp(top.hi) <= 0 {
				var more bool
				cur, more = top.hi.next()
				done = !more
			}
			stack = stack[:len(stack)-1]
		}
	}
	for i, r := range rs {
		if i > 0 && r.lo == rs[i-1].lo && r.hi == rs[i-1].hi {
			p := rs[i-1].src
			return nil, inputErr(r.src.File, r.src.Line, "prefix", "%v is given twice (also on line %d)", prefixText(r.src), p.Line)
		}
		closeTo(r.lo, false)
		if len(stack) > 0 && r.lo.cmp(cur) > 0 {
			emit(r.lo.prev())
		}
		if len(stack) > 0 && r.hi.cmp(stack[len(stack)-1].hi) > 0 {
			p := stack[len(stack)-1].src
			return nil, inputErr(r.src.File, r.src.Line, "prefix", "%v overlaps %v of line %d without nesting in it", prefixText(r.src), prefixText(p), p.Line)
		}
		cur, done = r.lo, false
		stack = append(stack, r)
	}
	closeTo(key{}, true)
	return out, nil
}

// prefixText writes an assignment's range as a prefix when it is one.
func prefixText(a *Assignment) string {
	for bits := 0; bits <= a.First.BitLen(); bits++ {
		if p := netip.PrefixFrom(a.First, bits); p.Masked().Addr() == a.First {
			if lo, hi := prefixRange(p); lo == keyOf(a.First) && hi == keyOf(a.Last) {
				return p.String()
			}
		}
	}
	return fmt.Sprintf("%v-%v", a.First, a.Last)
}

// Lookup returns the owner of address a (an index for Owner) and the AS
// number its table entry gives; ok is false when no one is known to hold
// it.
func (o *Owners) Lookup(a netip.Addr) (owner int, asn uint32, ok bool) {
	if a = a.Unmap(); a.Is4() {
		b := a.As4()
		return o.lookup4(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
	}
	k, fam := keyOf(a), family(a)
	for l := range o.layers {
		spans := o.layers[l][fam]
		i, _ := slices.BinarySearchFunc(spans, k, func(s span, k key) int {
			if s.hi.cmp(k) < 0 {
				return -1
			}
			if s.lo.cmp(k) > 0 {
				return 1
			}
			return 0
		})
		if i < len(spans) && spans[i].lo.cmp(k) <= 0 && k.cmp(spans[i].hi) <= 0 {
			as := o.assign[spans[i].as]
			return int(as.owner), as.asn, true
		}
	}
	return 0, 0, false
}

// lookup4 is Lookup of an IPv4 address.
func (o *Owners) lookup4(a uint32) (owner int, asn uint32, ok bool) {
	for l := range o.v4 {
		s := &o.v4[l]
		// The first span starting after a, less one: the last starting at
		// or before it.
		lo, hi := 0, len(s.lo)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if s.lo[m] <= a {
				lo = m + 1
			} else {
				hi = m
			}
		}
		if i := lo - 1; i >= 0 && a <= s.hi[i] {
			as := o.assign[s.as[i]]
			return int(as.owner), as.asn, true
		}
	}
	return 0, 0, false
}

// Owner returns owner i (from Lookup).
func (o *Owners) Owner(i int) *Owner { return &o.owners[i] }

// Len returns the number of distinct owners.
func (o *Owners) Len() int { return len(o.owners) }
