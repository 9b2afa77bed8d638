package forecast_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wormwatch/forecast"
)

const goodCSV = `time,probes,sources,new_sources,cumulative_sources,size
2001-07-19T10:00:00Z,3,2,2,2,16777216
2001-07-19T10:01:00Z,5,3,1,3,16777216
2001-07-19T10:02:00Z,9,6,3,6,16777216
2001-07-19T10:03:00Z,0,0,0,6,16777216
`

func TestReadSeries(t *testing.T) {
	t.Parallel()
	// The same rows with the columns in another order, a byte-order mark
	// and CRLF line ends.
	shuffled := "\ufeffsize,time,cumulative_sources,new_sources,sources,probes\r\n" +
		"16777216,2001-07-19T10:00:00Z,2,2,2,3\r\n16777216,2001-07-19T10:01:00Z,3,1,3,5\r\n" +
		"16777216,2001-07-19T10:02:00Z,6,3,6,9\r\n16777216,2001-07-19T10:03:00Z,6,0,0,0\r\n"
	// A series that starts mid-way (sources seen before its first row) and
	// times with an offset (converted to UTC).
	offset := `time,probes,sources,new_sources,cumulative_sources,size
2001-07-19T12:00:00+02:00,3,2,2,50,256
2001-07-19T12:00:30+02:00,5,3,1,51,256
2001-07-19T12:01:00+02:00,5,3,0,51,256
`
	tests := []struct {
		name     string
		in       string
		size     uint64
		interval time.Duration
		rows     []forecast.Row
	}{
		{"plain", goodCSV, 1 << 24, time.Minute, []forecast.Row{
			{Time: time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC), Probes: 3, Sources: 2, NewSources: 2, CumulativeSources: 2},
			{Time: time.Date(2001, 7, 19, 10, 1, 0, 0, time.UTC), Probes: 5, Sources: 3, NewSources: 1, CumulativeSources: 3},
			{Time: time.Date(2001, 7, 19, 10, 2, 0, 0, time.UTC), Probes: 9, Sources: 6, NewSources: 3, CumulativeSources: 6},
			{Time: time.Date(2001, 7, 19, 10, 3, 0, 0, time.UTC), Probes: 0, Sources: 0, NewSources: 0, CumulativeSources: 6},
		}},
		{"shuffled", shuffled, 1 << 24, time.Minute, nil},
		{"offset", offset, 256, 30 * time.Second, []forecast.Row{
			{Time: time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC), Probes: 3, Sources: 2, NewSources: 2, CumulativeSources: 50},
			{Time: time.Date(2001, 7, 19, 10, 0, 30, 0, time.UTC), Probes: 5, Sources: 3, NewSources: 1, CumulativeSources: 51},
			{Time: time.Date(2001, 7, 19, 10, 1, 0, 0, time.UTC), Probes: 5, Sources: 3, NewSources: 0, CumulativeSources: 51},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := forecast.ReadSeries(t.Context(), strings.NewReader(tc.in), tc.name+".csv")
			if err != nil {
				t.Fatal(err)
			}
			if s.Size != tc.size || s.Interval != tc.interval || s.Name != tc.name+".csv" {
				t.Errorf("size %d interval %s name %q, want %d %s %q", s.Size, s.Interval, s.Name, tc.size, tc.interval, tc.name+".csv")
			}
			want := tc.rows
			if want == nil {
				want = tests[0].rows
			}
			if len(s.Rows) != len(want) {
				t.Fatalf("%d rows, want %d", len(s.Rows), len(want))
			}
			for i := range want {
				if s.Rows[i] != want[i] {
					t.Errorf("row %d: %+v, want %+v", i, s.Rows[i], want[i])
				}
			}
		})
	}
}

