package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// natsServer starts a NATS server with JetStream inside the test and
// returns its URL.
func natsServer(t *testing.T) string {
	t.Helper()
	s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server not ready after 10 s")
	}
	return s.ClientURL()
}

// TestReplayNATS: `replay --nats` with one `wormwatch worker` process
// writes the same replay folder as the local replay: every seed folder
// (with --infections, infections.parquet too; summary.json apart from
// its wall-clock keys), bands.csv, validation.json and report.html. The
// worker stops on SIGINT with status 130.
func TestReplayNATS(t *testing.T) {
	t.Parallel()
	url := natsServer(t)
	dir := t.TempDir()
	stopWorker := natsWorker(t, dir, url)
	args := join([]string{"replay", "codered2-july19", "--seeds", "3", "--infections", "-q"}, small)
	mustRun(t, dir, append(args, "--out", "local")...)
	mustRun(t, dir, append(args, "--out", "nats", "--nats", url, "--block", "2")...)
	for _, sub := range []string{"seed-0001", "seed-0002", "seed-0003"} {
		a, b := filepath.Join(dir, "local", sub), filepath.Join(dir, "nats", sub)
		checkFolder(t, b)
		sameFiles(t, a, b, "infections.parquet", "scenario.toml", "timeseries.csv", "timeseries.parquet")
		if sa, sb := summaryWithoutTiming(t, a), summaryWithoutTiming(t, b); !reflect.DeepEqual(sa, sb) {
			t.Errorf("%s: summary.json differs beyond wall time:\n%v\n%v", sub, sa, sb)
		}
	}
	sameFiles(t, filepath.Join(dir, "local"), filepath.Join(dir, "nats"), "bands.csv", "validation.json", "report.html")
	code, wlog := stopWorker()
	if code != 130 {
		t.Errorf("worker after SIGINT: exit status %d, want 130; its output:\n%s", code, wlog)
	}
	if !strings.Contains(wlog, "task 1: done") {
		t.Errorf("the worker's log names no finished task 1:\n%s", wlog)
	}
}

// natsWorker starts `wormwatch worker --nats url --workers 2` in dir (killed
// at the test's end if still running). stop sends it SIGINT and returns its
// exit status and its output.
func natsWorker(t *testing.T, dir, url string) (stop func() (int, string)) {
	t.Helper()
	worker := exec.Command(bin, "worker", "--nats", url, "--workers", "2")
	worker.Dir = dir
	var wlog bytes.Buffer
	worker.Stdout, worker.Stderr = &wlog, &wlog
	if err := worker.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			worker.Process.Kill()
			worker.Wait()
		}
	})
	return func() (int, string) {
		worker.Process.Signal(syscall.SIGINT)
		worker.Wait()
		stopped = true
		return worker.ProcessState.ExitCode(), wlog.String()
	}
}

// TestNATSUsage: the NATS flags' mistakes exit with status 2, one line
// naming the flag, and nothing written.
func TestNATSUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"worker"}, "--nats URL is required"},
		{[]string{"worker", "--nats", "nats://127.0.0.1:1", "--workers", "-1"}, "--workers -1"},
		{[]string{"replay", "codered2-july19", "--block", "2", "--out", "x"}, "--block applies to --nats only"},
		{[]string{"replay", "codered2-july19", "--nats", "nats://127.0.0.1:1", "--block", "0", "--out", "x"}, "--block 0"},
		{[]string{"replay", "codered2-july19", "--nats", "nats://127.0.0.1:1", "--workers", "2", "--out", "x"}, "--workers applies to local runs"},
		{[]string{"replay", "codered2-july19", "--nats", "nats://127.0.0.1:1", "--out", "x"}, "--nats nats://127.0.0.1:1"},
		{[]string{"worker", "--nats", "nats://127.0.0.1:1"}, "--nats nats://127.0.0.1:1"},
	} {
		r := wormwatch(t, dir, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("wormwatch %s: exit %d, stderr %q; want 2 and one line with %q", strings.Join(c.args, " "), r.code, r.stderr, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
		t.Error("a refused replay left its --out folder")
	}
}

// TestNATSWithoutJetStream: a server without JetStream is named as the
// problem (start it with -js), exit status 2, and the replay leaves no
// folder.
func TestNATSWithoutJetStream(t *testing.T) {
	t.Parallel()
	s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server not ready after 10 s")
	}
	dir := t.TempDir()
	for _, args := range [][]string{
		{"replay", "codered2-july19", "--nats", s.ClientURL(), "--out", "x", "-q"},
		{"worker", "--nats", s.ClientURL(), "-q"},
	} {
		r := wormwatch(t, dir, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "has no JetStream: start it with -js") {
			t.Errorf("wormwatch %s: exit %d, stderr %q; want 2 and the advice to start it with -js", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
		t.Error("the refused replay left its --out folder")
	}
}
