package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"wormwatch/detect"
	"wormwatch/results"
	"wormwatch/watch"
)

// fakeSnapshot is a snapshot with a log input, a capture input, three
// series in three states and the outbox's counts.
func fakeSnapshot() *Snapshot {
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	var counts detect.Counts
	counts.Lines, counts.Parsed, counts.Directives = 120, 110, 0
	counts.Skipped[detect.BadTime] = 7
	counts.Skipped[detect.Empty] = 3
	row := results.SensorRow{Time: time.Date(2001, 7, 19, 13, 0, 0, 0, time.UTC), Probes: 40, Sources: 30, NewSources: 12, CumulativeSources: 900}
	return &Snapshot{
		Now: t0.Add(5 * time.Second), Started: t0.Add(-time.Hour),
		Inputs: []Input{
			{Name: "web", Kind: "log", Up: true, Counts: counts},
			{Name: "darknet", Kind: "pcap", Capture: true, Up: false, Packets: detect.PacketCounts{Packets: 1000, SYNs: 800, Requests: 5, Undecoded: 2}},
		},
		Records: 915, Refused: 1, Late: 4, Sources: 930,
		Series: []Series{
			{Key: "web", Sensor: "web", Kind: "all", State: watch.Watching, Late: 4, Last: &row},
			{Key: "web/family/codered2", Sensor: "web", Kind: "family", State: watch.Alarm, Late: 4, Last: &row},
			{Key: "darknet/port/tcp/80", Sensor: "darknet", Kind: "port", State: watch.Quiet},
		},
		Sensors:    []Sensor{{Name: "web", LastRecord: row.Time.Add(90 * time.Second)}, {Name: "darknet"}},
		Commits:    12,
		LastCommit: t0, Uncommitted: true,
		StoreBytes: 4096,
		Deliveries: []DeliveryCount{{"webhook", "dead", 1}, {"webhook", "sent", 2}},
	}
}

// gather returns the registry's metrics by name.
func gather(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// value returns the value of the sample of name with the labels given as
// name, value pairs; ok is false when there is none.
func value(mfs map[string]*dto.MetricFamily, name string, labels ...string) (v float64, ok bool) {
	mf := mfs[name]
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
		}
	}
	return 0, false
}

