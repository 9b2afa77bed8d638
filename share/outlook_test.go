package share

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wormwatch/results"
)

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestReadFolder(t *testing.T) {
	t.Parallel()
	// The figures below are worked out by hand in folder_test.go. For the
	// replay, every band is 0.9 and 1.1 times the median.
	for _, kind := range []string{"run", "replay"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			o, err := ReadFolder(synthFolder(t, kind))
			if err != nil {
				t.Fatal(err)
			}
			lo, hi := 1.0, 1.0
			if kind == "replay" {
				lo, hi = 0.9, 1.1
			}
			checks := []struct {
				name string
				got  Estimate
				want float64
				at   string
			}{
				{"PeakInfected", o.PeakInfected, 1120, "2001-08-01T23:00:00Z"},
				{"PeakNewPerMin", o.PeakNewPerMin, 10.0 / 60, "2001-08-01T02:00:00Z"},
				{"EverInfected", o.EverInfected, 1220, ""},
				{"EndInfected", o.EndInfected, 1120, ""},
				{"EndDormant", o.EndDormant, 100, ""},
				{"EndSusceptible", o.EndSusceptible, 280, ""},
				{"EndPatched", o.EndPatched, 100, ""},
			}
			for _, c := range checks {
				if !near(c.got.Value, c.want) || !near(c.got.Low, c.want*lo) || !near(c.got.High, c.want*hi) {
					t.Errorf("%s = %v [%v, %v], want %v [%v, %v]", c.name, c.got.Value, c.got.Low, c.got.High, c.want, c.want*lo, c.want*hi)
				}
				if c.at != "" && !c.got.At.Equal(date(c.at)) {
					t.Errorf("%s at %s, want %s", c.name, c.got.At, c.at)
				}
				if c.got.Spread != (kind == "replay") {
					t.Errorf("%s: Spread = %v for a %s", c.name, c.got.Spread, kind)
				}
			}
			if !near(o.Population.Value, 1500) {
				t.Errorf("Population = %v, want 1500", o.Population.Value)
			}
			if want := date("2001-08-02T00:00:00Z"); !o.End.Equal(want) || !o.Start.Equal(synthStart) {
				t.Errorf("data cover %s to %s, want %s to %s", o.Start, o.End, synthStart, want)
			}
			if o.Description != "A synthetic outbreak for the tests" || o.Scenario != "synthetic" {
				t.Errorf("scenario %q, description %q", o.Scenario, o.Description)
			}
			r := o.LastRestart
			if r == nil {
				t.Fatal("no restart seen")
			}
			if !r.Time.Equal(date("2001-08-01T02:00:00Z")) || !near(r.Waking.Value, 600) || !near(r.Susceptible.Value, 500) ||
				r.FirstDay == nil || !near(r.FirstDay.Value, 220) || r.WakeMedian != 2*time.Hour {
				t.Errorf("restart seen: %+v (first day %+v), want 1 August 02:00, 600 waking, 500 susceptible, 220 infections, wake median 2h", r, r.FirstDay)
			}
			n := o.NextRestart
			if n == nil {
				t.Fatal("no next restart")
			}
			if !n.Time.Equal(date("2001-09-01T00:00:00Z")) || !near(n.Waking.Value, 1120) || !near(n.Susceptible.Value, 280) {
				t.Errorf("next restart: %+v, want 1 September 00:00 with up to 1120 waking and 280 susceptible", n)
			}
			if len(o.Sensors) != 1 {
				t.Fatalf("sensors: %+v, want one", o.Sensors)
			}
			sv := o.Sensors[0]
			if kind == "run" {
				// sensors/tel-8.csv: cumulative 6 at the end, at most 3 new
				// sources in the second hour.
				if sv.Name != "tel-8" || sv.Size != 16777216 || sv.Sources.Value != 6 || !near(sv.PeakNewPM.Value, 3.0/60) ||
					!sv.PeakNewPM.At.Equal(date("2001-07-26T01:00:00Z")) {
					t.Errorf("sensor %+v", sv)
				}
			} else {
				if sv.Name != "tel" || sv.Sources.Value != float64(synthRows) || sv.Sources.Low != float64(synthRows-1) {
					t.Errorf("sensor %+v", sv)
				}
				if len(o.Checks) != 2 || o.Logistic == nil || o.Logistic.KPerHour[1] != 1.7 || len(o.Seeds) != 3 {
					t.Errorf("checks %+v, logistic %+v, seeds %v", o.Checks, o.Logistic, o.Seeds)
				}
			}
			if len(o.Digest) != 64 {
				t.Errorf("digest %q", o.Digest)
			}
		})
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// TestReadFolderDigest checks that the digest (and so the tracking id)
// follows the content of the files read, and only of them.
func TestReadFolderDigest(t *testing.T) {
	t.Parallel()
	digest := func(files map[string]string) string {
		dir := t.TempDir()
		writeFiles(t, dir, files)
		o, err := ReadFolder(dir)
		if err != nil {
			t.Fatal(err)
		}
		return o.Digest
	}
	base := runFiles()
	d0 := digest(base)
	if d := digest(runFiles()); d != d0 {
		t.Errorf("same files, digests %s and %s", d, d0)
	}
	extra := runFiles()
	extra["advisory/old.json"] = "{}"
	extra["notes.txt"] = "not read"
	if d := digest(extra); d != d0 {
		t.Errorf("files that are not read changed the digest")
	}
	changed := runFiles()
	changed[results.ScenarioFile] = strings.Replace(synthScenario, "A synthetic", "Another synthetic", 1)
	if d := digest(changed); d == d0 {
		t.Errorf("a changed scenario.toml kept the digest")
	}
}

