//go:build unix

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// interruptMsg is the one line an interrupted run prints on stderr.
var interruptMsg = regexp.MustCompile(`^wormwatch: interrupted: kept (\d+) finished run\(s\)(?: in (\S+))?; the run\(s\) in progress were discarded, nothing half-written was left\n$`)

// interrupt starts wormwatch in dir, waits until ready returns true (polled
// every 10 ms) and sends it SIGINT, then waits for it to exit. It returns
// the exit status and the output.
func interrupt(t *testing.T, dir string, ready func() bool, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	deadline := time.After(time.Minute)
wait:
	for {
		select {
		case err := <-exited:
			t.Fatalf("wormwatch %s ended before it could be interrupted (%v); stderr:\n%s", strings.Join(args, " "), err, se.String())
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("wormwatch %s: not ready to interrupt after a minute", strings.Join(args, " "))
		case <-poll.C:
			if ready() {
				break wait
			}
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatalf("wormwatch %s: still running a minute after SIGINT", strings.Join(args, " "))
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("wormwatch was killed by %v instead of stopping cleanly", ws.Signal())
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: so.String(), stderr: se.String()}
}

// finished lists the folders of dir that are not temporary ones.
func finished(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var out []string
	for _, e := range entries {
		if !strings.Contains(e.Name(), ".partial-") {
			out = append(out, e.Name())
		}
	}
	return out
}

// partials lists every *.partial-* path under dir.
func partials(t *testing.T, dir string) []string {
	var out []string
	for _, p := range tree(t, dir) {
		if strings.Contains(filepath.Base(p), ".partial-") {
			out = append(out, p)
		}
	}
	return out
}

// TestInterruptSeeds interrupts a long batch of small runs once its first
// folder is written: exit 130, one line saying how many runs were kept and
// where, each kept folder complete, nothing temporary left.
func TestInterruptSeeds(t *testing.T) {
	t.Parallel()
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			many := filepath.Join(dir, "many")
			const total = 5000 // about 30 ms each: minutes if the interrupt were ignored
			r := interrupt(t, dir, func() bool { return len(finished(many)) > 0 },
				join([]string{"run", "codered2-july19", "--seeds", fmt.Sprintf("1-%d", total), "--workers", strconv.Itoa(workers), "--out", "many"}, small)...)
			if r.code != 130 {
				t.Errorf("exit status %d, want 130", r.code)
			}
			m := interruptMsg.FindStringSubmatch(r.stderr)
			if m == nil {
				t.Fatalf("stderr %q: want one line matching %s", r.stderr, interruptMsg)
			}
			kept := finished(many)
			if n, _ := strconv.Atoi(m[1]); n != len(kept) || m[2] != "many" {
				t.Errorf("stderr says %s run(s) kept in %q; %d folders are in many", m[1], m[2], len(kept))
			}
			if len(kept) == 0 || len(kept) >= total {
				t.Fatalf("%d of %d runs kept: the interrupt did not land in the middle", len(kept), total)
			}
			var seeds []uint64
			for _, k := range kept {
				s := checkSeedFolder(t, filepath.Join(many, k))
				if k != fmt.Sprintf("seed-%04d", s.Seed) {
					t.Errorf("folder %s holds seed %d", k, s.Seed)
				}
				seeds = append(seeds, s.Seed)
			}
			if workers == 1 {
				// One run at a time, in order: the kept runs are 1 to n.
				for i, s := range seeds {
					if s != uint64(i+1) {
						t.Errorf("kept seeds %v, want 1 to %d", seeds, len(seeds))
						break
					}
				}
			}
			if p := partials(t, dir); len(p) > 0 {
				t.Errorf("temporary folders left: %v", p)
			}
		})
	}
}

// TestInterruptSingle interrupts one long run (the per-probe engine over
// 2^24 addresses and 14 hours takes several seconds): exit 130, nothing
// kept, no folder at all.
func TestInterruptSingle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	started := time.Now()
	// There is no sign of progress without a terminal: wait a second, by
	// which time the process has long installed its signal handler (the
	// test fails clearly if it was killed by the signal instead).
	r := interrupt(t, dir, func() bool { return time.Since(started) > time.Second },
		"run", "codered2-july19", "--engine", "probe", "--set", "space.bits=24", "--set", "population.hosts=1406", "--out", "one")
	if r.code != 130 {
		t.Errorf("exit status %d, want 130 (stderr %q)", r.code, r.stderr)
	}
	m := interruptMsg.FindStringSubmatch(r.stderr)
	if m == nil || m[1] != "0" || m[2] != "" {
		t.Errorf("stderr %q: want one line saying no run was kept", r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing", r.stdout)
	}
	if left := tree(t, dir); !slices.Equal(left, []string{"."}) {
		t.Errorf("left behind: %v", left)
	}
}
