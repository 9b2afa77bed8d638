package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"wormwatch/serve"
	"wormwatch/serve/servetest"
	"wormwatch/store"
)

// logLines returns n lines of an Apache combined log from t0 on, one
// every step, from sources 10.0.0.(i%17+1), most of them Code Red's
// requests; and the time of the last.
func logLines(n int, t0 time.Time, step time.Duration, first int) ([]byte, time.Time) {
	var b bytes.Buffer
	var t time.Time
	for i := range n {
		t = t0.Add(time.Duration(i) * step)
		req, status := servetest.CodeRedRequest, 404
		if (first+i)%5 == 4 {
			req, status = "GET /index.html HTTP/1.1", 200
		}
		fmt.Fprintf(&b, "10.0.%d.%d - - [%s] \"%s\" %d - \"-\" \"-\"\n", (first+i)/250, (first+i)%17+1, t.Format("02/Jan/2006:15:04:05 -0700"), req, status)
	}
	return b.Bytes(), t
}

// running is a service running in the test, following one log.
type running struct {
	svc  *serve.Service
	url  string
	log  string // the followed log
	data string // the data folder
}

// startService runs a service until the test ends, on a free loopback
// port, following the log web.log (created empty) of a folder of the test
// as input web (combined format), with sets applied.
func startService(t *testing.T, sets ...string) *running {
	t.Helper()
	dir := t.TempDir()
	r := &running{log: filepath.Join(dir, "web.log"), data: filepath.Join(dir, "data")}
	if err := os.WriteFile(r.log, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	in, err := serve.ParseInputFlag("log", r.log+",name=web,format=combined")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := serve.Load("", serve.Overrides{Sets: servetest.Sets(r.data, sets...), Inputs: []serve.Input{in}})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := serve.New(context.Background(), cfg, serve.Options{Logger: servetest.Logger(t, slog.LevelWarn)})
	if err != nil {
		t.Fatal(err)
	}
	servetest.Run(t, svc.Run)
	r.svc, r.url = svc, "http://"+svc.Addr().String()
	return r
}

// getJSON requests a path of the API and decodes its JSON into v.
func (r *running) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	code, body := servetest.Get(t, r.url+path)
	if code != 200 {
		t.Fatalf("%s: %d %s", path, code, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// scraped is one scrape of /metrics, parsed.
type scraped struct {
	text []byte
	mfs  map[string]*dto.MetricFamily
}

// scrape reads /metrics and parses it as Prometheus does.
func (r *running) scrape(t *testing.T) scraped {
	t.Helper()
	code, body := servetest.Get(t, r.url+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v\n%s", err, body)
	}
	return scraped{body, mfs}
}

// value returns the value of the sample of name with the labels given as
// name, value pairs (a histogram's count); ok is false when there is none.
func (s scraped) value(name string, labels ...string) (v float64, ok bool) {
	mf := s.mfs[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

// must returns the value of a sample that must be there.
func (s scraped) must(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	v, ok := s.value(name, labels...)
	if !ok {
		t.Fatalf("no sample %s%v in /metrics", name, labels)
	}
	return v
}

// waitScrape scrapes until cond holds of a scrape, failing after 30 s.
func (r *running) waitScrape(t *testing.T, what string, cond func(scraped) bool) scraped {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := r.scrape(t)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; the last scrape:\n%s", what, s.text)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// status is what GET /api/v1/status says.
type status struct {
	Inputs []struct {
		Name  string `json:"name"`
		Lines int64  `json:"lines"`
	} `json:"inputs"`
	Counters struct {
		Records int64 `json:"records"`
		Refused int64 `json:"refused"`
		Late    int64 `json:"late"`
		Sources int64 `json:"sources"`
		Series  int   `json:"series"`
		Commits int64 `json:"commits"`
	} `json:"counters"`
}

// detectJSON is what GET /api/v1/detect says of lines (detect's JSON).
type detectJSON struct {
	Inputs []struct {
		Lines      int64 `json:"lines"`
		Parsed     int64 `json:"parsed"`
		Directives int64 `json:"directives"`
	} `json:"inputs"`
	Skipped map[string]int64 `json:"skipped"`
}

// TestScrapeRealService follows a log with a real service, appends lines
// (good ones over several intervals, a line with a bad time, an empty
// line) in two rounds and checks, once everything is committed, that
// every count /metrics shows is the service's own: the lines, lines
// parsed and lines skipped by reason of detect's JSON (/api/v1/detect),
// the counters of /api/v1/status, the latest committed row and the alarm
// state of every series (/api/v1/series, /api/v1/alarms), the sensor's
// latest record, the commits (the histogram counts each commit of this
// process), the store's size on disk and the outbox's counts; the ingest
// lag is 0; the exposition has no lint problem.
func TestScrapeRealService(t *testing.T) {
	t.Parallel()
	started := time.Now()
	r := startService(t)
	t0 := time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)
	round1, _ := logLines(40, t0, 6*time.Second, 0) // 10:00:00 to 10:03:54
	round1 = append(round1, "10.9.9.9 - - [19/Jul/2001:10:04:00 +9999] \"GET / HTTP/1.0\" 200 - \"-\" \"-\"\n\n"...)
	round2, last := logLines(30, t0.Add(4*time.Minute), 5*time.Second, 40) // 10:04:00 to 10:06:25
	want := int64(0)
	for i, data := range [][]byte{round1, round2} {
		servetest.AppendFile(t, r.log, data)
		want += int64(bytes.Count(data, []byte("\n")))
		s := r.waitScrape(t, fmt.Sprintf("round %d: %d lines read, all committed", i+1, want), func(s scraped) bool {
			v, _ := s.value("wormwatch_input_lines_read_total", "input", "web")
			lag, ok := s.value("wormwatch_ingest_lag_seconds")
			return v == float64(want) && ok && lag == 0
		})
		checkAgainstAPI(t, r, s, want)
	}
	// the latest record's own time, and the wall clock of the last commit
	s := r.scrape(t)
	if v := s.must(t, "wormwatch_sensor_last_record_timestamp_seconds", "sensor", "web"); v != float64(last.Unix()) {
		t.Errorf("sensor's last record at %v, want %v (%v)", v, last.Unix(), last)
	}
	if v := s.must(t, "wormwatch_last_commit_timestamp_seconds"); v < float64(started.Unix()) || v > float64(time.Now().Unix()+1) {
		t.Errorf("last commit at %v: not between the test's start %v and now", v, started.Unix())
	}
	// the outbox's counts
	if err := r.svc.Store().Enqueue(context.Background(), []store.Delivery{{Channel: "webhook", Target: "http://127.0.0.1:1/", Payload: []byte("{}")}}); err != nil {
		t.Fatal(err)
	}
	s = r.scrape(t)
	if v := s.must(t, "wormwatch_deliveries", "channel", "webhook", "state", "pending"); v != 1 {
		t.Errorf("pending webhook deliveries %v, want 1", v)
	}
	// every metric follows Prometheus's conventions
	problems, err := promlint.New(bytes.NewReader(s.text)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// checkAgainstAPI compares a scrape with the API's answers, when
// everything read is committed.
func checkAgainstAPI(t *testing.T, r *running, s scraped, lines int64) {
	t.Helper()
	var st status
	r.getJSON(t, "/api/v1/status", &st)
	var det detectJSON
	r.getJSON(t, "/api/v1/detect", &det)
	if len(st.Inputs) != 1 || len(det.Inputs) != 1 {
		t.Fatalf("inputs: status %+v, detect %+v", st.Inputs, det.Inputs)
	}
	in := []string{"input", "web"}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"wormwatch_input_lines_read_total", in, float64(lines)},
		{"wormwatch_input_lines_read_total", in, float64(det.Inputs[0].Lines)},
		{"wormwatch_input_lines_read_total", in, float64(st.Inputs[0].Lines)},
		{"wormwatch_input_lines_parsed_total", in, float64(det.Inputs[0].Parsed)},
		{"wormwatch_input_directives_total", in, float64(det.Inputs[0].Directives)},
		{"wormwatch_input_up", in, 1},
		{"wormwatch_records_total", nil, float64(st.Counters.Records)},
		{"wormwatch_watch_refused_records_total", nil, float64(st.Counters.Refused)},
		{"wormwatch_watch_late_records_total", nil, float64(st.Counters.Late)},
		{"wormwatch_watch_sources", nil, float64(st.Counters.Sources)},
		{"wormwatch_watch_series", nil, float64(st.Counters.Series)},
		{"wormwatch_commits_total", nil, float64(st.Counters.Commits)},
		{"wormwatch_commit_duration_seconds", nil, float64(st.Counters.Commits)}, // a fresh data folder: every commit is this process's
		{"wormwatch_commit_failures_total", nil, 0},
		{"wormwatch_snapshot_up", nil, 1},
		{"wormwatch_ingest_lag_seconds", nil, 0},
	} {
		if v := s.must(t, c.name, c.labels...); v != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, v, c.want)
		}
	}
	if st.Counters.Records == 0 || st.Counters.Commits == 0 || st.Counters.Series == 0 {
		t.Fatalf("nothing counted: %+v", st.Counters)
	}
	t.Logf("%d lines, %d records, %d sources, %d series, %d commits", lines, st.Counters.Records, st.Counters.Sources, st.Counters.Series, st.Counters.Commits)
	// lines skipped, by reason: detect's JSON lists some reasons (0 or
	// not), /metrics every reason
	skipped := 0.0
	for _, m := range s.mfs["wormwatch_input_lines_skipped_total"].GetMetric() {
		var reason string
		for _, lp := range m.GetLabel() {
			if lp.GetName() == "reason" {
				reason = lp.GetValue()
			}
		}
		if got, want := m.GetCounter().GetValue(), float64(det.Skipped[reason]); got != want {
			t.Errorf("lines skipped for %s: %v, detect's JSON says %v", reason, got, want)
		}
		skipped += m.GetCounter().GetValue()
	}
	for reason, n := range det.Skipped {
		if _, ok := s.value("wormwatch_input_lines_skipped_total", "input", "web", "reason", reason); !ok && n != 0 {
			t.Errorf("reason %s (%d lines) not in /metrics", reason, n)
		}
	}
	if skipped < 2 {
		t.Errorf("%v lines skipped: want the bad time and the empty line at least", skipped)
	}
	checkSeries(t, r, s)
	checkStoreSize(t, r, s)
}

// checkSeries compares each series' metrics with its latest committed
// row and its latest alarm transition.
func checkSeries(t *testing.T, r *running, s scraped) {
	t.Helper()
	var list struct {
		Series []struct {
			Key    string `json:"key"`
			Sensor string `json:"sensor"`
			Kind   string `json:"kind"`
		} `json:"series"`
	}
	r.getJSON(t, "/api/v1/series", &list)
	var alarms struct {
		Transitions []struct {
			Series string `json:"series"`
			To     string `json:"to"`
		} `json:"transitions"`
	}
	r.getJSON(t, "/api/v1/alarms", &alarms)
	stateValue := map[string]float64{"quiet": 0, "watching": 1, "alarm": 2, "subsiding": 3}
	closed := 0
	for _, k := range list.Series {
		l := []string{"series", k.Key, "sensor", k.Sensor, "kind", k.Kind}
		want := 0.0
		for _, tr := range alarms.Transitions {
			if tr.Series == k.Key {
				want = stateValue[tr.To]
			}
		}
		if v := s.must(t, "wormwatch_series_state", l...); v != want {
			t.Errorf("series %s: state %v, want %v", k.Key, v, want)
		}
		var rows struct {
			Rows []struct {
				Time              time.Time `json:"time"`
				Probes            int64     `json:"probes"`
				Sources           int64     `json:"sources"`
				NewSources        int64     `json:"new_sources"`
				CumulativeSources int64     `json:"cumulative_sources"`
			} `json:"rows"`
		}
		r.getJSON(t, "/api/v1/series/"+k.Key+"?limit=100000", &rows)
		if len(rows.Rows) == 0 {
			if v, ok := s.value("wormwatch_series_probes", l...); ok {
				t.Errorf("series %s: no row committed, probes %v", k.Key, v)
			}
			continue
		}
		closed++
		last := rows.Rows[len(rows.Rows)-1]
		for _, c := range []struct {
			name string
			want float64
		}{
			{"wormwatch_series_last_row_timestamp_seconds", float64(last.Time.Unix())},
			{"wormwatch_series_probes", float64(last.Probes)},
			{"wormwatch_series_sources", float64(last.Sources)},
			{"wormwatch_series_new_sources", float64(last.NewSources)},
			{"wormwatch_series_cumulative_sources", float64(last.CumulativeSources)},
		} {
			if v := s.must(t, c.name, l...); v != c.want {
				t.Errorf("series %s: %s = %v, want %v", k.Key, c.name, v, c.want)
			}
		}
	}
	if closed == 0 {
		t.Errorf("no series has a closed row: %+v", list.Series)
	}
	t.Logf("%d series, %d with a closed row", len(list.Series), closed)
	if got := len(s.mfs["wormwatch_series_state"].GetMetric()); got != len(list.Series) {
		t.Errorf("%d series in /metrics, %d in /api/v1/series", got, len(list.Series))
	}
}

// checkStoreSize compares the store's size with its files on disk.
func checkStoreSize(t *testing.T, r *running, s scraped) {
	t.Helper()
	var size int64
	for _, name := range []string{store.FileName, store.FileName + "-wal"} {
		if fi, err := os.Stat(filepath.Join(r.data, name)); err == nil {
			size += fi.Size()
		}
	}
	if v := s.must(t, "wormwatch_store_size_bytes"); v != float64(size) || size == 0 {
		t.Errorf("store size %v, the files hold %d bytes", v, size)
	}
}

// TestMetricsToken: with a read token, /metrics asks for it as the API
// does (401 without, 200 with).
func TestMetricsToken(t *testing.T) {
	t.Parallel()
	tok := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tok, []byte("s3cret-metrics-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := startService(t, "service.token_file="+tok)
	if code, body := servetest.Get(t, r.url+"/metrics"); code != http.StatusUnauthorized {
		t.Errorf("without the token: %d %s", code, body)
	}
	if code, body := servetest.Get(t, r.url+"/metrics", "Authorization", "Bearer wrong"); code != http.StatusUnauthorized {
		t.Errorf("with a wrong token: %d %s", code, body)
	}
	code, body := servetest.Get(t, r.url+"/metrics", "Authorization", "Bearer s3cret-metrics-token")
	if code != 200 || !bytes.Contains(body, []byte("wormwatch_input_lines_read_total{input=\"web\"} 0\n")) {
		t.Errorf("with the token: %d %s", code, body)
	}
}
