package serve

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"wormwatch/forecast"
	"wormwatch/internal/ipv4text"
)

// The body of a sources push (POST /api/v1/sources/SENSOR): CSV with the
// header time,source,probes and one row per source per interval, the
// intervals in time order:
//
//	time,source,probes
//	2001-07-19T10:00:00Z,192.0.2.7,3
//	2001-07-19T10:00:00Z,198.51.100.1,1
//	2001-07-19T10:02:00Z,,0
//
// time is the start of the interval (RFC 3339, on the service's
// intervals: whole multiples of watch.interval from 1970), source an IPv4
// address, probes its probes in that interval (1 or more). Every interval
// from the push's first to its last has a row: one with no source and 0
// probes gives an interval with none (a gap is an error, so that a short
// body cannot make many intervals).

// srcCount is one source of an interval and its probes.
type srcCount struct {
	Src    uint32
	Probes int64
}

// srcInterval is the sources of one interval.
type srcInterval struct {
	Time    time.Time
	Sources []srcCount
}

// lastSourceTime is the latest time of a sources push: its Unix
// nanoseconds, and an interval's end, fit an int64.
var lastSourceTime = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)

// sourceColumns are the header of a sources push.
var sourceColumns = []string{"time", "source", "probes"}

// parseSources reads a sources push whose intervals are of width ivl. An
// error names the line and the field.
func parseSources(body []byte, ivl time.Duration) ([]srcInterval, error) {
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord, r.ReuseRecord = len(sourceColumns), true
	head, err := r.Read()
	if err != nil {
		return nil, csvError(r, err, "want the header time,source,probes")
	}
	if strings.Join(head, ",") != strings.Join(sourceColumns, ",") {
		return nil, fmt.Errorf("line 1: header %q: want time,source,probes", strings.Join(head, ","))
	}
	var out []srcInterval
	seen := map[uint32]bool{} // the sources of the last interval
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(r, err, "")
		}
		line, _ := r.FieldPos(0)
		if out, err = addSourceRow(out, seen, rec, ivl); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no rows: want one row per source per interval after the header")
	}
	return out, nil
}

// csvError words an error of the CSV reader with its line.
func csvError(r *csv.Reader, err error, want string) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("line %d: %v", pe.Line, pe.Err)
	}
	if err == io.EOF {
		return fmt.Errorf("line 1: no header: %s", want)
	}
	line, _ := r.FieldPos(0)
	return fmt.Errorf("line %d: %v", line, err)
}

// addSourceRow adds one row to the intervals read; seen holds the sources
// of the last interval.
func addSourceRow(out []srcInterval, seen map[uint32]bool, rec []string, ivl time.Duration) ([]srcInterval, error) {
	t, err := sourceTime(rec[0], ivl)
	if err != nil {
		return out, err
	}
	n, err := strconv.ParseInt(rec[2], 10, 64)
	if err != nil || n < 0 {
		return out, fmt.Errorf("field probes %q: want a count, 1 or more (0 with no source)", rec[2])
	}
	if out, err = openInterval(out, seen, t, ivl); err != nil {
		return out, err
	}
	if rec[1] == "" {
		if n != 0 {
			return out, fmt.Errorf("field probes %d: a row with no source has 0 probes (an interval with no source)", n)
		}
		return out, nil
	}
	src, ok := ipv4text.Parse([]byte(rec[1]))
	switch {
	case !ok:
		return out, fmt.Errorf("field source %q: want an IPv4 address (or nothing, for an interval with no source)", rec[1])
	case n == 0:
		return out, fmt.Errorf("field probes 0: a source has 1 probe or more")
	case seen[src]:
		return out, fmt.Errorf("field source %s: given twice in the interval of %s", rec[1], rec[0])
	}
	seen[src] = true
	last := &out[len(out)-1]
	last.Sources = append(last.Sources, srcCount{src, n})
	return out, nil
}

// sourceTime reads the time of a row: whole seconds on the intervals.
func sourceTime(s string, ivl time.Duration) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	switch {
	case err != nil:
		return t, fmt.Errorf("field time %q: want an RFC 3339 time (2001-07-19T10:00:00Z)", s)
	case t.Before(forecast.MinTime) || t.After(lastSourceTime):
		return t, fmt.Errorf("field time %s: want a time from 1970-01-01 to 2262-01-01 (the store keeps Unix nanoseconds)", s)
	case t.UnixNano()%int64(ivl) != 0:
		return t, fmt.Errorf("field time %s: not the start of an interval (whole multiples of %v from 1970-01-01T00:00:00Z)", s, ivl)
	}
	return t.UTC(), nil
}

// openInterval makes t the last interval of out: the same, or the next
// one.
func openInterval(out []srcInterval, seen map[uint32]bool, t time.Time, ivl time.Duration) ([]srcInterval, error) {
	if len(out) == 0 {
		return append(out, srcInterval{Time: t}), nil
	}
	last := out[len(out)-1].Time
	switch d := t.Sub(last); {
	case d == 0:
		return out, nil
	case d < 0:
		return out, fmt.Errorf("field time %s: before the row above's %s (the intervals come in time order)", t.Format(time.RFC3339), last.Format(time.RFC3339))
	case d != ivl:
		return out, fmt.Errorf("field time %s: the interval of %s has no row (give an interval with no source as a row with no source and 0 probes)", t.Format(time.RFC3339), last.Add(ivl).Format(time.RFC3339))
	case len(out) >= forecast.MaxRows:
		return out, fmt.Errorf("field time %s: more than %d intervals (forecast's cap)", t.Format(time.RFC3339), forecast.MaxRows)
	}
	clear(seen)
	return append(out, srcInterval{Time: t}), nil
}

// row returns the probes and distinct sources of an interval (the columns
// a member's row takes from it alone).
func (si srcInterval) row() (probes, sources int64) {
	for _, s := range si.Sources {
		probes = satAdd(probes, s.Probes)
	}
	return probes, int64(len(si.Sources))
}

// satAdd adds two counts, held at math.MaxInt64.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
