package results

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)

func TestColumns(t *testing.T) {
	if TimeseriesColumns[0] != TimeColumn || len(SeriesColumns()) != len(TimeseriesColumns)-1 || SeriesColumns()[0] != Susceptible {
		t.Errorf("series columns %v", SeriesColumns())
	}
	s := SeriesColumns()
	s[0] = "changed"
	if TimeseriesColumns[1] != Susceptible {
		t.Error("SeriesColumns shares its slice with TimeseriesColumns")
	}
	if b := SensorBand("ucsd-8", SensorCumulativeSources); b != "ucsd-8_cumulative_sources" {
		t.Errorf("SensorBand = %q", b)
	}
	if s, ok := SensorOfBand("ucsd-8_cumulative_sources", SensorCumulativeSources); !ok || s != "ucsd-8" {
		t.Errorf("SensorOfBand = %q, %v", s, ok)
	}
	for _, bad := range []string{"_cumulative_sources", "infected", "x_new_sources"} {
		if _, ok := SensorOfBand(bad, SensorCumulativeSources); ok {
			t.Errorf("SensorOfBand(%q) accepted", bad)
		}
	}
	if c := BandColumns("infected"); c != [3]string{"infected_p05", "infected_p50", "infected_p95"} || BandColumn("x", P95) != "x_p95" {
		t.Errorf("BandColumns = %v", c)
	}
	head := []string{"time", "infected_p50", "a_cumulative_sources_p05", "a_cumulative_sources_p50", "b-2_cumulative_sources_p50", "_cumulative_sources_p50"}
	if got := SensorsOfBands(head, SensorCumulativeSources); !slices.Equal(got, []string{"a", "b-2"}) {
		t.Errorf("SensorsOfBands = %v", got)
	}
}

func TestReadTable(t *testing.T) {
	in := "\ufefftime,a,b,c\n2001-07-19T10:00:00Z,1,2.5,x\n2001-07-19T12:01:00+02:00,3,4,y\n2001-07-19T10:02:00Z,5,6e3,z\n"
	tb, err := ReadTable(context.Background(), strings.NewReader(in), "t.csv", TableOptions{
		Columns: func(head []string) ([]string, []string) { return []string{"b", "a"}, []string{"d"} }, EvenBins: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.Times) != 3 || !tb.Times[1].Equal(t0.Add(time.Minute)) || tb.Times[1].Location() != time.UTC || tb.Bin != time.Minute {
		t.Errorf("times %v, bin %s", tb.Times, tb.Bin)
	}
	if !slices.Equal(tb.Cols["a"], []float64{1, 3, 5}) || !slices.Equal(tb.Cols["b"], []float64{2.5, 4, 6000}) || tb.Cols["c"] != nil || tb.Cols["d"] != nil {
		t.Errorf("columns %v", tb.Cols)
	}
	// Uneven bins pass without EvenBins; a single row has no bin width.
	tb, err = ReadTable(context.Background(), strings.NewReader("time,a\n2001-07-19T10:00:00Z,1\n2001-07-19T10:01:00Z,1\n2001-07-19T10:05:00Z,1\n"), "u.csv", TableOptions{Columns: Want("a")})
	if err != nil || tb.Bin != time.Minute {
		t.Errorf("uneven bins: %v, %+v", err, tb)
	}
	tb, err = ReadTable(context.Background(), strings.NewReader("time,a\n2001-07-19T10:00:00Z,1\n"), "one.csv", TableOptions{Columns: Want("a")})
	if err != nil || tb.Bin != 0 || len(tb.Times) != 1 {
		t.Errorf("one row: %v, %+v", err, tb)
	}
}

func TestReadTableErrors(t *testing.T) {
	head := "time,a,b\n"
	row := func(tm, a string) string { return tm + "," + a + ",0\n" }
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"empty", "", []string{"t.csv: empty file"}},
		{"header only", head, []string{"t.csv: no rows after the header"}},
		{"first column", "when,a\n", []string{"t.csv: line 1: ", `the first column is "when", want "time"`}},
		{"twice", "time,a,a\n", []string{"t.csv: line 1: column a: appears twice"}},
		{"missing", "time,b\n", []string{"t.csv: line 1: column a: missing (the header has time,b)"}},
		{"bad time", head + row("19/07/2001", "1"), []string{"t.csv: line 2: column time: ", "RFC 3339"}},
		{"back", head + row("2001-07-19T10:01:00Z", "1") + row("2001-07-19T10:00:00Z", "1"), []string{"line 3: column time: ", "not after the previous row's 2001-07-19T10:01:00Z"}},
		{"gap", head + row("2001-07-19T10:00:00Z", "1") + row("2001-07-19T10:01:00Z", "1") + row("2001-07-19T10:03:00Z", "1"), []string{"line 4: column time: ", "2m0s after the previous row", "bins are 1m0s"}},
		{"negative", head + row("2001-07-19T10:00:00Z", "-1"), []string{"line 2: column a: ", `"-1" is not a count`}},
		{"NaN", head + row("2001-07-19T10:00:00Z", "NaN"), []string{"line 2: column a: ", `"NaN"`}},
		{"infinite", head + row("2001-07-19T10:00:00Z", "+Inf"), []string{"line 2: column a: "}},
		{"ragged", head + row("2001-07-19T10:00:00Z", "1") + "2001-07-19T10:01:00Z,1\n", []string{"t.csv: line 3: wrong number of fields"}},
		{"multi-line record", head + "2001-07-19T10:00:00Z,\"1\n2\"x,0\n", []string{"t.csv: line 2: ", "runs to line 3"}},
	} {
		_, err := ReadTable(context.Background(), strings.NewReader(tc.in), "t.csv", TableOptions{Columns: Want("a"), EvenBins: true})
		var re *Error
		if !errors.As(err, &re) {
			t.Errorf("%s: error %v, want an *Error", tc.name, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", tc.name, err, w)
			}
		}
	}
}

