package detect

import (
	"bytes"
	"context"
	"io"
)

// srcAgg is one per-source aggregation: the table of the current chunk,
// the chunks spilled before it to a temporary file, and the merge that
// gives each source's record over all of them. The analyzer has two: the
// sources of matched requests (parts per family) and the sources of
// connection attempts (parts per transport and port).
type srcAgg struct {
	tab    *srcTable
	spill  *tempFile
	chunks []section
	rec    srcRec  // scratch for spilling
	gaps   []int64 // event gap per part number (family), ns; nil: every line an event
	dir    string  // the folder of the temporary file
	budget int64   // the memory of the tables, for the merge's buffers
}

func newSrcAgg(gaps []int64, dir string, budget int64) srcAgg {
	return srcAgg{tab: newSrcTable(), gaps: gaps, dir: dir, budget: budget}
}

// spillTable writes the current chunk's table to the temporary file,
// sorted by hash and key, and empties it.
func (g *srcAgg) spillTable() error {
	if g.spill == nil {
		f, err := createTemp(g.dir)
		if err != nil {
			return err
		}
		g.spill = f
	}
	start := g.spill.end
	var buf []byte
	for _, i := range g.tab.order() {
		g.tab.load(i, &g.rec)
		buf = appendRec(buf[:0], &g.rec)
		if err := g.spill.write(buf); err != nil {
			return err
		}
	}
	if err := g.spill.flush(); err != nil {
		return err
	}
	g.chunks = append(g.chunks, section{start, g.spill.end - start})
	g.tab.reset()
	return nil
}

// close removes the temporary file, if any.
func (g *srcAgg) close() error {
	err := g.spill.close()
	g.spill = nil
	return err
}

// each calls finish with every source's record, gathered over the chunks
// (in no particular order of sources), nparts being the number of part
// numbers the records may hold. With consume, the aggregation is used up:
// the table is spilled (or freed) first, so that its memory serves the
// merge, and the temporary file is removed after it. Without, nothing
// changes: the table is read where it is, as the last chunk, and more
// lines may be added afterwards.
func (g *srcAgg) each(ctx context.Context, nparts int, consume bool, finish func(*srcRec)) error {
	if len(g.chunks) == 0 {
		var r srcRec
		for i := range g.tab.len() {
			if i%4096 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			g.tab.load(uint32(i), &r)
			finish(&r)
		}
		if consume {
			g.tab = nil
		}
		return nil
	}
	if consume && g.tab.len() > 0 {
		if err := g.spillTable(); err != nil {
			return err
		}
	}
	var srcs []*chunkReader
	size := bufSize(g.budget, len(g.chunks))
	for i, c := range g.chunks {
		br := g.spill.reader(c, size)
		srcs = append(srcs, &chunkReader{i: i, next: func(r *srcRec) error { return readRec(br, r, nparts) }})
	}
	if !consume && g.tab.len() > 0 {
		order, k, tab := g.tab.order(), 0, g.tab
		srcs = append(srcs, &chunkReader{i: len(g.chunks), next: func(r *srcRec) error {
			if k == len(order) {
				return io.EOF
			}
			tab.load(order[k], r)
			k++
			return nil
		}})
	}
	if consume {
		g.tab = nil // its memory is free for the merge
	}
	if err := g.merge(ctx, srcs, finish); err != nil {
		return err
	}
	if consume {
		return g.close()
	}
	return nil
}

// chunkReader reads the records of one chunk: spilled, or the table in
// memory.
type chunkReader struct {
	next func(*srcRec) error // reads the next record into its argument; io.EOF at the end
	rec  srcRec
	i    int // the chunk's place in the input
}

// merge merges the chunks: they are sorted by hash and key, so the records
// of a source come together, in chunk order, which is the order they were
// read in.
func (g *srcAgg) merge(ctx context.Context, srcs []*chunkReader, finish func(*srcRec)) error {
	h := minHeap[*chunkReader]{less: func(x, y *chunkReader) bool {
		c := compareRec(&x.rec, &y.rec)
		return c < 0 || c == 0 && x.i < y.i
	}}
	fail := func(err error) error { return tempError(dirOf(g.spill.f.Name()), err) }
	for _, r := range srcs {
		switch err := r.next(&r.rec); err {
		case nil:
			h.push(r)
		case io.EOF:
		default:
			return fail(err)
		}
	}
	var cur srcRec
	have := false
	for n := 0; len(h.items) > 0; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		r := h.items[0]
		if have && cur.hash == r.rec.hash && bytes.Equal(cur.key, r.rec.key) {
			cur.merge(&r.rec, g.gaps)
		} else {
			if have {
				finish(&cur)
			}
			cur.set(&r.rec)
			have = true
		}
		switch err := r.next(&r.rec); err {
		case nil:
			h.fix()
		case io.EOF:
			h.pop()
		default:
			return fail(err)
		}
	}
	if have {
		finish(&cur)
	}
	return nil
}
