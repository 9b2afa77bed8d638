package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"wormwatch/detect"
	"wormwatch/forecast"
	"wormwatch/ingest/follow"
	"wormwatch/watch"
)

// codeRedRequest is the request line of Code Red I and II's first
// version (224 N), as the IIS servers of July 2001 logged it.
var codeRedRequest = "GET /default.ida?" + strings.Repeat("N", 224) +
	"%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u9090%u8190%u00c3%u0003%u8b00%u531b%u53ff%u0078%u0000%u00=a HTTP/1.0"

// codeRedLog returns an Apache combined log of a web server that sees the
// rows of the simulated Code Red /16 telescope (watch's test data) from
// their start to until: per row, NewSources fresh sources, the others
// drawn from those seen before, the rest of the probes from the row's
// sources, at times spread over the interval, in time order; a few page
// requests of no worm among them.
func codeRedLog(t testing.TB, until time.Time, seed uint64) []byte {
	t.Helper()
	s, err := forecast.ReadSeriesFile(context.Background(), "../watch/testdata/codered2-ucsd-16.csv")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 0x636f6465726564))
	var seen []string
	type line struct {
		t   time.Time
		src string
		req string
	}
	var b bytes.Buffer
	for _, r := range s.Rows {
		if !r.Time.Before(until) {
			break
		}
		var cur []string
		for range r.NewSources {
			n := len(seen)
			seen = append(seen, fmt.Sprintf("10.%d.%d.%d", n/62500, n/250%250, n%250+1))
			cur = append(cur, seen[n])
		}
		old := seen[:len(seen)-int(r.NewSources)]
		for _, i := range rng.Perm(len(old))[:r.Sources-r.NewSources] {
			cur = append(cur, old[i])
		}
		var lines []line
		for i := range r.Probes {
			src := cur[int(i)%len(cur)]
			if i >= int64(len(cur)) {
				src = cur[rng.IntN(len(cur))]
			}
			lines = append(lines, line{r.Time.Add(time.Duration(rng.Int64N(int64(s.Interval)))), src, codeRedRequest})
		}
		if rng.IntN(10) == 0 {
			lines = append(lines, line{r.Time.Add(time.Duration(rng.Int64N(int64(s.Interval)))), "192.0.2.7", "GET /index.html HTTP/1.1"})
		}
		slices.SortStableFunc(lines, func(a, b line) int { return a.t.Compare(b.t) })
		for _, l := range lines {
			status := 404
			if !strings.Contains(l.req, "ida") {
				status = 200
			}
			fmt.Fprintf(&b, "%s - - [%s] \"%s\" %d - \"-\" \"-\"\n", l.src, l.t.Format("02/Jan/2006:15:04:05 -0700"), l.req, status)
		}
	}
	return b.Bytes()
}

// testConfig returns a configuration for tests: a data folder of the
// test, any free port on loopback, no clock, short intervals, the inputs
// given, and the assignments sets.
func testConfig(t testing.TB, dir string, ins []Input, sets ...string) *Config {
	t.Helper()
	all := append([]string{"service.data=" + dir, "service.listen=127.0.0.1:0", "service.clock=false",
		"service.commit_interval=20ms", "service.poll=10ms", "service.shutdown_grace=20s"}, sets...)
	cfg, err := Load("", Overrides{Sets: all, Inputs: ins})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// logInput is a --follow input.
func logInput(t testing.TB, path string, opts ...string) Input {
	t.Helper()
	in, err := ParseInputFlag("log", strings.Join(append([]string{path}, opts...), ","))
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// running is a service running in the test.
type running struct {
	svc  *Service
	url  string
	stop func() error
}

// testWriter sends log lines to the test's log.
type testWriter struct {
	mu sync.Mutex
	t  testing.TB
}

// Write logs one line.
func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// start runs a service of cfg until the test ends (or stop).
func start(t testing.TB, cfg *Config, opt Options) *running {
	t.Helper()
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(&testWriter{t: t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	svc, err := New(context.Background(), cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			runErr = <-done
		})
		return runErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	scheme := "http"
	if cfg.Service.TLSCert != "" {
		scheme = "https"
	}
	return &running{svc: svc, url: scheme + "://" + svc.Addr().String(), stop: stop}
}

// get requests path and returns the status and body.
func (r *running) get(t testing.TB, path string, header ...string) (int, []byte) {
	t.Helper()
	return request(t, http.DefaultClient, "GET", r.url+path, nil, header...)
}

// request makes a request with headers given as name, value pairs.
func request(t testing.TB, c *http.Client, method, url string, body io.Reader, header ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

// status returns the service's status.
func (r *running) status(t testing.TB) (st struct {
	Inputs []inputJSON
	Counters
}) {
	t.Helper()
	code, body := r.get(t, "/api/v1/status")
	if code != 200 {
		t.Fatalf("status: %d %s", code, body)
	}
	var raw struct {
		Inputs   []inputJSON `json:"inputs"`
		Counters Counters    `json:"counters"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	st.Inputs, st.Counters = raw.Inputs, raw.Counters
	return st
}

// committedOffset returns the committed offset of the input named name
// (its report name), -1 when it has none.
func (r *running) committedOffset(t testing.TB, name string) int64 {
	t.Helper()
	for _, in := range r.status(t).Inputs {
		if in.Name == name {
			if in.Position == "" {
				return 0
			}
			p, err := follow.ParsePosition(in.Position)
			if err != nil {
				t.Fatal(err)
			}
			return p.Offset
		}
	}
	return -1
}

// waitFor polls cond every 5 ms until it holds, failing after 30 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// appendFile appends data to the file at path.
func appendFile(t testing.TB, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// batchDetect returns what wormwatch detect --format json prints for
// paths (with the built-in signatures and the captures' opener).
func batchDetect(t testing.TB, paths []string, openers ...detect.Opener) []byte {
	t.Helper()
	rep, err := detect.Analyze(context.Background(), paths, detect.Options{Openers: openers})
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	var b bytes.Buffer
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// batchWatch feeds every record of the logs to a watch of cfg at once, as
// one sensor (sensor, size), and returns it (not flushed: its open
// intervals are those of the live one after the same records).
func batchWatch(t testing.TB, cfg *Config, sensor string, size uint64, paths ...string) *watch.Watch {
	t.Helper()
	_, m, err := detect.LoadTable(cfg.Signatures)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range m.Families() {
		names = append(names, f.Name)
	}
	w, err := watch.New(watch.Config{Settings: cfg.Watch, Forecast: cfg.Forecast.Options(cfg.Service.SpaceBits), Families: names})
	if err != nil {
		t.Fatal(err)
	}
	s, err := w.AddSensor(sensor, size)
	if err != nil {
		t.Fatal(err)
	}
	var fams []int
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		rd, err := detect.NewReader(p, f, detect.ReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for {
			rec, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			fams = fams[:0]
			if !rec.Attempt {
				fams = m.Match(rec, fams)
			}
			if err := w.Add(s, rec, fams); err != nil {
				t.Fatal(err)
			}
		}
		f.Close()
	}
	return w
}

// firstDiff shows where two texts first differ.
func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-200)
	return fmt.Sprintf("at byte %d:\n got ...%s\nwant ...%s", i, a[lo:min(len(a), i+200)], b[lo:min(len(b), i+200)])
}
