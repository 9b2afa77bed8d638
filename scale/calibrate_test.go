package scale

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"wormwatch/calibrate"
)

// tinyCalibration fits worm.rate.fixed of a small fast-uniform scenario in
// three generations of 12 particles: about 60 runs of milliseconds.
const tinyCalibration = `scenario = "fast-uniform"
set = ["space.bits=16", "population.hosts=200", "population.placement=uniform", "end=2001-07-19T12:00:00Z"]
seed = 3
particles = 12
max_generations = 3
predictive = 6

[[param]]
key = "worm.rate.fixed"
prior = "log-uniform"
min = 0.2
max = 5.0

[[target]]
name = "infected"
stat = "infected_at"
role = "calibrate"
at = ["20m", "40m"]
values = [40.0, 160.0]
error = "relative"
sd = 0.1

[[target]]
name = "peak"
stat = "peak_new_per_minute"
role = "validate"
value = 12.0
error = "absolute"
sd = 2.0
`

// calibratePlan reads tinyCalibration.
func calibratePlan(t *testing.T) *calibrate.Plan {
	t.Helper()
	s, err := calibrate.ParseFile("c.toml", []byte(tinyCalibration))
	if err != nil {
		t.Fatal(err)
	}
	p, err := calibrate.NewPlan(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// calibrateTo runs (or resumes) the tiny calibration in dir with run and
// writes its posterior folder.
func calibrateTo(t *testing.T, ctx context.Context, run calibrate.RunFunc, workers int, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := calibrate.Run(ctx, calibratePlan(t), dir, calibrate.Options{Run: run, Workers: workers, Version: testVersion})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Write(dir); err != nil {
		t.Fatal(err)
	}
}

// allFiles reads every file under dir, by relative name.
func allFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		m[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// sameCalibration fails unless folders a and b hold the same files with
// the same bytes, at least want of them.
func sameCalibration(t *testing.T, a, b string, want int) {
	t.Helper()
	fa, fb := allFiles(t, a), allFiles(t, b)
	if len(fa) < want || len(fa) != len(fb) {
		t.Fatalf("%d files in %s, %d in %s; want the same, at least %d", len(fa), a, len(fb), b, want)
	}
	for name, x := range fa {
		if y, ok := fb[name]; !ok || !bytes.Equal(x, y) {
			t.Errorf("%s differs between %s and %s", name, a, b)
		}
	}
}

// copyTree copies the files of folder src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	for name, b := range allFiles(t, src) {
		p := filepath.Join(dst, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// calibrateResumeOverNATS runs the tiny calibration through a session to
// two workers on the server at url, stops it in its third generation
// (generation 2, after 3 of its particles were accepted), and resumes a
// copy of the stopped folder on this machine and another through a new
// session: both end byte-identical to the calibration run locally without
// a stop (state.json, every generation, the posterior folder), and the
// server holds no task and no bucket afterwards.
func calibrateResumeOverNATS(t *testing.T, url string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole")
	calibrateTo(t, ctx, localRun, 2, whole)

	for _, name := range []string{"a", "b"} {
		w := &Worker{Conn: connect(t, url), Config: testConfig, Version: testVersion, Name: name}
		go w.Run(ctx)
	}
	c := &Client{Conn: connect(t, url), Config: testConfig}
	s, err := c.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stopped := filepath.Join(dir, "stopped")
	if err := os.MkdirAll(stopped, 0o755); err != nil {
		t.Fatal(err)
	}
	stop, cancelStop := context.WithCancel(ctx)
	_, err = calibrate.Run(stop, calibratePlan(t), stopped, calibrate.Options{Run: SweepRun(s, SweepOptions{Version: testVersion}), Workers: 4, Version: testVersion,
		Progress: func(gen, accepted, _, _ int) {
			if gen == 2 && accepted >= 3 {
				cancelStop()
			}
		}})
	cancelStop()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("the stopped calibration: %v, want context.Canceled", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := calibrate.ReadState(stopped)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Generations) != 2 || st.Stop != "" {
		t.Fatalf("after the stop: %d generations stored, stop %q; want 2 and none", len(st.Generations), st.Stop)
	}
	resumedNATS := filepath.Join(dir, "resumed-nats")
	copyTree(t, stopped, resumedNATS)

	calibrateTo(t, ctx, localRun, 2, stopped)
	sameCalibration(t, whole, stopped, 8)

	s2, err := c.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	calibrateTo(t, ctx, SweepRun(s2, SweepOptions{Version: testVersion}), 3, resumedNATS)
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	sameCalibration(t, whole, resumedNATS, 8)
	js, _ := jetstream.New(c.Conn)
	leftovers(t, js)
}

// TestCalibrateResumeOverNATS: calibrateResumeOverNATS with an embedded
// server.
func TestCalibrateResumeOverNATS(t *testing.T) {
	calibrateResumeOverNATS(t, embedded(t))
}

// TestCalibrateResumeOverDebianNATSServer: calibrateResumeOverNATS against
// the nats-server binary (Debian's package) as a separate process
// (debianServer: mandatory when WORMWATCH_CI is set).
func TestCalibrateResumeOverDebianNATSServer(t *testing.T) {
	calibrateResumeOverNATS(t, debianServer(t))
}
