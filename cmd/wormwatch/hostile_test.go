//go:build unix

package main

// The hostile-input suite of issue 7: one test per defect found by trying
// wormwatch as an attacker and a careless user would, each named for it
// (TestHostileNN...), each run against the built binary as a user runs it.
// Every one of them failed on 04b514e.

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// oneLine fails unless r exited with status code and printed exactly one
// line on stderr holding each of want.
func oneLine(t *testing.T, r result, code int, want ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit status %d, want %d (stderr %q)", r.code, code, r.stderr)
	}
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "wormwatch: ") {
		t.Errorf("stderr %q, want one line", r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr %q does not say %q", r.stderr, w)
		}
	}
	if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic") {
		t.Errorf("stderr holds a Go trace: %q", r.stderr)
	}
}

// sampleLog copies a real honeypot log (with worm probes) into dir.
func sampleLog(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, readFile(t, logPath(t, "honeynet2004_access_log.10")), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// partialsUnder lists temporary (".partial-") paths anywhere under dir.
func partialsUnder(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, p := range tree(t, dir) {
		if strings.Contains(p, ".partial-") {
			out = append(out, p)
		}
	}
	return out
}

// TestHostile01OutputsNeverDestroyInputs: `detect --out in.log in.log`
// replaced the log with the report; --out /dev/null turned the device into
// a regular file; --stix /dev/stdout replaced the link; outputs silently
// replaced existing files.
func TestHostile01OutputsNeverDestroyInputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := sampleLog(t, dir, "in.log")
	orig := readFile(t, log)
	if err := os.Link(log, filepath.Join(dir, "hard.log")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("in.log", filepath.Join(dir, "soft.log")); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(dir, "logs"), 0o755)
	sampleLog(t, filepath.Join(dir, "logs"), "a.log")
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "old.txt"), []byte("keep me"), 0o644)

	cases := []struct {
		args []string
		want string
	}{
		{[]string{"detect", "--out", "in.log", "in.log"}, "is an input of this command"},
		{[]string{"detect", "--series", "in.log", "in.log"}, "is an input of this command"},
		{[]string{"detect", "--stix", "in.log", "in.log"}, "is an input of this command"},
		{[]string{"detect", "--force", "--out", "hard.log", "in.log"}, "is an input of this command"},
		{[]string{"detect", "--force", "--out", "soft.log", "in.log"}, "is an input of this command"},
		{[]string{"detect", "--force", "--out", "logs/a.log", "logs"}, "is an input of this command"},
		{[]string{"detect", "--out", "/dev/null", "in.log"}, "device"},
		{[]string{"detect", "--stix", "/dev/stdout", "--out", "r.txt", "in.log"}, "give - for standard output"},
		{[]string{"detect", "--out", "fifo", "in.log"}, "FIFO"},
		{[]string{"detect", "--out", "logs", "in.log"}, "is a folder"},
		{[]string{"detect", "--out", "old.txt", "in.log"}, "exists; give --force"},
		{[]string{"detect", "--stix", "-", "in.log"}, "standard output already carries"},
		{[]string{"detect", "--out", "same.txt", "--series", "./same.txt", "in.log"}, "same file as --out"},
	}
	for _, c := range cases {
		r := wormwatch(t, dir, c.args...)
		oneLine(t, r, 2, c.want)
	}
	if b := readFile(t, log); !bytes.Equal(b, orig) {
		t.Fatal("the input log was changed")
	}
	if b := readFile(t, filepath.Join(dir, "old.txt")); string(b) != "keep me" {
		t.Fatalf("an existing file was replaced without --force: %q", b)
	}
	if fi, err := os.Stat("/dev/null"); err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
		t.Fatalf("/dev/null is no longer a device: %v %v", fi.Mode(), err)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Fatalf("the FIFO was replaced: %v", err)
	}

	// With --force an existing regular file is replaced, whole.
	r := wormwatch(t, dir, "detect", "--force", "--out", "old.txt", "in.log")
	if r.code != 0 || !strings.Contains(string(readFile(t, filepath.Join(dir, "old.txt"))), "matched worm signatures") {
		t.Fatalf("--force: exit %d, stderr %q", r.code, r.stderr)
	}
	// "-" is standard output.
	r = wormwatch(t, dir, "detect", "--format", "json", "--out", "r.json", "--stix", "-", "in.log")
	if r.code != 0 || !strings.Contains(r.stdout, `"type": "bundle"`) {
		t.Fatalf("--stix -: exit %d, stdout %.100q, stderr %q", r.code, r.stdout, r.stderr)
	}

	// forecast: the series it reads is an input; --plot over it is refused.
	series := filepath.Join(dir, "t8.csv")
	fcSeries(t, series, 100)
	before := readFile(t, series)
	oneLine(t, wormwatch(t, dir, "forecast", "--force", "--track", series, series), 2, "is an input of this command")
	oneLine(t, wormwatch(t, dir, "forecast", "--force", "--plot", filepath.Join(dir, "p.png"), "--track", filepath.Join(dir, "p.png"), series), 2, "same file as --plot")
	if !bytes.Equal(before, readFile(t, series)) {
		t.Fatal("forecast changed its input")
	}

	// advisory: writing the same advisory twice needs --force.
	run := filepath.Join(dir, "run")
	mustRun(t, dir, join([]string{"run", "codered2-july19", "--quiet", "--out", run}, small)...)
	mustRun(t, dir, "advisory", run, "--out", "adv")
	oneLine(t, wormwatch(t, dir, "advisory", run, "--out", "adv"), 2, "exists; give --force")
	mustRun(t, dir, "advisory", run, "--out", "adv", "--force")
}

