package detect

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"wormwatch/internal/ctxpoll"
)

// Options configure an Analyzer.
type Options struct {
	Format         Format        // log format of every input; Auto: chosen per input
	MaxLine        int           // line length cap in bytes, MinMaxLine to MaxMaxLine; 0: DefaultMaxLine
	Families       []Family      // the signature table; nil: Builtin(); ignored when Matcher is set
	Matcher        *Matcher      // the signature table compiled (NewMatcher), used as it is; nil: compiled from Families
	SeriesInterval time.Duration // > 0: also count a sensor series with this interval (Report.Series)
	MaxSeriesRows  int64         // the most rows of the series; 0: MaxSeriesRows
	Stdin          io.Reader     // read for the path "-"; nil: os.Stdin

	// Memory is the bytes the per-source tables may take in memory (0:
	// DefaultMemory). Past it they are written to a temporary file in
	// TempDir (default os.TempDir()) and merged at the end, so that any
	// number of sources is counted exactly in bounded memory.
	Memory  int64
	TempDir string
}

// MaxSeriesRows bounds the rows of a sensor series, so that a stray time
// far from the others cannot make it huge: a series takes 24 bytes a row.
const MaxSeriesRows = 10_000_000

// Analyzer reads inputs one after the other and gathers what the
// signatures find in them. Its memory is bounded: per source, what it
// keeps (a few dozen bytes, and per family and interval it was seen in) is
// written to a temporary file past Options.Memory, and the per-hour and
// per-interval counts are bounded by the range of plausible times and
// MaxSeriesRows. It is not safe for concurrent use.
type Analyzer struct {
	opt      Options
	m        *Matcher
	gaps     []int64 // event gap per family, ns
	counts   Counts
	inputs   []Input
	ignored  []Ignored
	firstAt  [numReasons]string
	fam      []famAgg
	matched  int64
	timeMin  int64
	timeMax  int64
	haveTime bool
	dst      []int

	hours hourCounter // matched lines per hour and family

	ivl     int64 // series interval, ns; 0: no series
	maxRows int64
	probes  ivCounts

	// Per source: the table of the current chunk, the chunks spilled
	// before it, and at the end the sorted result.
	budget int64
	tab    *srcTable
	spill  *tempFile
	chunks []section
	rec    srcRec
	out    *Sources
	done   bool
}

type famAgg struct {
	lines       int64
	first, last int64
}

type hourFam struct {
	hour int64 // Unix hours
	fam  uint32
}

// NewAnalyzer checks the options and compiles the signatures (unless
// Options.Matcher is given).
func NewAnalyzer(opt Options) (*Analyzer, error) {
	if opt.MaxLine != 0 {
		if err := CheckMaxLine(opt.MaxLine); err != nil {
			return nil, err
		}
	}
	m := opt.Matcher
	if m == nil {
		fams := opt.Families
		if fams == nil {
			fams = Builtin()
		}
		var err error
		if m, err = NewMatcher(fams); err != nil {
			return nil, err
		}
	}
	switch {
	case opt.SeriesInterval < 0:
		return nil, fmt.Errorf("series interval %v is negative", opt.SeriesInterval)
	case opt.MaxSeriesRows < 0 || opt.MaxSeriesRows > MaxSeriesRows:
		return nil, fmt.Errorf("series rows cap %d: want 1 to %d (0: the default)", opt.MaxSeriesRows, MaxSeriesRows)
	case opt.Memory < 0:
		return nil, fmt.Errorf("memory %d is negative", opt.Memory)
	}
	nf := len(m.Families())
	a := &Analyzer{
		opt:     opt,
		m:       m,
		fam:     make([]famAgg, nf),
		hours:   newHourCounter(nf),
		ivl:     int64(opt.SeriesInterval),
		maxRows: cmp.Or(opt.MaxSeriesRows, MaxSeriesRows),
		budget:  cmp.Or(opt.Memory, DefaultMemory),
		tab:     newSrcTable(),
	}
	for _, f := range m.Families() {
		a.gaps = append(a.gaps, int64(f.EventGap))
	}
	return a, nil
}

// Close removes the temporary files of an analyzer whose Report was not
// taken (or failed); after a Report, the report's Close removes its own.
func (a *Analyzer) Close() error {
	err := a.spill.close()
	a.spill = nil
	if a.out != nil {
		err = errors.Join(err, a.out.close())
		a.out = nil
	}
	return err
}

