package results

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Table is a per-bin CSV file of a results folder (timeseries.csv,
// sensors/<name>.csv, bands.csv) as ReadTable read it: the bins' start
// times and the values of the columns asked for, one per row.
type Table struct {
	// Name is the file, for messages.
	Name string
	// Header is the file's header line, as it is.
	Header []string
	// Times are the starts of the bins, in UTC.
	Times []time.Time
	// Bin is the step from the first row to the second (with EvenBins,
	// every row's); 0 when the file has a single row.
	Bin time.Duration
	// Cols holds the columns asked for, by name.
	Cols map[string][]float64
}

// TableOptions say what ReadTable keeps and checks.
type TableOptions struct {
	// Columns chooses the columns given the header: want must all be
	// there, optional are kept when they are. Values must be finite
	// numbers, 0 or more.
	Columns func(header []string) (want, optional []string)
	// EvenBins requires the same step between every two rows.
	EvenBins bool
	// MaxBytes and MaxLineBytes, when not 0, cap the bytes read in all and
	// on one line (LimitReader); Reader names who sets the caps in the
	// message ("forecast": "forecast's cap").
	MaxBytes     int64
	MaxLineBytes int
	Reader       string
}

// Want is a choice of columns that does not depend on the header: all of
// them must be there.
func Want(cols ...string) func([]string) ([]string, []string) {
	return func([]string) ([]string, []string) { return cols, nil }
}

// ReadTable reads a per-bin CSV file whose first column is time (RFC 3339,
// one row per bin, strictly increasing; with EvenBins equally spaced) and
// keeps the columns opt.Columns chooses. name is used in error messages.
// The file is read one record at a time. Its first problem is returned as
// an *Error naming the file, and the line and column where there is one.
// It checks ctx every few thousand rows and returns ctx's error once ctx is
// done.
func ReadTable(ctx context.Context, r io.Reader, name string, opt TableOptions) (*Table, error) {
	tr := &tableReader{ctx: ctx, opt: opt, t: &Table{Name: name, Cols: map[string][]float64{}}}
	if opt.MaxBytes > 0 {
		r = NewLimitReader(r, opt.MaxBytes, opt.MaxLineBytes)
	}
	tr.cr = csv.NewReader(r)
	tr.cr.ReuseRecord = true
	if err := tr.header(); err != nil {
		return nil, err
	}
	if err := eachRecord(ctx, tr.cr, tr.row, tr.csvError); err != nil {
		return nil, err
	}
	if len(tr.t.Times) == 0 {
		return nil, errorf(name, "no rows after the header (want one row per bin)")
	}
	return tr.t, nil
}

// tableReader is the state of ReadTable.
type tableReader struct {
	ctx  context.Context
	opt  TableOptions
	cr   *csv.Reader
	t    *Table
	keep []tableColumn
}

// tableColumn is a column kept: its name and position in a record.
type tableColumn struct {
	name string
	at   int
}

// header reads the header line and finds the columns to keep.
func (tr *tableReader) header() error {
	name := tr.t.Name
	head, err := tr.cr.Read()
	if err == io.EOF {
		return errorf(name, "empty file (want a header line starting with %q, then one row per bin)", TimeColumn)
	}
	if err != nil {
		return tr.csvError(err)
	}
	head = slices.Clone(head)
	tr.t.Header = head
	if strings.TrimPrefix(head[0], "\ufeff") != TimeColumn {
		return &Error{File: name, Line: 1, Msg: fmt.Sprintf("the first column is %q, want %q", Clip(head[0]), TimeColumn)}
	}
	idx := map[string]int{}
	for i, h := range head {
		if _, dup := idx[h]; dup {
			return &Error{File: name, Line: 1, Column: Clip(h), Msg: "appears twice"}
		}
		idx[h] = i
	}
	want, optional := tr.opt.Columns(head)
	for _, w := range want {
		i, ok := idx[w]
		if !ok {
			return &Error{File: name, Line: 1, Column: w, Msg: "missing (the header has " + Clip(strings.Join(head, ",")) + ")"}
		}
		tr.keep = append(tr.keep, tableColumn{w, i})
	}
	for _, o := range optional {
		if i, ok := idx[o]; ok {
			tr.keep = append(tr.keep, tableColumn{o, i})
		}
	}
	return nil
}

// row reads one record: its time, checked against the row before, and the
// columns kept.
func (tr *tableReader) row(_ int, rec []string) error {
	t, name := tr.t, tr.t.Name
	line, _ := tr.cr.FieldPos(0)
	fail := func(col, format string, a ...any) error {
		return &Error{File: name, Line: line, Column: col, Msg: fmt.Sprintf(format, a...)}
	}
	tm, err := time.Parse(time.RFC3339Nano, rec[0])
	if err != nil {
		return fail(TimeColumn, "%q is not an RFC 3339 time (want for example 2001-07-19T10:00:00Z)", Clip(rec[0]))
	}
	tm = tm.UTC()
	if n := len(t.Times); n > 0 {
		step := tm.Sub(t.Times[n-1])
		switch {
		case step <= 0:
			return fail(TimeColumn, "%s is not after the previous row's %s (want one row per bin, in time order)",
				rec[0], t.Times[n-1].Format(time.RFC3339Nano))
		case n == 1:
			t.Bin = step
		case tr.opt.EvenBins && step != t.Bin:
			return fail(TimeColumn, "%s is %s after the previous row, but the file's bins are %s (want one row per bin, without gaps)",
				rec[0], step, t.Bin)
		}
	}
	t.Times = append(t.Times, tm)
	for _, c := range tr.keep {
		s := rec[c.at]
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return fail(c.name, "%q is not a count (want a finite number, 0 or more)", Clip(s))
		}
		t.Cols[c.name] = append(t.Cols[c.name], v)
	}
	return nil
}

// csvError turns an error of encoding/csv or of the input into an *Error
// naming the file and line; once the context is done it returns the
// context's error instead.
func (tr *tableReader) csvError(err error) error {
	if tr.ctx.Err() != nil {
		return tr.ctx.Err()
	}
	return csvError(tr.t.Name, err, "wrong number of fields (want comma-separated fields, the same number on every line)",
		", "+tr.opt.Reader+"'s cap for a CSV (is it the right file?)", "cannot read: ")
}