// TestHostile04ConcurrentRunsClaimTheFolder: two `run --seeds` with
// different scenarios and the same --out left one folder holding seeds of
// both. The folder is claimed at the start: the second command fails at
// once with exit status 2 and touches nothing.
func TestHostile04ConcurrentRunsClaimTheFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "many")
	// The first command spends seconds on its one seed (the whole summer
	// of 2001) before it writes anything.
	first := exec.Command(bin, "run", "codered-2001", "--seeds", "1", "--quiet", "--out", out)
	var se bytes.Buffer
	first.Stderr = &se
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(1500 * time.Millisecond); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(out); err == nil {
			break // claimed
		}
	}
	// Meanwhile a second command, with another scenario, is given the same
	// folder: it must fail at once and touch nothing.
	oneLine(t, wormwatch(t, dir, join([]string{"run", "codered2-july19", "--seeds", "1-6", "--out", out}, small)...), 2, "already exists")
	oneLine(t, wormwatch(t, dir, "replay", "codered2-july19", "--seeds", "2", "--out", out), 2, "already exists")
	if err := first.Wait(); err != nil {
		t.Fatalf("the first run: %v, stderr %q", err, se.String())
	}
	seeds, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range seeds {
		got = append(got, e.Name())
		var s summary
		json.Unmarshal(readFile(t, filepath.Join(out, e.Name(), "summary.json")), &s)
		if s.Scenario != "codered-2001" {
			t.Errorf("%s holds a run of %s", e.Name(), s.Scenario)
		}
	}
	if !slices.Equal(got, []string{"seed-0001"}) {
		t.Errorf("%s holds %v, want only the first command's seed-0001", out, got)
	}
}

