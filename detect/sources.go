package detect

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"io"
	"iter"
	"slices"
	"time"
)

// Sources is the per-source table of a Report: every source of a matched
// line, by lines (most first), then first seen, then the source as logged.
// It can be larger than memory: past Options.Memory it is kept sorted in a
// temporary file, which Report.Close removes. All reads it again each
// time.
type Sources struct {
	n     int64
	names []string // the family names, as Report.Families

	// Before the table is complete: records not yet sorted into a run.
	budget int64
	dir    string
	mem    []byte    // records (see appendOut)
	idx    []outMeta // one per record, sorted when the run is complete

	file *tempFile // the runs, when the table did not fit in budget
	runs []section
	err  error // the first error writing a run
}

// outMeta is a record's sort key and place.
type outMeta struct {
	lines, first int64
	off, n       int64 // in Sources.mem
}

const outMetaSize = 32

// Len returns the number of sources.
func (s *Sources) Len() int64 {
	if s == nil {
		return 0
	}
	return s.n
}

// add adds the final record of a source. parts must be sorted by family.
func (s *Sources) add(key []byte, lines, first, last int64, parts []famPart) {
	if s.err != nil {
		return
	}
	s.n++
	off := int64(len(s.mem))
	s.mem = appendOut(s.mem, key, lines, first, last, parts)
	s.idx = append(s.idx, outMeta{lines: lines, first: first, off: off, n: int64(len(s.mem)) - off})
	if int64(len(s.mem))+int64(len(s.idx))*outMetaSize > s.budget {
		s.err = s.writeRun()
	}
}

// appendOut appends a source's final record to b: its key, lines, first and
// last seen (the last as an offset), and per family (in table order) its
// index, lines, and first and last seen as offsets.
func appendOut(b, key []byte, lines, first, last int64, parts []famPart) []byte {
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	b = binary.AppendUvarint(b, uint64(lines))
	b = binary.AppendVarint(b, first)
	b = binary.AppendUvarint(b, uint64(last-first))
	b = binary.AppendUvarint(b, uint64(len(parts)))
	for i := range parts {
		p := &parts[i]
		b = binary.AppendUvarint(b, uint64(p.fam))
		b = binary.AppendUvarint(b, uint64(p.lines))
		b = binary.AppendUvarint(b, uint64(p.first-first))
		b = binary.AppendUvarint(b, uint64(p.latest-p.first))
	}
	return b
}

// outRec is a final record read back.
type outRec struct {
	key                 []byte
	lines, first, last  int64
	fams                []uint32
	famLines            []int64
	famFirst, famLatest []int64
}

// read reads a record appendOut wrote, reusing r's memory. It returns
// io.EOF at the end of the input.
func (r *outRec) read(br byteReader, nfam int) error {
	n, err := binary.ReadUvarint(br)
	if err != nil {
		return err // io.EOF at the end
	}
	if n > MaxMaxLine {
		return errCorrupt
	}
	d := decoder{br: br}
	if r.key = d.bytes(r.key[:0], int(n)); d.err != nil {
		return d.err
	}
	var bad bool
	u := func() int64 {
		v, err := binary.ReadUvarint(br)
		bad = bad || err != nil
		return int64(v)
	}
	r.lines = u()
	first, err := binary.ReadVarint(br)
	bad = bad || err != nil
	r.first = first
	r.last = first + u()
	nf := u()
	if bad || nf < 0 || nf > int64(nfam) {
		return errCorrupt
	}
	r.fams, r.famLines, r.famFirst, r.famLatest = r.fams[:0], r.famLines[:0], r.famFirst[:0], r.famLatest[:0]
	for range nf {
		f := u()
		if f < 0 || f >= int64(nfam) {
			return errCorrupt
		}
		l, ff := u(), first+u()
		r.fams, r.famLines = append(r.fams, uint32(f)), append(r.famLines, l)
		r.famFirst, r.famLatest = append(r.famFirst, ff), append(r.famLatest, ff+u())
	}
	if bad {
		return errCorrupt
	}
	return nil
}

