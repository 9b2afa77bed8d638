package detect

import (
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
	SeriesOf       SeriesOf      // what the series counts: matched requests (the zero value), attempts, or auto
	MaxSeriesRows  int64         // the most rows of the series; 0: MaxSeriesRows
	Stdin          io.Reader     // read for the path "-"; nil: os.Stdin

	// Openers read inputs that are not text logs (packet captures: package
	// ingest/packet), each told by its first bytes; Read tries them in
	// order before reading an input as a log.
	Openers []Opener

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

// Analyzer gathers what the signatures find in records and counts the
// connection attempts among them. Records come from inputs it reads itself
// (Read, ReadPath, Analyze) or are given one at a time (Add) by a caller
// that reads its inputs (a LineReader on a followed log, a capture reader)
// and tells the analyzer of them (Track). Report, or Snapshot at any moment
// and repeatedly, says what was found. Its memory is bounded: per source,
// what it keeps (a few dozen bytes, and per family and interval it was
// seen in) is written to a temporary file past Options.Memory, and the
// per-hour and per-interval counts are bounded by the range of plausible
// times and MaxSeriesRows. It is not safe for concurrent use.
type Analyzer struct {
	opt      Options
	m        *Matcher
	gaps     []int64 // event gap per family, ns
	inputs   []InputSource
	ignored  []Ignored
	fam      []famAgg
	matched  int64
	timeMin  int64
	timeMax  int64
	haveTime bool
	dst      []int

	hours hourCounter // matched lines per hour and family

	ivl       int64 // series interval, ns; 0: no series
	reqSeries bool  // the series may count requests (SeriesOf is requests or auto)
	maxRows   int64
	probes    ivCounts

	budget int64
	req    srcAgg // the sources of matched requests: parts per family
	att    attAgg // connection attempts
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
	case opt.SeriesOf.Kind > SeriesAuto || opt.SeriesOf.Transport > UDP:
		return nil, fmt.Errorf("series of %+v: no such series", opt.SeriesOf)
	}
	nf := len(m.Families())
	a := &Analyzer{
		opt:       opt,
		m:         m,
		fam:       make([]famAgg, nf),
		hours:     newHourCounter(nf),
		ivl:       int64(opt.SeriesInterval),
		reqSeries: opt.SeriesInterval > 0 && opt.SeriesOf.Kind != SeriesAttempts,
		maxRows:   cmp.Or(opt.MaxSeriesRows, MaxSeriesRows),
		budget:    cmp.Or(opt.Memory, DefaultMemory),
	}
	for _, f := range m.Families() {
		a.gaps = append(a.gaps, int64(f.EventGap))
	}
	a.req = newSrcAgg(a.gaps, opt.TempDir, a.budget)
	a.att.src = newSrcAgg(nil, opt.TempDir, a.budget)
	a.att.src.tab.hashParts = true
	return a, nil
}

// Close removes the temporary files of an analyzer whose Report was not
// taken (or failed); after a Report, the report's Close removes its own.
func (a *Analyzer) Close() error {
	return errors.Join(a.req.close(), a.att.src.close())
}

// InputSource is an input being read, as a report shows it: the analyzer
// asks for its entry whenever it makes a report, so that a report made
// while the input is still being read (Snapshot) counts its lines so far.
// *Reader, *LineReader and the readers of Openers are InputSources.
type InputSource interface {
	Input() Input
}

// Track adds an input to the report's inputs, after those tracked before:
// its lines, skipped lines and packets count in the report's totals as
// they are when the report is made. Read tracks the inputs it reads; a
// caller that gives records with Add tracks the inputs it reads them from.
func (a *Analyzer) Track(in InputSource) { a.inputs = append(a.inputs, in) }

// recordReader is an input read record by record: a log (*Reader) or a
// reader of an Opener.
type recordReader interface {
	InputSource
	Next() (*Record, error)
	Close() error
}

// Read reads one input, called name in errors and in the report: a
// capture when one of Options.Openers recognises its first bytes (after
// gzip is unpacked), else a log.
func (a *Analyzer) Read(ctx context.Context, name string, r io.Reader) error {
	if a.done {
		return errors.New("Read after Report")
	}
	rd, err := a.open(name, ctxpoll.Reader{Ctx: ctx, R: r})
	if err != nil {
		return unwrapCancel(err)
	}
	defer rd.Close()
	a.Track(rd)
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return unwrapCancel(err)
		}
		if err := a.Add(rec); err != nil {
			var se *seriesError
			if errors.As(err, &se) {
				ie := &InputError{Name: name, Line: rec.Pos, Err: err}
				if in := rd.Input(); in.Packets != nil {
					ie.Line, ie.Packet = 0, rec.Pos
				}
				return ie
			}
			return err
		}
	}
	return ctx.Err()
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