// TestHostile05NoLeftoverPartials: SIGHUP was not handled; with few file
// descriptors about 14 partial folders stayed; forecast read a
// seed-0001.partial-5 folder ahead of a complete seed; a failed
// run --seeds left an empty --out that blocked the rerun; seeds sorted as
// text (seed-10000 before seed-9999).
func TestHostile05NoLeftoverPartials(t *testing.T) {
	t.Parallel()
	t.Run("SIGHUP", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		many := filepath.Join(dir, "many")
		cmd := exec.Command(bin, join([]string{"run", "codered2-july19", "--seeds", "1-5000", "--workers", "2", "--out", many}, small)...)
		var se bytes.Buffer
		cmd.Stderr = &se
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(time.Minute)
		for len(finished(many)) == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGHUP)
		cmd.Wait()
		if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); ws.Signaled() || cmd.ProcessState.ExitCode() != 130 {
			t.Errorf("after SIGHUP: %v, exit %d, stderr %q; want exit status 130", ws, cmd.ProcessState.ExitCode(), se.String())
		}
		if p := partialsUnder(t, dir); len(p) > 0 {
			t.Errorf("temporary folders left after SIGHUP: %v", p)
		}
	})
	for _, limit := range []int{8, 14} {
		t.Run(fmt.Sprintf("ulimit -n %d", limit), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			// Enough descriptors to start (the Go runtime takes about 6),
			// too few for 16 runs writing at once: with 8 no run can be
			// written, with 14 some are.
			sh := fmt.Sprintf("ulimit -n %d && exec %s run codered2-july19 --seeds 1-32 --workers 16 --quiet --out many %s", limit, bin, strings.Join(small, " "))
			cmd := exec.Command("sh", "-c", sh)
			cmd.Dir = dir
			var se bytes.Buffer
			cmd.Stderr = &se
			cmd.Run()
			code := cmd.ProcessState.ExitCode()
			if code != 1 || !strings.Contains(se.String(), "too many open files") || !strings.Contains(se.String(), "--workers") || strings.Count(se.String(), "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want 1 and one line naming the limit and --workers", code, se.String())
			}
			if p := partialsUnder(t, dir); len(p) > 0 {
				t.Errorf("temporary folders left: %v", p)
			}
			kept := finished(filepath.Join(dir, "many"))
			for _, k := range kept {
				checkSeedFolder(t, filepath.Join(dir, "many", k))
			}
			if _, err := os.Stat(filepath.Join(dir, "many")); err == nil && len(kept) == 0 {
				t.Error("a failed run --seeds that wrote nothing left its empty --out behind")
			}
		})
	}
	t.Run("readers take complete seed folders in numeric order", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		rp := filepath.Join(dir, "replay")
		fcSeries(t, filepath.Join(rp, "seed-0001.partial-5", "sensors", "s.csv"), 90)
		fcSeries(t, filepath.Join(rp, ".seed-0001.partial-6", "sensors", "s.csv"), 91)
		fcSeries(t, filepath.Join(rp, "seed-10000", "sensors", "s.csv"), 92)
		fcSeries(t, filepath.Join(rp, "seed-9999", "sensors", "s.csv"), 93)
		r := mustRun(t, dir, "forecast", rp, "--sensor", "s")
		if !strings.Contains(r.stdout, filepath.Join("seed-9999", "sensors", "s.csv")+": 93 intervals") {
			t.Errorf("forecast read %q, want seed-9999's series (the lowest complete seed)", firstLine(r.stdout))
		}
	})
	t.Run("a failed replay leaves no folder", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		// The parent is a file: the claim itself fails, with exit status 2.
		os.WriteFile(filepath.Join(dir, "file"), nil, 0o644)
		oneLine(t, wormwatch(t, dir, "replay", "codered2-july19", "--seeds", "2", "--out", "file/r"), 2)
		// Interrupted before any seed is written: the claimed folder goes.
		r := interrupt(t, dir, func() bool { _, err := os.Stat(filepath.Join(dir, "r")); return err == nil },
			"replay", "codered-2001", "--seeds", "2", "--workers", "1", "--quiet", "--out", "r")
		if r.code != 130 {
			t.Errorf("exit %d, want 130 (stderr %q)", r.code, r.stderr)
		}
		if left := tree(t, dir); !slices.Equal(left, []string{".", "file"}) {
			t.Errorf("left behind: %v (the rerun would be blocked)", left)
		}
	})
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