// TestCollectorValues: every field of a snapshot comes out under its
// metric, with its type and labels.
func TestCollectorValues(t *testing.T) {
	m := New(func(context.Context) (*Snapshot, error) {
		s := fakeSnapshot()
		s.Commit.Observe(3*time.Millisecond, nil)
		s.Commit.Observe(20*time.Millisecond, nil)
		s.Commit.Observe(time.Millisecond, errors.New("disk full"))
		return s, nil
	}, Options{})
	mfs := gather(t, m)
	want := []struct {
		name   string
		typ    dto.MetricType
		labels []string
		v      float64
	}{
		{"wormwatch_snapshot_up", dto.MetricType_GAUGE, nil, 1},
		{"wormwatch_input_up", dto.MetricType_GAUGE, []string{"input", "web", "kind", "log"}, 1},
		{"wormwatch_input_up", dto.MetricType_GAUGE, []string{"input", "darknet", "kind", "pcap"}, 0},
		{"wormwatch_input_lines_read_total", dto.MetricType_COUNTER, []string{"input", "web"}, 120},
		{"wormwatch_input_lines_parsed_total", dto.MetricType_COUNTER, []string{"input", "web"}, 110},
		{"wormwatch_input_directives_total", dto.MetricType_COUNTER, []string{"input", "web"}, 0},
		{"wormwatch_input_lines_skipped_total", dto.MetricType_COUNTER, []string{"input", "web", "reason", "bad_time"}, 7},
		{"wormwatch_input_lines_skipped_total", dto.MetricType_COUNTER, []string{"input", "web", "reason", "empty"}, 3},
		{"wormwatch_input_lines_skipped_total", dto.MetricType_COUNTER, []string{"input", "web", "reason", "bad_json"}, 0},
		{"wormwatch_input_packets_read_total", dto.MetricType_COUNTER, []string{"input", "darknet"}, 1000},
		{"wormwatch_input_syns_total", dto.MetricType_COUNTER, []string{"input", "darknet"}, 800},
		{"wormwatch_input_requests_reassembled_total", dto.MetricType_COUNTER, []string{"input", "darknet"}, 5},
		{"wormwatch_input_packets_undecoded_total", dto.MetricType_COUNTER, []string{"input", "darknet"}, 2},
		{"wormwatch_records_total", dto.MetricType_COUNTER, nil, 915},
		{"wormwatch_watch_refused_records_total", dto.MetricType_COUNTER, nil, 1},
		{"wormwatch_watch_late_records_total", dto.MetricType_COUNTER, nil, 4},
		{"wormwatch_watch_sources", dto.MetricType_GAUGE, nil, 930},
		{"wormwatch_watch_series", dto.MetricType_GAUGE, nil, 3},
		{"wormwatch_series_in_state", dto.MetricType_GAUGE, []string{"state", "quiet"}, 1},
		{"wormwatch_series_in_state", dto.MetricType_GAUGE, []string{"state", "watching"}, 1},
		{"wormwatch_series_in_state", dto.MetricType_GAUGE, []string{"state", "alarm"}, 1},
		{"wormwatch_series_in_state", dto.MetricType_GAUGE, []string{"state", "subsiding"}, 0},
		{"wormwatch_series_omitted", dto.MetricType_GAUGE, nil, 0},
		{"wormwatch_series_state", dto.MetricType_GAUGE, []string{"series", "web/family/codered2", "sensor", "web", "kind", "family"}, 2},
		{"wormwatch_series_state", dto.MetricType_GAUGE, []string{"series", "web", "kind", "all"}, 1},
		{"wormwatch_series_state", dto.MetricType_GAUGE, []string{"series", "darknet/port/tcp/80", "kind", "port"}, 0},
		{"wormwatch_series_probes", dto.MetricType_GAUGE, []string{"series", "web/family/codered2"}, 40},
		{"wormwatch_series_sources", dto.MetricType_GAUGE, []string{"series", "web/family/codered2"}, 30},
		{"wormwatch_series_new_sources", dto.MetricType_GAUGE, []string{"series", "web/family/codered2"}, 12},
		{"wormwatch_series_cumulative_sources", dto.MetricType_GAUGE, []string{"series", "web/family/codered2"}, 900},
		{"wormwatch_series_last_row_timestamp_seconds", dto.MetricType_GAUGE, []string{"series", "web"}, 995547600},
		{"wormwatch_series_late_records_total", dto.MetricType_COUNTER, []string{"series", "web"}, 4},
		{"wormwatch_sensor_last_record_timestamp_seconds", dto.MetricType_GAUGE, []string{"sensor", "web"}, 995547690},
		{"wormwatch_commits_total", dto.MetricType_COUNTER, nil, 12},
		{"wormwatch_commit_duration_seconds", dto.MetricType_HISTOGRAM, nil, 2},
		{"wormwatch_commit_failures_total", dto.MetricType_COUNTER, nil, 1},
		{"wormwatch_last_commit_timestamp_seconds", dto.MetricType_GAUGE, nil, float64(time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC).Unix())},
		{"wormwatch_ingest_lag_seconds", dto.MetricType_GAUGE, nil, 5},
		{"wormwatch_store_size_bytes", dto.MetricType_GAUGE, nil, 4096},
		{"wormwatch_deliveries", dto.MetricType_GAUGE, []string{"channel", "webhook", "state", "dead"}, 1},
		{"wormwatch_deliveries", dto.MetricType_GAUGE, []string{"channel", "webhook", "state", "sent"}, 2},
	}
	for _, w := range want {
		mf := mfs[w.name]
		if mf == nil {
			t.Errorf("%s: missing", w.name)
			continue
		}
		if mf.GetType() != w.typ {
			t.Errorf("%s: type %v, want %v", w.name, mf.GetType(), w.typ)
		}
		if v, ok := value(mfs, w.name, w.labels...); !ok || v != w.v {
			t.Errorf("%s%v = %v (found %v), want %v", w.name, w.labels, v, ok, w.v)
		}
	}
	// A log has no packet metrics, a capture no line metrics; a sensor
	// without records no timestamp; a series without a closed row no row.
	for _, no := range []struct {
		name   string
		labels []string
	}{
		{"wormwatch_input_packets_read_total", []string{"input", "web"}},
		{"wormwatch_input_lines_read_total", []string{"input", "darknet"}},
		{"wormwatch_sensor_last_record_timestamp_seconds", []string{"sensor", "darknet"}},
		{"wormwatch_series_probes", []string{"series", "darknet/port/tcp/80"}},
	} {
		if v, ok := value(mfs, no.name, no.labels...); ok {
			t.Errorf("%s%v = %v: want none", no.name, no.labels, v)
		}
	}
	if n := len(mfs["wormwatch_input_lines_skipped_total"].GetMetric()); n != len(detect.Counts{}.Skipped) {
		t.Errorf("%d skipped reasons exported, want every one of detect's %d", n, len(detect.Counts{}.Skipped))
	}
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		if mfs[name] == nil {
			t.Errorf("%s: missing (the Go and process collectors)", name)
		}
	}
}

// TestLint: the metrics follow Prometheus's naming conventions
// (promlint: no problem).
func TestLint(t *testing.T) {
	c := newCollector(func(context.Context) (*Snapshot, error) { return fakeSnapshot(), nil }, Options{MaxSeries: DefaultMaxSeries, Timeout: time.Second})
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	m := New(func(context.Context) (*Snapshot, error) {
		s := fakeSnapshot()
		s.Commit.Observe(time.Millisecond, nil)
		return s, nil
	}, Options{})
	problems, err = testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "wormwatch_") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
}

