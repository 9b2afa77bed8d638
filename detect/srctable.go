package detect

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"hash/maphash"
	"io"
	"math/bits"
	"slices"
	"wormwatch/internal/ipv4text"
)

// srcTable is what the matched lines of a stretch of the input (a chunk)
// said about each source, in flat arrays: no pointer, map or slice per
// source, so that the garbage collector has little to scan and a source
// costs a few dozen bytes (the key, 48 bytes of its own, 56 per family it
// sent, 20 per interval it was seen in). Sources are numbered in order of
// first appearance.
type srcTable struct {
	seed    maphash.Seed
	slots   []uint64 // open addressing on the hash: the hash's high 32 bits, then index+1 of a source; 0 free; a power of two long, at most half full
	hash    []uint64 // per source: the hash of its key
	keyEnd  []uint32 // per source: the end of its key in keys (it starts where the previous one ends)
	keys    []byte   // the keys (addresses as logged), one after the other
	lines   []int64  // per source: its matched lines
	famHead []uint32 // per source: index+1 in parts of its first family part; 0: none
	ivHead  []uint32 // per source: index+1 in ivs of the interval it was last seen in for the first time; 0: none
	parts   []famPart
	ivs     []ivRec
	ivSlots []uint32 // open addressing on (source, interval): index+1 in ivs, 0 free; at most half full

	// Sources logged as IPv4 addresses in canonical dotted form (most of
	// them) are also found by address: v4 is open addressing on words of
	// the address and index+1 of the source (0 free; at most half full),
	// so that a look-up reads one word, where slots needs the key's bytes
	// too.
	v4    []uint64
	nv4   int
	ntext int // sources in slots: those not in v4

	// With hashParts, a source's parts are also found by hash (partSlots,
	// open addressing on (source, part number): the source, then index+1
	// in parts): the attempts' table, whose sources may each hit thousands
	// of ports, where the requests' table walks a source's few families.
	hashParts bool
	partSlots []uint64
}

// famPart is what a source sent of one family: in one chunk of the input,
// or merged over several (see merge).
type famPart struct {
	fam                 uint32 // index into Matcher.Families
	next                uint32 // in a srcTable: index+1 in parts of the source's next part; 0: none
	lines, events       int64
	first, latest       int64 // earliest and latest time, ns
	firstRead, lastRead int64 // time of the first and the last line read: the event gap is measured in read order
}

// merge adds q, read after p, to p. An event that q's first line continues
// (no further than gap from p's last line) is counted once.
func (p *famPart) merge(q *famPart, gap int64) {
	p.events += q.events
	if gap > 0 && q.firstRead-p.lastRead <= gap && p.lastRead-q.firstRead <= gap {
		p.events--
	}
	p.lines += q.lines
	p.first, p.latest = min(p.first, q.first), max(p.latest, q.latest)
	p.lastRead = q.lastRead
}

// ivRec is an interval a source was seen in.
type ivRec struct {
	iv   int64
	src  uint32
	next uint32 // index+1 in ivs of the source's interval seen before; 0: none
}

// A table holds fewer than this many sources, key bytes and records, so
// that uint32 indices cannot overflow; it is spilled before.
const maxTableLen = 1 << 31

func newSrcTable() *srcTable {
	return &srcTable{seed: maphash.MakeSeed()}
}

// len returns the number of sources.
func (t *srcTable) len() int { return len(t.hash) }

// size returns the bytes the table's data takes (the arrays' lengths, not
// their capacities).
func (t *srcTable) size() int64 {
	return int64(len(t.keyEnd)+len(t.famHead)+len(t.ivHead)+len(t.ivSlots))*4 +
		int64(len(t.slots)+len(t.v4)+len(t.partSlots)+len(t.hash)+len(t.lines))*8 + int64(len(t.keys)) +
		int64(len(t.parts))*int64(famPartSize) + int64(len(t.ivs))*int64(ivRecSize)
}

const (
	famPartSize = 56
	ivRecSize   = 16
)

// full reports whether an index would soon overflow.
func (t *srcTable) full() bool {
	return len(t.keys) >= maxTableLen-MaxMaxLine || len(t.parts) >= maxTableLen || len(t.ivs) >= maxTableLen || len(t.hash) >= maxTableLen
}

// reset empties the table, keeping its arrays for the next chunk.
func (t *srcTable) reset() {
	clear(t.slots)
	clear(t.v4)
	t.nv4, t.ntext = 0, 0
	clear(t.ivSlots)
	clear(t.partSlots)
	t.hash, t.keyEnd, t.keys, t.lines = t.hash[:0], t.keyEnd[:0], t.keys[:0], t.lines[:0]
	t.famHead, t.ivHead, t.parts, t.ivs = t.famHead[:0], t.ivHead[:0], t.parts[:0], t.ivs[:0]
}

