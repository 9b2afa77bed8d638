package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"wormwatch/detect"
	"wormwatch/report"
	"wormwatch/share/schematest"
)

// logsDir holds the real honeypot logs (testdata/shared/logs). Their
// figures are derived independently in detect/real_test.go: 2,200 and 518
// lines, 5 and 12 Code Red II lines from 3 and 8 sources, Nimda in 31 and
// 16 bursts from as many sources; 22 openwebmail.pl lines in
// access_log.10 (grep -c openwebmail.pl).
var logsDir = filepath.Join("..", "..", "testdata", "shared", "logs")

func logPath(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(logsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("the sample logs are needed: %v", err)
	}
	return p
}

type detectJSON struct {
	Schema   string           `json:"schema"`
	Lines    int64            `json:"lines"`
	Matched  int64            `json:"matched"`
	Skipped  map[string]int64 `json:"skipped"`
	Ignored  []struct{ Name string }
	Families map[string]struct {
		Lines, Sources, Events int64
	} `json:"families"`
	Sources []struct {
		Source string `json:"source"`
	} `json:"sources"`
}

func detectRun(t *testing.T, dir string, args ...string) detectJSON {
	t.Helper()
	r := mustRun(t, dir, append([]string{"detect", "--format", "json"}, args...)...)
	var j detectJSON
	if err := json.Unmarshal([]byte(r.stdout), &j); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	return j
}

func TestDetectRealLogs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The folder: both logs, and the README passed over.
	j := detectRun(t, dir, logPath(t, ""))
	if j.Schema != "wormwatch-detect/1" || j.Lines != 2718 || len(j.Ignored) != 1 {
		t.Errorf("schema %q, %d lines, ignored %v", j.Schema, j.Lines, j.Ignored)
	}
	want := map[string][3]int64{"codered1": {0, 0, 0}, "codered2": {17, 11, 17}, "nimda": {734, 47, 47}}
	for name, w := range want {
		f, ok := j.Families[name]
		if !ok || [3]int64{f.Lines, f.Sources, f.Events} != w {
			t.Errorf("%s: %+v, want lines, sources, events %v", name, f, w)
		}
	}
	for _, reason := range []string{"too_long", "binary", "invalid_utf8", "truncated", "bad_time"} {
		if v, ok := j.Skipped[reason]; !ok || v != 0 {
			t.Errorf("skipped[%s] = %d, %v", reason, v, ok)
		}
	}
	// The text output names the families with their counts.
	r := mustRun(t, dir, "detect", logPath(t, "honeynet2004_access_log.22"))
	if !strings.Contains(r.stdout, "Read 1 input (2,200 lines: 2,200 parsed, 0 skipped)") ||
		!regexpLine(r.stdout, `^  codered2 +worm +5 +3 +5 `) || !regexpLine(r.stdout, `^  nimda +worm +493 +31 +31 `) {
		t.Errorf("text output:\n%s", r.stdout)
	}
}

// regexpLine reports whether a line of out matches re.
func regexpLine(out, re string) bool {
	return regexp.MustCompile("(?m)" + re).MatchString(out)
}

func TestDetectInputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l10 := readFile(t, logPath(t, "honeynet2004_access_log.10"))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(l10)
	zw.Close()
	// Gzip named like a plain log: recognised by its bytes.
	if err := os.WriteFile(filepath.Join(dir, "access.log"), gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	j := detectRun(t, dir, "access.log")
	if j.Families["codered2"].Lines != 12 || j.Lines != 518 {
		t.Errorf("gzip: %+v", j.Families["codered2"])
	}
	// Standard input, gzip or not.
	for _, in := range [][]byte{l10, gz.Bytes()} {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		cmd := exec.CommandContext(ctx, bin, "detect", "--format", "csv", "-")
		cmd.Stdin = bytes.NewReader(in)
		out, err := cmd.Output()
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"codered2", "worm", "12", "8", "12", "2004-08-01T11:02:57Z", "2004-08-07T01:55:48Z"}
		if !slices.ContainsFunc(recs, func(r []string) bool { return slices.Equal(r, want) }) {
			t.Errorf("stdin: %v", recs)
		}
	}
	// A user signature file adds a family.
	sig := filepath.Join(dir, "mine.toml")
	os.WriteFile(sig, []byte("[[family]]\nname = \"openwebmail\"\ndescription = \"OpenWebMail probes\"\n[[family.match]]\npath = { suffix = [\"/openwebmail.pl\"] }\n"), 0o644)
	j = detectRun(t, dir, "--signatures", sig, logPath(t, "honeynet2004_access_log.10"))
	if f := j.Families["openwebmail"]; f.Lines != 22 {
		t.Errorf("openwebmail: %+v, want 22 lines", f)
	}
	r := mustRun(t, dir, "detect", "--list-signatures", "--signatures", sig)
	for _, name := range []string{"codered1", "codered2", "nimda", "webdav-search", "slapper", "ida-idq", "root-exe", "cmd-exe", "unicode-traversal", "openwebmail"} {
		if !strings.Contains(r.stdout, "\n"+name+" ") {
			t.Errorf("--list-signatures does not list %s", name)
		}
	}
	r = mustRun(t, dir, "detect", "--print-signatures")
	if !strings.Contains(r.stdout, "[[family]]") || !strings.Contains(r.stdout, `name = "codered2"`) {
		t.Errorf("--print-signatures:\n%.300s", r.stdout)
	}
}

func TestDetectFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := logPath(t, "honeynet2004_access_log.10")
	mustRun(t, dir, "detect", "--format", "json", "--out", "found.json", "--series", "sensor.csv", "--interval", "1h",
		"--stix", "bundle.json", "--tlp", "green", log)
	if got := tree(t, dir); !slices.Equal(got, []string{".", "bundle.json", "found.json", "sensor.csv"}) {
		t.Errorf("files: %v", got)
	}
	var j detectJSON
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "found.json")), &j); err != nil || j.Families["codered2"].Lines != 12 {
		t.Errorf("found.json: %v %+v", err, j.Families["codered2"])
	}
	// The series: the sensor schema, one row per hour without gaps, probes
	// adding up to the matched lines, cumulative sources to the sources.
	recs, err := csv.NewReader(bytes.NewReader(readFile(t, filepath.Join(dir, "sensor.csv")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs[0], report.SensorColumns) {
		t.Fatalf("series header %v, want %v", recs[0], report.SensorColumns)
	}
	rows := readCSV(t, filepath.Join(dir, "sensor.csv"))
	var probes int64
	var prev time.Time
	for i, row := range rows {
		at, err := time.Parse(time.RFC3339, row["time"])
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && at.Sub(prev) != time.Hour {
			t.Errorf("row %d at %v after %v", i, at, prev)
		}
		prev = at
		probes += atoi(t, row["probes"])
		if row["size"] != "1" {
			t.Errorf("size %q", row["size"])
		}
	}
	if last := rows[len(rows)-1]; probes != j.Matched || atoi(t, last["cumulative_sources"]) != int64(len(j.Sources)) {
		t.Errorf("series: %d probes, %s sources; want %d and %d", probes, last["cumulative_sources"], j.Matched, len(j.Sources))
	}
	// The STIX bundle: valid against the OASIS schema, TLP:GREEN, an
	// indicator per family, a sighting of Code Red II with its 12 events.
	b := readFile(t, filepath.Join(dir, "bundle.json"))
	if err := schematest.Validate(schematest.STIX, b); err != nil {
		t.Fatal(err)
	}
	var bundle struct {
		Objects []map[string]any `json:"objects"`
	}
	json.Unmarshal(b, &bundle)
	indicators, sightings := map[string]string{}, map[string]float64{}
	green := false
	for _, o := range bundle.Objects {
		switch o["type"] {
		case "indicator":
			indicators[o["id"].(string)] = o["labels"].([]any)[0].(string)
		case "marking-definition":
			green = o["name"] == "TLP:GREEN"
		}
	}
	for _, o := range bundle.Objects {
		if o["type"] == "sighting" {
			sightings[indicators[o["sighting_of_ref"].(string)]] = o["count"].(float64)
		}
	}
	if len(indicators) != 9 || sightings["codered2"] != 12 || sightings["nimda"] != 16 || sightings["codered1"] != 0 || !green {
		t.Errorf("bundle: indicators %v, sightings %v, green %v", indicators, sightings, green)
	}
}

func TestDetectBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "empty.log"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "bad.toml"), []byte("[[family]]\nname = \"x\"\ndescription = \"d\"\n[[family.match]]\ntarget = { regexp = \"(\" }\n"), 0o644)
	log := logPath(t, "honeynet2004_access_log.10")
	readme := logPath(t, "README.md")
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"no path", nil, "give at least one log file"},
		{"missing file", []string{"none.log"}, "none.log: stat: no such file or directory"},
		{"unknown format", []string{readme}, "README.md: line 1: cannot tell the log format"},
		{"wrong format given", []string{"--log-format", "iis", log}, "line 1: not an IIS W3C log"},
		{"unknown format name", []string{"--log-format", "syslog", log}, `--log-format: unknown log format "syslog" (allowed: auto, combined, common, nginx, iis, zeek, zeek-json)`},
		{"empty", []string{"empty.log"}, "empty.log: empty: no log lines to read"},
		{"bad signatures", []string{"--signatures", "bad.toml", log}, `bad.toml: line 5: family.x.match.0.target: regexp "("`},
		{"bad format", []string{"--format", "xml", log}, `--format "xml": allowed: text, csv, json`},
		{"bad table", []string{"--format", "csv", "--table", "people", log}, "--table \"people\": allowed: families, sources, hourly, skipped"},
		{"table without csv", []string{"--table", "sources", log}, "--table applies only with --format csv"},
		{"interval without series", []string{"--interval", "1m", log}, "--interval applies only with --series"},
		{"interval too short", []string{"--series", "s.csv", "--interval", "1ms", log}, "--interval 1ms: want 1s to 8784h0m0s"},
		{"bad tlp", []string{"--stix", "b.json", "--tlp", "purple", log}, `--tlp: TLP level "purple"`},
		{"tlp without stix", []string{"--tlp", "red", log}, "--tlp applies only with --stix"},
		{"same file twice", []string{"--series", "x.json", "--stix", "x.json", log}, "--stix x.json: names the same file as --series"},
		{"no such folder", []string{"--out", "nowhere/out.json", log}, "--out nowhere/out.json: the folder nowhere does not exist"},
		{"max line too small", []string{"--max-line", "10", log}, "--max-line 10: want 256 to 67108864 bytes"},
	}
	for _, tc := range tests {
		// Each case would write these files if it got that far.
		args := append([]string{"detect"}, tc.args...)
		if !slices.Contains(tc.args, "--series") && !slices.Contains(tc.args, "--stix") && !slices.Contains(tc.args, "--out") {
			args = append([]string{"detect", "--series", "series.csv", "--out", "out.txt"}, tc.args...)
		}
		if tc.name == "interval without series" || tc.name == "tlp without stix" {
			args = append([]string{"detect"}, tc.args...)
		}
		r := wormwatch(t, dir, args...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code != 2 || len(lines) != 1 || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and one line with %q", tc.name, r.code, r.stderr, tc.msg)
		}
	}
	// Nothing was written, not even a partial file.
	if got := tree(t, dir); !slices.Equal(got, []string{".", "bad.toml", "empty.log"}) {
		t.Errorf("left behind: %v", got)
	}
}

