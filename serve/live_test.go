package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"wormwatch/detect"
	"wormwatch/forecast"
	"wormwatch/serve/servetest"
	"wormwatch/watch"
)

// TestLiveEqualsBatch appends a Code Red web server's log in random
// chunks (cut anywhere, lines split between appends) while the service
// follows it, waiting at random moments for the service to catch up;
// at the end /api/v1/detect is byte for byte detect's JSON of the whole
// file, the stored rows of every series are the closed rows of a watch
// fed the whole file at once, and the stored transitions (time, states,
// estimates, alarm) are that watch's events.
func TestLiveEqualsBatch(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	data := servetest.Lines(servetest.CodeRedLog(t, time.Date(2001, 7, 19, 17, 0, 0, 0, time.UTC), 1))
	cfg := testConfig(t, filepath.Join(dir, "data"), []Input{logInput(t, path, "name=web", "size=65536")})
	r := start(t, cfg, Options{})
	rng := rand.New(rand.NewPCG(2, 3))
	for rest := data; len(rest) > 0; {
		n := min(len(rest), 1+rng.IntN(64<<10))
		servetest.AppendFile(t, path, rest[:n])
		rest = rest[n:]
		if rng.IntN(4) == 0 {
			end := int64(bytes.LastIndexByte(data[:len(data)-len(rest)], '\n') + 1)
			servetest.WaitFor(t, "the service to catch up", func() bool { return r.committedOffset(t, path) >= end })
		}
	}
	servetest.WaitFor(t, "the whole log", func() bool { return r.committedOffset(t, path) == int64(len(data)) })
	code, got := r.get(t, "/api/v1/detect")
	if code != 200 {
		t.Fatalf("detect: %d %s", code, got)
	}
	if want := batchDetect(t, []string{path}); !bytes.Equal(got, want) {
		t.Fatalf("/api/v1/detect differs from detect's JSON %s", firstDiff(string(got), string(want)))
	}
	t.Logf("%d lines, %d bytes: detect's JSON equal", bytes.Count(data, []byte("\n")), len(data))
	w := batchWatch(t, cfg, "web", 65536, path)
	checkSeries(t, r, w)
	checkTransitions(t, r, w, true)
	code, got = r.get(t, "/api/v1/forecast?sensor=web")
	if want := batchForecast(t, cfg, path, "web", 65536); code != 200 || !bytes.Equal(got, want) {
		t.Fatalf("/api/v1/forecast (%d) differs from forecast's JSON of detect's series %s", code, firstDiff(string(got), string(want)))
	}
	if !bytes.Contains(got, []byte(`"alarm": {`)) {
		t.Error("the forecast has no alarm")
	}
}

// batchForecast returns what wormwatch forecast --format json prints for
// the series that wormwatch detect --series writes of path (matched
// requests per interval) when it is saved as the file called name.
func batchForecast(t *testing.T, cfg *Config, path, name string, size uint64) []byte {
	t.Helper()
	rep, err := detect.Analyze(context.Background(), []string{path}, detect.Options{SeriesInterval: cfg.Watch.Interval.D()})
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	var csv, out bytes.Buffer
	if err := rep.Series.WriteCSV(&csv, size); err != nil {
		t.Fatal(err)
	}
	s, err := forecast.ReadSeries(context.Background(), &csv, name)
	if err != nil {
		t.Fatal(err)
	}
	a, err := forecast.Analyze(context.Background(), s, cfg.Forecast.Options(cfg.Service.SpaceBits))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// checkSeries compares the stored rows of every series with the closed
// rows of a watch.
func checkSeries(t *testing.T, r *running, w *watch.Watch) {
	t.Helper()
	code, body := r.get(t, "/api/v1/series")
	var list struct {
		Series []seriesJSON `json:"series"`
	}
	if code != 200 || json.Unmarshal(body, &list) != nil {
		t.Fatalf("series: %d %s", code, body)
	}
	infos := w.Series()
	if len(list.Series) != len(infos) {
		t.Errorf("%d series stored, the batch watch has %d", len(list.Series), len(infos))
	}
	for i, info := range infos {
		var got struct {
			Rows []RowJSON `json:"rows"`
		}
		code, body := r.get(t, "/api/v1/series/"+info.Key.String()+"?limit=1100000")
		if code != 200 || json.Unmarshal(body, &got) != nil {
			t.Fatalf("series %s: %d %s", info.Key, code, body)
		}
		var want []RowJSON
		for _, row := range w.Rows(i) {
			want = append(want, rowJSON("", storeRow(row)))
		}
		if len(want) == 0 || !reflect.DeepEqual(got.Rows, want) {
			t.Errorf("series %s: %d rows stored, %d in batch; they differ", info.Key, len(got.Rows), len(want))
		}
	}
}

// checkTransitions compares the stored transitions with a watch's events
// (their details without the commit), and wants an alarm among them when
// alarm is set.
func checkTransitions(t *testing.T, r *running, w *watch.Watch, alarm bool) {
	t.Helper()
	code, body := r.get(t, "/api/v1/alarms?limit=100000")
	var got struct {
		Transitions []TransitionJSON `json:"transitions"`
	}
	if code != 200 || json.Unmarshal(body, &got) != nil {
		t.Fatalf("alarms: %d %s", code, body)
	}
	evs := w.Events(nil)
	if len(got.Transitions) != len(evs) {
		t.Fatalf("%d transitions stored, %d in batch", len(got.Transitions), len(evs))
	}
	fired := false
	for i, ev := range evs {
		g := got.Transitions[i]
		if g.Series != ev.Key.String() || !g.Time.Equal(ev.Time) || g.From != ev.From.String() || g.To != ev.To.String() {
			t.Errorf("transition %d: %s %v %s->%s, batch %s %v %s->%s", i, g.Series, g.Time, g.From, g.To, ev.Key, ev.Time, ev.From, ev.To)
		}
		if a, b := withoutCommit(t, g.Detail), withoutCommit(t, eventDetail(ev, 0)); a != b {
			t.Errorf("transition %d: detail\n got %s\nwant %s", i, a, b)
		}
		fired = fired || g.To == "alarm"
	}
	if alarm && !fired {
		t.Error("no alarm")
	}
	t.Logf("%d transitions equal, the alarm among them: %v", len(evs), fired)
}

// withoutCommit returns a transition's detail without its commit.
func withoutCommit(t *testing.T, d []byte) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(d, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "commit")
	out, _ := json.Marshal(m)
	return string(out)
}
