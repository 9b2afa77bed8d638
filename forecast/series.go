package forecast

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// Columns are the columns of a sensor series CSV, the schema every
// simulated telescope writes (sensors/<name>.csv in a results folder) and
// `detect --series` writes from logs. The header must name each exactly
// once, in any order.
var Columns = []string{"time", "probes", "sources", "new_sources", "cumulative_sources", "size"}

const nColumns = 6

// MinRows is the fewest intervals a series must have: the interval width
// needs two rows, and the estimators need a few more.
const MinRows = 3

// Row is one interval of a sensor series.
type Row struct {
	Time              time.Time // start of the interval (UTC)
	Probes            int64     // probes that reached the sensor during the interval
	Sources           int64     // distinct sources seen during the interval
	NewSources        int64     // sources seen for the first time during the interval
	CumulativeSources int64     // distinct sources seen from the start to the end of the interval
}

// Series is what one sensor saw, one row per interval of equal width.
type Series struct {
	Name     string        // where it came from (a file name), for messages
	Size     uint64        // addresses the sensor watches
	Interval time.Duration // width of every interval
	Rows     []Row
}

// Error is a problem with a series: the file, the line (1 is the header;
// 0 when the problem is not on one line), the column when there is one,
// and what is wrong, with the allowed values.
type Error struct {
	File   string
	Line   int
	Column string
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, ": column %s", e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// ReadSeriesFile reads the sensor series CSV at path (see ReadSeries). The
// path must be a regular file or a pipe (a FIFO): a device like /dev/zero,
// a socket or a folder is refused. ctx ends the wait for a FIFO's writer.
func ReadSeriesFile(ctx context.Context, path string) (*Series, error) {
	r, closeFile, err := openInput(ctx, path, "series CSV")
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &Error{File: path, Msg: openError(path, "cannot read the series", err)}
	}
	defer closeFile()
	return ReadSeries(ctx, r, path)
}

func unwrapPath(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// ReadSeries reads a sensor series CSV from r, one record at a time (the
// text is never held whole; only the parsed rows are kept). name is used in
// error messages. It is strict: the header must hold exactly Columns; every
// count is a non-negative integer with probes >= sources >= new_sources;
// cumulative_sources grows by new_sources from row to row; size is the
// same integer from 1 to MaxSensorSize on every row; times are RFC 3339,
// from MinTime and before MaxTime, strictly increasing and equally spaced
// by at most MaxSpan; and there are at least MinRows rows and at most
// MaxRows. It reads at most MaxCSVBytes, and lines of at most MaxLineBytes.
// The first problem found is returned as an *Error naming the file, line
// and column. It checks ctx every few thousand rows, and returns ctx's
// error once ctx is done.
func ReadSeries(ctx context.Context, r io.Reader, name string) (*Series, error) {
	cr := csv.NewReader(newInputReader(r, MaxCSVBytes, MaxLineBytes))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &Error{File: name, Msg: "empty series: no header and no rows (want the header " + strings.Join(Columns, ",") + ")"}
	}
	if err != nil {
		return nil, csvError(ctx, name, err)
	}
	idx, err := columnIndex(name, header)
	if err != nil {
		return nil, err
	}
	s := &Series{Name: name}
	var prev Row
	var firstLine int
	// The rows are read into chunks and copied once into a slice of the
	// right length: appending to one slice would allocate about five times
	// its final size on the way, and leave up to a quarter of it unused.
	var chunks [][]Row
	var chunk []Row
	for n := 0; ; n++ {
		if n%ctxCheckRows == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(ctx, name, err)
		}
		line, _ := cr.FieldPos(0)
		if n == MaxRows {
			return nil, &Error{File: name, Line: line, Msg: fmt.Sprintf("more than %d rows, forecast's cap (two years of 1-minute intervals); cut the series or count over longer intervals", MaxRows)}
		}
		fail := func(col int, format string, a ...any) error {
			return &Error{File: name, Line: line, Column: Columns[col], Msg: fmt.Sprintf(format, a...)}
		}
		var row Row
		ts := rec[idx[0]]
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return nil, fail(0, "%q is not an RFC 3339 time (like 2001-07-19T10:00:00Z)", clip(ts))
		}
		if t.Before(MinTime) {
			return nil, fail(0, "%s is before 1970-01-01 (negative time); times must be real dates", ts)
		}
		if !t.Before(MaxTime) {
			return nil, fail(0, "%s is too far ahead (allowed: before %s)", ts, MaxTime.Format(time.RFC3339))
		}
		row.Time = t.UTC()
		var counts [5]int64
		for c := 1; c < len(Columns); c++ {
			v := rec[idx[c]]
			x, err := strconv.ParseInt(v, 10, 64)
			if err != nil || x < 0 {
				what := "a whole number"
				if ne := (*strconv.NumError)(nil); errors.As(err, &ne) && ne.Err == strconv.ErrRange {
					what = "a whole number that fits in 64 bits"
				}
				return nil, fail(c, "%q is not a count (want %s, 0 or more)", clip(v), what)
			}
			counts[c-1] = x
		}
		row.Probes, row.Sources, row.NewSources, row.CumulativeSources = counts[0], counts[1], counts[2], counts[3]
		size := counts[4]
		switch {
		case size == 0 || size > MaxSensorSize:
			return nil, fail(5, "%d is not a sensor size (want the addresses watched, 1 to %d)", size, int64(MaxSensorSize))
		case n > 0 && uint64(size) != s.Size:
			return nil, fail(5, "%d differs from %d on the first row (the sensor's size must not change)", size, s.Size)
		case row.Sources > row.Probes:
			return nil, fail(2, "%d sources but only %d probes (every source sent at least one probe)", row.Sources, row.Probes)
		case row.NewSources > row.Sources:
			return nil, fail(3, "%d new sources but only %d sources", row.NewSources, row.Sources)
		case n == 0 && row.CumulativeSources < row.NewSources:
			return nil, fail(4, "%d is below new_sources %d", row.CumulativeSources, row.NewSources)
		case n > 0 && row.CumulativeSources != prev.CumulativeSources+row.NewSources:
			return nil, fail(4, "%d, want %d (the previous row's %d plus new_sources %d)", row.CumulativeSources, prev.CumulativeSources+row.NewSources, prev.CumulativeSources, row.NewSources)
		}
		s.Size = uint64(size)
		if n > 0 {
			d := row.Time.Sub(prev.Time)
			switch {
			case d <= 0:
				return nil, fail(0, "%s is not after the previous row's %s (times must increase)", ts, prev.Time.Format(time.RFC3339Nano))
			case n == 1 && d > MaxSpan:
				return nil, fail(0, "%s is %s after the previous row (allowed: intervals of at most %s)", ts, d, spanText)
			case n == 1:
				s.Interval = d
			case d != s.Interval:
				return nil, fail(0, "%s is %s after the previous row, but rows %d and %d are %s apart (intervals must all be equal; fill gaps with zero rows)", ts, d, firstLine, firstLine+1, s.Interval)
			}
		} else {
			firstLine = line
		}
		if len(chunk) == cap(chunk) {
			if len(chunk) > 0 {
				chunks = append(chunks, chunk)
			}
			chunk = make([]Row, 0, min(max(2*cap(chunk), 64), rowChunk))
		}
		chunk = append(chunk, row)
		prev = row
	}
	chunks = append(chunks, chunk)
	n := 0
	for _, c := range chunks {
		n += len(c)
	}
	if n == 0 {
		return nil, &Error{File: name, Line: 1, Msg: "empty series: a header but no rows"}
	}
	if n < MinRows {
		line, _ := cr.FieldPos(0)
		return nil, &Error{File: name, Line: line, Msg: fmt.Sprintf("series too short to estimate: %d rows, at least %d are needed", n, MinRows)}
	}
	s.Rows = make([]Row, 0, n)
	for _, c := range chunks {
		s.Rows = append(s.Rows, c...)
	}
	return s, nil
}