// key returns the key of source i.
func (t *srcTable) key(i uint32) []byte {
	var start uint32
	if i > 0 {
		start = t.keyEnd[i-1]
	}
	return t.keys[start:t.keyEnd[i]]
}

// source returns the index of the source with the key, adding it if new.
// An IPv4 address is found by its value (v4); other keys by their hash:
// a slot holds the high half of the key's hash beside the index, so that
// a probe reads no other array unless the halves match: on a table larger
// than the caches, each array read is a miss.
func (t *srcTable) source(key []byte) uint32 {
	a, ok := ipv4text.Parse(key)
	if !ok {
		return t.sourceText(key)
	}
	if 2*(t.nv4+1) > len(t.v4) {
		old := t.v4
		t.v4 = make([]uint64, max(1024, 2*len(old)))
		for _, v := range old {
			if v != 0 {
				t.v4[t.v4Slot(uint32(v>>32))] = v
			}
		}
	}
	j := t.v4Slot(a)
	if v := t.v4[j]; v != 0 {
		return uint32(v) - 1
	}
	i := t.add(key, maphash.Bytes(t.seed, key))
	t.v4[j] = uint64(a)<<32 | uint64(i+1)
	t.nv4++
	return i
}

// v4Slot returns the index of address a's slot in v4, or of the free
// slot where it would go.
func (t *srcTable) v4Slot(a uint32) int {
	mask := uint64(len(t.v4) - 1)
	x := uint64(a) * 0x9e3779b97f4a7c15
	for j := (x ^ x>>29) & mask; ; j = (j + 1) & mask {
		if v := t.v4[j]; v == 0 || uint32(v>>32) == a {
			return int(j)
		}
	}
}

// sourceText returns the index of the source with the key, adding it if
// new, by the key's hash.
func (t *srcTable) sourceText(key []byte) uint32 {
	h := maphash.Bytes(t.seed, key)
	if 2*(t.ntext+1) > len(t.slots) {
		t.slots = rehash64(t.slots, max(1024, 2*len(t.slots)), func(s uint64) uint64 { return t.hash[uint32(s)-1] })
	}
	mask := uint64(len(t.slots) - 1)
	tag := h &^ (1<<32 - 1)
	for j := h & mask; ; j = (j + 1) & mask {
		s := t.slots[j]
		if s == 0 {
			i := t.add(key, h)
			t.slots[j] = tag | uint64(i+1)
			t.ntext++
			return i
		}
		if s&^(1<<32-1) == tag && bytes.Equal(t.key(uint32(s)-1), key) {
			return uint32(s) - 1
		}
	}
}

// add adds a source of the key, whose hash is h, and returns its index.
func (t *srcTable) add(key []byte, h uint64) uint32 {
	i := uint32(len(t.hash))
	t.hash = push(t.hash, h)
	t.keys = append(grow(t.keys, len(key)), key...)
	t.keyEnd = push(t.keyEnd, uint32(len(t.keys)))
	t.lines = push(t.lines, 0)
	t.famHead = push(t.famHead, 0)
	t.ivHead = push(t.ivHead, 0)
	return i
}

// grow returns s with room for n more elements, doubling its capacity
// when it must grow: append grows a large slice by a quarter, which
// copies a table that grows a record at a time five times over.
func grow[T any](s []T, n int) []T {
	if len(s)+n <= cap(s) {
		return s
	}
	return slices.Grow(s, max(n, len(s), 256))
}

// push appends v to s, doubling its capacity when it must grow (see grow).
func push[T any](s []T, v T) []T {
	return append(grow(s, 1), v)
}

// rehash returns slots of the new length (a power of two) holding the
// entries of old, placed by their hash.
func rehash(old []uint32, n int, hash func(i uint32) uint64) []uint32 {
	slots := make([]uint32, n)
	mask := uint64(n - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		j := hash(s-1) & mask
		for slots[j] != 0 {
			j = (j + 1) & mask
		}
		slots[j] = s
	}
	return slots
}

// rehash64 returns slots of the new length (a power of two) holding the
// entries of old, placed by the hash of each.
func rehash64(old []uint64, n int, hash func(s uint64) uint64) []uint64 {
	slots := make([]uint64, n)
	mask := uint64(n - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		j := hash(s) & mask
		for slots[j] != 0 {
			j = (j + 1) & mask
		}
		slots[j] = s
	}
	return slots
}

// part returns the part of family fam of source src, nil if none.
func (t *srcTable) part(src, fam uint32) *famPart {
	if t.hashParts {
		if len(t.partSlots) == 0 {
			return nil
		}
		mask := uint64(len(t.partSlots) - 1)
		for j := ivHash(src, int64(fam)) & mask; ; j = (j + 1) & mask {
			s := t.partSlots[j]
			if s == 0 {
				return nil
			}
			if uint32(s>>32) == src && t.parts[uint32(s)-1].fam == fam {
				return &t.parts[uint32(s)-1]
			}
		}
	}
	for p := t.famHead[src]; p != 0; p = t.parts[p-1].next {
		if t.parts[p-1].fam == fam {
			return &t.parts[p-1]
		}
	}
	return nil
}

