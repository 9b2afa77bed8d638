package taxii

import (
	"slices"
	"sort"
	"sync"
	"time"
	"unsafe"
)

// stored is one version of an object as the server holds it in memory:
// the index of every query, and the object's bytes (in the arena).
type stored struct {
	seq     int64
	added   int64 // date_added, microseconds
	vns     int64 // the version as nanoseconds
	version string
	id      string // the object's (coll.objs[obj].id), at hand for a page
	obj     int32  // index in coll.objs
	typ     uint16 // index in coll.types
	deleted bool
	single  bool // the object's only version held (deleted or not)
	aud     audience
	data    []byte
}

// versions are the stored versions of one object id, by version.
type versions struct {
	id   string
	idxs []int32 // indexes in coll.vers, sorted by vns
}

// coll is one collection: its configuration, who may do what, and its
// versions in the order they were added (seq, date_added).
type coll struct {
	cfg     Collection
	floor   TLP
	read    []bool    // by member
	write   []bool    // by member
	readers []*reader // by member; nil without read rights

	mu      sync.RWMutex
	vers    []stored
	objs    []versions
	byID    map[string]int32
	types   []string
	typeIdx map[string]uint16
}

// newColl makes a collection's rights and audiences from the
// configuration: members index the members, groups give each group's
// member indexes.
func newColl(c Collection, members []Member, groups map[string][]int) *coll {
	n := len(members)
	cl := &coll{cfg: c, read: make([]bool, n), write: make([]bool, n), readers: make([]*reader, n),
		byID: map[string]int32{}, typeIdx: map[string]uint16{}}
	cl.floor, _ = parseTLP(c.TLP)
	for _, g := range c.Write {
		for _, m := range groups[g] {
			cl.write[m] = true
		}
	}
	for _, g := range c.Read {
		for _, m := range groups[g] {
			cl.read[m] = true
		}
	}
	for m := range members {
		if !cl.read[m] {
			continue
		}
		rd := &reader{member: m, community: members[m].Kind == "member", peers: make([]bool, n)}
		for _, g := range c.Read {
			if slices.Contains(groups[g], m) {
				for _, p := range groups[g] {
					rd.peers[p] = true
				}
			}
		}
		cl.readers[m] = rd
	}
	return cl
}

// typeOf returns the index of a type name, adding it (under mu).
func (c *coll) typeOf(t string) uint16 {
	if i, ok := c.typeIdx[t]; ok {
		return i
	}
	c.types = append(c.types, t)
	c.typeIdx[t] = uint16(len(c.types) - 1)
	return uint16(len(c.types) - 1)
}

// add appends a version (under mu, in seq order).
func (c *coll) add(s stored, id, typ string) {
	s.typ = c.typeOf(typ)
	oi, ok := c.byID[id]
	if !ok {
		oi = int32(len(c.objs))
		c.objs = append(c.objs, versions{id: id})
		c.byID[id] = oi
	}
	s.obj, s.id = oi, c.objs[oi].id
	o := &c.objs[oi]
	s.single = len(o.idxs) == 0
	if len(o.idxs) == 1 {
		c.vers[o.idxs[0]].single = false
	}
	c.vers = append(c.vers, s)
	idx := int32(len(c.vers) - 1)
	at := sort.Search(len(o.idxs), func(i int) bool { return c.vers[o.idxs[i]].vns > s.vns })
	o.idxs = slices.Insert(o.idxs, at, idx)
}

// has reports whether a version of id with version vns is stored, not
// deleted (under mu).
func (c *coll) has(id string, vns int64) bool {
	oi, ok := c.byID[id]
	if !ok {
		return false
	}
	for _, i := range c.objs[oi].idxs {
		if v := &c.vers[i]; v.vns == vns && !v.deleted {
			return true
		}
	}
	return false
}

// visibleID reports whether some version of id, not deleted, is visible to
// rd (under mu).
func (c *coll) visibleID(rd *reader, id string) bool {
	oi, ok := c.byID[id]
	if !ok {
		return false
	}
	for _, i := range c.objs[oi].idxs {
		if v := &c.vers[i]; !v.deleted && rd.sees(&v.aud) {
			return true
		}
	}
	return false
}

// arena holds the objects' bytes in large chunks, so that a million
// objects are a few hundred allocations the collector need not look into.
// Bytes are only appended: a slice handed out stays valid and unchanged.
// Each copy is followed in its chunk by a comma, so that versions copied
// one after another lie there as they do in an envelope, `{...},{...}`,
// and a page of them is written from the arena itself (see span).
type arena struct {
	chunk []byte
}

const arenaChunk = 4 << 20

// copy returns a copy of b in the arena (the caller serialises calls).
// The slice's length is b's; its capacity reaches over the comma to the
// next copy's first byte, and no further, so that follows can tell where
// the next copy lies without touching it.
func (a *arena) copy(b []byte) []byte {
	if len(b) == 0 || len(b) > arenaChunk/4 {
		return slices.Clip(append([]byte(nil), b...))
	}
	if cap(a.chunk)-len(a.chunk) < len(b)+2 {
		a.chunk = make([]byte, 0, arenaChunk)
	}
	start := len(a.chunk)
	a.chunk = append(a.chunk, b...)
	a.chunk = append(a.chunk, ',')
	end := start + len(b)
	return a.chunk[start : end : end+2]
}

// follows reports whether b was copied into the arena right after a, past
// a's comma.
func follows(a, b []byte) bool {
	return len(b) > 0 && cap(a) == len(a)+2 && &a[:len(a)+2][len(a)+1] == &b[0]
}

// span returns the bytes of run, the comma after it and b, where b
// follows the last copy in run (follows): one slice over a chunk of the
// arena, whose bytes never change. Written by hand with unsafe because a
// copy's capacity stops at the next one's first byte (so that no append
// to a version's bytes can overwrite another's), while a page's bytes lie
// together in one chunk.
func span(run, b []byte) []byte {
	return unsafe.Slice(unsafe.SliceData(run), len(run)+1+len(b))
}

// timestamp formats microseconds since 1970 as TAXII writes date_added.
func timestamp(us int64) string {
	return time.UnixMicro(us).UTC().Format("2006-01-02T15:04:05.000000Z")
}
