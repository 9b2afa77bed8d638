package results

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// SensorRow is one interval of a sensor series.
type SensorRow struct {
	Time              time.Time // start of the interval (UTC)
	Probes            int64     // probes that reached the sensor during the interval
	Sources           int64     // distinct sources seen during the interval
	NewSources        int64     // sources seen for the first time during the interval
	CumulativeSources int64     // distinct sources seen from the start to the end of the interval
}

// SensorSeries is what one sensor saw, one row per interval of equal
// width, as ReadSensorSeries read it.
type SensorSeries struct {
	Name     string        // where it came from (a file name), for messages
	Size     uint64        // addresses the sensor watches
	Interval time.Duration // width of every interval
	Rows     []SensorRow
}

// SeriesLimits are the bounds ReadSensorSeries holds a series to, set by
// the program that reads it (package forecast's caps), and the words its
// messages use for them. Every field must be set.
type SeriesLimits struct {
	// Reader names the program whose caps these are in messages
	// ("forecast": "forecast's cap").
	Reader string
	// MinRows and MaxRows bound the number of rows; MaxRowsText says what
	// MaxRows is ("two years of 1-minute intervals").
	MinRows, MaxRows int
	MaxRowsText      string
	// MaxBytes and MaxLineBytes cap the bytes read in all and on one line
	// (LimitReader).
	MaxBytes     int64
	MaxLineBytes int
	// MaxSize is the largest size column.
	MaxSize uint64
	// Times are from MinTime and before MaxTime; MinTimeText says what a
	// time before MinTime is ("1970-01-01 (negative time)").
	MinTime, MaxTime time.Time
	MinTimeText      string
	// MaxInterval is the widest interval, MaxIntervalText the same in
	// words ("366 days").
	MaxInterval     time.Duration
	MaxIntervalText string
}

// ctxCheckRows is how many rows a reader goes between checks of its
// context.
const ctxCheckRows = 4096

// eachRecord reads the records of cr to the end, giving each to row with
// its number (from 0); it checks ctx every ctxCheckRows records, and turns
// a failed read into the reader's error with csvErr.
func eachRecord(ctx context.Context, cr *csv.Reader, row func(n int, rec []string) error, csvErr func(error) error) error {
	for n := 0; ; n++ {
		if n%ctxCheckRows == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return csvErr(err)
		}
		if err := row(n, rec); err != nil {
			return err
		}
	}
}

// rowChunk is the most rows of one chunk of ReadSensorSeries (the first
// ones are smaller, for short series).
const rowChunk = 1 << 14

// ReadSensorSeries reads a sensor series CSV (SensorColumns) from r, one
// record at a time (the text is never held whole; only the parsed rows
// are kept). name is used in error messages. It is strict: the header must
// hold exactly SensorColumns, in any order; every count is a non-negative
// integer with probes >= sources >= new_sources; cumulative_sources grows
// by new_sources from row to row; size is the same integer from 1 to
// lim.MaxSize on every row; times are RFC 3339, from lim.MinTime and
// before lim.MaxTime, strictly increasing and equally spaced by at most
// lim.MaxInterval; and there are lim.MinRows to lim.MaxRows rows. It reads
// at most lim.MaxBytes, and lines of at most lim.MaxLineBytes. The first
// problem found is returned as an *Error naming the file, line and column.
// It checks ctx every few thousand rows, and returns ctx's error once ctx
// is done.
func ReadSensorSeries(ctx context.Context, r io.Reader, name string, lim SeriesLimits) (*SensorSeries, error) {
	sr := &seriesReader{ctx: ctx, name: name, lim: lim,
		cr: csv.NewReader(NewLimitReader(r, lim.MaxBytes, lim.MaxLineBytes))}
	sr.cr.ReuseRecord = true
	if err := sr.header(); err != nil {
		return nil, err
	}
	if err := eachRecord(ctx, sr.cr, sr.row, sr.csvError); err != nil {
		return nil, err
	}
	return sr.series()
}

// seriesReader is the state of ReadSensorSeries.
type seriesReader struct {
	ctx  context.Context
	name string
	lim  SeriesLimits
	cr   *csv.Reader
	idx  [6]int // the position of each of SensorColumns in a record
	s    SensorSeries
	// prev is the row before; firstLine the line of the first row.
	prev      SensorRow
	firstLine int
	// The rows are read into chunks and copied once into a slice of the
	// right length: appending to one slice would allocate about five times
	// its final size on the way, and leave up to a quarter of it unused.
	chunks [][]SensorRow
	chunk  []SensorRow
}

// header reads the header line and finds the columns.
func (sr *seriesReader) header() error {
	header, err := sr.cr.Read()
	if err == io.EOF {
		return &Error{File: sr.name, Msg: "empty series: no header and no rows (want the header " + strings.Join(SensorColumns, ",") + ")"}
	}
	if err != nil {
		return sr.csvError(err)
	}
	sr.idx, err = sensorColumnIndex(sr.name, header)
	return err
}