// TestHostile06DetectStopsOnAFIFOWithNoWriter: detect on a FIFO that no
// one writes to hung, ignoring SIGINT and SIGTERM.
func TestHostile06DetectStopsOnAFIFOWithNoWriter(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			fifo := filepath.Join(dir, "fifo")
			if err := syscall.Mkfifo(fifo, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, "detect", "--out", "r.txt", fifo)
			cmd.Dir = dir
			var se bytes.Buffer
			cmd.Stderr = &se
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond) // blocked in open(2) by now
			cmd.Process.Signal(sig)
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatal("detect on a FIFO with no writer ignored the signal")
			}
			if code := cmd.ProcessState.ExitCode(); code != 130 {
				t.Errorf("exit %d, stderr %q; want 130", code, se.String())
			}
			if left := tree(t, dir); !slices.Equal(left, []string{".", "fifo"}) {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

// TestHostile11Smaller: two default --out names in the same second
// collided; a 240-character --out failed because of the .partial-N
// suffix; gzip with trailing zero padding was fatal; output-side failures
// did not follow the documented exit codes.
func TestHostile11Smaller(t *testing.T) {
	t.Parallel()
	t.Run("default out names", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		args := join([]string{"run", "codered2-july19", "--quiet"}, small)
		a, b := exec.Command(bin, args...), exec.Command(bin, args...)
		a.Dir, b.Dir = dir, dir
		ea, eb := make(chan error), make(chan error)
		go func() { ea <- a.Run() }()
		go func() { eb <- b.Run() }()
		if err1, err2 := <-ea, <-eb; err1 != nil || err2 != nil {
			t.Fatalf("two runs with the default --out at once: %v, %v", err1, err2)
		}
		runs, _ := os.ReadDir(filepath.Join(dir, "runs"))
		if len(runs) != 2 {
			t.Fatalf("runs/ holds %d folders, want 2", len(runs))
		}
		for _, r := range runs {
			checkFolder(t, filepath.Join(dir, "runs", r.Name()))
		}
	})
	t.Run("240-character out", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		name := strings.Repeat("o", 240)
		mustRun(t, dir, join([]string{"run", "codered2-july19", "--quiet", "--out", name}, small)...)
		checkFolder(t, filepath.Join(dir, name))
		mustRun(t, dir, join([]string{"run", "codered2-july19", "--quiet", "--seeds", "2", "--out", name + "s"}, small)...)
		checkSeedFolder(t, filepath.Join(dir, name+"s", "seed-0002"))
	})
	t.Run("gzip with trailing zeros", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(readFile(t, logPath(t, "honeynet2004_access_log.10")))
		zw.Close()
		buf.Write(make([]byte, 1024)) // as tape archives and some copies pad
		os.WriteFile(filepath.Join(dir, "a.log.gz"), buf.Bytes(), 0o644)
		r := mustRun(t, dir, "detect", "--format", "json", "a.log.gz")
		var rep struct {
			Matched int64 `json:"matched"`
		}
		json.Unmarshal([]byte(r.stdout), &rep)
		if rep.Matched != 274 {
			t.Errorf("matched %d lines, want 274", rep.Matched)
		}
		buf.WriteString("junk")
		os.WriteFile(filepath.Join(dir, "b.log.gz"), buf.Bytes(), 0o644)
		oneLine(t, wormwatch(t, dir, "detect", "b.log.gz"), 2, "b.log.gz")
	})
	t.Run("output folder not writable", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "file"), nil, 0o644)
		oneLine(t, wormwatch(t, dir, join([]string{"run", "codered2-july19", "--out", "file/x"}, small)...), 2, "file/x")
		sampleLog(t, dir, "in.log")
		oneLine(t, wormwatch(t, dir, "detect", "--out", "nodir/r.txt", "in.log"), 2, "does not exist")
	})
}

// scenarioFile writes a small scenario file: codered2-july19 over two
// hours with extra TOML appended.
func scenarioFile(t *testing.T, dir, name, extra string) string {
	t.Helper()
	base := mustRun(t, dir, "scenario", "show", "codered2-july19").stdout
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(base+"\n"+extra), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestHostile02NamesCannotLeaveTheFolder: a sensor named ../../escape made
// run write outside its results folder; --set name=../../escaped did the
// same for the default folder; name="a/b" failed only at write time.
func TestHostile02NamesCannotLeaveTheFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	work := filepath.Join(dir, "a", "b")
	os.MkdirAll(work, 0o755)
	esc := scenarioFile(t, work, "esc.toml", "[[sensor]]\nname = \"../../escape\"\nprefix = \"44.0.0.0/8\"\n")
	for _, args := range [][]string{
		{"scenario", "check", esc},
		join([]string{"run", esc, "--out", "o"}, small),
		join([]string{"run", "codered2-july19", "--set", "name=../../escaped"}, small),
		join([]string{"scenario", "check", "codered2-july19", "--set", "name=a/b"}),
		join([]string{"run", "codered2-july19", "--set", "worm.0.name=../w"}, small),
	} {
		oneLine(t, wormwatch(t, work, args...), 2, "lowercase letters")
	}
	if left := tree(t, dir); !slices.Equal(left, []string{".", "a", "a/b", "a/b/esc.toml"}) {
		t.Errorf("left behind: %v", left)
	}
	// A scenario file without a name takes its file's name, made a valid one.
	noName := filepath.Join(work, "My Scenario.toml")
	body := strings.Replace(string(readFile(t, esc)), `name = "codered2-july19"`, "", 1)
	body = body[:strings.Index(body, "[[sensor]]")]
	os.WriteFile(noName, []byte(body), 0o644)
	r := mustRun(t, work, join([]string{"run", noName, "--quiet"}, small)...)
	if !strings.Contains(r.stdout, "my-scenario, seed 1") {
		t.Errorf("a scenario named from its file %q: %s", noName, firstLine(r.stdout))
	}
}