// open prepares to read an input: with an Opener that recognises it, or as
// a log.
func (a *Analyzer) open(name string, r io.Reader) (recordReader, error) {
	opt := ReaderOptions{Format: a.opt.Format, MaxLine: a.opt.MaxLine}
	if len(a.opt.Openers) == 0 {
		return NewReader(name, r, opt)
	}
	st, err := openStream(name, r, opt.maxLine())
	if err != nil {
		return nil, err
	}
	head, err := st.br.Peek(16)
	if err != nil && err != io.EOF {
		return nil, st.readError(err, 1)
	}
	for _, o := range a.opt.Openers {
		if o.Sniff(head) {
			rr, err := o.Open(name, st.br)
			if err != nil {
				st.close()
				return nil, err
			}
			return &openedReader{RecordReader: rr, st: st}, nil
		}
	}
	return newReaderStream(name, st, opt)
}

// Add counts one record: a request is matched against the signatures (and
// counted when it matches), an attempt is counted per port. Its error
// (a series that would be too long, a temporary file that cannot be
// written) names no input: the caller knows where the record came from.
func (a *Analyzer) Add(rec *Record) error {
	if a.done {
		return errors.New("Add after Report")
	}
	return a.add(rec)
}

// add counts one parsed record.
func (a *Analyzer) add(rec *Record) error {
	t := rec.Time.UnixNano()
	if !a.haveTime {
		a.timeMin, a.timeMax, a.haveTime = t, t, true
	} else {
		a.timeMin, a.timeMax = min(a.timeMin, t), max(a.timeMax, t)
	}
	if rec.Attempt {
		return a.addAttempt(rec, t)
	}
	a.dst = a.m.Match(rec, a.dst[:0])
	return a.addFamilies(rec, t, a.dst)
}

// AddMatched counts one record as Add does, except that a request is not
// matched against the signatures: fams are the families it matched
// (indices into the Matcher's Families, increasing, as Matcher.Match gives
// them; none when it matched nothing, which moves only the report's start
// and end). It is for a caller that has matched the record already (the
// live service matches each record once, for the analyzer and for its
// online analysis) or that rebuilds an analyzer from the matches it
// stored: the report is the one Add would have given. An attempt is
// counted as Add counts it (fams must be empty).
func (a *Analyzer) AddMatched(rec *Record, fams []int) error {
	if a.done {
		return errors.New("AddMatched after Report")
	}
	prev := -1
	for _, f := range fams {
		if f <= prev || f >= len(a.fam) {
			return fmt.Errorf("families %v: want increasing indices below %d", fams, len(a.fam))
		}
		prev = f
	}
	if rec.Attempt && len(fams) > 0 {
		return errors.New("an attempt matches no family")
	}
	t := rec.Time.UnixNano()
	if !a.haveTime {
		a.timeMin, a.timeMax, a.haveTime = t, t, true
	} else {
		a.timeMin, a.timeMax = min(a.timeMin, t), max(a.timeMax, t)
	}
	if rec.Attempt {
		return a.addAttempt(rec, t)
	}
	return a.addFamilies(rec, t, fams)
}