// row checks record rec, the n-th row (from 0), and keeps it.
func (sr *seriesReader) row(n int, rec []string) error {
	line, _ := sr.cr.FieldPos(0)
	if n == sr.lim.MaxRows {
		return &Error{File: sr.name, Line: line, Msg: fmt.Sprintf("more than %d rows, %s's cap (%s); cut the series or count over longer intervals", sr.lim.MaxRows, sr.lim.Reader, sr.lim.MaxRowsText)}
	}
	fail := func(col int, format string, a ...any) error {
		return &Error{File: sr.name, Line: line, Column: SensorColumns[col], Msg: fmt.Sprintf(format, a...)}
	}
	row, size, err := sr.parseRow(rec, fail)
	if err != nil {
		return err
	}
	if err := sr.checkCounts(n, row, size, fail); err != nil {
		return err
	}
	sr.s.Size = uint64(size)
	if n > 0 {
		if err := sr.checkInterval(n, row, rec[sr.idx[0]], fail); err != nil {
			return err
		}
	} else {
		sr.firstLine = line
	}
	if len(sr.chunk) == cap(sr.chunk) {
		if len(sr.chunk) > 0 {
			sr.chunks = append(sr.chunks, sr.chunk)
		}
		sr.chunk = make([]SensorRow, 0, min(max(2*cap(sr.chunk), 64), rowChunk))
	}
	sr.chunk = append(sr.chunk, row)
	sr.prev = row
	return nil
}

// failFunc makes the error of a row on one of SensorColumns.
type failFunc func(col int, format string, a ...any) error

// parseRow parses a record's time (within the limits) and counts; size is
// the size column.
func (sr *seriesReader) parseRow(rec []string, fail failFunc) (row SensorRow, size int64, err error) {
	ts := rec[sr.idx[0]]
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return row, 0, fail(0, "%q is not an RFC 3339 time (like 2001-07-19T10:00:00Z)", Clip(ts))
	}
	if t.Before(sr.lim.MinTime) {
		return row, 0, fail(0, "%s is before %s; times must be real dates", ts, sr.lim.MinTimeText)
	}
	if !t.Before(sr.lim.MaxTime) {
		return row, 0, fail(0, "%s is too far ahead (allowed: before %s)", ts, sr.lim.MaxTime.Format(time.RFC3339))
	}
	row.Time = t.UTC()
	var counts [5]int64
	for c := 1; c < len(SensorColumns); c++ {
		v := rec[sr.idx[c]]
		x, err := strconv.ParseInt(v, 10, 64)
		if err != nil || x < 0 {
			what := "a whole number"
			if ne := (*strconv.NumError)(nil); errors.As(err, &ne) && ne.Err == strconv.ErrRange {
				what = "a whole number that fits in 64 bits"
			}
			return row, 0, fail(c, "%q is not a count (want %s, 0 or more)", Clip(v), what)
		}
		counts[c-1] = x
	}
	row.Probes, row.Sources, row.NewSources, row.CumulativeSources = counts[0], counts[1], counts[2], counts[3]
	return row, counts[4], nil
}

// checkCounts checks the counts of the n-th row against each other, the
// size against the limits and the first row, and the cumulative sources
// against the row before.
func (sr *seriesReader) checkCounts(n int, row SensorRow, size int64, fail failFunc) error {
	prev := sr.prev
	switch {
	case size == 0 || uint64(size) > sr.lim.MaxSize:
		return fail(5, "%d is not a sensor size (want the addresses watched, 1 to %d)", size, sr.lim.MaxSize)
	case n > 0 && uint64(size) != sr.s.Size:
		return fail(5, "%d differs from %d on the first row (the sensor's size must not change)", size, sr.s.Size)
	case row.Sources > row.Probes:
		return fail(2, "%d sources but only %d probes (every source sent at least one probe)", row.Sources, row.Probes)
	case row.NewSources > row.Sources:
		return fail(3, "%d new sources but only %d sources", row.NewSources, row.Sources)
	case n == 0 && row.CumulativeSources < row.NewSources:
		return fail(4, "%d is below new_sources %d", row.CumulativeSources, row.NewSources)
	case n > 0 && row.CumulativeSources != prev.CumulativeSources+row.NewSources:
		return fail(4, "%d, want %d (the previous row's %d plus new_sources %d)", row.CumulativeSources, prev.CumulativeSources+row.NewSources, prev.CumulativeSources, row.NewSources)
	}
	return nil
}