// rowChunk is the most rows of one chunk of ReadSeries (the first ones
// are smaller, for short series).
const rowChunk = 1 << 14

// columnIndex maps each of Columns to its position in the header.
func columnIndex(name string, header []string) ([nColumns]int, error) {
	var idx [nColumns]int
	for i := range idx {
		idx[i] = -1
	}
	for j, h := range header {
		h = strings.TrimSpace(h)
		if j == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // a byte-order mark some tools write
		}
		i := indexOf(Columns, h)
		switch {
		case i < 0 && !columnName(h):
			// Not a name: the file may be anything (a log, a password
			// file); do not echo it.
			return idx, &Error{File: name, Line: 1, Column: fmt.Sprintf("%d (not a column name)", j+1), Msg: "unknown column (allowed: " + strings.Join(Columns, ", ") + ")"}
		case i < 0:
			return idx, &Error{File: name, Line: 1, Column: h, Msg: "unknown column (allowed: " + strings.Join(Columns, ", ") + ")"}
		case idx[i] >= 0:
			return idx, &Error{File: name, Line: 1, Column: h, Msg: "column appears twice"}
		}
		idx[i] = j
	}
	var missing []string
	for i, c := range Columns {
		if idx[i] < 0 {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return idx, &Error{File: name, Line: 1, Msg: "missing column(s) " + strings.Join(missing, ", ") + " (want the header " + strings.Join(Columns, ",") + ")"}
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

// csvError turns an error of encoding/csv or of the input (a cap of
// inputReader, a failed read) into an *Error with its line; once ctx is
// done it returns ctx's error instead (the read was cut short).
func csvError(ctx context.Context, name string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ce *capError
	if errors.As(err, &ce) {
		return &Error{File: name, Line: ce.Line, Msg: ce.What + ", forecast's cap for a CSV (is it the right file?)"}
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		msg := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			msg = fmt.Sprintf("wrong number of fields (want %d: %s)", len(Columns), strings.Join(Columns, ","))
		}
		if pe.StartLine > 0 && pe.StartLine != pe.Line {
			msg += fmt.Sprintf(" (the record runs to line %d)", pe.Line)
		}
		return &Error{File: name, Line: max(pe.StartLine, 1), Msg: msg}
	}
	return &Error{File: name, Msg: "cannot read the series: " + unwrapPath(err)}
}

// clip shortens a field quoted in a message.
func clip(s string) string {
	const max = 40
	s = strings.ToValidUTF8(s, "?")
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "..."
	}
	return s
}

// Hours returns the width of an interval in hours.
func (s *Series) Hours() float64 { return s.Interval.Hours() }

// Fraction returns the share of a space of 2^bits addresses the sensor
// watches.
func (s *Series) Fraction(bits int) float64 { return float64(s.Size) / math.Ldexp(1, bits) }