// newPart adds a part of family fam to source src, with one line at time
// ns. The pointer is valid until the next call.
func (t *srcTable) newPart(src, fam uint32, ns int64) *famPart {
	t.parts = push(t.parts, famPart{fam: fam, next: t.famHead[src], lines: 1, events: 1, first: ns, latest: ns, firstRead: ns, lastRead: ns})
	t.famHead[src] = uint32(len(t.parts))
	if t.hashParts {
		if 2*len(t.parts) > len(t.partSlots) {
			t.partSlots = rehash64(t.partSlots, max(1024, 2*len(t.partSlots)), func(s uint64) uint64 {
				return ivHash(uint32(s>>32), int64(t.parts[uint32(s)-1].fam))
			})
		}
		mask := uint64(len(t.partSlots) - 1)
		j := ivHash(src, int64(fam)) & mask
		for t.partSlots[j] != 0 {
			j = (j + 1) & mask
		}
		t.partSlots[j] = uint64(src)<<32 | uint64(len(t.parts))
	}
	return &t.parts[len(t.parts)-1]
}

// interval records that source src was seen in interval iv.
func (t *srcTable) interval(src uint32, iv int64) {
	if h := t.ivHead[src]; h != 0 && t.ivs[h-1].iv == iv {
		return
	}
	if 2*(len(t.ivs)+1) > len(t.ivSlots) {
		t.ivSlots = rehash(t.ivSlots, max(1024, 2*len(t.ivSlots)), func(i uint32) uint64 { return ivHash(t.ivs[i].src, t.ivs[i].iv) })
	}
	mask := uint64(len(t.ivSlots) - 1)
	for j := ivHash(src, iv) & mask; ; j = (j + 1) & mask {
		s := t.ivSlots[j]
		if s == 0 {
			t.ivs = push(t.ivs, ivRec{iv: iv, src: src, next: t.ivHead[src]})
			t.ivSlots[j] = uint32(len(t.ivs))
			t.ivHead[src] = uint32(len(t.ivs))
			return
		}
		if r := &t.ivs[s-1]; r.src == src && r.iv == iv {
			return
		}
	}
}

// ivHash mixes a source and an interval (a multiply-xorshift hash).
func ivHash(src uint32, iv int64) uint64 {
	x := uint64(iv)*0x9e3779b97f4a7c15 ^ uint64(src)
	x ^= x >> 31
	x *= 0xbf58476d1ce4e5b9
	return x ^ x>>29
}

// srcRec is one source's record: read from a chunk, or gathered from the
// table, or merged over chunks.
type srcRec struct {
	hash  uint64
	key   []byte
	lines int64
	parts []famPart // in no particular order
	ivs   []int64   // intervals seen in; in no particular order, maybe repeated (merged)
}

// load sets r to source i of the table, reusing r's memory.
func (t *srcTable) load(i uint32, r *srcRec) {
	r.hash = t.hash[i]
	r.key = append(r.key[:0], t.key(i)...)
	r.lines = t.lines[i]
	r.parts = r.parts[:0]
	for p := t.famHead[i]; p != 0; p = t.parts[p-1].next {
		r.parts = append(r.parts, t.parts[p-1])
	}
	r.ivs = r.ivs[:0]
	for v := t.ivHead[i]; v != 0; v = t.ivs[v-1].next {
		r.ivs = append(r.ivs, t.ivs[v-1].iv)
	}
}

// set makes r a copy of o, reusing r's memory.
func (r *srcRec) set(o *srcRec) {
	r.hash, r.lines = o.hash, o.lines
	r.key = append(r.key[:0], o.key...)
	r.parts = append(r.parts[:0], o.parts...)
	r.ivs = append(r.ivs[:0], o.ivs...)
}

// merge adds o, a later chunk's record of the same source, to r.
func (r *srcRec) merge(o *srcRec, gaps []int64) {
	r.lines += o.lines
next:
	for i := range o.parts {
		q := &o.parts[i]
		for j := range r.parts {
			if r.parts[j].fam == q.fam {
				var gap int64
				if int(q.fam) < len(gaps) {
					gap = gaps[q.fam]
				}
				r.parts[j].merge(q, gap)
				continue next
			}
		}
		r.parts = append(r.parts, *q)
	}
	r.ivs = append(r.ivs, o.ivs...)
}