// TestRestartCases covers the three ways a folder can end: dormant, while
// the worm spreads by a monthly calendar, or with variants that never sleep.
func TestRestartCases(t *testing.T) {
	t.Parallel()
	endDormant := func(files map[string]string) {
		// Cut the series after 31 July 23:00: the data end dormant.
		lines := strings.Split(files[results.TimeseriesFile], "\n")
		files[results.TimeseriesFile] = strings.Join(lines[:1+144], "\n") + "\n"
		files[results.SummaryFile] = strings.Replace(strings.Replace(files[results.SummaryFile], "1220", "1000", 1), "2001-08-02T00:00:00Z", "2001-08-01T00:00:00Z", 1)
	}
	cases := []struct {
		name     string
		edit     func(map[string]string)
		next     string // expected NextRestart time, "" for none
		waking   float64
		lastSeen bool
		note     string
	}{
		{"spreading", func(map[string]string) {}, "2001-09-01T00:00:00Z", 1120, true, "before the worm's dormant days"},
		{"dormant at the end", endDormant, "2001-08-01T00:00:00Z", 900, false, "end while most infected hosts are dormant"},
		{"never sleeps", func(f map[string]string) {
			f[results.ScenarioFile] = strings.Replace(synthScenario, `kind = "monthly"`, `kind = "always"`, 1)
			// Without the monthly rows, the series still has a dormant
			// period, which is reported as seen; no next restart is
			// expected.
		}, "", 0, true, "do not sleep and wake"},
		{"no scenario, CRv2 by name", func(f map[string]string) { delete(f, results.ScenarioFile) }, "2001-09-01T00:00:00Z", 1120, true, "before the worm's dormant days"},
		{"no scenario, unknown variant", func(f map[string]string) {
			delete(f, results.ScenarioFile)
			f[results.SummaryFile] = strings.Replace(f[results.SummaryFile], `["crv2"]`, `["mine"]`, 1)
		}, "", 0, true, "do not sleep and wake"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			files := runFiles()
			c.edit(files)
			dir := t.TempDir()
			writeFiles(t, dir, files)
			o, err := ReadFolder(dir)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case c.next == "" && o.NextRestart != nil:
				t.Errorf("next restart %+v, want none", o.NextRestart)
			case c.next != "" && o.NextRestart == nil:
				t.Errorf("no next restart, want one at %s", c.next)
			case c.next != "" && (!o.NextRestart.Time.Equal(date(c.next)) || !near(o.NextRestart.Waking.Value, c.waking)):
				t.Errorf("next restart at %s with %v waking, want %s with %v", o.NextRestart.Time, o.NextRestart.Waking.Value, c.next, c.waking)
			}
			if (o.LastRestart != nil) != c.lastSeen {
				t.Errorf("restart seen: %+v, want seen = %v", o.LastRestart, c.lastSeen)
			}
			if !strings.Contains(o.RestartNote, c.note) {
				t.Errorf("note %q does not say %q", o.RestartNote, c.note)
			}
		})
	}
}