// result returns the record as a SourceResult (which owns its memory).
func (r *outRec) result(names []string) SourceResult {
	sr := SourceResult{Source: string(r.key), Lines: r.lines, FirstSeen: time.Unix(0, r.first).UTC(), LastSeen: time.Unix(0, r.last).UTC(),
		Families: make([]SourceFamily, len(r.fams))}
	for i, f := range r.fams {
		sr.Families[i] = SourceFamily{Name: names[f], Lines: r.famLines[i],
			FirstSeen: time.Unix(0, r.famFirst[i]).UTC(), LastSeen: time.Unix(0, r.famLatest[i]).UTC()}
	}
	return sr
}

// compareOut is the order of the table: lines (most first), first seen,
// then the source.
func compareOut(aLines, aFirst int64, aKey []byte, bLines, bFirst int64, bKey []byte) int {
	return cmp.Or(cmp.Compare(bLines, aLines), cmp.Compare(aFirst, bFirst), bytes.Compare(aKey, bKey))
}

// keyAt returns the key of the record at off in mem.
func keyAt(mem []byte, off int64) []byte {
	n, k := binary.Uvarint(mem[off:])
	start := off + int64(k)
	return mem[start : start+int64(n)]
}

// sortMem sorts the records in memory.
func (s *Sources) sortMem() {
	slices.SortFunc(s.idx, func(a, b outMeta) int {
		return compareOut(a.lines, a.first, keyAt(s.mem, a.off), b.lines, b.first, keyAt(s.mem, b.off))
	})
}

// writeRun sorts the records in memory and writes them to the temporary
// file as a run.
func (s *Sources) writeRun() error {
	if s.file == nil {
		f, err := createTemp(s.dir)
		if err != nil {
			return err
		}
		s.file = f
	}
	s.sortMem()
	start := s.file.end
	for _, m := range s.idx {
		if err := s.file.write(s.mem[m.off : m.off+m.n]); err != nil {
			return err
		}
	}
	if err := s.file.flush(); err != nil {
		return err
	}
	s.runs = append(s.runs, section{start, s.file.end - start})
	s.mem, s.idx = s.mem[:0], s.idx[:0]
	return nil
}

// finish completes the table: the records left in memory are sorted and,
// when some are on disk already, written as the last run.
func (s *Sources) finish() error {
	if s.err != nil {
		return s.err
	}
	if s.file == nil {
		s.sortMem()
		return nil
	}
	if len(s.idx) > 0 {
		return s.writeRun()
	}
	return nil
}

// close removes the temporary file, if any.
func (s *Sources) close() error {
	if s == nil {
		return nil
	}
	return s.file.close()
}

// All yields the sources in order. It stops at the first error reading the
// temporary file, which it yields with a zero SourceResult.
func (s *Sources) All() iter.Seq2[SourceResult, error] {
	return func(yield func(SourceResult, error) bool) {
		if s == nil {
			return
		}
		var r outRec
		if s.file == nil {
			var br bytes.Reader
			for _, m := range s.idx {
				br.Reset(s.mem[m.off : m.off+m.n])
				if err := r.read(&br, len(s.names)); err != nil {
					yield(SourceResult{}, errCorrupt)
					return
				}
				if !yield(r.result(s.names), nil) {
					return
				}
			}
			return
		}
		type run struct {
			br  *bufio.Reader
			rec outRec
		}
		h := minHeap[*run]{less: func(a, b *run) bool {
			return compareOut(a.rec.lines, a.rec.first, a.rec.key, b.rec.lines, b.rec.first, b.rec.key) < 0
		}}
		size := bufSize(s.budget, len(s.runs))
		for _, sec := range s.runs {
			rn := &run{br: s.file.reader(sec, size)}
			switch err := rn.rec.read(rn.br, len(s.names)); err {
			case nil:
				h.push(rn)
			case io.EOF:
			default:
				yield(SourceResult{}, tempError(dirOf(s.file.f.Name()), err))
				return
			}
		}
		for len(h.items) > 0 {
			rn := h.items[0]
			if !yield(rn.rec.result(s.names), nil) {
				return
			}
			switch err := rn.rec.read(rn.br, len(s.names)); err {
			case nil:
				h.fix()
			case io.EOF:
				h.pop()
			default:
				yield(SourceResult{}, tempError(dirOf(s.file.f.Name()), err))
				return
			}
		}
	}
}
