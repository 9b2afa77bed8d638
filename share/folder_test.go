package share

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"wormwatch/results"
)

// A synthetic outbreak, one row per hour from 26 July 2001 to the end of
// 1 August, built phase by phase so that every figure of the outlook is
// known by hand:
//
//   - 26-27 July (rows 0-47): 1,000 hosts flooding, 500 susceptible;
//   - 28-31 July (rows 48-143): 900 hosts dormant, 100 patched;
//   - 1 August 00:00 and 01:00 (rows 144-145): 600 dormant, 300 scanning;
//   - from 1 August 02:00 (rows 146-167): 100 dormant, the rest scanning,
//     10 new infections per hour.
//
// So: the peak of infected hosts is the last row (900 + 10 x 22 = 1,120 at
// 23:00 on 1 August), 1,220 hosts were ever infected, the restart seen is at
// 02:00 on 1 August with 600 hosts waking and 220 infections in the day
// after, and the next restart (the data end while the worm spreads) is at
// 00:00 on 1 September with up to 1,120 hosts.
var (
	synthStart = time.Date(2001, 7, 26, 0, 0, 0, 0, time.UTC)
	synthRows  = 168
)

type synthRow struct {
	susceptible, infected, scanning, flooding, dormant, patched, removed, newInf, ever float64
}

func synthAt(i int) synthRow {
	switch {
	case i < 48:
		return synthRow{susceptible: 500, infected: 1000, flooding: 1000, ever: 1000}
	case i < 144:
		return synthRow{susceptible: 500, infected: 900, dormant: 900, patched: 100, ever: 1000}
	case i < 146:
		return synthRow{susceptible: 500, infected: 900, dormant: 600, scanning: 300, patched: 100, ever: 1000}
	}
	k := float64(i - 145)
	return synthRow{susceptible: 500 - 10*k, infected: 900 + 10*k, dormant: 100, scanning: 800 + 10*k, patched: 100, newInf: 10, ever: 1000 + 10*k}
}

const seriesHeader = "time,susceptible,infected,infected_scanning,infected_flooding,infected_dormant,patched,removed,new_infections,ever_infected"

func (r synthRow) scaled(f float64) []string {
	var out []string
	for _, x := range []float64{r.susceptible, r.infected, r.scanning, r.flooding, r.dormant, r.patched, r.removed, r.newInf, r.ever} {
		out = append(out, strconv.FormatFloat(x*f, 'f', -1, 64))
	}
	return out
}

func synthTimeseries() string {
	var b strings.Builder
	b.WriteString(seriesHeader + ",probes\n")
	for i := range synthRows {
		fmt.Fprintf(&b, "%s,%s,0\n", synthStart.Add(time.Duration(i)*time.Hour).Format(time.RFC3339), strings.Join(synthAt(i).scaled(1), ","))
	}
	return b.String()
}

func synthBands() string {
	var b strings.Builder
	b.WriteString("time")
	for _, c := range strings.Split(seriesHeader, ",")[1:] {
		fmt.Fprintf(&b, ",%s_p05,%s_p50,%s_p95", c, c, c)
	}
	b.WriteString(",tel_cumulative_sources_p05,tel_cumulative_sources_p50,tel_cumulative_sources_p95,tel_new_sources_p05,tel_new_sources_p50,tel_new_sources_p95\n")
	for i := range synthRows {
		b.WriteString(synthStart.Add(time.Duration(i) * time.Hour).Format(time.RFC3339))
		lo, mid, hi := synthAt(i).scaled(0.9), synthAt(i).scaled(1), synthAt(i).scaled(1.1)
		for j := range mid {
			fmt.Fprintf(&b, ",%s,%s,%s", lo[j], mid[j], hi[j])
		}
		// A telescope that sees one new source per hour.
		fmt.Fprintf(&b, ",%d,%d,%d,1,1,1\n", i, i+1, i+2)
	}
	return b.String()
}

const synthScenario = `# resolved scenario
name = "synthetic"
description = "A synthetic outbreak for the tests"
start = 2001-07-26T00:00:00Z

[[worm]]
name = "crv2"

[worm.calendar]
kind = "monthly"
spread_until_day = 19

[worm.calendar.wake_delay]
kind = "lognormal"
mean = "2h"
sigma = 0.8
`