// TestReadFolderErrors checks that bad folders give one error naming the
// file, and the line and key where there is one.
func TestReadFolderErrors(t *testing.T) {
	t.Parallel()
	edit := func(kind string, f func(map[string]string)) func(t *testing.T) string {
		return func(t *testing.T) string {
			files := runFiles()
			if kind == "replay" {
				files = replayFiles()
			}
			f(files)
			dir := t.TempDir()
			writeFiles(t, dir, files)
			return dir
		}
	}
	set := func(name, body string) func(map[string]string) {
		return func(f map[string]string) { f[name] = body }
	}
	replaceIn := func(name, old, new string) func(map[string]string) {
		return func(f map[string]string) { f[name] = strings.Replace(f[name], old, new, 1) }
	}
	cases := []struct {
		name   string
		folder func(t *testing.T) string
		want   []string
	}{
		{"missing folder", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") }, []string{"nope: no such folder"}},
		{"a file", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "f.json")
			writeFiles(t, filepath.Dir(p), map[string]string{"f.json": "{}"})
			return p
		}, []string{"f.json: is a file, not a folder"}},
		{"neither", func(t *testing.T) string { return t.TempDir() }, []string{"neither a run folder", "summary.json", "validation.json"}},
		{"run without timeseries", edit("run", func(f map[string]string) { delete(f, results.TimeseriesFile) }), []string{"timeseries.csv: missing", "run folder"}},
		{"replay without bands", edit("replay", func(f map[string]string) { delete(f, results.BandsFile) }), []string{"bands.csv: missing", "replay folder"}},
		{"summary not JSON", edit("run", set(results.SummaryFile, "{\n  \"scenario\": \"x\",\n  oops\n}")), []string{"summary.json: line 3", "not valid JSON"}},
		{"summary wrong type", edit("run", replaceIn(results.SummaryFile, `"bin_seconds": 3600`, `"bin_seconds": "an hour"`)), []string{"summary.json: line 8", "key bin_seconds"}},
		{"summary missing key", edit("run", replaceIn(results.SummaryFile, `"ever_infected": 1220`, `"other": 1`)), []string{"summary.json", "key ever_infected is missing"}},
		{"summary bad bin", edit("run", replaceIn(results.SummaryFile, `"bin_seconds": 3600`, `"bin_seconds": 0`)), []string{"summary.json", "key bin_seconds", "not a positive"}},
		{"end before start", edit("run", replaceIn(results.SummaryFile, `"start": "2001-07-26T00:00:00Z"`, `"start": "2001-09-26T00:00:00Z"`)), []string{"summary.json", "key end", "not after start"}},
		{"files of two runs", edit("run", replaceIn(results.SummaryFile, "1220", "1221")), []string{"timeseries.csv", "ever_infected (1220)", "1221"}},
		{"empty timeseries", edit("run", set(results.TimeseriesFile, "")), []string{"timeseries.csv: empty file"}},
		{"header only", edit("run", set(results.TimeseriesFile, seriesHeader+"\n")), []string{"timeseries.csv: no rows"}},
		{"no time column", edit("run", set(results.TimeseriesFile, "when,infected\n1,2\n")), []string{"timeseries.csv: line 1", `the first column is "when", want "time"`}},
		{"missing column", edit("run", replaceIn(results.TimeseriesFile, "infected_dormant", "asleep")), []string{"timeseries.csv: line 1", "column infected_dormant: missing"}},
		{"bad time", edit("run", replaceIn(results.TimeseriesFile, "2001-07-26T03:00:00Z", "26/07/2001 03:00")), []string{"timeseries.csv: line 5", "column time", "RFC 3339"}},
		{"time goes back", edit("run", replaceIn(results.TimeseriesFile, "2001-07-26T03:00:00Z", "2001-07-26T01:00:00Z")), []string{"timeseries.csv: line 5", "not after the previous row"}},
		{"not a count", edit("run", replaceIn(results.TimeseriesFile, "2001-07-26T02:00:00Z,500,", "2001-07-26T02:00:00Z,-5,")), []string{"timeseries.csv: line 4", "column susceptible", `"-5"`}},
		{"short row", edit("run", replaceIn(results.TimeseriesFile, "2001-07-26T02:00:00Z,500,1000,0,1000,0,0,0,0,1000,0", "2001-07-26T02:00:00Z,500")), []string{"timeseries.csv", "line 4"}},
		{"broken scenario", edit("run", set(results.ScenarioFile, "name = \"x\"\n[worm\n")), []string{"scenario.toml: line 2"}},
		{"broken sensor", edit("run", set("sensors/tel-8.csv", "time,probes\n2001-07-26T00:00:00Z,1\n")), []string{filepath.Join("sensors", "tel-8.csv"), "column cumulative_sources: missing"}},
		{"validation not JSON", edit("replay", set(results.ValidationFile, "[1, 2")), []string{"validation.json", "not valid JSON"}},
		{"validation without seeds", edit("replay", replaceIn(results.ValidationFile, `"seeds": [1, 2, 3],`, "")), []string{"validation.json", "key seeds"}},
		{"bands without p95", edit("replay", replaceIn(results.BandsFile, "infected_p95", "infected_q95")), []string{"bands.csv: line 1", "column infected_p95: missing"}},
		{"bands one row", edit("replay", func(f map[string]string) {
			lines := strings.Split(f[results.BandsFile], "\n")
			f[results.BandsFile] = lines[0] + "\n" + lines[1] + "\n"
		}), []string{"bands.csv", "one row only"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadFolder(c.folder(t))
			var fe *FolderError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T), want a *FolderError", err, err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestReadFolderUnreadable checks a file that exists but cannot be read.
func TestReadFolderUnreadable(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		// root reads files whatever their mode: make the file a folder
		// instead, which no one can read as a file.
		dir := synthFolder(t, "run")
		p := filepath.Join(dir, results.TimeseriesFile)
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := ReadFolder(dir)
		if err == nil || !strings.Contains(err.Error(), results.TimeseriesFile) {
			t.Fatalf("error %v, want one naming %s", err, results.TimeseriesFile)
		}
		return
	}
	dir := synthFolder(t, "run")
	p := filepath.Join(dir, results.TimeseriesFile)
	if err := os.Chmod(p, 0); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFolder(dir)
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("error %v, want permission denied on %s", err, p)
	}
}

