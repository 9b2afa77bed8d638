package main

// End-to-end tests of 'wormwatch forecast' and 'forecast reemergence', run
// as a user would (the binary built by TestMain in cli_test.go).

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wormwatch/forecast"
)

// fcSeries writes a deterministic series of a uniform-scanning worm as a
// sensor sees it: infected hosts on a logistic curve (N hosts, K per
// hour), each not yet seen is seen within a row with probability q, each
// seen one again with probability q (rounded counts, so the file is the
// same on every machine). The sensor's size obeys the uniform-scan
// relation N = K size / mu, mu = -ln(1-q) per minute.
func fcSeries(t *testing.T, path string, rows int) {
	t.Helper()
	const n, k, mid, q = 100000.0, 1.5, 6.0, 0.5
	// fcSize = n * 60 ln(2) / k, rounded
	var b strings.Builder
	b.WriteString("time,probes,sources,new_sources,cumulative_sources,size\n")
	start := time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)
	var cum float64
	for i := range rows {
		h := float64(i) / 60
		inf := n / (1 + math.Exp(-k*(h-mid)))
		nw := math.Round(q * math.Max(inf-cum, 0))
		re := math.Round(q * cum)
		src := nw + re
		fmt.Fprintf(&b, "%s,%d,%d,%d,%d,%d\n", start.Add(time.Duration(i)*time.Minute).Format(time.RFC3339),
			int64(src+math.Round(0.4*src)), int64(src), int64(nw), int64(cum+nw), fcSize)
		cum += nw
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

const fcSize = 2772589

func TestForecastCSV(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fcSeries(t, filepath.Join(dir, "tel.csv"), 420)

	r := mustRun(t, dir, "forecast", "tel.csv")
	for _, w := range []string{"series    tel.csv: 420 intervals of 1m0s", "alarm     2001-07-19T", "N (vulnerable hosts, filter: K / beta)", "forecast of infected hosts (median and 95% band)"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("text output lacks %q:\n%s", w, r.stdout)
		}
	}

	r = mustRun(t, dir, "forecast", "tel.csv", "--format", "json", "--horizon", "3h", "--step", "30m", "--plot", "pic.png", "--track", "track.csv")
	var j struct {
		Series struct {
			Rows            int     `json:"rows"`
			IntervalSeconds float64 `json:"interval_seconds"`
			Size            uint64  `json:"size"`
			SpaceBits       int     `json:"space_bits"`
		} `json:"series"`
		Alarm *struct {
			Time time.Time `json:"time"`
		} `json:"alarm"`
		Estimates struct {
			KPerHour struct{ Value, Low, High *float64 } `json:"k_per_hour"`
			N        struct{ Value *float64 }            `json:"n"`
		} `json:"estimates"`
		Logistic *struct {
			N struct{ Value *float64 } `json:"n"`
		} `json:"logistic"`
		Forecast []struct {
			Time     time.Time `json:"time"`
			Infected struct{ Value, Low, High *float64 }
		} `json:"forecast"`
		Options struct {
			AlarmGrowth float64 `json:"alarm_growth"`
		} `json:"options"`
		Notes []string `json:"notes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &j); err != nil {
		t.Fatalf("JSON: %v\n%s", err, r.stdout)
	}
	if j.Series.Rows != 420 || j.Series.IntervalSeconds != 60 || j.Series.Size != fcSize || j.Series.SpaceBits != 32 || j.Options.AlarmGrowth != 8 {
		t.Errorf("series %+v options %+v", j.Series, j.Options)
	}
	// The rows grow at K = 1.5/h from the start, so the alarm fires
	// within the seven hours, and K is found.
	if j.Alarm == nil || j.Alarm.Time.After(time.Date(2001, 7, 19, 17, 0, 0, 0, time.UTC)) {
		t.Errorf("alarm %+v", j.Alarm)
	}
	if v, n := j.Estimates.KPerHour.Value, j.Estimates.N.Value; v == nil || math.Abs(*v-1.5) > 0.1 || n == nil || math.Abs(*n/1e5-1) > 0.1 || j.Logistic == nil {
		t.Errorf("K %v, N %v, logistic %v", deref(j.Estimates.KPerHour.Value), deref(j.Estimates.N.Value), j.Logistic != nil)
	}
	if len(j.Forecast) != 7 || !j.Forecast[6].Time.Equal(time.Date(2001, 7, 19, 20, 0, 0, 0, time.UTC)) {
		t.Errorf("forecast %+v, want 7 points from 17:00 to 20:00", j.Forecast)
	}
	img, err := os.ReadFile(filepath.Join(dir, "pic.png"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(img)); err != nil {
		t.Errorf("pic.png: %v", err)
	}
	tr := readTrack(t, filepath.Join(dir, "track.csv"))
	if len(tr) != 421 || strings.Join(tr[0], ",") != strings.Join(forecast.TrackColumns, ",") {
		t.Errorf("track: %d lines, header %v", len(tr), tr[0])
	}
	// The same input gives the same output.
	if r2 := mustRun(t, dir, "forecast", "tel.csv", "--format", "json", "--horizon", "3h", "--step", "30m"); r2.stdout != r.stdout {
		t.Error("two runs on the same series differ")
	}
	// SVG too.
	mustRun(t, dir, "forecast", "tel.csv", "--plot", "pic.svg")
	if b, err := os.ReadFile(filepath.Join(dir, "pic.svg")); err != nil || !bytes.Contains(b, []byte("<svg")) {
		t.Errorf("pic.svg: %v", err)
	}
}

func readTrack(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestForecastFolders(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fcSeries(t, filepath.Join(dir, "run", "sensors", "ucsd-8.csv"), 300)
	fcSeries(t, filepath.Join(dir, "run", "sensors", "small.csv"), 300)
	if err := os.WriteFile(filepath.Join(dir, "run", "summary.json"), []byte(`{"space_bits": 24}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, dir, "forecast", "run", "--sensor", "ucsd-8", "--format", "json")
	if !strings.Contains(r.stdout, `"space_bits": 24`) || !strings.Contains(r.stdout, filepath.Join("run", "sensors", "ucsd-8.csv")) {
		t.Errorf("run folder: the series or the space bits were not taken from the folder:\n%s", r.stdout[:min(400, len(r.stdout))])
	}
	// A replay folder: the first seed's series.
	fcSeries(t, filepath.Join(dir, "replay", "seed-0010", "sensors", "ucsd-8.csv"), 300)
	fcSeries(t, filepath.Join(dir, "replay", "seed-0003", "sensors", "ucsd-8.csv"), 250)
	r = mustRun(t, dir, "forecast", "replay", "--sensor", "ucsd-8")
	if !strings.Contains(r.stdout, filepath.Join("replay", "seed-0003", "sensors", "ucsd-8.csv")+": 250 intervals") {
		t.Errorf("replay folder: want seed-0003's series:\n%s", r.stdout)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"forecast", "run"}, "choose a sensor with --sensor (allowed: small, ucsd-8)"},
		{[]string{"forecast", "run", "--sensor", "nope"}, "--sensor nope: no " + filepath.Join("run", "sensors", "nope.csv") + " (allowed: small, ucsd-8)"},
		{[]string{"forecast", "run", "--sensor", "../x"}, "--sensor ../x"},
		{[]string{"forecast", filepath.Join("run", "sensors", "small.csv"), "--sensor", "small"}, "is a file, not a results folder"},
		{[]string{"forecast", "."}, "neither a run folder"},
	} {
		r := wormwatch(t, dir, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line with %q", c.args, r.code, r.stderr, c.want)
		}
	}
}

func TestForecastBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fcSeries(t, filepath.Join(dir, "tel.csv"), 100)
	bad := "time,probes,sources,new_sources,cumulative_sources,size\n2001-07-19T10:00:00Z,1,1,1,1,256\n2001-07-19T10:01:00Z,1,1,1,2,256\n2001-07-19T10:00:30Z,1,1,1,3,256\n"
	if err := os.WriteFile(filepath.Join(dir, "bad.csv"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "empty.csv"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"forecast", "bad.csv"}, "bad.csv: line 4: column time: 2001-07-19T10:00:30Z is not after the previous row's"},
		{[]string{"forecast", "empty.csv"}, "empty.csv: empty series"},
		{[]string{"forecast", "missing.csv"}, "missing.csv: cannot read: no such file or folder"},
		{[]string{"forecast", "tel.csv", "--format", "xml"}, "--format xml: unknown format (allowed: text, json)"},
		{[]string{"forecast", "tel.csv", "--plot", "x.gif"}, "--plot x.gif: unknown picture type (allowed: a file ending in .png or .svg)"},
		{[]string{"forecast", "tel.csv", "--level", "95"}, "--level: 95 out of range (allowed: between 0 and 1, like 0.95)"},
		{[]string{"forecast", "tel.csv", "--alarm-growth", "1"}, "--alarm-growth: 1 out of range (allowed: more than 1)"},
		{[]string{"forecast", "tel.csv", "--space-bits", "0"}, "--space-bits 0: out of range"},
		{[]string{"forecast", "tel.csv", "--step", "0s"}, "--step: 0s is below the minimum 1ns (allowed 1ns to 366d)"},
		{[]string{"forecast", "tel.csv", "--plot", filepath.Join("no", "such", "dir", "x.png")}, "the folder no/such/dir does not exist"},
		{[]string{"forecast"}, "accepts 1 arg"},
	} {
		r := wormwatch(t, dir, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line with %q", c.args, r.code, r.stderr, c.want)
		}
	}
}

