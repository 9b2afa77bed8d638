package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// demoAlarm polls a demo's /api/v1/alarms until a transition to alarm
// appears, at most until deadline, and returns when it came.
func demoAlarm(t *testing.T, s *server, deadline time.Time) time.Time {
	t.Helper()
	for {
		var a struct {
			Transitions []struct{ Series, From, To string }
		}
		if err := json.Unmarshal(s.get(t, "/api/v1/alarms"), &a); err != nil {
			t.Fatal(err)
		}
		for _, tr := range a.Transitions {
			if tr.To == "alarm" {
				return time.Now()
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no alarm by the deadline: %+v\n%s", a.Transitions, s.stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestServeDemo runs wormwatch serve --demo at ten times the default speed
// on a free loopback port: it says where the page is and where it writes,
// an alarm transition appears within 60 s of the start (at this speed
// about 6.4 s after the feed starts), with its STIX bundle and CSAF draft
// in the outbox, and SIGTERM stops it with status 0. A second start makes
// the demo's store afresh (no alarm at first). A folder under DATA/demo
// that wormwatch did not make is left alone (exit 2), and so are the
// wrong uses of the flags.
func TestServeDemo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	args := []string{"--demo", "--demo-speed", "2400", "--listen", "127.0.0.1:0", "--data", "data"}
	start := time.Now()
	s := startServer(t, dir, args...)
	at := demoAlarm(t, s, start.Add(60*time.Second))
	t.Logf("alarm %v after the start (serving after %v)", at.Sub(start).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if !strings.Contains(s.stderr.String(), `"page":"`+s.url+`/"`) || !strings.Contains(s.stderr.String(), filepath.Join("data", "demo", "access.log")) {
		t.Errorf("the log does not say where the page is and where the demo writes:\n%s", s.stderr)
	}
	var d struct {
		Counts map[string]map[string]int
	}
	if err := json.Unmarshal(s.get(t, "/api/v1/deliveries"), &d); err != nil || d.Counts["stix"]["sent"] == 0 || d.Counts["csaf"]["sent"] == 0 {
		t.Errorf("the alarm's bundle and draft are not in the outbox: %+v %v", d.Counts, err)
	}
	if code := s.signal(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit status %d after SIGTERM:\n%s", code, s.stderr)
	}
	for _, p := range []string{"data/demo/.wormwatch-demo", "data/demo/source.log.gz", "data/demo/store/wormwatch.db"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Error(err)
		}
	}

	// A second start: the store is new.
	again := startServer(t, dir, args...)
	if body := again.get(t, "/api/v1/alarms"); strings.Contains(string(body), `"to": "alarm"`) {
		t.Errorf("the demo's store was not made afresh: %s", body)
	}
	if code := again.signal(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit status %d after SIGTERM:\n%s", code, again.stderr)
	}

	// What wormwatch did not make is left alone.
	foreign := filepath.Join(dir, "data", "demo", "store", "notes.txt")
	if err := os.WriteFile(foreign, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other", "demo")
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "access.log"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"serve", "--demo", "--data", "data"}, "notes.txt, which is not a file of the demo's store"},
		{[]string{"serve", "--demo", "--data", "other"}, "did not make"},
		{[]string{"serve", "--demo", "--follow", "x.log"}, "--demo reads the demo's own log only"},
		{[]string{"serve", "--demo", "--demo-speed", "0"}, "--demo-speed 0"},
		{[]string{"serve", "--follow", "x.log", "--demo-speed", "10"}, "--demo-speed is for --demo"},
	} {
		r := wormwatch(t, dir, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.msg) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("wormwatch %s: exit %d, stderr %q; want 2 and one line saying %q", strings.Join(tc.args, " "), r.code, r.stderr, tc.msg)
		}
	}
	for _, p := range []string{foreign, filepath.Join(dir, "data", "demo", "store", "wormwatch.db"), filepath.Join(other, "access.log")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("removed: %v", err)
		}
	}
}