// badSeries are inputs ReadSeries must refuse, with what the one error
// must say (the file, line and column, and why).
var badSeries = []struct {
	name string
	in   string
	want []string
}{
	{"empty file", "", []string{"bad.csv", "empty series"}},
	{"header only", "time,probes,sources,new_sources,cumulative_sources,size\n", []string{"bad.csv: line 1", "empty series"}},
	{"missing column", "time,probes,sources,new_sources,size\n2001-07-19T10:00:00Z,1,1,1,8\n", []string{"line 1", "missing column(s) cumulative_sources"}},
	{"unknown column", "time,probes,sources,new_sources,cumulative_sources,size,bytes\n", []string{"line 1", "column bytes", "unknown column", "allowed: time, probes"}},
	{"duplicate column", "time,probes,probes,sources,new_sources,cumulative_sources,size\n", []string{"line 1", "column probes", "twice"}},
	{"too short", "time,probes,sources,new_sources,cumulative_sources,size\n2001-07-19T10:00:00Z,1,1,1,1,8\n2001-07-19T10:01:00Z,1,1,0,1,8\n",
		[]string{"line 3", "too short to estimate", "2 rows", "at least 3"}},
	{"bad time", replaceLine(goodCSV, 3, "19/07/2001 10:01,5,3,1,3,16777216"), []string{"line 3", "column time", "not an RFC 3339 time"}},
	{"negative time", strings.ReplaceAll(goodCSV, "2001-", "1969-"), []string{"line 2", "column time", "before 1970", "negative"}},
	{"non-monotonic time", replaceLine(goodCSV, 4, "2001-07-19T10:00:30Z,9,6,3,6,16777216"), []string{"line 4", "column time", "not after the previous row"}},
	{"repeated time", replaceLine(goodCSV, 4, "2001-07-19T10:01:00Z,9,6,3,6,16777216"), []string{"line 4", "not after the previous row"}},
	{"inconsistent interval", replaceLine(goodCSV, 5, "2001-07-19T10:05:00Z,0,0,0,6,16777216"), []string{"line 5", "column time", "intervals must all be equal", "3m0s after"}},
	{"non-integer count", replaceLine(goodCSV, 3, "2001-07-19T10:01:00Z,5.5,3,1,3,16777216"), []string{"line 3", "column probes", `"5.5" is not a count`}},
	{"negative count", replaceLine(goodCSV, 3, "2001-07-19T10:01:00Z,5,-3,1,3,16777216"), []string{"line 3", "column sources", "not a count"}},
	{"huge count", replaceLine(goodCSV, 3, "2001-07-19T10:01:00Z,99999999999999999999,3,1,3,16777216"), []string{"line 3", "column probes", "fits in 64 bits"}},
	{"more sources than probes", replaceLine(goodCSV, 3, "2001-07-19T10:01:00Z,2,3,1,3,16777216"), []string{"line 3", "column sources", "3 sources but only 2 probes"}},
	{"more new than sources", replaceLine(goodCSV, 3, "2001-07-19T10:01:00Z,5,3,4,6,16777216"), []string{"line 3", "column new_sources", "4 new sources but only 3"}},
	{"cumulative off", replaceLine(goodCSV, 3, "2001-07-19T10:01:00Z,5,3,1,4,16777216"), []string{"line 3", "column cumulative_sources", "want 3"}},
	{"cumulative below new", replaceLine(goodCSV, 2, "2001-07-19T10:00:00Z,3,2,2,1,16777216"), []string{"line 2", "column cumulative_sources", "below new_sources"}},
	{"size changes", replaceLine(goodCSV, 4, "2001-07-19T10:02:00Z,9,6,3,6,256"), []string{"line 4", "column size", "differs from 16777216"}},
	{"size zero", strings.ReplaceAll(goodCSV, "16777216", "0"), []string{"line 2", "column size", "1 to 4294967295"}},
	{"size too big", strings.ReplaceAll(goodCSV, "16777216", "4294967297"), []string{"line 2", "column size", "not a sensor size"}},
	{"size of the IPv4 space", strings.ReplaceAll(goodCSV, "16777216", "4294967296"), []string{"line 2", "column size", "1 to 4294967295"}},
	{"time far ahead", strings.ReplaceAll(goodCSV, "2001-", "9999-"), []string{"line 2", "column time", "too far ahead (allowed: before 9000-01-01T00:00:00Z)"}},
	{"interval over a year", "time,probes,sources,new_sources,cumulative_sources,size\n2001-07-19T10:00:00Z,1,1,1,1,8\n2003-07-19T10:00:00Z,1,1,0,1,8\n2005-07-19T10:00:00Z,1,1,0,1,8\n",
		[]string{"line 3", "column time", "allowed: intervals of at most 366 days"}},
	{"intervals past the 292-year Duration", "time,probes,sources,new_sources,cumulative_sources,size\n1970-01-01T00:00:00Z,1,1,1,1,8\n2300-01-01T00:00:00Z,1,1,0,1,8\n2700-01-01T00:00:00Z,1,1,0,1,8\n",
		[]string{"line 3", "column time", "allowed: intervals of at most 366 days"}},
	{"header of another file", "root:$6$salt$hash:19000:0:99999:7:::\n", []string{"line 1", "unknown column", "column 1 (not a column name)"}},
	{"wrong field count", replaceLine(goodCSV, 3, "2001-07-19T10:01:00Z,5,3,1,3"), []string{"line 3", "wrong number of fields", "want 6"}},
	{"bare quote", replaceLine(goodCSV, 3, `2001-07-19T10:01:00Z,5,3,1,3,"167`), []string{"bad.csv: line 3"}},
}

