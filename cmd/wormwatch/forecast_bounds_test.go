package main

// Hostile input to 'wormwatch forecast' (issue 7): every duration, date
// and count has a bound, named with its flag or its file, line and key;
// devices are not read.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestForecastBounds(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fcSeries(t, filepath.Join(dir, "tel.csv"), 100)
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tel, err := os.ReadFile(filepath.Join(dir, "tel.csv"))
	if err != nil {
		t.Fatal(err)
	}
	write("ipv4.csv", strings.ReplaceAll(string(tel), ",2772589\n", ",4294967296\n"))
	write("far.toml", "# far ahead\nrestart = 9999-01-01T00:00:00Z\n")
	write("horizon.toml", "horizon = \"400d\"\n")
	write("clock.toml", "clock_max = \"400d\"\n")
	if err := os.MkdirAll(filepath.Join(dir, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join("run", "timeseries.csv"), "time,susceptible,infected,ever_infected\n2001-07-29T00:00:00Z,45000,18000,300000\n")
	re := []string{"forecast", "reemergence"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"forecast", "tel.csv", "--horizon", "9000h"}, "--horizon: 375d is above the maximum 366d (allowed 0s to 366d)"},
		{[]string{"forecast", "tel.csv", "--step", "9000h"}, "--step: 375d is above the maximum 366d (allowed 1ns to 366d)"},
		{[]string{"forecast", "tel.csv", "--memory", "9000h"}, "--memory: 375d is above the maximum 366d (allowed 1ns to 366d)"},
		{[]string{"forecast", "tel.csv", "--rebase", "9000h"}, "--rebase: 375d is above the maximum 366d (allowed at most 366d)"},
		{[]string{"forecast", "tel.csv", "--horizon", "200h", "--step", "1m"}, "12000 steps, too many (allowed: at most 10000)"},
		{[]string{"forecast", "ipv4.csv"}, "ipv4.csv: line 2: column size: 4294967296 is not a sensor size (want the addresses watched, 1 to 4294967295)"},
		{[]string{"forecast", "tel.csv", "--space-bits", "20"}, "tel.csv: column size: 2772589 addresses is not less than the 2^20 addresses of the space the worm scans"},
		{[]string{"forecast", os.DevNull}, os.DevNull + ": is a device, not a series CSV (want a regular file)"},
		{join(re, []string{"--restart", "9999-01-01T00:00:00Z"}), "--restart: 9999-01-01T00:00:00Z is more than 366 days after now 2001-07-29T00:00:00Z (allowed: from now to 366 days after it)"},
		{join(re, []string{"--now", "9999-01-01T00:00:00Z", "--restart", "9999-02-01T00:00:00Z"}), "--now: 9999-01-01T00:00:00Z is above the maximum 8999-12-31T23:59:59.999999999Z (allowed 1970-01-01T00:00:00Z to 8999-12-31T23:59:59.999999999Z)"},
		{join(re, []string{"--campaign-from", "2003-01-01T00:00:00Z"}), "--campaign-from: 2003-01-01T00:00:00Z is more than 366 days after now"},
		{join(re, []string{"--horizon", "400d"}), "--horizon: 400d is above the maximum 366d (allowed 1ns to 366d)"},
		{join(re, []string{"--wake-median", "400d"}), "--wake-median: 400d is above the maximum 366d (allowed 1ns to 366d)"},
		{join(re, []string{"--clock-min", "-400d"}), "--clock-min: -400d is below the minimum -366d (allowed -366d to 366d)"},
		{join(re, []string{"--clock-max", "400d"}), "--clock-max: 400d is above the maximum 366d (allowed -366d to 366d)"},
		{join(re, []string{"--hours", "99999"}), "--hours 99999: out of range (allowed: 0 to 8784"},
		{join(re, []string{"--from-run", "run", "--at", "9999-01-01T00:00:00Z"}), "--at 9999-01-01T00:00:00Z: out of range (allowed: from 1970-01-01T00:00:00Z to before 9000-01-01T00:00:00Z)"},
		{join(re, []string{"--state", "far.toml"}), "far.toml: line 2: key restart: 9999-01-01T00:00:00Z is more than 366 days after now"},
		{join(re, []string{"--state", "horizon.toml"}), "horizon.toml: line 1: key horizon: 400d is above the maximum 366d (allowed 1ns to 366d)"},
		{join(re, []string{"--state", "clock.toml"}), "clock.toml: line 1: key clock_max: 400d is above the maximum 366d (allowed -366d to 366d)"},
		{join(re, []string{"--state", os.DevNull}), os.DevNull + ": is a device, not a state file (want a regular file)"},
	} {
		r := wormwatch(t, dir, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line with %q", c.args, r.code, r.stderr, c.want)
		}
	}
	// The bounds themselves are accepted.
	mustRun(t, dir, "forecast", "tel.csv", "--horizon", "166h40m", "--step", "1m", "--format", "json")
	mustRun(t, dir, "forecast", "reemergence", "--now", "2001-07-29T00:00:00Z", "--restart", "2002-07-30T00:00:00Z", "--horizon", "1h", "--hours", "8784", "--clock-min", "-366d", "--clock-max", "366d")
}

// TestForecastReemergenceFromReplay: --from-run on a replay folder takes
// the lowest complete seed's time series: seed-9999 before seed-10000, and
// never a temporary folder.
func TestForecastReemergenceFromReplay(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, infected := range map[string]string{"seed-10000": "1000", "seed-9999": "18000", "seed-0001.partial-5": "5", ".seed-0002.partial-1": "7"} {
		if err := os.MkdirAll(filepath.Join(dir, "replay", name), 0o755); err != nil {
			t.Fatal(err)
		}
		ts := "time,susceptible,infected,ever_infected\n2001-07-29T00:00:00Z,45000," + infected + ",300000\n"
		if err := os.WriteFile(filepath.Join(dir, "replay", name, "timeseries.csv"), []byte(ts), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := mustRun(t, dir, "forecast", "reemergence", "--from-run", "replay", "--at", "2001-07-29T00:00:00Z")
	if !strings.Contains(r.stdout, "18,000 hosts infected in the last wave") {
		t.Errorf("want seed-9999's state:\n%s", r.stdout)
	}
}