// TestDetectSTIXSourceCap checks that a STIX bundle lists at most
// detect.MaxSTIXSources sources per family, the most active ones, and says how
// many it left out.
func TestDetectSTIXSourceCap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var probe string
	for _, l := range strings.Split(string(readFile(t, logPath(t, "honeynet2004_access_log.10"))), "\n") {
		if strings.Contains(l, "default.ida?XXXX") {
			probe = l[strings.Index(l, " - - ["):]
			break
		}
	}
	var b strings.Builder
	const n = detect.MaxSTIXSources + 37
	for i := range n {
		fmt.Fprintf(&b, "10.%d.%d.%d%s\n", i>>16&255, i>>8&255, i&255, probe)
	}
	// The most active source: three lines.
	for range 3 {
		fmt.Fprintf(&b, "192.0.2.77%s\n", probe)
	}
	os.WriteFile(filepath.Join(dir, "many.log"), []byte(b.String()), 0o644)
	r := wormwatch(t, dir, "detect", "--stix", "b.json", "--out", "r.txt", "many.log")
	if r.code != 0 || !strings.Contains(r.stderr, fmt.Sprintf("lists the %d most active sources of codered2 and leaves out %d others", detect.MaxSTIXSources, n+1-detect.MaxSTIXSources)) {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	bundle := string(readFile(t, filepath.Join(dir, "b.json")))
	if got := strings.Count(bundle, `"type": "ipv4-addr"`); got != detect.MaxSTIXSources {
		t.Errorf("the bundle holds %d ipv4-addr objects, want %d", got, detect.MaxSTIXSources)
	}
	if !strings.Contains(bundle, `"192.0.2.77"`) {
		t.Error("the most active source is not in the bundle")
	}
}