// replaceLine replaces line n (1 is the header) of s.
func replaceLine(s string, n int, line string) string {
	lines := strings.Split(s, "\n")
	lines[n-1] = line
	return strings.Join(lines, "\n")
}

func TestReadSeriesErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range badSeries {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := forecast.ReadSeries(t.Context(), strings.NewReader(tc.in), "bad.csv")
			if err == nil {
				t.Fatal("no error")
			}
			var fe *forecast.Error
			if !errors.As(err, &fe) {
				t.Errorf("error %T, want *forecast.Error", err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error on more than one line: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}

// TestReadSeriesNoEcho: an error on a file that is not a series does not
// quote its content (a password file's first line).
func TestReadSeriesNoEcho(t *testing.T) {
	t.Parallel()
	_, err := forecast.ReadSeries(t.Context(), strings.NewReader("root:$6$salt$hash:19000:0:99999:7:::\n"), "shadow")
	if err == nil || strings.Contains(err.Error(), "salt") || strings.Contains(err.Error(), "root") {
		t.Errorf("error %v quotes the file", err)
	}
}

func TestReadSeriesFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "s.csv")
	if err := os.WriteFile(path, []byte(goodCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := forecast.ReadSeriesFile(t.Context(), path)
	if err != nil || len(s.Rows) != 4 || s.Name != path {
		t.Fatalf("ReadSeriesFile: %v, %+v", err, s)
	}
	_, err = forecast.ReadSeriesFile(t.Context(), filepath.Join(dir, "missing.csv"))
	if err == nil || !strings.Contains(err.Error(), "missing.csv") || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
}

// FuzzReadSeries feeds arbitrary text to the reader: it must never panic,
// and whatever it accepts must hold the invariants it promises.
func FuzzReadSeries(f *testing.F) {
	f.Add([]byte(goodCSV))
	for _, b := range badSeries {
		f.Add([]byte(b.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := forecast.ReadSeries(t.Context(), strings.NewReader(string(data)), "fuzz.csv")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		if len(s.Rows) < forecast.MinRows || len(s.Rows) > forecast.MaxRows || s.Interval <= 0 || s.Interval > forecast.MaxSpan || s.Size == 0 || s.Size > forecast.MaxSensorSize {
			t.Fatalf("accepted a series breaking the rules: %d rows, interval %s, size %d", len(s.Rows), s.Interval, s.Size)
		}
		for i, r := range s.Rows {
			if r.Probes < r.Sources || r.Sources < r.NewSources || r.NewSources < 0 || r.Time.Location() != time.UTC ||
				r.Time.Before(forecast.MinTime) || !r.Time.Before(forecast.MaxTime) {
				t.Fatalf("row %d: %+v", i, r)
			}
			if i > 0 {
				p := s.Rows[i-1]
				if r.Time.Sub(p.Time) != s.Interval || r.CumulativeSources != p.CumulativeSources+r.NewSources {
					t.Fatalf("rows %d-%d: %+v %+v", i-1, i, p, r)
				}
			}
		}
	})
}
