package param

import (
	"sort"
	"strings"
)

// originTree records where keys got their values, by canonical path, as a
// tree of path parts. Every question the Loader asks about a key and the
// keys under it (which was given first, which assignment changed it last,
// forget them all) visits that subtree only, so loading a document costs
// time linear in its size even with thousands of tables in an array: a
// flat map asked the same questions scanned every key of the document for
// each of them.
type originTree struct {
	root onode
}

// onode is one part of a canonical path.
type onode struct {
	origin Origin
	has    bool // origin was recorded for this exact path
	kids   map[string]*onode
}

// node returns the node of path, creating it (and the nodes above it) if
// create is set; nil if it does not exist.
func (t *originTree) node(path string, create bool) *onode {
	n := &t.root
	if path == "" {
		return n
	}
	for part := range strings.SplitSeq(path, ".") {
		k := n.kids[part]
		if k == nil {
			if !create {
				return nil
			}
			if n.kids == nil {
				n.kids = map[string]*onode{}
			}
			k = &onode{}
			n.kids[part] = k
		}
		n = k
	}
	return n
}

// set records that the key at path was given at o.
func (t *originTree) set(path string, o Origin) {
	n := t.node(path, true)
	n.origin, n.has = o, true
}

// forgetUnder drops the records of every key under path (not path itself).
func (t *originTree) forgetUnder(path string) {
	if n := t.node(path, false); n != nil {
		n.kids = nil
	}
}

// locate returns the origin of path, or of the nearest key above it that
// has one.
func (t *originTree) locate(path string) (Origin, bool) {
	n := &t.root
	best, found := n.origin, n.has
	if path == "" {
		return best, found
	}
	for part := range strings.SplitSeq(path, ".") {
		if n = n.kids[part]; n == nil {
			break
		}
		if n.has {
			best, found = n.origin, true
		}
	}
	return best, found
}

// walk calls fn for path and every key under it that has an origin, in
// sorted order of the parts (so that the calls do not depend on map order).
func (t *originTree) walk(path string, fn func(p string, o Origin)) {
	n := t.node(path, false)
	if n == nil {
		return
	}
	var rec func(n *onode, p string)
	rec = func(n *onode, p string) {
		if n.has {
			fn(p, n.origin)
		}
		if len(n.kids) == 0 {
			return
		}
		parts := make([]string, 0, len(n.kids))
		for k := range n.kids {
			parts = append(parts, k)
		}
		sort.Strings(parts)
		for _, k := range parts {
			rec(n.kids[k], join(p, k))
		}
	}
	rec(n, path)
}

// lineIndex turns byte offsets of a document into lines and columns in
// O(log lines) each. (go-toml's Parser.Shape counts the newlines from the
// start of the document at every call, which made reading the positions of
// a document's keys quadratic in its length.)
type lineIndex []int // offset of the first byte of each line after the first

func newLineIndex(data []byte) lineIndex {
	var idx lineIndex
	for i, c := range data {
		if c == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

// at returns the line and column (both from 1; the column in bytes) of the
// byte at offset.
func (li lineIndex) at(offset int) (line, col int) {
	n := sort.SearchInts(li, offset+1) // lines that start at or before offset, after the first
	start := 0
	if n > 0 {
		start = li[n-1]
	}
	return n + 1, offset - start + 1
}