func TestReemergenceCmd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := mustRun(t, dir, "forecast", "reemergence", "--max-size", "50000")
	for _, w := range []string{"patching as now (0.04/day)", "awareness campaign (0.4/day)", "first carrier awake (wrong clock)", "to keep the restart at or under 50,000 hosts", "hour by hour from the restart"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("text output lacks %q:\n%s", w, r.stdout)
		}
	}
	var j struct {
		State struct {
			Infected float64 `json:"infected"`
			K        float64 `json:"k"`
		} `json:"state"`
		AsNow    struct{ Size, PeakNewPerHour *float64 } `json:"as_now"`
		Campaign struct {
			Size  *float64 `json:"size"`
			Hours []struct {
				Time time.Time `json:"time"`
			} `json:"hours"`
		} `json:"campaign"`
		PatchNeeded *float64 `json:"patch_needed"`
	}
	state := "infected = 200000\nunpatched_share = 0.5\nk = 2.2\n"
	if err := os.WriteFile(filepath.Join(dir, "s.toml"), []byte(state), 0o644); err != nil {
		t.Fatal(err)
	}
	r = mustRun(t, dir, "forecast", "reemergence", "--state", "s.toml", "--k", "2", "--format", "json", "--max-size", "10000")
	if err := json.Unmarshal([]byte(r.stdout), &j); err != nil {
		t.Fatalf("JSON: %v\n%s", err, r.stdout)
	}
	// The file's infected count, the flag's K (flags win).
	if j.State.Infected != 200000 || j.State.K != 2 {
		t.Errorf("state %+v: want infected from the file and k from the flag", j.State)
	}
	if j.AsNow.Size == nil || j.Campaign.Size == nil || !(*j.Campaign.Size < *j.AsNow.Size) || j.PatchNeeded == nil || !(*j.PatchNeeded > 0) || len(j.Campaign.Hours) == 0 {
		t.Errorf("outcome %+v %+v, patch needed %v", j.AsNow, j.Campaign.Size, j.PatchNeeded)
	}
	// From a run's time series.
	ts := "time,susceptible,infected,ever_infected\n2001-07-28T00:00:00Z,50000,20000,300000\n2001-07-29T00:00:00Z,45000,18000,300000\n"
	if err := os.MkdirAll(filepath.Join(dir, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "run", "timeseries.csv"), []byte(ts), 0o644); err != nil {
		t.Fatal(err)
	}
	r = mustRun(t, dir, "forecast", "reemergence", "--from-run", "run", "--at", "2001-07-29T00:00:00Z")
	if !strings.Contains(r.stdout, "18,000 hosts infected in the last wave, 18,000 of them unpatched (18,000 holding the worm), 45,000 other vulnerable hosts") {
		t.Errorf("state from the run:\n%s", r.stdout)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.toml"), []byte("infected = 5\npatch_rates = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"forecast", "reemergence", "--state", "bad.toml"}, "bad.toml: line 2: key patch_rates: unknown key; did you mean patch_rate?"},
		{[]string{"forecast", "reemergence", "--unpatched-share", "2"}, "--unpatched-share: 2.0 is above the maximum 1 (allowed 0 to 1)"},
		{[]string{"forecast", "reemergence", "--restart", "tomorrow"}, `invalid argument "tomorrow" for "--restart" flag: want a date-time like 2001-07-19T10:00:00Z, got "tomorrow"`},
		{[]string{"forecast", "reemergence", "--now", "2001-08-05T00:00:00Z"}, "--restart: 2001-08-01T00:00:00Z is before now"},
		{[]string{"forecast", "reemergence", "--clock-min", "3 days"}, `invalid argument "3 days" for "--clock-min" flag: duration "3 days": want a number with a unit`},
		{[]string{"forecast", "reemergence", "--from-run", "run"}, "--from-run and --at go together"},
		{[]string{"forecast", "reemergence", "--from-run", "run", "--at", "2001-07-01T00:00:00Z"}, "before the first row"},
		{[]string{"forecast", "reemergence", "--state", "s.toml", "--from-run", "run", "--at", "2001-07-29T00:00:00Z"}, "give one of them"},
		{[]string{"forecast", "reemergence", "--format", "yaml"}, "--format yaml: unknown format"},
		{[]string{"forecast", "reemergence", "extra"}, "unknown command"},
	} {
		r := wormwatch(t, dir, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line with %q", c.args, r.code, r.stderr, c.want)
		}
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