// TestReadTableCaps: the caps of TableOptions are enforced with the line,
// and a done context stops the read.
func TestReadTableCaps(t *testing.T) {
	in := "time,a\n2001-07-19T10:00:00Z," + strings.Repeat("1", 100) + "\n"
	_, err := ReadTable(context.Background(), strings.NewReader(in), "t.csv", TableOptions{Columns: Want("a"), MaxBytes: 1 << 20, MaxLineBytes: 64, Reader: "forecast"})
	if err == nil || err.Error() != "t.csv: line 2: line longer than 64 bytes, forecast's cap for a CSV (is it the right file?)" {
		t.Errorf("line cap: %v", err)
	}
	_, err = ReadTable(context.Background(), strings.NewReader(in), "t.csv", TableOptions{Columns: Want("a"), MaxBytes: 1 << 10, Reader: "forecast"})
	if err != nil {
		t.Errorf("within the caps: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadTable(ctx, strings.NewReader(in), "t.csv", TableOptions{Columns: Want("a")}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestLimitReader(t *testing.T) {
	read := func(in string, max int64, line int) (string, error) {
		var out bytes.Buffer
		_, err := out.ReadFrom(NewLimitReader(strings.NewReader(in), max, line))
		return out.String(), err
	}
	if out, err := read("ab\ncd\n", 6, 2); err != nil || out != "ab\ncd\n" {
		t.Errorf("within the caps: %q, %v", out, err)
	}
	out, err := read("ab\ncd\nef", 6, 0)
	var ce *CapError
	if !errors.As(err, &ce) || ce.Line != 3 || ce.What != "larger than 6 bytes" || out != "ab\ncd\n" {
		t.Errorf("size cap: %q, %v", out, err)
	}
	out, err = read("ab\n\"c\nd\"\n", 100, 3)
	if !errors.As(err, &ce) || ce.Line != 3 || ce.What != "line longer than 3 bytes" || out != "ab\n\"c\n" {
		t.Errorf("line cap across a quoted newline: %q, %v", out, err)
	}
	for n, want := range map[int64]string{1000: "1000 bytes", 64 << 10: "64 KiB", 256 << 20: "256 MiB"} {
		if got := ByteText(n); got != want {
			t.Errorf("ByteText(%d) = %q, want %q", n, got, want)
		}
	}
}

var testLimits = SeriesLimits{
	Reader: "test", MinRows: 2, MaxRows: 3, MaxRowsText: "three rows", MaxBytes: 1 << 20, MaxLineBytes: 1 << 10,
	MaxSize: 1 << 24, MinTime: time.Unix(0, 0).UTC(), MaxTime: time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC), MinTimeText: "1970",
	MaxInterval: time.Hour, MaxIntervalText: "an hour",
}

func TestReadSensorSeries(t *testing.T) {
	in := "size,time,probes,sources,new_sources,cumulative_sources\n" +
		"256,2001-07-19T10:00:00Z,5,2,2,2\n256,2001-07-19T10:01:00Z,9,4,3,5\n"
	s, err := ReadSensorSeries(context.Background(), strings.NewReader(in), "s.csv", testLimits)
	if err != nil {
		t.Fatal(err)
	}
	want := []SensorRow{{t0, 5, 2, 2, 2}, {t0.Add(time.Minute), 9, 4, 3, 5}}
	if s.Name != "s.csv" || s.Size != 256 || s.Interval != time.Minute || !slices.Equal(s.Rows, want) {
		t.Errorf("series %+v", s)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"too many rows", in + "256,2001-07-19T10:02:00Z,0,0,0,5\n256,2001-07-19T10:03:00Z,0,0,0,5\n", "s.csv: line 5: more than 3 rows, test's cap (three rows)"},
		{"too few rows", "time,probes,sources,new_sources,cumulative_sources,size\n2001-07-19T10:00:00Z,1,1,1,1,8\n", "s.csv: line 2: series too short to estimate: 1 rows, at least 2"},
		{"before the first time", strings.ReplaceAll(in, "2001-", "1969-"), "s.csv: line 2: column time: 1969-07-19T10:00:00Z is before 1970; times must be real dates"},
		{"interval", strings.Replace(in, "10:01", "12:00", 1), "s.csv: line 3: column time: 2001-07-19T12:00:00Z is 2h0m0s after the previous row (allowed: intervals of at most an hour)"},
		{"size", strings.ReplaceAll(in, "256,", "16777217,"), "column size: 16777217 is not a sensor size (want the addresses watched, 1 to 16777216)"},
		{"field count", in + "256,1\n", "s.csv: line 4: wrong number of fields (want 6: time,probes,sources,new_sources,cumulative_sources,size)"},
		{"long line", in + strings.Repeat("1", 2000), "s.csv: line 4: line longer than 1 KiB, test's cap for a CSV (is it the right file?)"},
	} {
		_, err := ReadSensorSeries(context.Background(), strings.NewReader(tc.in), "s.csv", testLimits)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestParseSummary(t *testing.T) {
	s, err := ParseSummary([]byte(`{"scenario": "x", "seed": 7, "bin_seconds": 60, "space_bits": 24, "variants": ["crv2"], "other": 1}`), "summary.json")
	if err != nil || *s.Scenario != "x" || *s.Seed != 7 || *s.BinSeconds != 60 || *s.SpaceBits != 24 || s.Start != nil || s.EverInfected != nil || !slices.Equal(s.Variants, []string{"crv2"}) {
		t.Fatalf("summary %+v, %v", s, err)
	}
	for in, want := range map[string]string{
		"{\n  \"seed\": 1,\n  oops\n}":       "summary.json: line 3: not valid JSON",
		"{\n  \"seed\": \"seven\"\n}":        "summary.json: line 2: key seed: a JSON string cannot be a uint64",
		"{\"start\": \"19 July\"}":           "summary.json: parsing time",
		"[1, 2":                              "summary.json: line 1: not valid JSON",
		"{\"bin_seconds\": 1, \"seed\": -1}": "key seed: a JSON number -1 cannot be a uint64",
	} {
		_, err := ParseSummary([]byte(in), "summary.json")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", in, err, want)
		}
	}
}

func TestParseValidation(t *testing.T) {
	v, err := ParseValidation([]byte(`{"scenario": "s", "seeds": [1, 2], "checks": [{"name": "c", "sim_p50": null, "measured": 3}],
		"logistic": {"k_per_hour": [1, 2, 3]}, "traffic": [{"name": "q", "p50": 4}]}`), "v.json")
	if err != nil || v.Scenario != "s" || len(v.Seeds) != 2 || v.Checks[0].Measured != 3 || v.Checks[0].P50 != 0 || v.Logistic.KPerHour[1] != 2 || v.Traffic[0].P50 != 4 {
		t.Fatalf("validation %+v, %v", v, err)
	}
	for in, want := range map[string]string{
		`{"seeds": [1]}`:                        "v.json: key scenario is missing",
		`{"scenario": "s"}`:                     "v.json: key seeds is missing or empty",
		`{"scenario": "s", "seeds": "one"}`:     "v.json: line 1: key seeds",
		"{\n\"scenario\": \"s\",\n\"seeds\": [": "v.json: line 3: not valid JSON",
	} {
		_, err := ParseValidation([]byte(in), "v.json")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", in, err, want)
		}
	}
	// Written back, a figure no seed produced is null.
	b, err := (Check{Name: "c", P05: math.NaN(), P50: math.Inf(1), Measured: 1}).MarshalJSON()
	if err != nil || !strings.Contains(string(b), `"sim_p05":null,"sim_p50":null`) || !strings.Contains(string(b), `"measured":1`) {
		t.Errorf("check JSON %s, %v", b, err)
	}
}

