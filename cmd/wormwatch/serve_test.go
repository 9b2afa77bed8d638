//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"wormwatch/forecast"
	"wormwatch/ingest/follow"
)

// serveCodeRedLog returns an Apache combined log of a web server seeing
// the rows of the simulated Code Red /16 telescope (watch's test data)
// from 10:00 to until: per row its probes from its sources (the new ones
// fresh, the others seen before), at times spread over the interval in
// order.
func serveCodeRedLog(t *testing.T, until time.Time, seed uint64) []byte {
	t.Helper()
	s, err := forecast.ReadSeriesFile(context.Background(), "../../watch/testdata/codered2-ucsd-16.csv")
	if err != nil {
		t.Fatal(err)
	}
	req := "GET /default.ida?" + strings.Repeat("N", 224) + "%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u9090%u8190%u00c3%u0003%u8b00%u531b%u53ff%u0078%u0000%u00=a HTTP/1.0"
	rng := rand.New(rand.NewPCG(seed, 1))
	var seen []string
	var b bytes.Buffer
	for _, r := range s.Rows {
		if !r.Time.Before(until) {
			break
		}
		n0 := len(seen)
		for range r.NewSources {
			seen = append(seen, fmt.Sprintf("10.%d.%d.%d", len(seen)/62500, len(seen)/250%250, len(seen)%250+1))
		}
		cur := slices.Clone(seen[n0:])
		for _, i := range rng.Perm(n0)[:r.Sources-r.NewSources] {
			cur = append(cur, seen[i])
		}
		step := s.Interval / time.Duration(r.Probes+1)
		for i := range r.Probes {
			src := cur[int(i)%len(cur)]
			if i >= int64(len(cur)) {
				src = cur[rng.IntN(len(cur))]
			}
			at := r.Time.Add(step * time.Duration(i+1))
			fmt.Fprintf(&b, "%s - - [%s] \"%s\" 404 - \"-\" \"-\"\n", src, at.Format("02/Jan/2006:15:04:05 -0700"), req)
		}
	}
	return b.Bytes()
}

// server is a wormwatch serve process started by a test.
type server struct {
	cmd    *exec.Cmd
	url    string
	stderr *bytes.Buffer
	exited chan struct{}
}

// startServer starts wormwatch serve in dir with args and waits for it to
// say where it listens (its JSON log line "serving").
func startServer(t *testing.T, dir string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--log-format", "json"}, args...)...)
	cmd.Dir = dir
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, stderr: new(bytes.Buffer), exited: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			s.stderr.WriteString(sc.Text() + "\n")
			var l struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "serving" {
				addr <- l.Addr
			}
		}
		cmd.Wait()
		close(s.exited)
	}()
	select {
	case a := <-addr:
		s.url = "http://" + a
	case <-s.exited:
		t.Fatalf("wormwatch serve %s exited (%v) before serving:\n%s", strings.Join(args, " "), cmd.ProcessState, s.stderr)
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatalf("wormwatch serve: not serving after a minute:\n%s", s.stderr)
	}
	t.Cleanup(func() { cmd.Process.Kill(); <-s.exited })
	return s
}

// signal sends sig and, unless it is SIGHUP, waits for the exit status.
func (s *server) signal(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	if sig == syscall.SIGHUP {
		return 0
	}
	select {
	case <-s.exited:
	case <-time.After(time.Minute):
		t.Fatalf("still running a minute after %v", sig)
	}
	return s.cmd.ProcessState.ExitCode()
}

// get returns the body of a GET, failing on any status but 200.
func (s *server) get(t *testing.T, path string) []byte {
	t.Helper()
	resp, err := serveClient.Get(s.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v %s", path, resp.StatusCode, err, body)
	}
	return body
}

// committed returns the committed offset of each input by its name in
// reports.
func (s *server) committed(t *testing.T) map[string]int64 {
	t.Helper()
	var st struct {
		Inputs []struct{ Name, Position string }
	}
	if err := json.Unmarshal(s.get(t, "/api/v1/status"), &st); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, in := range st.Inputs {
		out[in.Name] = 0
		if in.Position != "" {
			p, err := follow.ParsePosition(in.Position)
			if err != nil {
				t.Fatal(err)
			}
			out[in.Name] = p.Offset
		}
	}
	return out
}

