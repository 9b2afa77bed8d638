package detect

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"regexp"
	"slices"
	"strings"

	"wormwatch/internal/param"
)

// Matcher matches records against a signature table compiled for speed:
// each rule's checks are ordered cheapest first (status, lengths, short
// fields, exact and literal tests with bytes.Index) and a regexp runs only
// on lines that passed the literals. A Matcher is not safe for concurrent
// use (it keeps per-line scratch space and a cache of recent results);
// make one per goroutine.
//
// Worm traffic repeats itself: every Code Red probe is the same request
// line. Match keeps the results of the last long requests it matched, by
// what the rules read of them (the fields some rule tests and, when a
// rule tests it, the status), and answers a request read before from
// there after comparing those bytes: the result is the one matching would
// give. Short requests are matched every time (that costs less).
type Matcher struct {
	fams  []Family // the enabled families, in table order
	rules []crule
	low   [numFields][]byte // the current record's fields in lower case, when a nocase check needed them
	lowOK [numFields]bool
	cache matchCache
}

// matchCache holds recent results of Match, direct-mapped by the hash of
// what the rules read of a record (its key).
type matchCache struct {
	seed   maphash.Seed
	fields []Field // the fields some rule tests
	status bool    // some rule tests the status
	key    []byte  // scratch: the current record's key
	ents   []cacheEntry
}

// cacheEntry is one result kept: the key's hash and bytes and the
// families matched.
type cacheEntry struct {
	hash uint64
	key  []byte
	fams []int
	used bool
}

// Sizes of the match cache: entries (a power of two), the longest key
// kept (a longer record is matched every time), and the shortest request
// asked of it (the bytes of its target, path and query): matching a
// short request (most requests of people's browsers) costs less than
// making its key, and a long one (a worm's probe: Code Red's is 330 bytes)
// several times more.
const (
	matchCacheLen    = 1024
	matchCacheMaxKey = 2048
	matchCacheMin    = 256
)

type crule struct {
	fam    int
	status []int
	checks []ccheck
}

type ccheck struct {
	field          Field
	nocase         bool
	minLen, maxLen int // maxLen < 0: no limit
	equals         map[string]struct{}
	eqByLen        [][][]byte // the equals literals by length, when all are shorter than 256 and few share a length; nil: use the map
	prefix, suffix [][]byte
	contains, any  [][]byte
	anyPrefix      []byte // the literals of any share this prefix (empty: they do not)
	re             *regexp.Regexp
}

// NewMatcher checks fams (as a signatures file is checked) and compiles the
// families that are not disabled. Their order is kept: it is the order of
// the output. Families that ParseSignatures, LoadSignatures or Builtin
// returned were checked there, key by key, and are not checked again: when
// every family is such, only the table as a whole is (names unique, at most
// MaxFamilies, one enabled at least).
func NewMatcher(fams []Family) (*Matcher, error) {
	if len(fams) > MaxFamilies {
		return nil, fmt.Errorf("the signature table has %d families; at most %d are allowed", len(fams), MaxFamilies)
	}
	doc := signatureFile{Family: fams}
	if slices.ContainsFunc(fams, func(f Family) bool { return !f.checked }) {
		if errs := param.Validate(&doc); len(errs) > 0 { // calls doc.Check too
			e := errs[0]
			return nil, &e
		}
	} else if err := doc.Check(); err != nil {
		return nil, err
	}
	m := &Matcher{}
	for _, f := range fams {
		if f.Disabled {
			continue
		}
		fi := len(m.fams)
		m.fams = append(m.fams, f)
		for _, r := range f.Match {
			cr := crule{fam: fi, status: slices.Clone(r.Status)}
			for _, fc := range r.conds() {
				if fc.Cond.empty() {
					continue
				}
				cc, err := compileCond(fc)
				if err != nil {
					return nil, err
				}
				cr.checks = append(cr.checks, cc)
			}
			// Cheapest first: short fields, then tests without a regexp.
			slices.SortStableFunc(cr.checks, func(a, b ccheck) int { return cost(a) - cost(b) })
			m.rules = append(m.rules, cr)
		}
	}
	if len(m.fams) == 0 {
		return nil, errors.New("every signature family is disabled: nothing to look for")
	}
	m.cache = newMatchCache(m.rules)
	return m, nil
}

// newMatchCache returns an empty cache for the rules: its keys hold the
// fields they test and, if one tests it, the status.
func newMatchCache(rules []crule) matchCache {
	c := matchCache{seed: maphash.MakeSeed(), ents: make([]cacheEntry, matchCacheLen)}
	var used [numFields]bool
	for _, r := range rules {
		c.status = c.status || len(r.status) > 0
		for _, ck := range r.checks {
			used[ck.field] = true
		}
	}
	for f := range numFields {
		if used[f] {
			c.fields = append(c.fields, f)
		}
	}
	return c
}