// writeFiles writes files (path relative to dir, slash-separated:
// contents) into dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const (
	tsCSV     = "time,infected,patched\n2001-07-19T10:00:00Z,1,0\n2001-07-19T10:01:00Z,2,1\n"
	sensorCSV = "time,probes,sources,new_sources,cumulative_sources,size\n2001-07-19T10:00:00Z,1,1,1,1,8\n2001-07-19T10:01:00Z,3,2,1,2,8\n"
	bandsCSV  = "time,infected_p05,infected_p50,infected_p95,t_cumulative_sources_p05,t_cumulative_sources_p50,t_cumulative_sources_p95\n" +
		"2001-07-19T10:00:00Z,1,2,3,4,5,6\n2001-07-19T10:01:00Z,2,3,4,5,6,7\n"
)

func TestDetect(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"run/summary.json": "{}", "run2/timeseries.csv": tsCSV, "rp/bands.csv": bandsCSV, "rp2/validation.json": "{}",
		"many/seed-0001/timeseries.csv": tsCSV, "none/notes.txt": "x", "file": "x",
	})
	for dir, want := range map[string]Kind{"run": KindRun, "run2": KindRun, "rp": KindReplay, "rp2": KindReplay, "many": KindSeeds, "none": KindNone} {
		if k, err := Detect(filepath.Join(root, dir)); k != want || err != nil {
			t.Errorf("Detect(%s) = %q, %v; want %q", dir, k, err, want)
		}
	}
	for name, want := range map[string]string{"nope": "nope: no such folder", "file": "file: is a file, not a folder"} {
		_, err := Detect(filepath.Join(root, name))
		var re *Error
		if !errors.As(err, &re) || !strings.Contains(err.Error(), want) {
			t.Errorf("Detect(%s): error %v, want %q", name, err, want)
		}
	}
}