// TestSeriesCap: past MaxSeries, only the series that are not quiet get
// metrics of their own; the others are counted as omitted, and every
// series in the counts by state.
func TestSeriesCap(t *testing.T) {
	s := fakeSnapshot()
	s.Series = nil
	for i := range 1000 {
		st := watch.Quiet
		if i%100 == 99 {
			st = watch.Alarm
		}
		s.Series = append(s.Series, Series{Key: fmt.Sprintf("t/port/tcp/%d", i), Sensor: "t", Kind: "port", State: st})
	}
	m := New(func(context.Context) (*Snapshot, error) { return s, nil }, Options{MaxSeries: 50})
	mfs := gather(t, m)
	got := mfs["wormwatch_series_state"].GetMetric()
	if len(got) != 60 { // 0 to 49, and the 10 in alarm: 99, 199, ..., 999
		t.Errorf("%d series exported, want 60 (the 50 first and the 10 in alarm)", len(got))
	}
	if v, _ := value(mfs, "wormwatch_series_omitted"); v != 940 {
		t.Errorf("omitted %v, want 940", v)
	}
	if v, _ := value(mfs, "wormwatch_series_in_state", "state", "alarm"); v != 10 {
		t.Errorf("in alarm %v, want 10", v)
	}
	if v, _ := value(mfs, "wormwatch_series_in_state", "state", "quiet"); v != 990 {
		t.Errorf("quiet %v, want 990", v)
	}
	if _, ok := value(mfs, "wormwatch_series_state", "series", "t/port/tcp/999"); !ok {
		t.Error("a series in alarm past the cap is not exported")
	}
	if _, ok := value(mfs, "wormwatch_series_state", "series", "t/port/tcp/50"); ok {
		t.Error("a quiet series past the cap is exported")
	}
}

// TestSnapshotFails: a scrape while the service cannot answer (stopping)
// says so in wormwatch_snapshot_up and still serves the rest (200).
func TestSnapshotFails(t *testing.T) {
	m := New(func(context.Context) (*Snapshot, error) { return nil, errors.New("the service is stopping") }, Options{})
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(body, "\nwormwatch_snapshot_up 0\n") || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("%d\n%s", rec.Code, body)
	}
	if strings.Contains(body, "wormwatch_records_total") {
		t.Error("counts without a snapshot")
	}
}

// TestNoLagWhenCommitted: the ingest lag is 0 when everything read is
// committed, and counts from the start before the first commit.
func TestNoLagWhenCommitted(t *testing.T) {
	s := fakeSnapshot()
	s.Uncommitted = false
	mfs := gather(t, New(func(context.Context) (*Snapshot, error) { return s, nil }, Options{}))
	if v, _ := value(mfs, "wormwatch_ingest_lag_seconds"); v != 0 {
		t.Errorf("lag %v with nothing uncommitted", v)
	}
	s2 := fakeSnapshot()
	s2.LastCommit = time.Time{}
	mfs = gather(t, New(func(context.Context) (*Snapshot, error) { return s2, nil }, Options{}))
	if v, _ := value(mfs, "wormwatch_ingest_lag_seconds"); v != 3605 {
		t.Errorf("lag %v before the first commit, want 3605 (since the start)", v)
	}
	if v, _ := value(mfs, "wormwatch_last_commit_timestamp_seconds"); v != float64(s2.Started.Unix()) {
		t.Errorf("last commit %v before the first, want the start %v", v, s2.Started.Unix())
	}
}

// TestCommitHistogram: the commit durations of a snapshot come out as a
// histogram with the count, sum and cumulative buckets of what was
// observed, and the failures as their counter.
func TestCommitHistogram(t *testing.T) {
	var c CommitStats
	for _, d := range []time.Duration{3 * time.Millisecond, 20 * time.Millisecond, 20 * time.Second} {
		c.Observe(d, nil)
	}
	c.Observe(time.Second, errors.New("disk full"))
	m := New(func(context.Context) (*Snapshot, error) {
		s := fakeSnapshot()
		s.Commit = c.Clone()
		return s, nil
	}, Options{})
	mfs := gather(t, m)
	h := mfs["wormwatch_commit_duration_seconds"].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 3 || math.Abs(h.GetSampleSum()-20.023) > 1e-9 {
		t.Errorf("count %d, sum %v: want 3 and 20.023", h.GetSampleCount(), h.GetSampleSum())
	}
	for _, b := range h.GetBucket() {
		want := uint64(0)
		for _, d := range []float64{0.003, 0.020, 20} {
			if d <= b.GetUpperBound() {
				want++
			}
		}
		if b.GetCumulativeCount() != want {
			t.Errorf("bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
	if v, _ := value(mfs, "wormwatch_commit_failures_total"); v != 1 {
		t.Errorf("failures %v, want 1", v)
	}
}