// Read reads one input, called name in errors and in the report.
func (a *Analyzer) Read(ctx context.Context, name string, r io.Reader) error {
	if a.done {
		return errors.New("Read after Report")
	}
	rd, err := NewReader(name, ctxpoll.Reader{Ctx: ctx, R: r}, ReaderOptions{Format: a.opt.Format, MaxLine: a.opt.MaxLine})
	if err != nil {
		return unwrapCancel(err)
	}
	defer rd.Close()
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return unwrapCancel(err)
		}
		if err := a.add(rec); err != nil {
			var se *seriesError
			if errors.As(err, &se) {
				return &InputError{Name: name, Line: rd.Line(), Err: err}
			}
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c := rd.Counts()
	a.counts.add(&c)
	for r := range numReasons {
		if a.firstAt[r] == "" && rd.FirstSkipped(r) > 0 {
			a.firstAt[r] = fmt.Sprintf("%s:%d", name, rd.FirstSkipped(r))
		}
	}
	a.inputs = append(a.inputs, Input{Name: name, Format: rd.Format().String(), Gzip: rd.Gzip(), Counts: c})
	return nil
}

// unwrapCancel returns the context's error itself when err is a read error
// caused by it, so that callers see an interruption, not a bad input.
func unwrapCancel(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		var ie *InputError
		if errors.As(err, &ie) {
			return ie.Err
		}
	}
	return err
}

// add counts one parsed record.
func (a *Analyzer) add(rec *Record) error {
	t := rec.Time.UnixNano()
	if !a.haveTime {
		a.timeMin, a.timeMax, a.haveTime = t, t, true
	} else {
		a.timeMin, a.timeMax = min(a.timeMin, t), max(a.timeMax, t)
	}
	a.dst = a.m.Match(rec, a.dst[:0])
	if len(a.dst) == 0 {
		return nil
	}
	a.matched++
	tab := a.tab
	s := tab.source(rec.Source)
	tab.lines[s]++
	a.hours.at(t)
	for _, fi := range a.dst {
		fa := &a.fam[fi]
		if fa.lines == 0 {
			fa.first, fa.last = t, t
		} else {
			fa.first, fa.last = min(fa.first, t), max(fa.last, t)
		}
		fa.lines++
		a.hours.inc(fi)
		p := tab.part(s, uint32(fi))
		if p == nil {
			tab.newPart(s, uint32(fi), t)
			continue
		}
		if gap := a.gaps[fi]; gap == 0 || t-p.lastRead > gap || p.lastRead-t > gap {
			p.events++
		}
		p.lines++
		p.first, p.latest = min(p.first, t), max(p.latest, t)
		p.lastRead = t
	}
	if a.ivl > 0 {
		iv := floorDiv(t, a.ivl)
		if !a.probes.inc(iv, a.maxRows) {
			return a.seriesTooLong(iv)
		}
		tab.interval(s, iv)
	}
	if tab.size() > a.budget || tab.full() {
		return a.spillTable()
	}
	return nil
}

// hourCounter counts the matched lines per hour and family: the current
// hour's counts, and those of the hours before it (only the cells with
// lines).
type hourCounter struct {
	key   int64 // the current hour, in Unix hours
	cur   []int64
	used  []uint32 // the families with a count in cur
	cells map[hourFam]int64
}

// newHourCounter returns a counter for nf families.
func newHourCounter(nf int) hourCounter {
	return hourCounter{key: -1 << 62, cur: make([]int64, nf), cells: map[hourFam]int64{}}
}

// at makes the hour of t (Unix ns) the current one.
func (h *hourCounter) at(t int64) {
	if hour := floorDiv(t, int64(time.Hour)); hour != h.key {
		h.flush()
		h.key = hour
	}
}

// inc counts a line of family fi in the current hour.
func (h *hourCounter) inc(fi int) {
	if h.cur[fi] == 0 {
		h.used = append(h.used, uint32(fi))
	}
	h.cur[fi]++
}

