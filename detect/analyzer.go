package detect

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Options configure an Analyzer.
type Options struct {
	Format         Format        // log format of every input; Auto: chosen per input
	MaxLine        int           // line length cap in bytes; 0: DefaultMaxLine
	Families       []Family      // the signature table; nil: Builtin(); ignored when Matcher is set
	Matcher        *Matcher      // the signature table compiled (NewMatcher), used as it is; nil: compiled from Families
	SeriesInterval time.Duration // > 0: also count a sensor series with this interval (Report.Series)
	Stdin          io.Reader     // read for the path "-"; nil: os.Stdin
}

// MaxSeriesRows bounds the rows of a sensor series, so that a stray time
// far from the others cannot make it huge.
const MaxSeriesRows = 10_000_000

// Analyzer reads inputs one after the other and gathers what the
// signatures find in them. Its memory grows with the worm sources seen and
// the hours they were active in (and, for a series, the intervals each
// source was seen in), not with the size of the inputs. It is not safe for
// concurrent use.
type Analyzer struct {
	opt      Options
	m        *Matcher
	gaps     []int64 // event gap per family, ns
	counts   Counts
	inputs   []Input
	ignored  []Ignored
	firstAt  [numReasons]string
	fam      []famAgg
	src      map[string]*srcAgg
	srcs     []*srcAgg
	hourIdx  map[int64]int32 // hour (Unix hours) -> its index in hours
	hours    []int64         // the hours with a match, in order of first appearance
	counts1h [][]int64       // their counts, len(fam) per hour, in chunks of hourChunk hours (no big copy as they grow)
	hourKey  int64
	hourRow  []int64
	matched  int64
	timeMin  int64
	timeMax  int64
	haveTime bool
	dst      []int

	ivl     int64 // series interval, ns; 0: no series
	ivRows  map[int64]*SeriesRow
	ivKey   int64
	ivRow   *SeriesRow
	ivPairs map[srcInterval]struct{}
}

type famAgg struct {
	lines, sources, events int64
	first, last            int64
}

type srcAgg struct {
	id          int32
	haveIv      bool
	name        string
	lines       int64
	first, last int64
	fam         []srcFam // the families the source matched, in order of first match (few: a slice beats an array per family)
	lastIv      int64
}

type srcFam struct {
	fam           int
	lines         int64
	first, latest int64 // earliest and latest time
	prev          int64 // time of the line read last, for the event gap
}

type srcInterval struct {
	src int32
	iv  int64
}

// NewAnalyzer checks the options and compiles the signatures.
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
	if opt.SeriesInterval < 0 {
		return nil, fmt.Errorf("series interval %v is negative", opt.SeriesInterval)
	}
	a := &Analyzer{
		opt:     opt,
		m:       m,
		fam:     make([]famAgg, len(m.Families())),
		src:     map[string]*srcAgg{},
		hourIdx: map[int64]int32{},
		ivl:     int64(opt.SeriesInterval),
	}
	a.hourKey = -1 << 62
	a.ivKey = -1 << 62
	for _, f := range m.Families() {
		a.gaps = append(a.gaps, int64(f.EventGap))
	}
	if a.ivl > 0 {
		a.ivRows = map[int64]*SeriesRow{}
		a.ivPairs = map[srcInterval]struct{}{}
	}
	return a, nil
}

// Path is an input to read: a file, or "-" for standard input.
type Path struct {
	Name    string
	FromDir bool // found by walking a folder given on the command line
}

