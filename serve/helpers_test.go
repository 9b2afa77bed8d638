package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"wormwatch/detect"
	"wormwatch/ingest/follow"
	"wormwatch/serve/servetest"
	"wormwatch/watch"
)

// testConfig returns a configuration for tests: a data folder of the
// test (servetest.Sets), the inputs given, and the assignments sets.
func testConfig(t testing.TB, dir string, ins []Input, sets ...string) *Config {
	t.Helper()
	return loadConfig(t, "", ins, servetest.Sets(dir, sets...))
}

// loadConfig loads the configuration file conf ("" for none) with the
// inputs and the assignments sets, failing the test if it does not load.
func loadConfig(t testing.TB, conf string, ins []Input, sets []string) *Config {
	t.Helper()
	cfg, err := Load(conf, Overrides{Sets: sets, Inputs: ins})
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

// start runs a service of cfg until the test ends (or stop).
func start(t testing.TB, cfg *Config, opt Options) *running {
	t.Helper()
	if opt.Logger == nil {
		opt.Logger = servetest.Logger(t, slog.LevelInfo)
	}
	svc, err := New(context.Background(), cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	stop := servetest.Run(t, svc.Run)
	scheme := "http"
	if cfg.Service.TLSCert != "" {
		scheme = "https"
	}
	return &running{svc: svc, url: scheme + "://" + svc.Addr().String(), stop: stop}
}

// get requests path and returns the status and body.
func (r *running) get(t testing.TB, path string, header ...string) (int, []byte) {
	t.Helper()
	return servetest.Get(t, r.url+path, header...)
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
