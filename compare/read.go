package compare

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Error is a problem with the folders or files given to compare (a folder
// that is neither a run nor a replay, a malformed file, bins that differ):
// the user's input, not a failure of the program. Its message names the
// folder or file, and the line and column where there is one.
type Error struct{ Msg string }

// Error returns the message.
func (e *Error) Error() string { return e.Msg }

func inputf(format string, a ...any) error { return &Error{Msg: fmt.Sprintf(format, a...)} }

// table is the part of a CSV file compare reads: the bin start times and
// the requested columns, one value per row.
type table struct {
	Times []time.Time
	Bin   time.Duration // 0 when the file has a single row
	Cols  map[string][]float64
}

// readCSV reads a CSV file whose first column is "time" (RFC 3339, one row
// per bin, in order, equally spaced) and keeps the columns that cols names
// when given the header: want (all required) and optional (kept when
// present). Values must be finite and not negative. name is used in error
// messages.
func readCSV(r io.Reader, name string, cols func(head []string) (want, optional []string)) (*table, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, inputf("%s: the file is empty (want a header line starting with \"time\")", name)
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	head = slices.Clone(head)
	if len(head) == 0 || strings.TrimPrefix(head[0], "\ufeff") != "time" {
		return nil, inputf("%s: line 1: the first column is %q, want \"time\"", name, head[0])
	}
	idx := map[string]int{}
	for i, h := range head {
		if _, dup := idx[h]; dup {
			return nil, inputf("%s: line 1: column %q appears twice", name, h)
		}
		idx[h] = i
	}
	t := &table{Cols: map[string][]float64{}}
	type col struct {
		name string
		at   int
	}
	var keep []col
	want, optional := cols(head)
	for _, w := range want {
		i, ok := idx[w]
		if !ok {
			return nil, inputf("%s: line 1: no column %q (the header has %s)", name, w, strings.Join(head, ","))
		}
		keep = append(keep, col{w, i})
	}
	for _, o := range optional {
		if i, ok := idx[o]; ok {
			keep = append(keep, col{o, i})
		}
	}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		tm, err := time.Parse(time.RFC3339Nano, rec[0])
		if err != nil {
			return nil, inputf("%s: line %d: column time: %q is not an RFC 3339 time (want for example 2001-07-19T10:00:00Z)", name, line, rec[0])
		}
		tm = tm.UTC()
		if n := len(t.Times); n > 0 {
			step := tm.Sub(t.Times[n-1])
			switch {
			case step <= 0:
				return nil, inputf("%s: line %d: column time: %s is not after the previous row's %s (want one row per bin, in time order)",
					name, line, rec[0], t.Times[n-1].Format(time.RFC3339Nano))
			case n == 1:
				t.Bin = step
			case step != t.Bin:
				return nil, inputf("%s: line %d: column time: %s is %s after the previous row, but the file's bins are %s (want one row per bin, without gaps)",
					name, line, rec[0], step, t.Bin)
			}
		}
		t.Times = append(t.Times, tm)
		for _, c := range keep {
			s := rec[c.at]
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return nil, inputf("%s: line %d: column %s: %q is not a count (want a finite number, 0 or more)", name, line, c.name, s)
			}
			t.Cols[c.name] = append(t.Cols[c.name], v)
		}
	}
	if len(t.Times) == 0 {
		return nil, inputf("%s: no rows after the header (want one row per bin)", name)
	}
	return t, nil
}

// csvError turns an encoding/csv error into one naming the file and line.
func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return inputf("%s: line %d: %v (want comma-separated fields, the same number on every line)", name, pe.Line, pe.Err)
	}
	return inputf("%s: %v", name, err)
}

// readCSVFile is readCSV on a file.
func readCSVFile(path string, cols func(head []string) (want, optional []string)) (*table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, openError(path, err)
	}
	defer f.Close()
	return readCSV(f, path, cols)
}

// fixed is a column choice that does not depend on the header.
func fixed(want ...string) func([]string) ([]string, []string) {
	return func([]string) ([]string, []string) { return want, nil }
}

// openError says why a file could not be opened; a missing or unreadable
// file is the user's problem.
func openError(path string, err error) error {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return inputf("%s: no such file", path)
	case errors.Is(err, os.ErrPermission):
		return inputf("%s: permission denied", path)
	}
	return inputf("%s: %v", path, err)
}

// Columns of timeseries.csv that compare reads (docs/output.md).
var timeseriesCols = []string{"infected", "patched", "new_infections", "ever_infected", "probes"}

// readTimeseries reads the columns compare needs from a run's
// timeseries.csv.
func readTimeseries(r io.Reader, name string) (*table, error) {
	return readCSV(r, name, fixed(timeseriesCols...))
}

// bandLevels are the series of bands.csv compare plots, besides each
// sensor's cumulative sources.
var bandLevels = []string{"infected", "patched"}

// readBands reads a replay's bands.csv: the 5%, 50% and 95% columns of the
// plotted levels, and of every sensor's cumulative sources (a column
// "<sensor>_cumulative_sources_p50" names a sensor). It returns the table
// and the sensor names in header order.
func readBands(r io.Reader, name string) (*table, []string, error) {
	var sensors []string
	t, err := readCSV(r, name, func(head []string) ([]string, []string) {
		for _, h := range head {
			if s, ok := strings.CutSuffix(h, "_cumulative_sources_p50"); ok && s != "" {
				sensors = append(sensors, s)
			}
		}
		var want []string
		for _, l := range append(slices.Clone(bandLevels), sensorCols(sensors)...) {
			want = append(want, l+"_p05", l+"_p50", l+"_p95")
		}
		return want, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return t, sensors, nil
}

// sensorCols are the band names of the sensors' cumulative sources.
func sensorCols(sensors []string) []string {
	out := make([]string, len(sensors))
	for i, s := range sensors {
		out[i] = s + "_cumulative_sources"
	}
	return out
}