func TestReadRun(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		SummaryFile: `{"scenario": "s", "seed": 3}`, TimeseriesFile: tsCSV, ScenarioFile: "name = \"s\"\n",
		"sensors/b.csv": sensorCSV, "sensors/a.csv": sensorCSV, "sensors/.a.csv.partial-1": "x", "sensors/a.pcap": "x", "notes.txt": "x",
	})
	var seen []string
	run, err := ReadRun(dir, RunOptions{Columns: []string{Infected}, EvenBins: true, Scenario: true, SensorColumns: []string{SensorCumulativeSources},
		Observe: func(name string, data []byte) { seen = append(seen, name+":"+string(data[:1])) }})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"summary.json:{", "timeseries.csv:t", "scenario.toml:n", "sensors/a.csv:t", "sensors/b.csv:t"}; !slices.Equal(seen, want) {
		t.Errorf("files read %v, want %v", seen, want)
	}
	if *run.Summary.Seed != 3 || !slices.Equal(run.Series.Cols[Infected], []float64{1, 2}) || string(run.ScenarioTOML) != "name = \"s\"\n" ||
		len(run.Sensors) != 2 || run.Sensors[0].Name != "a" || !slices.Equal(run.Sensors[1].Cols[SensorCumulativeSources], []float64{1, 2}) {
		t.Errorf("run %+v", run)
	}
	if run.Sensors[1].Name != "b" || run.Sensors[1].Table.Name != filepath.Join(dir, "sensors", "b.csv") {
		t.Errorf("sensor b: %+v", run.Sensors[1])
	}
	// Without summary.json, scenario and sensors when not asked for.
	os.Remove(filepath.Join(dir, SummaryFile))
	run, err = ReadRun(dir, RunOptions{Columns: []string{Patched}})
	if err != nil || run.Summary != nil || run.ScenarioTOML != nil || run.Sensors != nil {
		t.Errorf("bare run: %+v, %v", run, err)
	}
	// Errors name the file.
	os.Remove(filepath.Join(dir, TimeseriesFile))
	_, err = ReadRun(dir, RunOptions{})
	if want := filepath.Join(dir, TimeseriesFile) + ": missing (a run folder needs it)"; err == nil || err.Error() != want {
		t.Errorf("missing timeseries: %v, want %q", err, want)
	}
	writeFiles(t, dir, map[string]string{TimeseriesFile: tsCSV, "sensors/a.csv": "time,probes\n2001-07-19T10:00:00Z,1\n"})
	_, err = ReadRun(dir, RunOptions{SensorColumns: []string{SensorCumulativeSources}})
	if want := filepath.Join(dir, "sensors", "a.csv") + ": line 1: column cumulative_sources: missing"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("bad sensor: %v, want %q", err, want)
	}
}

