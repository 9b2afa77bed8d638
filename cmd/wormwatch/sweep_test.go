package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tinySweep is a grid of 2 × 2 points over codered2-july19 shrunk like
// small, one seed each.
const tinySweep = `scenario = "codered2-july19"
set = ["space.bits=20", "population.hosts=300", "end=2001-07-19T12:00:00Z"]
design = "grid"
outputs = ["ever_infected", "final.infected"]

[[factor]]
key = "defense.patch.rate"
values = [0.0, 5.0]

[[factor]]
key = "population.patched"
values = [0.0, 0.5]
`

// leftovers lists the names in dir other than keep (hidden temporary
// folders included).
func leftovers(t *testing.T, dir string, keep ...string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if !slices.Contains(keep, e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestSweepBadFile: a bad sweep file gives one line naming the file, the
// line and the field, exit status 2, and writes nothing.
func TestSweepBadFile(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, doc, want string
	}{
		{"unknown key", strings.Replace(tinySweep, "design =", "desing =", 1), "bad.toml:3: desing: unknown key"},
		{"bad bounds", strings.Replace(tinySweep, "design = \"grid\"", "design = \"lhs\"\npoints = 4", 1) + "", ""},
		{"unknown scenario key", strings.Replace(tinySweep, "population.patched", "population.pached", 1), "bad.toml:11: factor[2].key: --set population.pached=0.0: population.pached: unknown key"},
		{"bad scenario value", strings.Replace(tinySweep, "[0.0, 5.0]", "[0.0, -5.0]", 1), "bad.toml:8: factor[1].values: --set defense.patch.rate=-5.0"},
	}
	cases[1].doc = "scenario = \"codered2-july19\"\ndesign = \"lhs\"\npoints = 4\n\n[[factor]]\nkey = \"defense.patch.rate\"\nmin = 1.0\nmax = 0.5\n"
	cases[1].want = "bad.toml:8: factor[1].max: 0.5 is not above min 1.0"
	badFiles(t, "sweep", cases)
}

// TestSweepOut: the folder holds the sweep's files; an existing folder is
// replaced only with --force, and never when it holds the sweep file.
func TestSweepOut(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tiny.toml"), []byte(tinySweep), 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, dir, "sweep", "tiny.toml", "--out", "o", "--workers", "2")
	if !strings.Contains(r.stdout, "4 points × 1 seeds = 4 runs") || !strings.Contains(r.stdout, "changes most with") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	want := []string{"heatmap-ever_infected.png", "heatmap-final-infected.png", "points.csv", "summary.csv", "sweep.json"}
	if got := leftovers(t, filepath.Join(dir, "o")); !slices.Equal(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}
	first, _ := os.ReadFile(filepath.Join(dir, "o", "points.csv"))
	if n := strings.Count(string(first), "\n"); n != 5 {
		t.Errorf("points.csv has %d lines, want a header and 4 points", n)
	}
	r = wormwatch(t, dir, "sweep", "tiny.toml", "--out", "o")
	if r.code != 2 || !strings.Contains(r.stderr, "--out o: exists and is not empty (give --force") {
		t.Errorf("again without --force: exit %d, stderr %q", r.code, r.stderr)
	}
	os.WriteFile(filepath.Join(dir, "o", "extra"), []byte("x"), 0o644)
	mustRun(t, dir, "sweep", "tiny.toml", "--out", "o", "--force")
	again, _ := os.ReadFile(filepath.Join(dir, "o", "points.csv"))
	if string(again) != string(first) {
		t.Error("points.csv differs between two runs of the same sweep")
	}
	if _, err := os.Stat(filepath.Join(dir, "o", "extra")); err == nil {
		t.Error("--force kept a file of the old folder")
	}
	if left := leftovers(t, dir, "tiny.toml", "bad.toml", "o"); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	// A bad sweep with --force leaves the old folder as it was.
	os.WriteFile(filepath.Join(dir, "bad.toml"), []byte(strings.Replace(tinySweep, "design =", "desing =", 1)), 0o644)
	if r := wormwatch(t, dir, "sweep", "bad.toml", "--out", "o", "--force"); r.code != 2 {
		t.Errorf("bad sweep file with --force: exit %d, stderr %q", r.code, r.stderr)
	}
	if kept, _ := os.ReadFile(filepath.Join(dir, "o", "points.csv")); string(kept) != string(first) {
		t.Error("a bad sweep with --force changed the old folder")
	}
	// The sweep file inside the output folder: never replaced.
	os.WriteFile(filepath.Join(dir, "o", "tiny.toml"), []byte(tinySweep), 0o644)
	r = wormwatch(t, dir, "sweep", "o/tiny.toml", "--out", "o", "--force")
	if r.code != 2 || !strings.Contains(r.stderr, "an input of the sweep") {
		t.Errorf("--out holding the sweep file: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "o", "tiny.toml")); err != nil {
		t.Errorf("the sweep file is gone: %v", err)
	}
}

// badFiles runs `wormwatch COMMAND bad.toml --out o` on each case's file
// and checks one line of stderr starting with "wormwatch: " + want, exit
// status 2 and nothing left behind.
func badFiles(t *testing.T, command string, cases []struct{ name, doc, want string }) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "bad.toml"), []byte(c.doc), 0o644); err != nil {
				t.Fatal(err)
			}
			r := wormwatch(t, dir, command, "bad.toml", "--out", "o")
			if r.code != 2 {
				t.Errorf("exit %d, want 2; stderr %q", r.code, r.stderr)
			}
			want := "wormwatch: " + c.want
			if !strings.HasPrefix(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("stderr\n  %q\nwant one line starting with\n  %q", r.stderr, want)
			}
			if left := leftovers(t, dir, "bad.toml"); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}