func synthSummary() string {
	return fmt.Sprintf(`{
  "scenario": "synthetic",
  "seed": 7,
  "engine": "fast",
  "version": "0.1.0",
  "start": "2001-07-26T00:00:00Z",
  "end": "%s",
  "bin_seconds": 3600,
  "bins": %d,
  "variants": ["crv2"],
  "ever_infected": 1220
}
`, synthStart.Add(time.Duration(synthRows)*time.Hour).Format(time.RFC3339), synthRows)
}

const synthSensor = "time,probes,sources,new_sources,cumulative_sources,size\n" +
	"2001-07-26T00:00:00Z,5,2,2,2,16777216\n" +
	"2001-07-26T01:00:00Z,9,4,3,5,16777216\n" +
	"2001-07-26T02:00:00Z,7,3,1,6,16777216\n"

const synthValidation = `{
  "scenario": "synthetic",
  "seeds": [1, 2, 3],
  "version": "0.1.0",
  "checks": [
    {"name": "peak per minute", "source": "CAIDA", "measured": 2000, "unit": "per minute",
     "sim_p05": 2100, "sim_p50": 2500, "sim_p95": 2900, "inside": true, "note": "n"},
    {"name": "seen by the /8", "source": "CAIDA", "measured": 359104, "unit": "addresses",
     "sim_p05": 350000, "sim_p50": 355000, "sim_p95": 358000, "inside": false}
  ],
  "logistic": {"series": "tel_cumulative_sources", "k_per_hour": [1.6, 1.7, 1.8],
    "t": ["2001-07-19T16:00:00Z", "2001-07-19T16:30:00Z", "2001-07-19T17:00:00Z"],
    "published_k_low": 1.7, "published_k_high": 2.6, "source": "Staniford et al."}
}
`

// writeFiles writes files (path relative to dir: contents) into dir.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func runFiles() map[string]string {
	return map[string]string{
		results.SummaryFile:    synthSummary(),
		results.TimeseriesFile: synthTimeseries(),
		results.ScenarioFile:   synthScenario,
		"sensors/tel-8.csv":    synthSensor,
	}
}

func replayFiles() map[string]string {
	return map[string]string{
		results.ValidationFile:              synthValidation,
		results.BandsFile:                   synthBands(),
		"seed-0001/" + results.ScenarioFile: synthScenario,
		"seed-0001/" + results.SummaryFile:  synthSummary(),
		"seed-0002/" + results.ScenarioFile: "this is not read",
	}
}

// synthFolder writes a synthetic run or replay folder and returns it.
func synthFolder(t testing.TB, kind string) string {
	t.Helper()
	dir := t.TempDir()
	if kind == "run" {
		writeFiles(t, dir, runFiles())
	} else {
		writeFiles(t, dir, replayFiles())
	}
	return dir
}

// jsonString is a helper for building bad inputs.
func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestDigestIgnoresWallClock checks that two folders that differ only in
// the wall-clock keys of summary.json have the same digest (so the same
// advisory tracking id), and that any other difference changes it.
func TestDigestIgnoresWallClock(t *testing.T) {
	t.Parallel()
	digest := func(edit func(map[string]any)) string {
		t.Helper()
		files := runFiles()
		var m map[string]any
		if err := json.Unmarshal([]byte(files[results.SummaryFile]), &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		files[results.SummaryFile] = jsonString(m)
		dir := t.TempDir()
		writeFiles(t, dir, files)
		o, err := ReadFolder(dir)
		if err != nil {
			t.Fatal(err)
		}
		return o.Digest
	}
	base := digest(func(map[string]any) {})
	slower := digest(func(m map[string]any) { m["wall_seconds"] = 123.5; m["probes_per_wall_second"] = 1.0 })
	other := digest(func(m map[string]any) { m["events"] = 4242 })
	if base != slower {
		t.Errorf("the digest changed with the wall-clock time: %s, %s", base, slower)
	}
	if base == other {
		t.Error("the digest did not change with the number of events")
	}
}
