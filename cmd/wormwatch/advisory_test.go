package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"wormwatch/share"
	"wormwatch/share/schematest"
)

// advisoryFiles returns the advisory files in dir, checking there are the
// three of one tracking id.
func advisoryFiles(t *testing.T, dir string) (jsonPath string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 3 {
		t.Fatalf("%s holds %v, want three files", dir, names)
	}
	base := strings.TrimSuffix(names[0], filepath.Ext(names[0]))
	want := []string{base + ".html", base + ".json", base + ".md"}
	if !slices.Equal(names, want) {
		t.Fatalf("%s holds %v, want %v", dir, names, want)
	}
	return filepath.Join(dir, base+".json")
}

// TestAdvisoryFromRun runs a small simulation, writes its advisory and
// checks it end to end: valid CSAF 2.0, the numbers of the run's own
// summary.json in the forecast, the same bytes on a second run.
func TestAdvisoryFromRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustRun(t, dir, join([]string{"run", "codered2-july19", "--seed", "3", "--out", "r", "-q"}, small)...)
	r := mustRun(t, dir, "advisory", "r", "--out", "adv")
	p := advisoryFiles(t, filepath.Join(dir, "adv"))
	if !strings.Contains(r.stdout, filepath.Base(p)) {
		t.Errorf("stdout does not name %s:\n%s", p, r.stdout)
	}
	b := readFile(t, p)
	if err := schematest.Validate(schematest.CSAFStrict, b); err != nil {
		t.Fatal(err)
	}
	c, err := share.ReadCSAF(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	// The run's own summary: ever infected and its end.
	var s struct {
		EverInfected int64   `json:"ever_infected"`
		End          string  `json:"end"`
		PeakPerMin   float64 `json:"peak_new_infections_per_minute"`
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "r", "summary.json")), &s); err != nil {
		t.Fatal(err)
	}
	var details string
	for _, n := range c.Document.Notes {
		if n.Category == "details" {
			details = n.Text
		}
	}
	ever := "infected in all by 19 July 2001 12:00 UTC: " + strconv.FormatInt(s.EverInfected, 10) + ","
	if !strings.Contains(details, ever) {
		t.Errorf("forecast lacks %q:\n%s", ever, details)
	}
	if !strings.Contains(details, "Fastest spread: "+strconv.FormatFloat(s.PeakPerMin, 'g', 3, 64)+" new infections per minute") {
		t.Errorf("forecast lacks the peak %v per minute:\n%s", s.PeakPerMin, details)
	}
	if c.Document.Tracking.CurrentReleaseDate != s.End {
		t.Errorf("release date %s, want the end of the run %s", c.Document.Tracking.CurrentReleaseDate, s.End)
	}
	// Again, into the default folder: the same bytes.
	mustRun(t, dir, "advisory", "r")
	if again := readFile(t, filepath.Join(dir, "r", "advisory", filepath.Base(p))); !bytes.Equal(again, b) {
		t.Error("the second advisory of the same run differs")
	}
}

// TestAdvisoryFromReplay does the same from a small replay folder.
func TestAdvisoryFromReplay(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustRun(t, dir, join([]string{"replay", "codered2-july19", "--seeds", "2", "--out", "rep", "-q"}, small)...)
	mustRun(t, dir, "advisory", "rep", "--out", "adv", "--tlp", "GREEN", "--date", "2001-07-19T13:00:00-04:00",
		"--publisher", "NIPC", "--namespace", "https://example.org")
	b := readFile(t, advisoryFiles(t, filepath.Join(dir, "adv")))
	if err := schematest.Validate(schematest.CSAFStrict, b); err != nil {
		t.Fatal(err)
	}
	c, err := share.ReadCSAF(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	d := c.Document
	if d.Distribution.TLP.Label != "GREEN" || d.Tracking.CurrentReleaseDate != "2001-07-19T17:00:00Z" || d.Publisher.Name != "NIPC" ||
		!strings.Contains(d.Title, "replay codered2-july19") {
		t.Errorf("document %+v", d)
	}
}

func TestAdvisoryBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustRun(t, dir, join([]string{"run", "codered2-july19", "--out", "r", "-q"}, small)...)
	if err := os.MkdirAll(filepath.Join(dir, "broken"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "broken", "summary.json"), []byte("{\n\"seed\": \"one\"\n}"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"advisory", "missing"}, []string{"missing: no such folder"}},
		{[]string{"advisory", "."}, []string{"neither a run folder", "summary.json", "validation.json"}},
		{[]string{"advisory", "r/summary.json"}, []string{"is a file, not a folder"}},
		{[]string{"advisory", "broken"}, []string{filepath.Join("broken", "summary.json"), "line 2", "key seed"}},
		{[]string{"advisory", "r", "--tlp", "clear"}, []string{"--tlp", "allowed values are white, green, amber, red"}},
		{[]string{"advisory", "r", "--date", "yesterday"}, []string{"--date", "RFC 3339"}},
		{[]string{"advisory", "r", "--namespace", "wormwatch"}, []string{"--namespace", "http or https URL"}},
		{[]string{"advisory"}, []string{"accepts 1 arg"}},
	}
	for _, c := range cases {
		r := wormwatch(t, dir, c.args...)
		if r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", c.args, r.code, r.stderr)
		}
		if strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%v: stderr is not one line: %q", c.args, r.stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%v: stderr %q does not say %q", c.args, r.stderr, w)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "r", "advisory")); err == nil {
		t.Error("a refused command left an advisory folder")
	}
}
