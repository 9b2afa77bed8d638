package csafsite

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"wormwatch/internal/atomicfile"
)

// childEnv names the environment variable that makes the test binary the
// child of TestKill9: "DATA ROUND" (the data folder and the round).
const childEnv = "CSAFSITE_KILL9_CHILD"

// TestMain runs the child of TestKill9 when asked to, the tests otherwise.
func TestMain(m *testing.M) {
	if v := os.Getenv(childEnv); v != "" {
		if err := kill9Child(v); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashDocs is how many publications a child makes at most.
const crashDocs = 400

// crashDoc is the i-th document a child of round r publishes: advisory
// i/2 of the round, first released in 2001, then (odd i) a revision
// released in 2002, which moves it to the 2002 folder.
func crashDoc(r, i int) ([]byte, error) {
	k := i / 2
	d := time.Date(2001, 7, 19, 0, k, 0, 0, time.UTC)
	doc, err := makeAdvisory(fmt.Sprintf("crash-%d-%d", r, k), d)
	if err != nil || i%2 == 0 {
		return doc, err
	}
	return reviseDoc(doc, d.AddDate(1, 0, 0), d.AddDate(1, 0, 0))
}

// kill9Child opens the site on the data folder and publishes the round's
// documents one after the other, writing "ok I" after each publication
// has returned, until it is killed.
func kill9Child(v string) error {
	data, rs, _ := strings.Cut(v, " ")
	r, err := strconv.Atoi(rs)
	if err != nil {
		return err
	}
	s, err := New(testConfig(), data, nil)
	if err != nil {
		return err
	}
	for i := range crashDocs {
		doc, err := crashDoc(r, i)
		if err != nil {
			return err
		}
		if _, err := s.Publish(doc); err != nil {
			return fmt.Errorf("publication %d: %w", i, err)
		}
		fmt.Printf("ok %d\n", i)
	}
	return nil
}

// TestKill9 kills (SIGKILL) a process that publishes advisories at a
// different moment in each of five rounds, and reopens the site on its
// data folder after each: it must open without error, and serve every
// publication the process had confirmed, byte for byte, or the one it was
// making when it died (a revision may be written before its confirmation),
// and nothing else.
func TestKill9(t *testing.T) {
	data := t.TempDir()
	acked := map[int]int{} // round -> publications confirmed
	for r, stopAt := range []int{1, 4, 11, 26, 57} {
		acked[r] = kill9Round(t, data, r, stopAt)
		partial := countPartial(t, data)
		s, err := New(testConfig(), data, nil)
		if err != nil {
			t.Fatalf("round %d: reopening after kill -9: %v", r, err)
		}
		want := 0
		for rr := 0; rr <= r; rr++ {
			want += checkRound(t, s, rr, acked[rr])
		}
		if s.Len() != want {
			t.Errorf("round %d: %d advisories served, want %d", r, s.Len(), want)
		}
		if left := countPartial(t, data); left != 0 {
			t.Errorf("round %d: %d temporary files left after reopening", r, left)
		}
		t.Logf("round %d: killed after %d confirmed publications; %d temporary files left by the kill, removed", r, acked[r], partial)
	}
}

// kill9Round starts a child for round r, kills it once it has confirmed
// stopAt publications, and returns how many it confirmed in all.
func kill9Round(t *testing.T, data string, r, stopAt int) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d", childEnv, data, r))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	n := 0
	for n < stopAt && sc.Scan() {
		n++
	}
	cmd.Process.Signal(syscall.SIGKILL)
	for sc.Scan() { // confirmations already in the pipe
		n++
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("round %d: the child was not killed (%v): %s", r, err, stderr.String())
	}
	if n < stopAt {
		t.Fatalf("round %d: the child confirmed %d publications, fewer than %d: %s", r, n, stopAt, stderr.String())
	}
	return n
}

// checkRound checks what the site serves of round r, whose child confirmed
// n publications, and returns how many advisories of the round it serves.
func checkRound(t *testing.T, s *Site, r, n int) int {
	t.Helper()
	served := 0
	for k := 0; 2*k <= n; k++ {
		v0, err0 := crashDoc(r, 2*k)
		v1, err1 := crashDoc(r, 2*k+1)
		if err0 != nil || err1 != nil {
			t.Fatal(err0, err1)
		}
		var candidates [][]byte // what may be served for advisory k
		switch {
		case 2*k+1 < n: // the revision was confirmed
			candidates = [][]byte{v1}
		case 2*k+1 == n: // the first version confirmed, the revision in flight
			candidates = [][]byte{v0, v1}
		default: // the first version in flight
			candidates = [][]byte{v0}
		}
		a, err := parse(candidates[0], s.cfg.MaxBytes)
		if err != nil {
			t.Fatal(err)
		}
		got := s.advisories[a.name]
		switch {
		case got == nil && 2*k < n:
			t.Errorf("round %d: confirmed advisory %s is not served", r, a.id)
		case got == nil: // the one in flight, not written
		case !containsBytes(candidates, got.body):
			t.Errorf("round %d: advisory %s is served with other bytes than those published", r, a.id)
		default:
			served++
		}
	}
	return served
}

func containsBytes(list [][]byte, b []byte) bool {
	for _, x := range list {
		if bytes.Equal(x, b) {
			return true
		}
	}
	return false
}

// countPartial counts atomicfile's temporary files under dir.
func countPartial(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), atomicfile.PartialInfix) {
			n++
		}
		return err
	})
	return n
}
