package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"wormwatch/forecast"
	"wormwatch/serve/servetest"
	"wormwatch/store"
)

// remoteToken is the push token of every remote sensor of these tests.
const remoteToken = "remote-token-0123456789abcdef"

// remoteService runs a service of the remote sensors given (one token for
// all), with no input, on the data folder data.
func remoteService(t *testing.T, dir, data string, sensors ...string) *running {
	t.Helper()
	tok := filepath.Join(dir, "push.token")
	if err := os.WriteFile(tok, []byte(remoteToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var conf bytes.Buffer
	for _, s := range sensors {
		fmt.Fprintf(&conf, "[[remote]]\nsensor = %q\ntoken_file = %q\n", s, tok)
	}
	path := filepath.Join(dir, "serve.toml")
	if err := os.WriteFile(path, conf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return start(t, loadConfig(t, path, nil, servetest.Sets(data)), Options{})
}

// push posts body to a remote sensor's series and returns the status and
// the answer.
func push(t *testing.T, r *running, sensor, contentType string, body []byte) (int, []byte) {
	t.Helper()
	return servetest.Request(t, http.DefaultClient, "POST", r.url+"/api/v1/series/"+sensor, bytes.NewReader(body),
		"Authorization", "Bearer "+remoteToken, "Content-Type", contentType)
}

// pushOK posts rows and checks the answer's counts.
func pushOK(t *testing.T, r *running, sensor string, rows []forecast.Row, size uint64, asJSON bool, added, unchanged int) pushOutcome {
	t.Helper()
	var body bytes.Buffer
	ct := "text/csv"
	if asJSON {
		ct = "application/json"
		p := pushJSON{Size: size, IntervalSeconds: 60}
		for _, row := range rows {
			p.Rows = append(p.Rows, RowJSON{Time: row.Time, Probes: row.Probes, Sources: row.Sources, NewSources: row.NewSources, CumulativeSources: row.CumulativeSources})
		}
		if err := json.NewEncoder(&body).Encode(p); err != nil {
			t.Fatal(err)
		}
	} else {
		body.Write(rowsCSV(t, rows, size))
	}
	code, ans := push(t, r, sensor, ct, body.Bytes())
	var out pushOutcome
	if code != 200 || json.Unmarshal(ans, &out) != nil || out.Added != added || out.Unchanged != unchanged || out.Rows != len(rows) || out.Series != sensor {
		t.Fatalf("push of %d rows to %s: %d %s; want 200 with %d added, %d unchanged", len(rows), sensor, code, ans, added, unchanged)
	}
	return out
}

// rowsCSV returns rows as the sensor series CSV.
func rowsCSV(t *testing.T, rows []forecast.Row, size uint64) []byte {
	t.Helper()
	var srows []store.Row
	for _, row := range rows {
		srows = append(srows, store.Row(row))
	}
	var b bytes.Buffer
	if err := writeSeriesCSV(&b, srows, size); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// transitionsOf returns a series' transitions as text, each detail
// without the commit that made it.
func transitionsOf(t *testing.T, r *running, series string) []string {
	t.Helper()
	code, body := r.get(t, "/api/v1/alarms?series="+series)
	if code != 200 {
		t.Fatalf("alarms of %s: %d %s", series, code, body)
	}
	var out struct {
		Transitions []TransitionJSON `json:"transitions"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tr := range out.Transitions {
		got = append(got, fmt.Sprintf("%s %s->%s %s", tr.Time.Format(time.RFC3339), tr.From, tr.To, withoutCommitDetail(t, tr.Detail)))
	}
	return got
}

// withoutCommitDetail returns a transition's detail as JSON without its
// commit number.
func withoutCommitDetail(t *testing.T, d []byte) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(d, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "commit")
	out, _ := json.Marshal(m)
	return string(out)
}

// codeRedRows returns the simulated Code Red /16 telescope's series.
func codeRedRows(t *testing.T) *forecast.Series {
	t.Helper()
	s, err := forecast.ReadSeriesFile(context.Background(), servetest.ModuleFile(t, "watch/testdata/codered2-ucsd-16.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestPushedSeriesAnalysed pushes the simulated Code Red /16 telescope's
// day as a remote sensor's series, whole to one sensor and in random
// overlapping pieces (CSV and JSON) to another: both raise the same
// transitions with the same estimates, the alarm's those of
// forecast.Analyze on the series (time, row, onset, K, the step's
// numbers, bit for bit); the rows and transitions come on the event
// stream, the alarm is planned as an alert (its CSAF draft), the status
// and the forecast show it. Rows pushed again change nothing; a row that
// differs, a gap and a row before the first are refused with 409 naming
// the row.
func TestPushedSeriesAnalysed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := remoteService(t, dir, filepath.Join(dir, "data"), "whole", "pieces")
	updates, cancel := r.svc.Subscribe()
	defer cancel()
	cr := codeRedRows(t)
	rows := cr.Rows
	pushOK(t, r, "whole", rows, cr.Size, false, len(rows), 0)
	rng := rand.New(rand.NewPCG(7, 11))
	for from, i := 0, 0; from < len(rows); i++ {
		to := min(len(rows), from+1+rng.IntN(120))
		back := min(from, rng.IntN(5)) // rows sent again
		pushOK(t, r, "pieces", rows[from-back:to], cr.Size, i%2 == 1, to-from, back)
		from = to
	}
	whole, pieces := transitionsOf(t, r, "whole"), transitionsOf(t, r, "pieces")
	if len(whole) < 2 || !slices.Equal(whole, pieces) {
		t.Fatalf("transitions pushed whole:\n%s\nin pieces:\n%s", strings.Join(whole, "\n"), strings.Join(pieces, "\n"))
	}
	checkAlarmAsAnalyze(t, r, cr, "pieces")
	// forecast of either is forecast's of the rows.
	cr.Name = "pieces"
	a, err := forecast.Analyze(context.Background(), cr, forecast.DefaultSettings.Options(32))
	var want bytes.Buffer
	if err == nil {
		err = a.WriteJSON(&want)
	}
	if err != nil {
		t.Fatal(err)
	}
	if code, got := r.get(t, "/api/v1/forecast?sensor=pieces"); code != 200 || !bytes.Equal(got, want.Bytes()) {
		t.Errorf("forecast of the series pushed in pieces: %d %s", code, firstDiff(string(got), want.String()))
	}
	checkPushedUpdates(t, updates, len(rows))
	checkPushedStatus(t, r, len(rows))
	checkPushRefusals(t, r, rows, cr.Size)
}

// alarmTransition is what checkAlarmAsAnalyze reads of a transition.
type alarmTransition struct {
	Time   time.Time
	To     string
	Detail struct {
		Step  map[string]any
		Alarm *struct {
			Time, Onset time.Time
			Row         int
			Seen        int64
			Infected    float64
			KPerHour    float64 `json:"k_per_hour"`
		}
	}
}

// checkAlarmAsAnalyze checks that the alarm transition of a pushed series
// is forecast.Analyze's alarm on its rows, with the step's estimates.
func checkAlarmAsAnalyze(t *testing.T, r *running, cr *forecast.Series, series string) {
	t.Helper()
	a, err := forecast.Analyze(context.Background(), cr, forecast.DefaultSettings.Options(32))
	if err != nil || a.Alarm == nil {
		t.Fatalf("Analyze: %v, alarm %v", err, a.Alarm)
	}
	_, body := r.get(t, "/api/v1/alarms?series="+series)
	var out struct {
		Transitions []alarmTransition
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(out.Transitions, func(tr alarmTransition) bool { return tr.To == "alarm" })
	if i < 0 {
		t.Fatalf("no alarm transition: %s", body)
	}
	tr := out.Transitions[i]
	al, st := tr.Detail.Alarm, a.Steps[a.Alarm.Index]
	if al == nil || !tr.Time.Equal(a.Alarm.Time) || !al.Time.Equal(a.Alarm.Time) || al.Row != a.Alarm.Index+1 || !al.Onset.Equal(a.Alarm.Onset) ||
		al.Seen != a.Alarm.Seen || al.Infected != a.Alarm.Infected || al.KPerHour != a.Alarm.K {
		t.Fatalf("alarm transition at %s, alarm %+v; Analyze's %+v", tr.Time, al, *a.Alarm)
	}
	for key, want := range map[string]float64{"infected": st.Infected, "infected_sd": st.InfectedSD, "k_per_hour": st.K, "k_se": st.KSE, "n": st.N, "n_low": st.NLow, "n_high": st.NHigh} {
		if got, ok := tr.Detail.Step[key].(float64); !ok || math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("the alarm step's %s: %v, Analyze's %v", key, tr.Detail.Step[key], want)
		}
	}
	t.Logf("alarm at %s (Analyze's %s), onset %s, K %.4g per hour", tr.Time.Format(time.RFC3339), a.Alarm.Time.Format(time.RFC3339), al.Onset.Format(time.RFC3339), al.KPerHour)
}

// checkPushedUpdates reads the updates published: every row of the series
// pushed in pieces once, and its transitions.
func checkPushedUpdates(t *testing.T, updates <-chan Update, rows int) {
	t.Helper()
	got, trs := 0, 0
	for got < rows {
		select {
		case u, ok := <-updates:
			if !ok {
				t.Fatal("the updates ended")
			}
			for _, row := range u.Rows {
				if row.Series == "pieces" {
					got++
				}
			}
			for _, tr := range u.Transitions {
				if tr.Series == "pieces" {
					trs++
				}
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%d rows of the series pushed in pieces in the updates, want %d", got, rows)
		}
	}
	if got != rows || trs < 2 {
		t.Errorf("updates: %d rows, %d transitions of the series pushed in pieces; want %d rows, 2 transitions at least", got, trs, rows)
	}
}

// checkPushedStatus checks the status (the remote series, their state, no
// size warning), the counters and the alarm's CSAF draft in the outbox.
func checkPushedStatus(t *testing.T, r *running, rows int) {
	t.Helper()
	_, body := r.get(t, "/api/v1/status")
	var st struct {
		Remotes  []remoteJSON  `json:"remotes"`
		Warnings []warningJSON `json:"warnings"`
		Counters Counters      `json:"counters"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Remotes) != 2 || len(st.Warnings) != 0 || st.Counters.Series != 2 {
		t.Fatalf("status: %s", body)
	}
	for _, rem := range st.Remotes {
		if rem.Rows != rows || rem.State != "alarm" || !rem.Configured || rem.LastRow == nil || rem.Size != 65536 || rem.IntervalSeconds != 60 {
			t.Errorf("status of %s: %+v", rem.Sensor, rem)
		}
	}
	checkPushedMetrics(t, r, rows)
	code, body := r.get(t, "/api/v1/deliveries?channel=csaf")
	if code != 200 || !bytes.Contains(body, []byte(`"series": "pieces"`)) || !bytes.Contains(body, []byte(`"event": "opened"`)) {
		t.Errorf("the CSAF draft of the alarm of the series pushed in pieces: %d %.600s", code, body)
	}
}

// checkPushedMetrics checks the remote series in /metrics: in alarm (2),
// their latest row's counts, and the sensor's latest record at the end of
// that row.
func checkPushedMetrics(t *testing.T, r *running, rows int) {
	t.Helper()
	code, body := r.get(t, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	cr := codeRedRows(t)
	last := cr.Rows[rows-1]
	for _, sensor := range []string{"whole", "pieces"} {
		for name, want := range map[string]string{
			"wormwatch_series_state":              "2",
			"wormwatch_series_probes":             fmt.Sprint(last.Probes),
			"wormwatch_series_cumulative_sources": fmt.Sprint(last.CumulativeSources),
		} {
			line := fmt.Sprintf("%s{kind=\"all\",sensor=%q,series=%q} %s\n", name, sensor, sensor, want)
			if !bytes.Contains(body, []byte(line)) {
				t.Errorf("/metrics lacks %q", line)
			}
		}
		prefix := fmt.Sprintf("\nwormwatch_sensor_last_record_timestamp_seconds{sensor=%q} ", sensor)
		_, after, _ := bytes.Cut(body, []byte(prefix))
		v, _, _ := bytes.Cut(after, []byte("\n"))
		if got, err := strconv.ParseFloat(string(v), 64); err != nil || got != float64(last.Time.Add(time.Minute).Unix()) {
			t.Errorf("/metrics: %s%s, want the end of the last row, %s", prefix[1:], v, last.Time.Add(time.Minute).Format(time.RFC3339))
		}
	}
}

// checkPushRefusals pushes rows again (nothing changes, no commit) and
// rows that cannot be taken (409, naming the row).
func checkPushRefusals(t *testing.T, r *running, rows []forecast.Row, size uint64) {
	t.Helper()
	commits := r.status(t).Counters.Commits
	before := transitionsOf(t, r, "pieces")
	pushOK(t, r, "pieces", rows, size, false, 0, len(rows))
	pushOK(t, r, "pieces", rows[100:103], size, true, 0, 3)
	if c := r.status(t).Counters.Commits; c != commits {
		t.Errorf("pushes of rows received before made %d commits", c-commits)
	}
	last := rows[len(rows)-1]
	changed := rows[200:202]
	changed[1].Probes++
	next := forecast.Row{Time: last.Time.Add(2 * time.Minute), Probes: 1, Sources: 1, CumulativeSources: last.CumulativeSources}
	early := forecast.Row{Time: rows[0].Time.Add(-time.Minute), Probes: 1, Sources: 1, NewSources: 1, CumulativeSources: 1}
	for _, c := range []struct {
		rows []forecast.Row
		want string
	}{
		{changed, fmt.Sprintf("row %s differs from the row received before: probes %d, received %d", changed[1].Time.Format(time.RFC3339), changed[1].Probes, changed[1].Probes-1)},
		{[]forecast.Row{next}, fmt.Sprintf("row %s: the series' next row is %s", next.Time.Format(time.RFC3339), last.Time.Add(time.Minute).Format(time.RFC3339))},
		{[]forecast.Row{early}, fmt.Sprintf("row %s: before the series' first row, %s", early.Time.Format(time.RFC3339), rows[0].Time.Format(time.RFC3339))},
	} {
		code, ans := push(t, r, "pieces", "text/csv", rowsCSV(t, c.rows, size))
		if code != 409 || !strings.Contains(string(ans), c.want) {
			t.Errorf("push of %d rows from %s: %d %s; want 409 with %q", len(c.rows), c.rows[0].Time.Format(time.RFC3339), code, ans, c.want)
		}
	}
	changed[1].Probes--
	if got := transitionsOf(t, r, "pieces"); !slices.Equal(got, before) {
		t.Errorf("refused pushes changed the transitions")
	}
	if code, body := r.get(t, "/api/v1/series/pieces?limit=100000"); code != 200 || bytes.Count(body, []byte(`"time"`)) != len(rows) {
		t.Errorf("the series pushed in pieces: %d, %d rows", code, bytes.Count(body, []byte(`"time"`)))
	}
}

// TestPushedSeriesRestart pushes the first part of the Code Red /16 day,
// stops the service and starts it again on its data folder: the series'
// state (watching) is back, the rest of the day pushed (with rows of the
// first part again) raises the alarm once, and the transitions are those
// of the day pushed whole, none twice.
func TestPushedSeriesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cr := codeRedRows(t)
	rows := cr.Rows
	cut := slices.IndexFunc(rows, func(r forecast.Row) bool { return r.Time.Hour() == 14 && r.Time.Minute() == 0 })
	r := remoteService(t, dir, data, "far", "whole")
	pushOK(t, r, "whole", rows, cr.Size, false, len(rows), 0)
	want := transitionsOf(t, r, "whole")
	pushOK(t, r, "far", rows[:cut], cr.Size, true, cut, 0)
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	r = remoteService(t, dir, data, "far", "whole")
	st := r.status(t)
	_, body := r.get(t, "/api/v1/status")
	if !bytes.Contains(body, []byte(`"state": "watching"`)) || st.Counters.Series != 2 {
		t.Fatalf("after the restart: %s", body)
	}
	pushOK(t, r, "far", rows[cut-10:], cr.Size, false, len(rows)-cut, 10)
	if got := transitionsOf(t, r, "far"); !slices.Equal(got, want) {
		t.Fatalf("transitions across the restart:\n%s\npushed whole:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	checkAlarmAsAnalyze(t, r, cr, "far")
}

// TestPushedSizeTooSmall pushes the Code Red /16 day as a sensor of one
// address: the filter's estimates overflow, which the status shows as a
// warning naming the sensor and the size, and the transitions' details
// hold null, never NaN.
func TestPushedSizeTooSmall(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var logs servetest.LockedBuffer
	tok := filepath.Join(dir, "push.token")
	if err := os.WriteFile(tok, []byte(remoteToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "serve.toml")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("[[remote]]\nsensor = \"tiny\"\ntoken_file = %q\n", tok)), 0o644); err != nil {
		t.Fatal(err)
	}
	r := start(t, loadConfig(t, conf, nil, servetest.Sets(filepath.Join(dir, "data"))), Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	cr := codeRedRows(t)
	pushOK(t, r, "tiny", cr.Rows, 1, false, len(cr.Rows), 0)
	_, body := r.get(t, "/api/v1/status")
	var st struct {
		Warnings []warningJSON `json:"warnings"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Warnings) != 1 || st.Warnings[0].Sensor != "tiny" || !strings.Contains(st.Warnings[0].Field, "size") ||
		!strings.HasPrefix(st.Warnings[0].Error, "column size: 1 address is far too small") {
		t.Fatalf("warnings: %s", body)
	}
	if !strings.Contains(logs.String(), "sensor size far too small") || strings.Count(logs.String(), "sensor size far too small") != 1 {
		t.Errorf("the log has %d warnings of the size", strings.Count(logs.String(), "sensor size far too small"))
	}
	_, alarms := r.get(t, "/api/v1/alarms?series=tiny")
	if bytes.Contains(alarms, []byte("NaN")) || bytes.Contains(body, []byte("NaN")) {
		t.Errorf("NaN in JSON")
	}
	if code, fc := r.get(t, "/api/v1/forecast?sensor=tiny"); code != 422 || !bytes.Contains(fc, []byte("column size")) {
		t.Errorf("forecast of the series: %d %s", code, fc)
	}
}

// TestFollowedSizeTooSmall follows the log of a web server that sees the
// Code Red /16 telescope's rows, declared as one address (input.web.size
// 1): past 19:20 the filter's estimates overflow, and the status warns of
// it naming the sensor and input.web.size, the log says it once, the
// forecast is refused (422, as forecast exits 2) and no JSON holds NaN.
func TestFollowedSizeTooSmall(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	data := servetest.Lines(servetest.CodeRedLog(t, time.Date(2001, 7, 19, 19, 40, 0, 0, time.UTC), 1))
	if err := os.WriteFile(log, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var logs servetest.LockedBuffer
	cfg := testConfig(t, filepath.Join(dir, "data"), []Input{logInput(t, log, "name=web", "size=1")})
	r := start(t, cfg, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	var body []byte
	servetest.WaitFor(t, "the size warning", func() bool {
		_, body = r.get(t, "/api/v1/status")
		return bytes.Contains(body, []byte(`"field": "input.web.size"`))
	})
	var st struct {
		Warnings []warningJSON `json:"warnings"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatal(err)
	}
	for _, w := range st.Warnings {
		if w.Sensor != "web" || w.Field != "input.web.size" || !strings.HasPrefix(w.Error, "column size: 1 address is far too small for what the sensor saw: by 2001-07-19T19:2") {
			t.Errorf("warning %+v", w)
		}
	}
	if len(st.Warnings) == 0 || st.Warnings[0].Series != "web" {
		t.Errorf("warnings: %s", body)
	}
	servetest.WaitFor(t, "the warning logged", func() bool { return strings.Contains(logs.String(), "sensor size far too small") })
	if n := strings.Count(logs.String(), "sensor size far too small"); n != len(st.Warnings) {
		t.Errorf("%d warnings logged for %d series", n, len(st.Warnings))
	}
	if code, fc := r.get(t, "/api/v1/forecast?sensor=web"); code != 422 || !bytes.Contains(fc, []byte("web: column size: 1 address is far too small")) {
		t.Errorf("forecast: %d %s", code, fc)
	}
	for _, path := range []string{"/api/v1/alarms", "/api/v1/status", "/api/v1/series/web"} {
		if _, b := r.get(t, path); bytes.Contains(b, []byte("NaN")) {
			t.Errorf("%s: NaN in its JSON", path)
		}
	}
}
