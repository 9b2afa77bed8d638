package taxii

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// filter is a request's query parameters: TAXII 2.1's filtering (3.4) and
// pagination (3.6) of a list.
type filter struct {
	limit      int
	after      int64 // next: only versions of a greater seq
	addedAfter int64 // added_after in nanoseconds; -1 when not given
	ids        []string
	types      map[string]bool
	specNone   bool // match[spec_version] given without 2.1: nothing matches
	all, first bool
	last       bool
	exact      map[int64]bool // match[version] timestamps, in nanoseconds
}

// The parameters each kind of list takes.
var (
	objectsParams  = []string{"added_after", "limit", "next", "match[id]", "match[type]", "match[version]", "match[spec_version]"}
	objectParams   = []string{"added_after", "limit", "next", "match[version]", "match[spec_version]"}
	deleteParams   = []string{"match[version]", "match[spec_version]"}
	versionsParams = []string{"added_after", "limit", "next", "match[spec_version]"}
)

// parseFilter reads the parameters of q allowed for the endpoint; an
// unknown or repeated one, or a bad value, is an error (400). versions
// sets the default of match[version]: last, or all.
func parseFilter(q url.Values, allowed []string, pageLimit int, defaultVersion string) (*filter, error) {
	f := &filter{limit: pageLimit, addedAfter: -1}
	for k, v := range q {
		if !slices.Contains(allowed, k) {
			if strings.HasPrefix(k, "match[") {
				return nil, fmt.Errorf("the filter %s is not supported here (supported: %s)", k, strings.Join(allowed, ", "))
			}
			return nil, fmt.Errorf("unknown parameter %q (allowed here: %s)", k, strings.Join(allowed, ", "))
		}
		if len(v) > 1 {
			return nil, fmt.Errorf("parameter %s given %d times: give it once, with values separated by commas", k, len(v))
		}
	}
	if err := f.parsePaging(q, pageLimit); err != nil {
		return nil, err
	}
	if v := q.Get("match[id]"); v != "" {
		f.ids = strings.Split(v, ",")
	}
	if v := q.Get("match[type]"); v != "" {
		f.types = map[string]bool{}
		for _, t := range strings.Split(v, ",") {
			f.types[t] = true
		}
	}
	if v, ok := q["match[spec_version]"]; ok {
		f.specNone = !slices.Contains(strings.Split(v[0], ","), "2.1")
	}
	mv := defaultVersion
	if v, ok := q["match[version]"]; ok {
		mv = v[0]
	}
	return f, f.parseVersions(mv)
}

// parsePaging reads limit, next and added_after.
func (f *filter) parsePaging(q url.Values, pageLimit int) error {
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 {
			return fmt.Errorf("limit=%s: want a whole number of at least 1", v[0])
		}
		f.limit = min(n, pageLimit)
	}
	if v, ok := q["next"]; ok {
		n, err := strconv.ParseInt(v[0], 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("next=%s: not a value this server gave", v[0])
		}
		f.after = n
	}
	if v, ok := q["added_after"]; ok {
		t, err := time.Parse(time.RFC3339Nano, v[0])
		if err != nil {
			return fmt.Errorf("added_after=%s: want a timestamp such as 2001-07-19T00:00:00.000Z", v[0])
		}
		f.addedAfter = t.UnixNano()
	}
	return nil
}

// parseVersions reads match[version]: first, last, all or timestamps.
func (f *filter) parseVersions(mv string) error {
	for _, s := range strings.Split(mv, ",") {
		switch s {
		case "all":
			f.all = true
		case "first":
			f.first = true
		case "last":
			f.last = true
		default:
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return fmt.Errorf("match[version]=%s: want first, last, all or timestamps, separated by commas", mv)
			}
			if f.exact == nil {
				f.exact = map[int64]bool{}
			}
			f.exact[t.UnixNano()] = true
		}
	}
	return nil
}

