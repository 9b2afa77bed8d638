package main

// The golden outputs: every file the main commands write for fixed inputs,
// kept as SHA-256 digests in testdata/golden.sha256. A refactoring must not
// change any of them; a change that must (a new key, a fixed bug) updates
// the file with -update-golden and says why in its commit.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden.sha256 from this build's outputs")

const goldenFile = "testdata/golden.sha256"

// wallClock matches the lines of summary.json that hold wall-clock time,
// the only bytes docs/output.md exempts from reproducibility.
func wallClockLine(line string) bool {
	t := strings.TrimSpace(line)
	return strings.HasPrefix(t, `"wall_seconds":`) || strings.HasPrefix(t, `"probes_per_wall_second":`)
}

// goldenDigest hashes a file's bytes, without summary.json's wall-clock
// lines and the replay's "in 15.9 s" timing line.
func goldenDigest(t *testing.T, path string) string {
	t.Helper()
	b := readFile(t, path)
	name := filepath.Base(path)
	if name == "summary.json" || name == "replay.txt" {
		var keep bytes.Buffer
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			l := sc.Text()
			if wallClockLine(l) || (name == "replay.txt" && strings.Contains(l, " seeds in ")) {
				continue
			}
			keep.WriteString(l + "\n")
		}
		b = keep.Bytes()
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestGoldenOutputs runs the commands of issue 8's list on fixed inputs
// and compares a digest of every file they write with testdata/golden.sha256.
func TestGoldenOutputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, l := range []string{"honeynet2004_access_log.10", "honeynet2004_access_log.22"} {
		if err := os.WriteFile(filepath.Join(dir, l), readFile(t, logPath(t, l)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	save := func(name string, r result) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustRun(t, dir, "run", "codered2-july19", "--seed", "7", "--quiet", "--out", "run7")
	save("replay.txt", mustRun(t, dir, "replay", "codered-2001", "--seeds", "2", "--quiet", "--out", "rp"))
	save("detect.txt", mustRun(t, dir, "detect", "--format", "json", "--stix", "stix.json", "--out", "detect.json",
		"honeynet2004_access_log.10", "honeynet2004_access_log.22"))
	save("forecast.json", mustRun(t, dir, "forecast", "rp", "--sensor", "ucsd-8", "--format", "json"))
	save("forecast.txt", mustRun(t, dir, "forecast", "rp", "--sensor", "ucsd-8"))
	save("advisory.txt", mustRun(t, dir, "advisory", "rp", "--out", "adv"))

	var got []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), "honeynet2004_access_log") {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		got = append(got, fmt.Sprintf("%s  %s", goldenDigest(t, p), filepath.ToSlash(rel)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if *updateGolden {
		if err := os.WriteFile(goldenFile, []byte(strings.Join(got, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := strings.Split(strings.TrimSpace(string(readFile(t, goldenFile))), "\n")
	if slices.Equal(got, want) {
		return
	}
	// Say which files differ, appeared or disappeared.
	index := func(lines []string) map[string]string {
		m := map[string]string{}
		for _, l := range lines {
			sum, path, _ := strings.Cut(l, "  ")
			m[path] = sum
		}
		return m
	}
	g, w := index(got), index(want)
	for path, sum := range w {
		switch gs, ok := g[path]; {
		case !ok:
			t.Errorf("%s: no longer written", path)
		case gs != sum:
			t.Errorf("%s: differs from the golden output", path)
		}
	}
	for path := range g {
		if _, ok := w[path]; !ok {
			t.Errorf("%s: written, but not in %s", path, goldenFile)
		}
	}
	t.Log("if the change is meant, rerun with -update-golden and say why in the commit")
}
