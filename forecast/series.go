package forecast

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"wormwatch/results"
)

// Columns are the columns of a sensor series CSV, the schema every
// simulated telescope writes (sensors/<name>.csv in a results folder) and
// `detect --series` writes from logs (results.SensorColumns). The header
// must name each exactly once, in any order.
var Columns = results.SensorColumns

// MinRows is the fewest intervals a series must have: the interval width
// needs two rows, and the estimators need a few more.
const MinRows = 3

// Row is one interval of a sensor series.
type Row = results.SensorRow

// Series is what one sensor saw, one row per interval of equal width.
type Series struct {
	Name     string        // where it came from (a file name), for messages
	Size     uint64        // addresses the sensor watches
	Interval time.Duration // width of every interval
	Rows     []Row
}

// Error is a problem with a series: the file, the line (1 is the header;
// 0 when the problem is not on one line), the column when there is one,
// and what is wrong, with the allowed values (results.Error, which
// results.ReadSensorSeries returns).
type Error = results.Error

// SeriesLimits are forecast's bounds on a sensor series, as
// results.ReadSensorSeries takes them.
var SeriesLimits = results.SeriesLimits{
	Reader:  "forecast",
	MinRows: MinRows, MaxRows: MaxRows, MaxRowsText: "two years of 1-minute intervals",
	MaxBytes: MaxCSVBytes, MaxLineBytes: MaxLineBytes,
	MaxSize: MaxSensorSize,
	MinTime: MinTime, MaxTime: MaxTime, MinTimeText: "1970-01-01 (negative time)",
	MaxInterval: MaxSpan, MaxIntervalText: spanText,
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

// ReadSeries reads a sensor series CSV from r with results.ReadSensorSeries
// within forecast's bounds (SeriesLimits), one record at a time (the text
// is never held whole; only the parsed rows are kept). name is used in
// error messages. It is strict: the header must hold exactly Columns;
// every count is a non-negative integer with probes >= sources >=
// new_sources; cumulative_sources grows by new_sources from row to row;
// size is the same integer from 1 to MaxSensorSize on every row; times are
// RFC 3339, from MinTime and before MaxTime, strictly increasing and
// equally spaced by at most MaxSpan; and there are at least MinRows rows
// and at most MaxRows. It reads at most MaxCSVBytes, and lines of at most
// MaxLineBytes. The first problem found is returned as an *Error naming
// the file, line and column. It checks ctx every few thousand rows, and
// returns ctx's error once ctx is done.
func ReadSeries(ctx context.Context, r io.Reader, name string) (*Series, error) {
	s, err := results.ReadSensorSeries(ctx, r, name, SeriesLimits)
	if err != nil {
		return nil, err
	}
	return &Series{Name: s.Name, Size: s.Size, Interval: s.Interval, Rows: s.Rows}, nil
}

func unwrapPath(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// csvError turns an error of encoding/csv or of the input (a cap of
// results.LimitReader, a failed read) into an *Error with its line; once ctx is
// done it returns ctx's error instead (the read was cut short). The sensor
// series reader has its own (results); this one serves state.go's reader
// of a run's timeseries.csv.
func csvError(ctx context.Context, name string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ce *results.CapError
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

// clip shortens a field quoted in a message (results.Clip).
func clip(s string) string { return results.Clip(s) }

// Hours returns the width of an interval in hours.
func (s *Series) Hours() float64 { return s.Interval.Hours() }

// Fraction returns the share of a space of 2^bits addresses the sensor
// watches.
func (s *Series) Fraction(bits int) float64 { return float64(s.Size) / math.Ldexp(1, bits) }