// order returns the table's sources by hash, then key: the order of a
// chunk on disk, in which chunks are merged.
func (t *srcTable) order() []uint32 {
	idx := make([]uint32, t.len())
	for i := range idx {
		idx[i] = uint32(i)
	}
	slices.SortFunc(idx, func(a, b uint32) int {
		if t.hash[a] != t.hash[b] {
			if t.hash[a] < t.hash[b] {
				return -1
			}
			return 1
		}
		return bytes.Compare(t.key(a), t.key(b))
	})
	return idx
}

// compareRec orders records as chunks are: by hash, then key.
func compareRec(a, b *srcRec) int {
	if a.hash != b.hash {
		if a.hash < b.hash {
			return -1
		}
		return 1
	}
	return bytes.Compare(a.key, b.key)
}

// appendRec appends the chunk encoding of r to b: the hash (8 bytes), the
// key, the lines, the parts (times from the part's first, as unsigned
// offsets) and the intervals sorted, as differences.
func appendRec(b []byte, r *srcRec) []byte {
	b = binary.LittleEndian.AppendUint64(b, r.hash)
	b = binary.AppendUvarint(b, uint64(len(r.key)))
	b = append(b, r.key...)
	b = binary.AppendUvarint(b, uint64(r.lines))
	b = binary.AppendUvarint(b, uint64(len(r.parts)))
	for i := range r.parts {
		p := &r.parts[i]
		b = binary.AppendUvarint(b, uint64(p.fam))
		b = binary.AppendUvarint(b, uint64(p.lines))
		b = binary.AppendUvarint(b, uint64(p.events))
		b = binary.AppendVarint(b, p.first)
		b = binary.AppendUvarint(b, uint64(p.latest-p.first))
		b = binary.AppendUvarint(b, uint64(p.firstRead-p.first))
		b = binary.AppendUvarint(b, uint64(p.lastRead-p.first))
	}
	slices.Sort(r.ivs)
	r.ivs = slices.Compact(r.ivs)
	b = binary.AppendUvarint(b, uint64(len(r.ivs)))
	prev := int64(0)
	for i, iv := range r.ivs {
		if i == 0 {
			b = binary.AppendVarint(b, iv)
		} else {
			b = binary.AppendUvarint(b, uint64(iv-prev))
		}
		prev = iv
	}
	return b
}

// errCorrupt is a temporary file that does not read back as written.
var errCorrupt = errors.New("a temporary file does not read back as it was written")

// readRec reads a record appendRec wrote into r, reusing its memory. It
// returns io.EOF at the end of the input.
func readRec(br *bufio.Reader, r *srcRec, nfam int) error {
	var h [8]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return errCorrupt
		}
		return err
	}
	r.hash = binary.LittleEndian.Uint64(h[:])
	var d decoder
	d.br = br
	n := d.count(MaxMaxLine + 1)
	r.key = d.bytes(r.key[:0], n)
	r.lines = int64(d.uvarint())
	np := d.count(nfam)
	r.parts = r.parts[:0]
	for range np {
		var p famPart
		p.fam = uint32(d.count(nfam - 1))
		p.lines, p.events = int64(d.uvarint()), int64(d.uvarint())
		p.first = d.varint()
		p.latest = p.first + int64(d.uvarint())
		p.firstRead = p.first + int64(d.uvarint())
		p.lastRead = p.first + int64(d.uvarint())
		r.parts = append(r.parts, p)
	}
	ni := d.count(MaxSeriesRows)
	r.ivs = r.ivs[:0]
	for i := range ni {
		if i == 0 {
			r.ivs = append(r.ivs, d.varint())
		} else {
			r.ivs = append(r.ivs, r.ivs[i-1]+int64(d.uvarint()))
		}
	}
	return d.err
}

// decoder reads varints, keeping the first error.
type decoder struct {
	br  byteReader
	err error
}

// byteReader is what records are read from: a bufio.Reader on a temporary
// file, a bytes.Reader on memory.
type byteReader interface {
	io.Reader
	io.ByteReader
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(d.br)
	if err != nil {
		d.err = errCorrupt
	}
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadVarint(d.br)
	if err != nil {
		d.err = errCorrupt
	}
	return v
}

// count reads a count of at most most.
func (d *decoder) count(most int) int {
	v := d.uvarint()
	if v > uint64(most) || bits.Len64(v) > 62 {
		if d.err == nil {
			d.err = errCorrupt
		}
		return 0
	}
	return int(v)
}

// bytes appends n bytes read to b, growing it as they come (a corrupt
// length cannot make it allocate more than what is there).
func (d *decoder) bytes(b []byte, n int) []byte {
	for d.err == nil && n > 0 {
		k := min(n, 64<<10)
		start := len(b)
		b = slices.Grow(b, k)[:start+k]
		if _, err := io.ReadFull(d.br, b[start:]); err != nil {
			d.err = errCorrupt
		}
		n -= k
	}
	return b
}