// candidate reports whether a version passes the filters other than the
// version and the page: present, visible to rd, of a type, spec_version
// and date_added asked for (under mu).
func (c *coll) candidate(rd *reader, f *filter, v *stored) bool {
	if v.deleted || f.specNone || !rd.sees(&v.aud) {
		return false
	}
	if f.types != nil && !f.types[c.types[v.typ]] {
		return false
	}
	return f.addedAfter < 0 || v.added*1000 > f.addedAfter
}

// selected reports whether a candidate version is one match[version]
// asks for, among its object's candidate versions (under mu).
func (c *coll) selected(rd *reader, f *filter, idx int32, v *stored) bool {
	if f.all || f.exact[v.vns] {
		return true
	}
	if !f.first && !f.last {
		return false
	}
	if v.single {
		return true
	}
	first, last := true, true
	for _, j := range c.objs[v.obj].idxs {
		if j == idx {
			continue
		}
		w := &c.vers[j]
		if !c.candidate(rd, f, w) {
			continue
		}
		if w.vns < v.vns {
			first = false
		} else if w.vns > v.vns {
			last = false
		}
	}
	return (f.first && first) || (f.last && last)
}

// page is one page of a list: what it shows of the versions (their data
// shared with the arena, which never changes) and whether more follow.
// Its buffers come from pageBufs: release gives them back once answered.
type page struct {
	items []pageItem
	more  bool
	buf   *pageBuf
}

// pageBuf is what a page is built in: its items and the seqs of its
// audit entry.
type pageBuf struct {
	items []pageItem
	seqs  []int64
}

// pageBufs keeps pages' buffers for the next pages: a page of 1,000
// versions is 72 KB of items and 8 KB of seqs, garbage at each page
// otherwise, and the collector's work grows with the heap, the versions
// held in memory.
var pageBufs = sync.Pool{New: func() any { return new(pageBuf) }}

// release gives the page's buffers back: nothing of it may be used after.
func (p *page) release() {
	if p.buf != nil {
		p.buf.items = p.items[:0]
		pageBufs.Put(p.buf)
		*p = page{}
	}
}

// pageItem is what a page needs of one version.
type pageItem struct {
	seq, added int64
	id         string
	version    string
	data       []byte
}

// query returns a page of the versions rd may see that the filter
// selects, in date_added order. src limits the versions looked at (one
// object's); nil means the whole collection, or the objects of
// match[id].
func (c *coll) query(rd *reader, f *filter, src []int32) page {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if src == nil && f.ids != nil {
		for _, id := range f.ids {
			if oi, ok := c.byID[id]; ok {
				src = append(src, c.objs[oi].idxs...)
			}
		}
		slices.Sort(src)
		src = slices.Compact(src)
		if src == nil {
			return page{}
		}
	}
	var p page
	take := func(i int32) bool {
		v := &c.vers[i]
		if v.seq <= f.after || !c.candidate(rd, f, v) || !c.selected(rd, f, i, v) {
			return true
		}
		if len(p.items) == f.limit {
			p.more = true
			return false
		}
		if p.buf == nil {
			p.buf = pageBufs.Get().(*pageBuf)
			p.items = p.buf.items[:0]
		}
		p.items = append(p.items, pageItem{seq: v.seq, added: v.added, id: v.id, version: v.version, data: v.data})
		return true
	}
	if src != nil {
		for _, i := range src {
			if !take(i) {
				break
			}
		}
		return p
	}
	start, _ := slices.BinarySearchFunc(c.vers, f.after+1, func(v stored, seq int64) int { return compare(v.seq, seq) })
	if f.addedAfter >= 0 {
		s2, _ := slices.BinarySearchFunc(c.vers, f.addedAfter/1000+1, func(v stored, us int64) int { return compare(v.added, us) })
		start = max(start, s2)
	}
	for i := start; i < len(c.vers); i++ {
		if !take(int32(i)) {
			break
		}
	}
	return p
}

// objectIdxs returns the indexes of an object's versions in seq order, nil
// when the id is not stored (under no lock: it takes mu).
func (c *coll) objectIdxs(id string) []int32 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	oi, ok := c.byID[id]
	if !ok {
		return nil
	}
	out := slices.Clone(c.objs[oi].idxs)
	slices.Sort(out)
	return out
}

// compare orders int64s.
func compare(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