// FuzzRunFolder feeds arbitrary summary.json, timeseries.csv and
// scenario.toml to ReadFolder: it must never panic, and every failure must
// be a *FolderError.
func FuzzRunFolder(f *testing.F) {
	f.Add(synthSummary(), synthTimeseries(), synthScenario)
	f.Add(synthSummary(), seriesHeader+"\n2001-07-26T00:00:00Z,1,1,1,0,0,0,0,1,1\n", "")
	f.Add("{}", "", "[")
	f.Add(`{"scenario":"s","seed":1,"start":"2001-07-26T00:00:00Z","end":"2001-07-26T01:00:00Z","bin_seconds":60,"ever_infected":1}`,
		seriesHeader+"\n2001-07-26T00:00:00Z,1,1,1,0,0,0,0,1,1\n", "[[worm]]\nname=1\n")
	f.Fuzz(func(t *testing.T, summary, timeseries, scenario string) {
		dir := t.TempDir()
		files := map[string]string{results.SummaryFile: summary, results.TimeseriesFile: timeseries}
		if scenario != "" {
			files[results.ScenarioFile] = scenario
		}
		writeFiles(t, dir, files)
		o, err := ReadFolder(dir)
		var fe *FolderError
		if err != nil && !errors.As(err, &fe) {
			t.Fatalf("error %v is not a *FolderError", err)
		}
		if err == nil {
			// Whatever was read must give a valid advisory.
			if _, err := Advisory(o, AdvisoryOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// FuzzReplayFolder does the same for validation.json and bands.csv.
func FuzzReplayFolder(f *testing.F) {
	f.Add(synthValidation, synthBands())
	f.Add(`{"scenario":"s","seeds":[1]}`, "time,x\n")
	f.Add(`{"scenario":"s","seeds":[1],"logistic":{"k_per_hour":[1,2,3]}}`, "")
	f.Fuzz(func(t *testing.T, validation, bands string) {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{results.ValidationFile: validation, results.BandsFile: bands})
		o, err := ReadFolder(dir)
		var fe *FolderError
		if err != nil && !errors.As(err, &fe) {
			t.Fatalf("error %v is not a *FolderError", err)
		}
		if err == nil {
			if _, err := Advisory(o, AdvisoryOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	})
}