// waitCommitted waits until every file of want (name in reports: size)
// is committed to its end.
func (s *server) waitCommitted(t *testing.T, want map[string]int64) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		got := s.committed(t)
		done := true
		for k, v := range want {
			done = done && got[k] == v
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not committed to the end after a minute: %v, want %v\n%s", got, want, s.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// serveConfig writes a configuration of serve in dir with the inputs
// given as [[input]] tables.
func serveConfig(t *testing.T, dir string, inputs ...string) {
	t.Helper()
	cfg := `[service]
listen = "127.0.0.1:0"
data = "data"
commit_interval = "30ms"
poll = "20ms"
clock = false
`
	for _, in := range inputs {
		cfg += "\n[[input]]\n" + in + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "serve.toml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkBatch compares the service's detect JSON with detect's on the same
// files, its committed rows of the sensor web with the rows of detect
// --series of the same log (all but the intervals still open), and its
// forecast with forecast's of that series.
func checkBatch(t *testing.T, s *server, dir string, logs ...string) {
	t.Helper()
	want := mustRun(t, dir, append([]string{"detect", "--format", "json"}, logs...)...).stdout
	if got := string(s.get(t, "/api/v1/detect")); got != want {
		t.Fatalf("/api/v1/detect differs from detect --format json %s", strings.Join(logs, " "))
	}
	mustRun(t, dir, "detect", "--series", "web", "--force", "--interval", "1m", "--sensor-size", "65536", logs[0])
	batch := string(readFile(t, filepath.Join(dir, "web")))
	live := string(s.get(t, "/api/v1/series/web?format=csv"))
	// The last two intervals (the default lateness) are still open.
	if n, m := strings.Count(live, "\n"), strings.Count(batch, "\n"); n < 100 || n != m-2 || !strings.HasPrefix(batch, live) {
		t.Fatalf("the series web (%d lines) is not detect --series's (%d lines) but its last two", n, m)
	}
	// The forecast of the series, open intervals included, is forecast's
	// of detect's series saved as the file web.
	want = mustRun(t, dir, "forecast", "--format", "json", "web").stdout
	if got := string(s.get(t, "/api/v1/forecast?sensor=web")); got != want {
		t.Fatalf("/api/v1/forecast?sensor=web differs from forecast --format json web")
	}
}

// TestServeKill9 appends a Code Red log while wormwatch serve follows it
// and kills the service with SIGKILL at 20 random moments, starting it
// again each time: at the end /api/v1/detect is byte for byte what
// detect --format json prints for the file, and the committed rows of
// the series are detect --series's (nothing lost, nothing counted twice).
// Then SIGTERM stops it with status 0, and a restart goes on exactly with
// the lines appended meanwhile.
func TestServeKill9(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := serveCodeRedLog(t, time.Date(2001, 7, 19, 17, 0, 0, 0, time.UTC), 1)
	cut := bytes.IndexByte(data[len(data)*3/4:], '\n') + len(data)*3/4 + 1
	first, second := data[:cut], data[cut:]
	log := filepath.Join(dir, "access.log")
	serveConfig(t, dir, `path = "access.log"`+"\nname = \"web\"\nsize = 65536")
	rng := rand.New(rand.NewPCG(9, 9))
	written := 0
	appendTo := func(p []byte) {
		f, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(p); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	for range 20 {
		s := startServer(t, dir, "--config", "serve.toml")
		for range 1 + rng.IntN(3) {
			n := min(len(first)-written, rng.IntN(len(first)/30))
			appendTo(first[written : written+n])
			written += n
		}
		time.Sleep(time.Duration(rng.IntN(120)) * time.Millisecond) // the moment of the kill, not a wait for anything
		s.signal(t, syscall.SIGKILL)
		t.Logf("killed with %d bytes written", written)
	}
	s := startServer(t, dir, "--config", "serve.toml")
	appendTo(first[written:])
	s.waitCommitted(t, map[string]int64{"access.log": int64(len(first))})
	checkBatch(t, s, dir, "access.log")
	if code := s.signal(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM: exit status %d, want 0:\n%s", code, s.stderr)
	}
	appendTo(second)
	s = startServer(t, dir, "--config", "serve.toml")
	s.waitCommitted(t, map[string]int64{"access.log": int64(len(data))})
	checkBatch(t, s, dir, "access.log")
	if code := s.signal(t, syscall.SIGINT); code != 0 {
		t.Fatalf("SIGINT: exit status %d, want 0:\n%s", code, s.stderr)
	}
}

// serveClient is the tests' HTTP client: a request that hangs fails.
var serveClient = &http.Client{Timeout: 30 * time.Second}

// TestServeReloadAndRefusals: SIGHUP reads the configuration again and
// starts the input it adds (the service then answers detect's JSON of
// both logs); a configuration that does not load is refused with a log
// line and the service goes on; serve check prints what a file would run
// and names the file, line and key of a mistake (exit 2); an address
// beyond loopback without TLS and a token, and nothing to do, are
// refused (exit 2).
func TestServeReloadAndRefusals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, l := range []string{"honeynet2004_access_log.10", "honeynet2004_access_log.22"} {
		if err := os.WriteFile(filepath.Join(dir, l), readFile(t, logPath(t, l)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a, b := `path = "honeynet2004_access_log.10"`+"\nname = \"a\"\nsensor = \"web\"", `path = "honeynet2004_access_log.22"`+"\nname = \"b\"\nsensor = \"web\""
	serveConfig(t, dir, a)
	s := startServer(t, dir, "--config", "serve.toml")
	s.waitCommitted(t, map[string]int64{"honeynet2004_access_log.10": 67305})
	serveConfig(t, dir, a, b)
	s.signal(t, syscall.SIGHUP)
	s.waitCommitted(t, map[string]int64{"honeynet2004_access_log.10": 67305, "honeynet2004_access_log.22": 280199})
	want := mustRun(t, dir, "detect", "--format", "json", "honeynet2004_access_log.10", "honeynet2004_access_log.22").stdout
	if got := string(s.get(t, "/api/v1/detect")); got != want {
		t.Fatal("after SIGHUP added a log, /api/v1/detect differs from detect --format json of both")
	}
	serveConfig(t, dir, a, b+"\nsize = 0")
	s.signal(t, syscall.SIGHUP)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(s.stderr.String(), "the configuration was refused") {
		if time.Now().After(deadline) {
			t.Fatalf("a bad configuration on SIGHUP: no log line saying it was refused:\n%s", s.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.get(t, "/healthz") // still serving
	if code := s.signal(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM: exit status %d:\n%s", code, s.stderr)
	}

	serveConfig(t, dir, a, b)
	r := mustRun(t, dir, "serve", "check", "serve.toml")
	if !strings.Contains(r.stdout, "input 2  log honeynet2004_access_log.22: name b, sensor web (size 1), format auto") {
		t.Errorf("serve check:\n%s", r.stdout)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "check", "bad.toml"}, "wormwatch: bad.toml:3: input.x.size: 0 is below the minimum 1"},
		{[]string{"serve", "--follow", "x.log", "--listen", "0.0.0.0:8080"}, "0.0.0.0:8080 is not a loopback address"},
		{[]string{"serve", "--data", "d"}, "nothing to do"},
		{[]string{"serve", "--follow", "x.log,size=0"}, "--follow x.log,size=0: size: 0 is below the minimum 1"},
		{[]string{"serve", "--follow", "x.log", "--commit-interval", "0s"}, "--commit-interval=0s: service.commit_interval"},
		{[]string{"serve", "--data", "data", "--log-level", "error", "--listen", "127.0.0.1:0", "--follow", "honeynet2004_access_log.10,sensor=web,size=2"},
			`input.honeynet2004_access_log.size: sensor "web": size 2, but it watched 1 addresses before`},
	} {
		if err := os.WriteFile(filepath.Join(dir, "bad.toml"), []byte("[[input]]\npath = \"x.log\"\nsize = 0\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r := wormwatch(t, dir, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("wormwatch %s: exit %d, stderr %q; want 2 and one line with %q", strings.Join(tc.args, " "), r.code, r.stderr, tc.want)
		}
	}
}