// checkInterval checks the step from the row before to the n-th row (n >
// 0), written ts: after it, at most the widest interval, and the same as
// the first.
func (sr *seriesReader) checkInterval(n int, row SensorRow, ts string, fail failFunc) error {
	d := row.Time.Sub(sr.prev.Time)
	switch {
	case d <= 0:
		return fail(0, "%s is not after the previous row's %s (times must increase)", ts, sr.prev.Time.Format(time.RFC3339Nano))
	case n == 1 && d > sr.lim.MaxInterval:
		return fail(0, "%s is %s after the previous row (allowed: intervals of at most %s)", ts, d, sr.lim.MaxIntervalText)
	case n == 1:
		sr.s.Interval = d
	case d != sr.s.Interval:
		return fail(0, "%s is %s after the previous row, but rows %d and %d are %s apart (intervals must all be equal; fill gaps with zero rows)", ts, d, sr.firstLine, sr.firstLine+1, sr.s.Interval)
	}
	return nil
}

// series checks the number of rows read and returns the series.
func (sr *seriesReader) series() (*SensorSeries, error) {
	sr.chunks = append(sr.chunks, sr.chunk)
	n := 0
	for _, c := range sr.chunks {
		n += len(c)
	}
	if n == 0 {
		return nil, &Error{File: sr.name, Line: 1, Msg: "empty series: a header but no rows"}
	}
	if n < sr.lim.MinRows {
		line, _ := sr.cr.FieldPos(0)
		return nil, &Error{File: sr.name, Line: line, Msg: fmt.Sprintf("series too short to estimate: %d rows, at least %d are needed", n, sr.lim.MinRows)}
	}
	s := sr.s
	s.Name = sr.name
	s.Rows = make([]SensorRow, 0, n)
	for _, c := range sr.chunks {
		s.Rows = append(s.Rows, c...)
	}
	return &s, nil
}

// csvError turns an error of encoding/csv or of the input (a cap of
// LimitReader, a failed read) into an *Error with its line; once the
// context is done it returns the context's error instead (the read was
// cut short).
func (sr *seriesReader) csvError(err error) error {
	if sr.ctx.Err() != nil {
		return sr.ctx.Err()
	}
	return csvError(sr.name, err, fmt.Sprintf("wrong number of fields (want %d: %s)", len(SensorColumns), strings.Join(SensorColumns, ",")),
		", "+sr.lim.Reader+"'s cap for a CSV (is it the right file?)", "cannot read the series: ")
}

// csvError turns an error of encoding/csv or of the input into an *Error
// on file name: fieldCount replaces encoding/csv's message on a record of
// the wrong length, capNote follows a cap's description, and doing
// precedes any other error's message.
func csvError(name string, err error, fieldCount, capNote, doing string) error {
	var ce *CapError
	if errors.As(err, &ce) {
		return &Error{File: name, Line: ce.Line, Msg: ce.What + capNote}
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		msg := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			msg = fieldCount
		}
		if pe.StartLine > 0 && pe.StartLine != pe.Line {
			msg += fmt.Sprintf(" (the record runs to line %d)", pe.Line)
		}
		return &Error{File: name, Line: max(pe.StartLine, 1), Msg: msg}
	}
	return &Error{File: name, Msg: doing + pathless(err)}
}

// sensorColumnIndex maps each of SensorColumns to its position in the
// header.
func sensorColumnIndex(name string, header []string) ([6]int, error) {
	var idx [6]int
	for i := range idx {
		idx[i] = -1
	}
	allowed := "unknown column (allowed: " + strings.Join(SensorColumns, ", ") + ")"
	for j, h := range header {
		h = strings.TrimSpace(h)
		if j == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // a byte-order mark some tools write
		}
		i := indexOf(SensorColumns, h)
		switch {
		case i < 0 && !columnName(h):
			// Not a name: the file may be anything (a log, a password
			// file); do not echo it.
			return idx, &Error{File: name, Line: 1, Column: fmt.Sprintf("%d (not a column name)", j+1), Msg: allowed}
		case i < 0:
			return idx, &Error{File: name, Line: 1, Column: h, Msg: allowed}
		case idx[i] >= 0:
			return idx, &Error{File: name, Line: 1, Column: h, Msg: "column appears twice"}
		}
		idx[i] = j
	}
	var missing []string
	for i, c := range SensorColumns {
		if idx[i] < 0 {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return idx, &Error{File: name, Line: 1, Msg: "missing column(s) " + strings.Join(missing, ", ") + " (want the header " + strings.Join(SensorColumns, ",") + ")"}
	}
	return idx, nil
}

// columnName reports whether a header field looks like a column name
// (letters, digits, '_', '-', '.' and spaces, at most 40 bytes), which an
// error may quote.
func columnName(h string) bool {
	if h == "" || len(h) > 40 {
		return false
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_-. ", c)) {
			return false
		}
	}
	return true
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