// splitOf reports whether rec's Path and Query are its Target's bytes
// before and after a '?' (as splitTarget makes them), not bytes of their
// own: the key then holds the target and the length of the path, which
// say what the path and the query are, instead of their bytes again.
func splitOf(rec *Record) bool {
	t, p, q := rec.Target, rec.Path, rec.Query
	if len(t) == 0 || len(p) == 0 || &p[0] != &t[0] {
		return false
	}
	if len(q) == 0 {
		return q == nil && len(p) == len(t)
	}
	return len(p)+1+len(q) == len(t) && t[len(p)] == '?' && &q[0] == &t[len(p)+1]
}

// entry returns the cache entry of rec's key and whether it holds rec's
// result; nil when the key is too long to keep. An entry that does not
// hold it is emptied, its hash set to the key's, for the result.
func (c *matchCache) entry(rec *Record) (*cacheEntry, bool) {
	k := c.key[:0]
	if c.status {
		k = binary.AppendVarint(k, int64(rec.Status))
	}
	split := splitOf(rec)
	if split {
		k = append(k, 1)
	} else {
		k = append(k, 0)
	}
	for _, f := range c.fields {
		b := f.bytesOf(rec)
		if split && (f == FieldPath || f == FieldQuery) {
			continue // parts of the target, told by the length of the path
		}
		k = binary.AppendUvarint(k, uint64(len(b)))
		k = append(k, b...)
	}
	if split {
		k = binary.AppendUvarint(k, uint64(len(rec.Path)))
	}
	c.key = k
	if len(k) > matchCacheMaxKey {
		return nil, false
	}
	h := maphash.Bytes(c.seed, k)
	e := &c.ents[h&(matchCacheLen-1)]
	if e.used && e.hash == h && string(e.key) == string(k) {
		return e, true
	}
	e.hash, e.used = h, false
	return e, false
}

func cost(c ccheck) int {
	n := 0
	switch c.field {
	case FieldMethod, FieldProtocol:
	default:
		n += 2
	}
	if c.re != nil {
		n += 4
	}
	return n
}

func compileCond(fc FieldCond) (ccheck, error) {
	c := fc.Cond
	cc := ccheck{field: fc.Field, nocase: c.NoCase, minLen: c.MinLength, maxLen: -1}
	if c.MaxLength > 0 {
		cc.maxLen = c.MaxLength
	}
	norm := func(s string) []byte {
		if c.NoCase {
			s = strings.ToLower(s)
		}
		return []byte(s)
	}
	lits := func(l []string) [][]byte {
		var out [][]byte
		for _, s := range l {
			out = append(out, norm(s))
		}
		return out
	}
	shortest := func(l []string) int {
		n := -1
		for _, s := range l {
			if n < 0 || len(s) < n {
				n = len(s)
			}
		}
		return max(n, 0)
	}
	if len(c.Equals) > 0 {
		cc.equals = map[string]struct{}{}
		for _, s := range c.Equals {
			cc.equals[string(norm(s))] = struct{}{}
		}
		cc.minLen = max(cc.minLen, shortest(c.Equals))
		// Literals of one length compared one by one cost less than hashing
		// the field, when few share a length.
		cc.eqByLen = make([][][]byte, 256)
		for _, e := range c.Equals {
			if len(e) >= 256 || len(cc.eqByLen[len(e)]) == 4 {
				cc.eqByLen = nil
				break
			}
			cc.eqByLen[len(e)] = append(cc.eqByLen[len(e)], norm(e))
		}
	}
	cc.prefix, cc.suffix = lits(c.Prefix), lits(c.Suffix)
	cc.contains, cc.any = lits(c.Contains), lits(c.ContainsAny)
	if len(cc.any) > 1 {
		cc.anyPrefix = commonPrefix(cc.any)
	}
	cc.minLen = max(cc.minLen, shortest(c.Prefix), shortest(c.Suffix), shortest(c.ContainsAny))
	for _, s := range c.Contains {
		cc.minLen = max(cc.minLen, len(s))
	}
	if c.Regexp != "" {
		expr := c.Regexp
		if c.NoCase {
			expr = "(?i)" + expr
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return cc, err
		}
		cc.re = re
	}
	return cc, nil
}

// Families returns the families the matcher looks for (those not
// disabled), in table order; Match reports indices into this slice.
func (m *Matcher) Families() []Family { return m.fams }

