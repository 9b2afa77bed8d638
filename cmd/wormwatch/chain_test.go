package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestChainSimulationToDetect runs the whole chain end to end: a simulated
// web server logs the Code Red probes it receives (Apache combined format),
// and `detect` must find exactly those probes in the log, as Code Red I,
// from as many sources as the sensor counted.
func TestChainSimulationToDetect(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	show := mustRun(t, dir, "scenario", "show", "codered2-july19")
	scen := show.stdout + `
[[sensor]]
name = "www"
kind = "webserver"
prefix = "198.51.100.7"
`
	if err := os.WriteFile(filepath.Join(dir, "web.toml"), []byte(scen), 0o644); err != nil {
		t.Fatal(err)
	}
	// A 16-bit space makes one address a large enough target for a
	// few hundred hosts to hit it many times in two hours.
	mustRun(t, dir, "run", "web.toml", "--out", "run", "--set", "space.bits=16",
		"--set", "population.hosts=300", "--set", "end=2001-07-19T12:00:00Z")
	rows := readCSV(t, filepath.Join(dir, "run", "sensors", "www.csv"))
	var probes, sources int64
	for _, r := range rows {
		probes += atoi(t, r["probes"])
	}
	sources = atoi(t, rows[len(rows)-1]["cumulative_sources"])
	if probes < 20 {
		t.Fatalf("the web server received only %d probes: too few to test the chain", probes)
	}
	out := mustRun(t, dir, "detect", "--format", "json", filepath.Join("run", "sensors", "www.log"))
	var rep struct {
		Families map[string]struct {
			Lines   int64 `json:"lines"`
			Sources int64 `json:"sources"`
		} `json:"families"`
	}
	if err := json.Unmarshal([]byte(out.stdout), &rep); err != nil {
		t.Fatalf("detect's JSON: %v", err)
	}
	cr := rep.Families["codered1"]
	if cr.Lines != probes || cr.Sources != sources {
		t.Errorf("detect found %d Code Red I lines from %d sources; the simulated web server logged %d probes from %d sources",
			cr.Lines, cr.Sources, probes, sources)
	}
	if ii := rep.Families["codered2"]; ii.Lines != 0 {
		t.Errorf("detect found %d Code Red II lines in a CRv2 outbreak", ii.Lines)
	}
}