// TestHostile03CountersNeverWrap: worm.rate.fixed=1e9 with a megabyte
// request gave bytes_on_wire of about -8.7e18, and simulated_probes wrapped
// past 2^64.
func TestHostile03CountersNeverWrap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustRun(t, dir, join([]string{"run", "codered2-july19", "--quiet", "--out", "o",
		"--set", "worm.rate.model=fixed", "--set", "worm.rate.fixed=1e9", "--set", "worm.wire.request_bytes=1000000", "--set", "space.answer_fraction=1"}, small, []string{"--set", "population.hosts=3000"})...)
	var s struct {
		Saturated       []string `json:"saturated"`
		SimulatedProbes int64    `json:"simulated_probes"`
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "o", "summary.json")), &s); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(s.Saturated, "bytes_on_wire") || s.SimulatedProbes < 0 {
		t.Errorf("summary: saturated %v, simulated_probes %d; want bytes_on_wire listed and no negative count", s.Saturated, s.SimulatedProbes)
	}
	for _, row := range readCSV(t, filepath.Join(dir, "o", "timeseries.csv")) {
		for _, col := range []string{"probes", "syn_packets", "bytes_on_wire"} {
			if strings.HasPrefix(row[col], "-") {
				t.Fatalf("%s %s at %s: wrapped around", col, row[col], row["time"])
			}
		}
	}
}

// TestHostile06EveryLongJobIsBounded: forecast reemergence --restart
// 9999-... ran for hours; population.dhcp_lease=1ns never finished and -1h
// was accepted.
func TestHostile06EveryLongJobIsBounded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	oneLine(t, wormwatch(t, dir, "forecast", "reemergence", "--restart", "9999-01-01T00:00:00Z"), 2, "--restart", "366 days")
	oneLine(t, wormwatch(t, dir, "scenario", "check", "codered2-july19", "--set", "population.dhcp_lease=1ns"), 2, "population.dhcp_lease")
	oneLine(t, wormwatch(t, dir, "scenario", "check", "codered2-july19", "--set", "population.dhcp_lease=-1h"), 2, "population.dhcp_lease")
	oneLine(t, wormwatch(t, dir, "scenario", "check", "codered2-july19", "--set", "end=2999-01-01T00:00:00Z"), 2, "end")
}

// TestHostile07InputsAreCapped: --max-line had no upper bound (1e11: an
// out-of-memory trace; 2^63-1: "bufio: negative count"); scenario check
// /dev/zero read forever.
func TestHostile07InputsAreCapped(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sampleLog(t, dir, "in.log")
	oneLine(t, wormwatch(t, dir, "detect", "--max-line", "100000000000", "in.log"), 2, "--max-line", "64 MiB")
	oneLine(t, wormwatch(t, dir, "detect", "--max-line", "9223372036854775807", "in.log"), 2, "--max-line")
	oneLine(t, wormwatch(t, dir, "scenario", "check", "/dev/zero"), 2, "/dev/zero")
	oneLine(t, wormwatch(t, dir, "forecast", "/dev/zero"), 2, "/dev/zero")
	big := filepath.Join(dir, "big.toml")
	f, _ := os.Create(big)
	f.Truncate(17 << 20) // a sparse file past the 16 MiB cap of a scenario
	f.Close()
	oneLine(t, wormwatch(t, dir, "scenario", "check", big), 2, "big.toml")
}

// TestHostile08ManyTablesLoadFast: 5,000 [[worm]] tables took 27.5 s to
// read (quadratic); now past the documented cap they are refused at the
// line of the first table too many, and below it read in linear time.
func TestHostile08ManyTablesLoadFast(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("name = \"many\"\nstart = 2001-07-19T10:00:00Z\nend = 2001-07-19T11:00:00Z\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "\n[[worm]]\nname = \"w%d\"\n", i)
	}
	os.WriteFile(filepath.Join(dir, "many.toml"), []byte(b.String()), 0o644)
	r := wormwatch(t, dir, "scenario", "check", "many.toml")
	oneLine(t, r, 2, "many.toml", "worm")
}