// addFamilies counts a request of time t (Unix ns) that matched the
// families fams.
func (a *Analyzer) addFamilies(rec *Record, t int64, fams []int) error {
	if len(fams) == 0 {
		return nil
	}
	a.matched++
	tab := a.req.tab
	s := tab.source(rec.Source)
	tab.lines[s]++
	a.hours.at(t)
	for _, fi := range fams {
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
	if a.reqSeries {
		iv := floorDiv(t, a.ivl)
		if !a.probes.inc(iv, a.maxRows) {
			return a.seriesTooLong(&a.probes, iv)
		}
		tab.interval(s, iv)
	}
	if tab.size()+a.att.src.tab.size() > a.budget || tab.full() {
		return a.req.spillTable()
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

// seriesTooLong says that a line in interval iv would make the series of
// counts c longer than allowed.
func (a *Analyzer) seriesTooLong(c *ivCounts, iv int64) error {
	lo, hi := min(c.first, iv), max(c.last, iv)
	when := func(iv int64) string { return time.Unix(0, iv*a.ivl).UTC().Format(time.RFC3339) }
	return &seriesError{fmt.Sprintf("the series would have %d rows of %v from %s to %s (at most %d); choose a longer interval",
		hi-lo+1, time.Duration(a.ivl), when(lo), when(hi), a.maxRows)}
}

// ErrNoLines is wrapped by the *InputError of Report and Snapshot when no
// input held a log line or a packet (all empty or blank).
var ErrNoLines = errors.New("empty: no log lines to read")

// Report returns what was found; call it once, after the last Read (or
// Add). The report must be closed (Report.Close) when it is no longer
// needed, as it may keep its sources in a temporary file. It is an
// *InputError wrapping ErrNoLines when no input held a log line or a
// packet (all empty or blank). The per-source tables are merged here
// (from the temporary file when they were spilled), which stops when ctx
// is done; their memory is freed as they are merged, which is why the
// analyzer cannot be used afterwards (Snapshot can, repeatedly).
func (a *Analyzer) Report(ctx context.Context) (*Report, error) {
	if a.done {
		return nil, errors.New("Report called twice")
	}
	a.done = true
	return a.report(ctx, true)
}

// Snapshot returns what was found so far, without using up the analyzer:
// records may be added after it, and it may be called again, at any
// moment, each time giving the report that Report would give if the
// records added so far were all. The inputs tracked count as they are at
// the call. Like Report's, the result must be closed, and its error is an
// *InputError wrapping ErrNoLines when nothing was read yet. It costs a
// merge of the per-source tables (reading the spilled ones back when there
// are some): call it when a report is wanted, not per record.
func (a *Analyzer) Snapshot(ctx context.Context) (*Report, error) {
	if a.done {
		return nil, errors.New("Snapshot after Report")
	}
	return a.report(ctx, false)
}

// report makes the report; with consume, using up the per-source tables.
func (a *Analyzer) report(ctx context.Context, consume bool) (*Report, error) {
	r := &Report{Ignored: slices.Clone(a.ignored), Matched: a.matched}
	for _, src := range a.inputs {
		in := src.Input()
		r.Inputs = append(r.Inputs, in)
		r.Counts.add(&in.Counts)
		for why := range numReasons {
			if r.FirstSkipped[why] == "" && in.SkippedAt[why] > 0 {
				r.FirstSkipped[why] = fmt.Sprintf("%s:%d", in.Name, in.SkippedAt[why])
			}
		}
		if in.Packets != nil {
			r.Packets += in.Packets.Packets
		}
	}
	if r.Lines-r.Skipped[Empty] == 0 && r.Packets == 0 {
		var names []string
		for _, in := range r.Inputs {
			names = append(names, in.Name)
		}
		name := "the input"
		switch {
		case len(names) == 1:
			name = names[0]
		case len(names) > 1:
			name = fmt.Sprintf("all %d inputs (%s)", len(names), strings.Join(names, ", "))
		}
		return nil, &InputError{Name: name, Err: ErrNoLines}
	}
	if a.haveTime {
		r.Start, r.End = time.Unix(0, a.timeMin).UTC(), time.Unix(0, a.timeMax).UTC()
	}
	var reqSer, attSer *Series
	if a.ivl > 0 {
		k := a.opt.SeriesOf.Kind
		ofAttempts := k == SeriesAttempts || k == SeriesAuto && a.matched == 0 && a.att.count > 0
		counts := &a.probes
		if ofAttempts {
			counts = &a.att.probes
		}
		r.Series = &Series{Interval: time.Duration(a.ivl), Attempts: ofAttempts}
		if counts.used {
			n := counts.last - counts.first + 1
			r.Series.start = counts.first
			r.Series.probes = counts.buf[counts.first-counts.lo : counts.last-counts.lo+1 : counts.last-counts.lo+1]
			if !consume {
				r.Series.probes = slices.Clone(r.Series.probes)
			}
			r.Series.sources, r.Series.newSrc = make([]int64, n), make([]int64, n)
		}
		if ofAttempts {
			attSer = r.Series
		} else {
			reqSer = r.Series
		}
	}
	famSources, famEvents, sources, err := a.perSource(ctx, reqSer, consume)
	if err != nil {
		return nil, err
	}
	r.Sources = sources
	if r.Attempts, err = a.attempts(ctx, consume, attSer); err != nil {
		r.Sources.close()
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
	return r, nil
}

// perSource gathers each source's record (from the table, or merged over
// the chunks spilled) and counts, per family, the sources and events, and
// per interval of the series the sources and new sources; it returns the
// sources, sorted.
func (a *Analyzer) perSource(ctx context.Context, ser *Series, consume bool) (famSources, famEvents []int64, out *Sources, err error) {
	nf := len(a.fam)
	famSources, famEvents = make([]int64, nf), make([]int64, nf)
	names := make([]string, nf)
	for i, f := range a.m.Families() {
		names[i] = f.Name
	}
	out = &Sources{names: names, budget: a.budget, dir: a.opt.TempDir}
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
		out.add(r.key, r.lines, first, last, r.parts)
	}
	if err := a.req.each(ctx, nf, consume, finish); err != nil {
		out.close()
		return nil, nil, nil, err
	}
	if err := out.finish(); err != nil {
		out.close()
		return nil, nil, nil, err
	}
	return famSources, famEvents, out, nil
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