// Match appends to dst the indices (into Families) of the families whose
// rules rec matches, in increasing order, and returns the extended slice.
func (m *Matcher) Match(rec *Record, dst []int) []int {
	if len(rec.Target)+len(rec.Path)+len(rec.Query) < matchCacheMin {
		return m.match(rec, dst)
	}
	e, hit := m.cache.entry(rec)
	if hit {
		return append(dst, e.fams...)
	}
	n := len(dst)
	dst = m.match(rec, dst)
	if e != nil {
		e.used = true
		e.key = append(e.key[:0], m.cache.key...)
		e.fams = append(e.fams[:0], dst[n:]...)
	}
	return dst
}

// match appends the families rec matches to dst, trying every rule.
func (m *Matcher) match(rec *Record, dst []int) []int {
	m.lowOK = [numFields]bool{}
	start := len(dst)
	for i := range m.rules {
		r := &m.rules[i]
		if n := len(dst); n > start && dst[n-1] == r.fam {
			continue // an earlier rule of the family matched
		}
		if m.matchRule(r, rec) {
			dst = append(dst, r.fam)
		}
	}
	return dst
}

func (m *Matcher) matchRule(r *crule, rec *Record) bool {
	if len(r.status) > 0 && !slices.Contains(r.status, rec.Status) {
		return false
	}
	for i := range r.checks {
		if !m.check(&r.checks[i], rec) {
			return false
		}
	}
	return true
}

func (m *Matcher) check(c *ccheck, rec *Record) bool {
	orig := c.field.bytesOf(rec)
	if len(orig) < c.minLen || (c.maxLen >= 0 && len(orig) > c.maxLen) {
		return false
	}
	b := orig
	if c.nocase {
		b = m.lower(c.field, orig)
	}
	switch {
	case c.eqByLen != nil:
		if len(b) >= len(c.eqByLen) || !slices.ContainsFunc(c.eqByLen[len(b)], func(e []byte) bool { return string(e) == string(b) }) {
			return false
		}
	case c.equals != nil:
		if _, found := c.equals[string(b)]; !found {
			return false
		}
	}
	if len(c.prefix) > 0 && !slices.ContainsFunc(c.prefix, func(p []byte) bool { return bytes.HasPrefix(b, p) }) {
		return false
	}
	if len(c.suffix) > 0 && !slices.ContainsFunc(c.suffix, func(p []byte) bool { return bytes.HasSuffix(b, p) }) {
		return false
	}
	for _, lit := range c.contains {
		if !bytes.Contains(b, lit) {
			return false
		}
	}
	if len(c.any) > 0 && !containsAny(b, c.any, c.anyPrefix) {
		return false
	}
	return c.re == nil || c.re.Match(orig)
}

// lower returns the field in ASCII lower case, computed once per record.
func (m *Matcher) lower(f Field, b []byte) []byte {
	if m.lowOK[f] {
		return m.low[f]
	}
	out := lowerASCII(m.low[f][:0], b)
	m.low[f], m.lowOK[f] = out, true
	return out
}

// lowerASCII appends b to dst with ASCII letters in lower case, eight bytes
// at a time (this runs on many lines).
func lowerASCII(dst, b []byte) []byte {
	n := len(dst)
	dst = append(dst, b...)
	out := dst[n:]
	i := 0
	for ; i+8 <= len(out); i += 8 {
		x := binary.LittleEndian.Uint64(out[i:])
		h := x &^ highs                                    // each byte's low seven bits
		geA := h + ones*(0x80-'A')                         // high bit set where the byte is >= 'A'
		gtZ := h + ones*(0x7f-'Z')                         // high bit set where the byte is > 'Z'
		upper := (geA &^ gtZ) &^ x & highs                 // ASCII and in 'A'..'Z'
		binary.LittleEndian.PutUint64(out[i:], x|upper>>2) // add 0x20
	}
	for ; i < len(out); i++ {
		if c := out[i]; 'A' <= c && c <= 'Z' {
			out[i] = c + 'a' - 'A'
		}
	}
	return dst
}

// containsAny reports whether b contains one of lits. When they share a
// prefix, b is scanned once for it and the literals are tried where it
// occurs, instead of scanning b once per literal.
func containsAny(b []byte, lits [][]byte, prefix []byte) bool {
	if len(prefix) == 0 {
		for _, l := range lits {
			if bytes.Contains(b, l) {
				return true
			}
		}
		return false
	}
	for {
		i := bytes.Index(b, prefix)
		if i < 0 {
			return false
		}
		b = b[i:]
		for _, l := range lits {
			if bytes.HasPrefix(b, l) {
				return true
			}
		}
		b = b[1:]
	}
}

// commonPrefix returns the longest prefix of every literal.
func commonPrefix(lits [][]byte) []byte {
	p := lits[0]
	for _, l := range lits[1:] {
		n := 0
		for n < len(p) && n < len(l) && p[n] == l[n] {
			n++
		}
		p = p[:n]
	}
	return p
}