func TestReadReplay(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		BandsFile: bandsCSV, ValidationFile: `{"scenario": "s", "seeds": [1, 2]}`,
		"seed-0002/summary.json": `{"variants": ["b"]}`, "seed-0001/summary.json": `{"variants": ["a"]}`, "seed-0001/scenario.toml": "x",
		".seed-0003.partial-1/summary.json": "{}",
	})
	var seen []string
	rp, err := ReadReplay(dir, ReplayOptions{Validation: true, FirstSeed: true, EvenBins: true,
		Bands: func(head []string) []string {
			out := []string{Infected}
			for _, s := range SensorsOfBands(head, SensorCumulativeSources) {
				out = append(out, SensorBand(s, SensorCumulativeSources))
			}
			return out
		},
		Observe: func(name string, _ []byte) { seen = append(seen, name) }})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"validation.json", "bands.csv", "seed-0001/scenario.toml", "seed-0001/summary.json"}; !slices.Equal(seen, want) {
		t.Errorf("files read %v, want %v", seen, want)
	}
	if !slices.Equal(rp.BandNames, []string{"infected", "t_cumulative_sources"}) || len(rp.Seeds) != 2 || rp.Validation.Scenario != "s" ||
		!slices.Equal(rp.FirstSummary.Variants, []string{"a"}) || string(rp.FirstScenarioTOML) != "x" || len(rp.Times()) != 2 {
		t.Errorf("replay %+v", rp)
	}
	if b := rp.Band(Infected); b.Name != Infected || !slices.Equal(b.P05, []float64{1, 2}) || !slices.Equal(b.P95, []float64{3, 4}) {
		t.Errorf("band %+v", b)
	}
	_, err = ReadReplay(dir, ReplayOptions{Bands: func([]string) []string { return []string{Patched} }})
	if want := filepath.Join(dir, BandsFile) + ": line 1: column patched_p05: missing"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("missing band: %v, want %q", err, want)
	}
	os.Remove(filepath.Join(dir, ValidationFile))
	_, err = ReadReplay(dir, ReplayOptions{Validation: true, Bands: func([]string) []string { return nil }})
	if want := filepath.Join(dir, ValidationFile) + ": missing (a replay folder needs it)"; err == nil || err.Error() != want {
		t.Errorf("missing validation: %v, want %q", err, want)
	}
}

