package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pushToken is the remote sensors' token of TestServePushKill9.
const pushToken = "push-token-0123456789abcdef"

// pushCSV posts CSV rows (the header first) to a remote sensor's series
// and returns the status and the answer (status 0 when the request
// failed: the service was killed under it).
func pushCSV(s *server, sensor, header string, rows []string) (int, []byte) {
	req, err := http.NewRequest("POST", s.url+"/api/v1/series/"+sensor, strings.NewReader(header+strings.Join(rows, "")))
	if err != nil {
		return 0, []byte(err.Error())
	}
	req.Header.Set("Authorization", "Bearer "+pushToken)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := serveClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// pushTransitions returns a series' transitions as text, without their
// IDs, commits and wall-clock times.
func pushTransitions(t *testing.T, s *server, series string) []string {
	t.Helper()
	var out struct {
		Transitions []struct {
			Time     time.Time
			From, To string
			Detail   map[string]json.RawMessage
		}
	}
	if err := json.Unmarshal(s.get(t, "/api/v1/alarms?series="+series), &out); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tr := range out.Transitions {
		delete(tr.Detail, "commit")
		d, _ := json.Marshal(tr.Detail)
		got = append(got, fmt.Sprintf("%s %s->%s %s", tr.Time.Format(time.RFC3339), tr.From, tr.To, d))
	}
	return got
}

// TestServePushKill9 pushes the simulated Code Red /16 telescope's day
// (watch's test data) as a remote sensor's series to wormwatch serve in
// pieces, killing the service with SIGKILL at random moments (some while a
// push is under way) and starting it again each time; the pusher goes on
// from the last push the service acknowledged, sending a few rows again.
// At the end the series is the file's rows, byte for byte, its
// transitions are those of the same day pushed whole to another sensor
// (none lost, none twice), and its alarm is forecast's on the file.
func TestServePushKill9(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data, err := os.ReadFile("../../watch/testdata/codered2-ucsd-16.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	header, rows := lines[0], lines[1:len(lines)-1]
	tok := filepath.Join(dir, "push.token")
	if err := os.WriteFile(tok, []byte(pushToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := "[service]\nlisten = \"127.0.0.1:0\"\ndata = \"data\"\ncommit_interval = \"30ms\"\nclock = false\n"
	for _, s := range []string{"far", "ref"} {
		cfg += fmt.Sprintf("\n[[remote]]\nsensor = %q\ntoken_file = %q\n", s, tok)
	}
	if err := os.WriteFile(filepath.Join(dir, "serve.toml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 9))
	acked := 0 // rows the service acknowledged
	for kill := 0; acked < len(rows)*3/4; kill++ {
		s := startServer(t, dir, "--config", "serve.toml")
		for range 1 + rng.IntN(3) {
			from := max(acked-rng.IntN(4), 0)
			to := min(acked+1+rng.IntN(60), len(rows))
			code, body := pushCSV(s, "far", header, rows[from:to])
			if code != 200 {
				t.Fatalf("push of rows %d to %d: %d %s\n%s", from+1, to, code, body, s.stderr)
			}
			acked = to
		}
		if rng.IntN(2) == 0 { // a push cut by the kill: committed or not
			go pushCSV(s, "far", header, rows[acked:min(acked+1+rng.IntN(60), len(rows))])
		}
		time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond) // the moment of the kill, not a wait for anything
		s.signal(t, syscall.SIGKILL)
		t.Logf("kill %d: %d rows acknowledged", kill+1, acked)
	}
	s := startServer(t, dir, "--config", "serve.toml")
	if code, body := pushCSV(s, "far", header, rows[acked-3:]); code != 200 {
		t.Fatalf("the rest: %d %s", code, body)
	}
	if code, body := pushCSV(s, "ref", header, rows); code != 200 {
		t.Fatalf("the day pushed whole: %d %s", code, body)
	}
	if got := string(s.get(t, "/api/v1/series/far?format=csv&limit=100000")); got != string(data) {
		t.Fatalf("the series pushed in pieces is not the file's rows: %d bytes, the file %d", len(got), len(data))
	}
	far, ref := pushTransitions(t, s, "far"), pushTransitions(t, s, "ref")
	if len(ref) < 2 || !slices.Equal(far, ref) {
		t.Fatalf("transitions pushed in pieces with kills:\n%s\npushed whole:\n%s", strings.Join(far, "\n"), strings.Join(ref, "\n"))
	}
	if err := os.WriteFile(filepath.Join(dir, "far.csv"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Alarm struct{ Time time.Time } `json:"alarm"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, dir, "forecast", "--format", "json", "far.csv").stdout), &fc); err != nil {
		t.Fatal(err)
	}
	at := fc.Alarm.Time.Format(time.RFC3339)
	if !slices.ContainsFunc(far, func(tr string) bool { return strings.HasPrefix(tr, at+" watching->alarm ") }) {
		t.Errorf("no alarm at forecast's %s among\n%s", at, strings.Join(far, "\n"))
	}
	if !bytes.Contains(s.get(t, "/api/v1/forecast?sensor=far"), []byte(`"time": "`+at+`"`)) {
		t.Errorf("the service's forecast of the series has no alarm at %s", at)
	}
	if code := s.signal(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM: exit status %d, want 0:\n%s", code, s.stderr)
	}
}
