//go:build unix

package main

import (
	"bytes"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDetectInterrupt interrupts detect while it reads an endless log on
// standard input: exit status 130, one line on stderr, no file written.
func TestDetectInterrupt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := readFile(t, logPath(t, "honeynet2004_access_log.22"))
	cmd := exec.Command(bin, "detect", "--series", "s.csv", "--out", "out.txt", "-")
	cmd.Dir = dir
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fed := make(chan int)
	go func() { // feed the log again and again until detect stops reading
		n := 0
		for {
			if _, err := in.Write(log); err != nil {
				break
			}
			if n++; n == 50 {
				fed <- n
			}
		}
		close(fed)
	}()
	select {
	case <-fed: // 50 copies (more than 16,384 lines) read: detect is in its loop
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("detect did not read its input")
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("detect still running a minute after SIGINT")
	}
	in.Close()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("killed by %v instead of stopping cleanly", ws.Signal())
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 || se.String() != "wormwatch: interrupted: nothing was written\n" || so.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q", code, so.String(), se.String())
	}
	if got := tree(t, dir); !slices.Equal(got, []string{"."}) {
		t.Errorf("left behind: %v", strings.Join(got, " "))
	}
}