// FuzzReadTable checks that the table reader never panics, that its
// failures are *Error naming the file, and that what it accepts keeps its
// promises.
func FuzzReadTable(f *testing.F) {
	f.Add([]byte(tsCSV))
	f.Add([]byte(bandsCSV))
	f.Add([]byte("time,infected,patched\n2001-07-19T10:00:00.5Z,1,0\n"))
	f.Add([]byte("\ufefftime,infected,patched\n\"2001-07-19T10:00:00+02:00\",1e3,0\n"))
	f.Add([]byte(""))
	f.Add([]byte("time\n\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := ReadTable(context.Background(), bytes.NewReader(data), "fuzz.csv", TableOptions{Columns: Want(Infected, Patched), EvenBins: true})
		if err != nil {
			var re *Error
			if !errors.As(err, &re) || !strings.HasPrefix(err.Error(), "fuzz.csv") {
				t.Fatalf("error %v is not an *Error naming the file", err)
			}
			return
		}
		if len(tb.Times) == 0 {
			t.Fatal("accepted a table without rows")
		}
		for i := 1; i < len(tb.Times); i++ {
			if d := tb.Times[i].Sub(tb.Times[i-1]); d <= 0 || d != tb.Bin {
				t.Fatalf("row %d is %s after the previous, bins are %s", i, d, tb.Bin)
			}
		}
		for _, c := range []string{Infected, Patched} {
			v := tb.Cols[c]
			if len(v) != len(tb.Times) {
				t.Fatalf("column %s has %d values for %d rows", c, len(v), len(tb.Times))
			}
			for _, x := range v {
				if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
					t.Fatalf("column %s holds %v", c, x)
				}
			}
		}
	})
}

func TestQuantile(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
	// Type 7: h = q (n-1); for n = 20, q = 0.05 gives h = 0.95, between 1 and 2.
	for _, tc := range []struct{ q, want float64 }{{0, 1}, {0.05, 1.95}, {0.5, 10.5}, {0.95, 19.05}, {1, 20}} {
		if got := Quantile(x, tc.q); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Quantile(1..20, %g) = %g, want %g", tc.q, got, tc.want)
		}
	}
	if got := Quantile([]float64{7}, 0.95); got != 7 {
		t.Errorf("Quantile of one value = %g, want 7", got)
	}
	if got := Quantile(nil, 0.5); !math.IsNaN(got) {
		t.Errorf("Quantile of nothing = %g, want NaN", got)
	}
	v := []float64{3, 1, 2}
	if a, b, c := Quantiles(v); a != 1.1 || b != 2 || c != 2.9 || v[0] != 1 {
		t.Errorf("Quantiles = %g, %g, %g (sorted %v)", a, b, c, v)
	}
}