// flush adds the current hour's counts to the cells.
func (h *hourCounter) flush() {
	for _, f := range h.used {
		h.cells[hourFam{h.key, f}] += h.cur[f]
		h.cur[f] = 0
	}
	h.used = h.used[:0]
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// ivCounts are the matched lines per interval, in an array from the first
// interval with a line to the last (with room to grow either way).
type ivCounts struct {
	lo          int64   // the interval of buf[0]
	buf         []int64 // lines of interval lo+i
	first, last int64   // the intervals with lines: first to last
	used        bool
}

// inc counts a line in interval iv; it returns false, counting nothing,
// when the intervals with lines would then span more than maxRows.
func (c *ivCounts) inc(iv, maxRows int64) bool {
	switch {
	case !c.used:
		c.lo, c.first, c.last, c.used = iv, iv, iv, true
		c.buf = make([]int64, 64)
	case iv < c.first || iv > c.last:
		first, last := min(c.first, iv), max(c.last, iv)
		if last-first+1 > maxRows {
			return false
		}
		if iv < c.lo || iv >= c.lo+int64(len(c.buf)) {
			n := min(max(2*int64(len(c.buf)), 2*(last-first+1)), maxRows)
			lo := first // room after
			if iv < c.first {
				lo = last - n + 1 // room before
			}
			buf := make([]int64, n)
			copy(buf[c.first-lo:], c.buf[c.first-c.lo:c.last-c.lo+1])
			c.lo, c.buf = lo, buf
		}
		c.first, c.last = first, last
	}
	c.buf[iv-c.lo]++
	return true
}

// seriesError is a series that would be too long.
type seriesError struct{ msg string }

// Error returns the message.
func (e *seriesError) Error() string { return e.msg }

// seriesTooLong says that a line in interval iv would make the series
// longer than allowed.
func (a *Analyzer) seriesTooLong(iv int64) error {
	lo, hi := min(a.probes.first, iv), max(a.probes.last, iv)
	when := func(iv int64) string { return time.Unix(0, iv*a.ivl).UTC().Format(time.RFC3339) }
	return &seriesError{fmt.Sprintf("the series would have %d rows of %v from %s to %s (at most %d); choose a longer interval",
		hi-lo+1, time.Duration(a.ivl), when(lo), when(hi), a.maxRows)}
}

// spillTable writes the current chunk's table to the temporary file,
// sorted by hash and key, and empties it.
func (a *Analyzer) spillTable() error {
	if a.spill == nil {
		f, err := createTemp(a.opt.TempDir)
		if err != nil {
			return err
		}
		a.spill = f
	}
	start := a.spill.end
	var buf []byte
	for _, i := range a.tab.order() {
		a.tab.load(i, &a.rec)
		buf = appendRec(buf[:0], &a.rec)
		if err := a.spill.write(buf); err != nil {
			return err
		}
	}
	if err := a.spill.flush(); err != nil {
		return err
	}
	a.chunks = append(a.chunks, section{start, a.spill.end - start})
	a.tab.reset()
	return nil
}

// Report returns what was found; call it once, after the last Read. The
// report must be closed (Report.Close) when it is no longer needed, as it
// may keep its sources in a temporary file. It is an *InputError when no
// input held a log line (all empty or blank). The per-source tables are
// merged here (from the temporary file when they were spilled), which
// stops when ctx is done.
func (a *Analyzer) Report(ctx context.Context) (*Report, error) {
	if a.done {
		return nil, errors.New("Report called twice")
	}
	a.done = true
	if a.counts.Lines-a.counts.Skipped[Empty] == 0 {
		var names []string
		for _, in := range a.inputs {
			names = append(names, in.Name)
		}
		name := "the input"
		switch {
		case len(names) == 1:
			name = names[0]
		case len(names) > 1:
			name = fmt.Sprintf("all %d inputs (%s)", len(names), strings.Join(names, ", "))
		}
		return nil, &InputError{Name: name, Err: errors.New("empty: no log lines to read")}
	}
	r := &Report{
		Inputs:  slices.Clone(a.inputs),
		Ignored: slices.Clone(a.ignored),
		Counts:  a.counts,
		Matched: a.matched,
	}
	for i := range numReasons {
		r.FirstSkipped[i] = a.firstAt[i]
	}
	if a.haveTime {
		r.Start, r.End = time.Unix(0, a.timeMin).UTC(), time.Unix(0, a.timeMax).UTC()
	}
	if a.ivl > 0 {
		r.Series = &Series{Interval: time.Duration(a.ivl)}
		if a.probes.used {
			p := &a.probes
			n := p.last - p.first + 1
			r.Series.start = p.first
			r.Series.probes = p.buf[p.first-p.lo : p.last-p.lo+1 : p.last-p.lo+1]
			r.Series.sources, r.Series.newSrc = make([]int64, n), make([]int64, n)
		}
	}
	famSources, famEvents, err := a.perSource(ctx, r.Series)
	if err != nil {
		return nil, err
	}
	for i, f := range a.m.Families() {
		fa := a.fam[i]
		fr := FamilyResult{Family: f, Lines: fa.lines, Sources: famSources[i], Events: famEvents[i]}
		if fa.lines > 0 {
			fr.FirstSeen, fr.LastSeen = time.Unix(0, fa.first).UTC(), time.Unix(0, fa.last).UTC()
			if r.FirstSeen.IsZero() || fr.FirstSeen.Before(r.FirstSeen) {
				r.FirstSeen = fr.FirstSeen
			}
			if fr.LastSeen.After(r.LastSeen) {
				r.LastSeen = fr.LastSeen
			}
		}
		r.Families = append(r.Families, fr)
	}
	r.Hourly = a.hours.result()
	r.Sources, a.out = a.out, nil
	return r, nil
}

// perSource gathers each source's record (from the table, or merged over
// the chunks spilled) and counts, per family, the sources and events, and
// per interval of the series the sources and new sources; the sources go
// to a.out, sorted.
func (a *Analyzer) perSource(ctx context.Context, ser *Series) (famSources, famEvents []int64, err error) {
	nf := len(a.fam)
	famSources, famEvents = make([]int64, nf), make([]int64, nf)
	names := make([]string, nf)
	for i, f := range a.m.Families() {
		names[i] = f.Name
	}
	a.out = &Sources{names: names, budget: a.budget, dir: a.opt.TempDir}
	finish := func(r *srcRec) {
		slices.SortFunc(r.parts, func(x, y famPart) int { return cmp.Compare(x.fam, y.fam) })
		first, last := r.parts[0].first, r.parts[0].latest
		for i := range r.parts {
			p := &r.parts[i]
			first, last = min(first, p.first), max(last, p.latest)
			famSources[p.fam]++
			famEvents[p.fam] += p.events
		}
		if ser != nil {
			slices.Sort(r.ivs)
			r.ivs = slices.Compact(r.ivs)
			for _, iv := range r.ivs {
				ser.sources[iv-ser.start]++
			}
			ser.newSrc[floorDiv(first, a.ivl)-ser.start]++ // a source's first line is in an interval with a line
		}
		a.out.add(r.key, r.lines, first, last, r.parts)
	}
	if len(a.chunks) == 0 {
		for i := range a.tab.len() {
			if i%4096 == 0 && ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			a.tab.load(uint32(i), &a.rec)
			finish(&a.rec)
		}
		a.tab = nil
	} else if err := a.merge(ctx, finish); err != nil {
		return nil, nil, err
	}
	if err := a.out.finish(); err != nil {
		return nil, nil, err
	}
	return famSources, famEvents, nil
}

// chunkReader reads the records of one spilled chunk.
type chunkReader struct {
	br  *bufio.Reader
	rec srcRec
	i   int // the chunk's place in the input
}

// merge merges the spilled chunks (and the current table, spilled last):
// they are sorted by hash and key, so the records of a source come
// together, in chunk order, which is the order they were read in.
func (a *Analyzer) merge(ctx context.Context, finish func(*srcRec)) error {
	if a.tab.len() > 0 {
		if err := a.spillTable(); err != nil {
			return err
		}
	}
	a.tab = nil // its memory is free for the merge
	nf := len(a.fam)
	h := minHeap[*chunkReader]{less: func(x, y *chunkReader) bool {
		c := compareRec(&x.rec, &y.rec)
		return c < 0 || c == 0 && x.i < y.i
	}}
	size := bufSize(a.budget, len(a.chunks))
	fail := func(err error) error { return tempError(dirOf(a.spill.f.Name()), err) }
	for i, c := range a.chunks {
		r := &chunkReader{br: a.spill.reader(c, size), i: i}
		switch err := readRec(r.br, &r.rec, nf); err {
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
			cur.merge(&r.rec, a.gaps)
		} else {
			if have {
				finish(&cur)
			}
			cur.set(&r.rec)
			have = true
		}
		switch err := readRec(r.br, &r.rec, nf); err {
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
	err := a.spill.close()
	a.spill = nil
	return err
}

// result returns the matched lines per hour and family, by hour.
func (h *hourCounter) result() []HourCounts {
	h.flush()
	type cell struct {
		hourFam
		n int64
	}
	cells := make([]cell, 0, len(h.cells))
	for k, n := range h.cells {
		cells = append(cells, cell{k, n})
	}
	slices.SortFunc(cells, func(x, y cell) int { return cmp.Or(cmp.Compare(x.hour, y.hour), cmp.Compare(x.fam, y.fam)) })
	fams, counts := make([]int, len(cells)), make([]int64, len(cells))
	var out []HourCounts
	for i := 0; i < len(cells); {
		j := i
		for ; j < len(cells) && cells[j].hour == cells[i].hour; j++ {
			fams[j], counts[j] = int(cells[j].fam), cells[j].n
		}
		out = append(out, HourCounts{Hour: time.Unix(cells[i].hour*3600, 0).UTC(), Families: fams[i:j:j], Counts: counts[i:j:j]})
		i = j
	}
	return out
}
