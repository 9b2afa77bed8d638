package main

import (
	"bytes"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"wormwatch/calibrate"
	"wormwatch/internal/param"
	"wormwatch/results"
)

// durationCalibration is tinyCalibration with a duration key instead of
// a number: defense.reboot.mean_interval, in hours (a reboot cures a
// host and leaves it susceptible).
var durationCalibration = strings.Replace(tinyCalibration,
	"key = \"worm.rate.fixed\"\nprior = \"log-uniform\"\nmin = 0.2\nmax = 5.0",
	"key = \"defense.reboot.mean_interval\"\nprior = \"uniform\"\nmin = 0.5\nmax = 10.0\nunit = \"h\"", 1)

// sameReplay fails the test unless replay folders a and b hold the same
// files with the same bytes, each seed's summary.json apart from its
// wall-clock keys (docs/output.md exempts them).
func sameReplay(t *testing.T, a, b string) {
	t.Helper()
	fa, fb := folderFiles(t, a), folderFiles(t, b)
	if len(fa) != len(fb) {
		t.Errorf("%d files in %s, %d in %s", len(fa), a, len(fb), b)
	}
	for name, da := range fa {
		db, ok := fb[name]
		switch {
		case !ok:
			t.Errorf("%s: missing in %s", name, b)
		case path.Base(name) == "summary.json":
			dir := filepath.FromSlash(path.Dir(name))
			if sa, sb := summaryWithoutTiming(t, filepath.Join(a, dir)), summaryWithoutTiming(t, filepath.Join(b, dir)); !reflect.DeepEqual(sa, sb) {
				t.Errorf("%s differs beyond its wall-clock keys between %s and %s", name, a, b)
			}
		case !bytes.Equal(da, db):
			t.Errorf("%s differs between %s and %s", name, a, b)
		}
	}
}

// TestReplayPosteriorDuration: a calibration of a duration key
// (defense.reboot.mean_interval, unit = "h") prints its unit, and
// `replay --posterior` gives every seed the duration of a posterior
// particle, with its unit, as the calibration's simulations received it.
// The same replay split into 2 shards and merged, and run on a `wormwatch
// worker` process through NATS (tasks of 2 seeds), writes the local
// replay's folder: every file byte for byte (summary.json apart from its
// wall-clock keys), the seeds' scenario.toml with their draws, bands,
// validation, plots and report.html (which names the posterior). Shards
// of two posteriors are refused by merge.
func TestReplayPosteriorDuration(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "c.toml"), []byte(durationCalibration), 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, dir, "calibrate", "c.toml", "--out", "cal", "--workers", "2")
	if !regexp.MustCompile(`defense\.reboot\.mean_interval +uniform +[0-9.]+ h +\[[0-9., ]+\] h`).MatchString(r.stdout) {
		t.Errorf("the calibration's table does not show the key with its unit:\n%s", r.stdout)
	}
	post, err := calibrate.ReadPosterior(filepath.Join(dir, "cal"))
	if err != nil {
		t.Fatal(err)
	}
	// The durations the particles stand for, as a resolved scenario
	// writes them.
	durations := map[string]bool{}
	for _, x := range post.Particles {
		d, err := param.ParseDuration(strconv.FormatFloat(x[0], 'f', -1, 64) + "h")
		if err != nil {
			t.Fatal(err)
		}
		durations[strconv.Quote(d.String())] = true
	}
	sets := []string{"--set", "space.bits=16", "--set", "population.hosts=200", "--set", "population.placement=uniform", "--set", "end=2001-07-19T12:00:00Z"}
	args := join([]string{"replay", "fast-uniform", "--seeds", "5", "--posterior", "cal", "-q"}, sets)
	mustRun(t, dir, append(args, "--out", "local")...)
	drawn := map[string]bool{}
	for s := uint64(1); s <= 5; s++ {
		toml := string(readFile(t, filepath.Join(dir, "local", results.SeedDirName(s), "scenario.toml")))
		_, after, ok := strings.Cut(toml, "\nmean_interval = ")
		v, _, _ := strings.Cut(after, "\n")
		if !ok || !durations[v] {
			t.Errorf("seed %d: defense.reboot.mean_interval = %s, not a particle of the posterior", s, v)
		}
		drawn[v] = true
	}
	if len(drawn) < 2 {
		t.Errorf("5 seeds drew %d distinct particles", len(drawn))
	}

	for _, i := range []string{"0", "1"} {
		mustRun(t, dir, append(args, "--shard", i+"/2", "--out", "shard"+i)...)
	}
	mustRun(t, dir, "merge", "-q", "--out", "merged", "shard1", "shard0")
	sameReplay(t, filepath.Join(dir, "local"), filepath.Join(dir, "merged"))
	// A shard of another posterior in the same folder (the same
	// particles, a manifest with one more byte: another SHA-256) does not
	// merge with the others.
	manifest := filepath.Join(dir, "cal", calibrate.PosteriorDir, calibrate.ManifestFile)
	original := readFile(t, manifest)
	if err := os.WriteFile(manifest, append(bytes.Clone(original), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, dir, append(args, "--shard", "1/2", "--out", "other1")...)
	if err := os.WriteFile(manifest, original, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := wormwatch(t, dir, "merge", "-q", "--out", "mixed", "shard0", "other1"); r.code != 2 || !strings.Contains(r.stderr, "--posterior differ") {
		t.Errorf("merge of shards of two posteriors: exit %d, %q; want 2 and a line saying --posterior differs", r.code, r.stderr)
	}

	url := natsServer(t)
	stop := natsWorker(t, dir, url)
	mustRun(t, dir, append(args, "--nats", url, "--block", "2", "--out", "nats")...)
	stop()
	sameReplay(t, filepath.Join(dir, "local"), filepath.Join(dir, "nats"))
	if report := string(readFile(t, filepath.Join(dir, "nats", "report.html"))); !strings.Contains(report, "defense.reboot.mean_interval drawn from the posterior") {
		t.Error("report.html does not say the seeds drew the key from the posterior")
	}
}