// Expand turns the paths a user gave into the inputs to read: a file is
// itself, a folder all the regular files below it (recursively, in lexical
// order), "-" standard input. A path that does not exist or cannot be read
// is an *InputError.
func Expand(paths []string) ([]Path, error) {
	var out []Path
	for _, p := range paths {
		if p == "-" {
			out = append(out, Path{Name: p})
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, &InputError{Name: p, Err: pathErr(err)}
		}
		if !st.IsDir() {
			out = append(out, Path{Name: p})
			continue
		}
		err = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				return &InputError{Name: q, Err: pathErr(err)}
			}
			if d.IsDir() {
				return nil
			}
			if d.Type()&fs.ModeSymlink != 0 {
				st, err := os.Stat(q)
				if err != nil || !st.Mode().IsRegular() {
					return nil // a dangling link or a link to a folder: not followed
				}
			} else if !d.Type().IsRegular() {
				return nil
			}
			out = append(out, Path{Name: q, FromDir: true})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// pathErr drops the path from an *fs.PathError, which InputError names.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// Analyze reads every input of paths (see Expand) and returns the report.
// A file found in a folder whose format cannot be told is passed over and
// listed in Report.Ignored; any other problem with an input is an
// *InputError, and so is an input with no log line at all.
func Analyze(ctx context.Context, paths []string, opt Options) (*Report, error) {
	a, err := NewAnalyzer(opt)
	if err != nil {
		return nil, err
	}
	in, err := Expand(paths)
	if err != nil {
		return nil, err
	}
	if len(in) == 0 {
		return nil, &InputError{Name: strings.Join(paths, ", "), Err: errors.New("no files to read (empty folder)")}
	}
	for _, p := range in {
		err := a.ReadPath(ctx, p.Name)
		if p.FromDir && errors.Is(err, ErrUnknownFormat) {
			var ie *InputError
			errors.As(err, &ie)
			a.ignored = append(a.ignored, Ignored{Name: p.Name, Reason: ie.Err.Error()})
			continue
		}
		if err != nil {
			return nil, err
		}
	}
	if len(a.inputs) == 0 && len(a.ignored) > 0 {
		return nil, &InputError{Name: a.ignored[0].Name, Err: fmt.Errorf("%s (and no other file found was a log either)", a.ignored[0].Reason)}
	}
	return a.Report()
}

// ReadPath reads one file, or standard input for "-".
func (a *Analyzer) ReadPath(ctx context.Context, path string) error {
	if path == "-" {
		in := a.opt.Stdin
		if in == nil {
			in = os.Stdin
		}
		return a.Read(ctx, "stdin", in)
	}
	f, err := os.Open(path)
	if err != nil {
		return &InputError{Name: path, Err: pathErr(err)}
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return &InputError{Name: path, Err: errors.New("is a folder; give it to Analyze or Expand")}
	}
	return a.Read(ctx, path, f)
}

// Read reads one input, called name in errors and in the report.
func (a *Analyzer) Read(ctx context.Context, name string, r io.Reader) error {
	rd, err := NewReader(name, ctxReader{ctx, r}, ReaderOptions{Format: a.opt.Format, MaxLine: a.opt.MaxLine})
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
		a.add(rec)
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

// ctxReader stops reading when its context is done: checked once per read
// of the buffer (64 KB), so a long input, even one of skipped lines, stops
// soon after Ctrl-C.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

// Read fails with the context's error once it is done.
func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
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
func (a *Analyzer) add(rec *Record) {
	t := rec.Time.UnixNano()
	if !a.haveTime {
		a.timeMin, a.timeMax, a.haveTime = t, t, true
	} else {
		a.timeMin, a.timeMax = min(a.timeMin, t), max(a.timeMax, t)
	}
	a.dst = a.m.Match(rec, a.dst[:0])
	if len(a.dst) == 0 {
		return
	}
	a.matched++
	s := a.src[string(rec.Source)]
	if s == nil {
		s = &srcAgg{id: int32(len(a.srcs)), name: string(rec.Source), first: t, last: t}
		a.src[s.name] = s
		a.srcs = append(a.srcs, s)
	}
	s.lines++
	s.first, s.last = min(s.first, t), max(s.last, t)
	if hour := floorDiv(t, int64(time.Hour)); hour != a.hourKey {
		a.hourKey = hour
		row, found := a.hourIdx[hour]
		if !found {
			row = int32(len(a.hours))
			a.hourIdx[hour] = row
			a.hours = append(a.hours, hour)
			if int(row)%hourChunk == 0 {
				a.counts1h = append(a.counts1h, make([]int64, hourChunk*len(a.fam)))
			}
		}
		a.hourRow = a.hourCounts(int(row))
	}
	for _, fi := range a.dst {
		fa := &a.fam[fi]
		if fa.lines == 0 {
			fa.first, fa.last = t, t
		} else {
			fa.first, fa.last = min(fa.first, t), max(fa.last, t)
		}
		fa.lines++
		a.hourRow[fi]++
		var sf *srcFam
		for i := range s.fam {
			if s.fam[i].fam == fi {
				sf = &s.fam[i]
				break
			}
		}
		gap := a.gaps[fi]
		switch {
		case sf == nil:
			s.fam = append(s.fam, srcFam{fam: fi, first: t, latest: t})
			sf = &s.fam[len(s.fam)-1]
			fa.sources++
			fa.events++
		case gap == 0 || t-sf.prev > gap || sf.prev-t > gap:
			fa.events++
		}
		sf.lines++
		sf.first, sf.latest = min(sf.first, t), max(sf.latest, t)
		sf.prev = t
	}
	if a.ivl > 0 {
		iv := floorDiv(t, a.ivl)
		if iv != a.ivKey {
			a.ivKey = iv
			a.ivRow = a.ivRows[iv]
			if a.ivRow == nil {
				a.ivRow = &SeriesRow{Time: time.Unix(0, iv*a.ivl).UTC()}
				a.ivRows[iv] = a.ivRow
			}
		}
		a.ivRow.Probes++
		if !s.haveIv || s.lastIv != iv {
			k := srcInterval{s.id, iv}
			if _, seen := a.ivPairs[k]; !seen {
				a.ivPairs[k] = struct{}{}
				a.ivRow.Sources++
			}
			s.lastIv, s.haveIv = iv, true
		}
	}
}

// hourChunk is the number of hours of counts allocated at once.
const hourChunk = 4096

// hourCounts returns the counts of hour row i (the slice is shared).
func (a *Analyzer) hourCounts(i int) []int64 {
	n := len(a.fam)
	c := a.counts1h[i/hourChunk]
	j := i % hourChunk * n
	return c[j : j+n : j+n]
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Report returns what was found. Call it once, after the last Read: the
// report shares memory with the analyzer. It is an *InputError when no input
// held a log line (all empty or blank).
func (a *Analyzer) Report() (*Report, error) {
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
	for i, f := range a.m.Families() {
		fa := a.fam[i]
		fr := FamilyResult{Family: f, Lines: fa.lines, Sources: fa.sources, Events: fa.events}
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
	for _, s := range a.srcs {
		sr := SourceResult{Source: s.name, Lines: s.lines, FirstSeen: time.Unix(0, s.first).UTC(), LastSeen: time.Unix(0, s.last).UTC()}
		fams := slices.SortedFunc(slices.Values(s.fam), func(x, y srcFam) int { return x.fam - y.fam })
		for _, sf := range fams {
			sr.Families = append(sr.Families, SourceFamily{Name: r.Families[sf.fam].Name, Lines: sf.lines,
				FirstSeen: time.Unix(0, sf.first).UTC(), LastSeen: time.Unix(0, sf.latest).UTC()})
		}
		r.Sources = append(r.Sources, sr)
	}
	slices.SortFunc(r.Sources, func(x, y SourceResult) int {
		return cmp.Or(cmp.Compare(y.Lines, x.Lines), x.FirstSeen.Compare(y.FirstSeen), strings.Compare(x.Source, y.Source))
	})
	r.Hourly = make([]HourCounts, len(a.hours))
	for i, h := range a.hours {
		r.Hourly[i] = HourCounts{Hour: time.Unix(h*3600, 0).UTC(), Counts: a.hourCounts(i)}
	}
	if !slices.IsSortedFunc(r.Hourly, func(x, y HourCounts) int { return x.Hour.Compare(y.Hour) }) {
		slices.SortFunc(r.Hourly, func(x, y HourCounts) int { return x.Hour.Compare(y.Hour) })
	}
	if a.ivl > 0 {
		s, err := a.series()
		if err != nil {
			return nil, err
		}
		r.Series = s
	}
	return r, nil
}

// series builds the sensor series from the intervals with a matched line.
func (a *Analyzer) series() (*Series, error) {
	s := &Series{Interval: time.Duration(a.ivl)}
	if len(a.ivRows) == 0 {
		return s, nil
	}
	ivs := slices.Sorted(maps.Keys(a.ivRows))
	lo, hi := ivs[0], ivs[len(ivs)-1]
	if n := hi - lo + 1; n > MaxSeriesRows {
		return nil, fmt.Errorf("the series would have %d rows of %v from %s to %s (at most %d); choose a longer interval",
			n, s.Interval, time.Unix(0, lo*a.ivl).UTC().Format(time.RFC3339), time.Unix(0, hi*a.ivl).UTC().Format(time.RFC3339), MaxSeriesRows)
	}
	newAt := map[int64]int64{}
	for _, src := range a.srcs {
		newAt[floorDiv(src.first, a.ivl)]++ // a source's first line is in an interval with a matched line
	}
	var cum int64
	s.nonEmpty = make([]SeriesRow, 0, len(ivs))
	for _, iv := range ivs {
		row := *a.ivRows[iv]
		row.NewSources = newAt[iv]
		cum += row.NewSources
		row.CumulativeSources = cum
		s.nonEmpty = append(s.nonEmpty, row)
	}
	return s, nil
}