// TestHostile09CheckedBeforeWorkStarts: a bad stix_pattern failed after the
// whole log was read, with no line number; scenario check accepted what
// run rejected (a 16-bit space with clustered placement).
func TestHostile09CheckedBeforeWorkStarts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sampleLog(t, dir, "in.log")
	os.WriteFile(filepath.Join(dir, "sig.toml"), []byte("[[family]]\nname = \"x\"\nkind = \"worm\"\ndescription = \"y\"\nstix_pattern = \"[bogus\"\n[[family.match]]\ntarget = { prefix = [\"/x\"] }\n"), 0o644)
	oneLine(t, wormwatch(t, dir, "detect", "--signatures", "sig.toml", "in.log"), 2, "sig.toml", "line 5", "stix_pattern")
	args := []string{"codered2-july19", "--set", "space.bits=16", "--set", "population.placement=clustered"}
	check := wormwatch(t, dir, join([]string{"scenario", "check"}, args)...)
	run := wormwatch(t, dir, join([]string{"run", "--out", "o"}, args)...)
	if check.code != 2 || run.code != 2 {
		t.Errorf("scenario check: exit %d (%q); run: exit %d (%q); want both refused with 2", check.code, check.stderr, run.code, run.stderr)
	}
}

// TestHostile10NoLogSkippedSilently: in a folder, a file whose first line
// exceeded --max-line was passed over with exit 0 (274 matching lines
// missed).
func TestHostile10NoLogSkippedSilently(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "logs"), 0o755)
	long := strings.Repeat("x", 70<<10) + "\n" // over the default --max-line of 64 KiB
	os.WriteFile(filepath.Join(dir, "logs", "a.log"), append([]byte(long), readFile(t, logPath(t, "honeynet2004_access_log.10"))...), 0o644)
	r := mustRun(t, dir, "detect", "--format", "json", "logs")
	var rep struct {
		Matched int64 `json:"matched"`
	}
	json.Unmarshal([]byte(r.stdout), &rep)
	if rep.Matched != 274 {
		t.Errorf("matched %d lines, want the 274 of the log", rep.Matched)
	}
}

// TestHostile11InputQuirks: a BOM was refused in a scenario, a year-1 start
// was reported as missing, a population file error echoed the first line of
// any file (a line of /etc/shadow), and detect --sensor-size
// 99999999999999 wrote a series forecast refused.
func TestHostile11InputQuirks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := mustRun(t, dir, "scenario", "show", "codered2-july19").stdout
	os.WriteFile(filepath.Join(dir, "bom.toml"), append([]byte("\xef\xbb\xbf"), base...), 0o644)
	mustRun(t, dir, "scenario", "check", "bom.toml")
	oneLine(t, wormwatch(t, dir, "scenario", "check", "codered2-july19", "--set", "start=0001-01-01T00:00:00Z"), 2, "start", "1970")
	secret := "root:$6$SECRETHASH:19000:0:99999:7:::"
	os.WriteFile(filepath.Join(dir, "shadow"), []byte(secret+"\n"), 0o600)
	r := wormwatch(t, dir, "scenario", "check", "codered2-july19", "--set", "population.placement=file", "--set", "population.file=shadow")
	oneLine(t, r, 2, "shadow")
	if strings.Contains(r.stderr, "SECRETHASH") || strings.Contains(r.stderr, "root:") {
		t.Errorf("the error quotes the file: %q", r.stderr)
	}
	sampleLog(t, dir, "in.log")
	oneLine(t, wormwatch(t, dir, "detect", "--series", "s.csv", "--sensor-size", "99999999999999", "in.log"), 2, "--sensor-size")
	mustRun(t, dir, "detect", "--series", "s.csv", "--sensor-size", "4294967295", "in.log")
	mustRun(t, dir, "forecast", "s.csv")
}

// TestHostile05ReaderGoneAway: a reader of the output that went away
// (wormwatch ... | head) used to kill the program by SIGPIPE in the middle
// of its work, leaving temporary files; now the write fails, the program
// cleans up and exits quietly with status 141.
func TestHostile05ReaderGoneAway(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close() // nobody reads
	cmd := exec.Command(bin, join([]string{"run", "codered2-july19", "--seeds", "1-20", "--out", "many"}, small)...)
	cmd.Dir = dir
	var se bytes.Buffer
	cmd.Stdout, cmd.Stderr = w, &se
	cmd.Run()
	w.Close()
	if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); ws.Signaled() || cmd.ProcessState.ExitCode() != 141 || se.Len() != 0 {
		t.Errorf("stdout closed: %v, exit %d, stderr %q; want exit status 141 and nothing said", ws, cmd.ProcessState.ExitCode(), se.String())
	}
	if p := partialsUnder(t, dir); len(p) > 0 {
		t.Errorf("temporary folders left: %v", p)
	}
	if seeds := finished(filepath.Join(dir, "many")); len(seeds) != 20 {
		t.Errorf("%d seeds written, want the 20 finished before the table was printed", len(seeds))
	}
}
