package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// folderFiles reads every file under dir, by slash-separated relative name.
func folderFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		m[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// sameFolders fails the test unless a and b hold the same files with the
// same bytes (and at least want files).
func sameFolders(t *testing.T, a, b string, want int) {
	t.Helper()
	fa, fb := folderFiles(t, a), folderFiles(t, b)
	if len(fa) < want || len(fa) != len(fb) {
		t.Fatalf("%d files in %s, %d in %s; want the same, at least %d", len(fa), a, len(fb), b, want)
	}
	for name, da := range fa {
		if db, ok := fb[name]; !ok {
			t.Errorf("%s: missing in %s", name, b)
		} else if !bytes.Equal(da, db) {
			t.Errorf("%s differs between %s and %s", name, a, b)
		}
	}
}

// TestSweepCalibrateNATS: `sweep --nats` and `calibrate --nats`, their
// runs on one `wormwatch worker` process through an embedded JetStream
// server, write output folders byte-identical to the local ones (every
// file: tables, sweep.json, heat maps; generations, state.json, the
// posterior's Parquet, figures and report). The worker ran the tasks of
// exactly two jobs (each command is one job, one results bucket, however
// many runs) and handed none back.
func TestSweepCalibrateNATS(t *testing.T) {
	t.Parallel()
	url := natsServer(t)
	dir := t.TempDir()
	for name, doc := range map[string]string{"tiny.toml": tinySweep, "c.toml": tinyCalibration} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stopWorker := natsWorker(t, dir, url)
	mustRun(t, dir, "sweep", "tiny.toml", "--out", "sweep-local", "-q", "--workers", "2")
	r := mustRun(t, dir, "sweep", "tiny.toml", "--out", "sweep-nats", "-q", "--nats", url)
	if !strings.Contains(r.stdout, "4 points × 1 seeds = 4 runs") {
		t.Errorf("sweep over NATS, stdout:\n%s", r.stdout)
	}
	sameFolders(t, filepath.Join(dir, "sweep-local"), filepath.Join(dir, "sweep-nats"), 5)
	mustRun(t, dir, "calibrate", "c.toml", "--out", "cal-local", "-q", "--workers", "2")
	mustRun(t, dir, "calibrate", "c.toml", "--out", "cal-nats", "-q", "--nats", url, "--workers", "3")
	sameFolders(t, filepath.Join(dir, "cal-local"), filepath.Join(dir, "cal-nats"), 12)
	_, log := stopWorker()
	jobs := map[string]bool{}
	for _, line := range strings.Split(log, "\n") {
		if f := strings.Fields(line); len(f) >= 5 && f[1] == "job" && strings.Contains(line, ": done in") {
			jobs[f[2]] = true
		}
	}
	if len(jobs) != 2 {
		t.Errorf("the worker finished tasks of %d jobs, want 2 (the sweep and the calibration); its log:\n%s", len(jobs), log)
	}
	if strings.Contains(log, "(handed back)") {
		t.Errorf("the worker's log shows a task it could not finish:\n%s", log)
	}
}

// TestSweepCalibrateNATSUsage: --nats mistakes of sweep and calibrate (a
// server without JetStream, a server that does not answer, a URL that is
// not one, a negative --workers) exit with status 2, one line naming the flag, and nothing
// written.
func TestSweepCalibrateNATSUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, doc := range map[string]string{"tiny.toml": tinySweep, "c.toml": tinyCalibration} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	noJS, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	noJS.Start()
	t.Cleanup(noJS.Shutdown)
	if !noJS.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server not ready after 10 s")
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sweep", "tiny.toml", "--nats", noJS.ClientURL(), "--out", "x"}, "has no JetStream: start it with -js"},
		{[]string{"calibrate", "c.toml", "--nats", noJS.ClientURL(), "--out", "x"}, "has no JetStream: start it with -js"},
		{[]string{"sweep", "tiny.toml", "--nats", "nats://127.0.0.1:1", "--out", "x"}, "--nats nats://127.0.0.1:1"},
		{[]string{"calibrate", "c.toml", "--nats", "nats://127.0.0.1:1", "--out", "x"}, "--nats nats://127.0.0.1:1"},
		{[]string{"sweep", "tiny.toml", "--nats", "http://[::1", "--out", "x"}, "--nats http://[::1"},
		{[]string{"calibrate", "c.toml", "--nats", "http://[::1", "--out", "x"}, "--nats http://[::1"},
		{[]string{"sweep", "tiny.toml", "--workers", "-1", "--out", "x"}, "--workers -1"},
		{[]string{"calibrate", "c.toml", "--workers", "-1", "--out", "x"}, "--workers -1"},
	} {
		r := wormwatch(t, dir, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("wormwatch %s: exit %d, stderr %q; want 2 and one line with %q", strings.Join(c.args, " "), r.code, r.stderr, c.want)
		}
	}
	if left := leftovers(t, dir, "tiny.toml", "c.toml"); len(left) > 0 {
		t.Errorf("refused runs left %v", left)
	}
}
