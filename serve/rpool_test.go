package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"wormwatch/forecast"
	"wormwatch/pool"
	"wormwatch/serve/servetest"
	"wormwatch/watch"
)

// The members of the pool tests: three /16 telescopes of a simulated Code
// Red v2 outbreak (serve/testdata/README.md).
var poolMembers = []string{"m1", "m2", "m3"}

// memberSeries returns the members' series.
func memberSeries(t *testing.T) []*forecast.Series {
	t.Helper()
	var out []*forecast.Series
	for _, m := range poolMembers {
		s, err := forecast.ReadSeriesFile(context.Background(), servetest.ModuleFile(t, "serve/testdata/pool-codered2-"+m+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// summed returns pool.Sum of the series' rows from row from to row to
// (each series' rows), as the series name.
func summed(t *testing.T, name string, ss []*forecast.Series, from, to int) *forecast.Series {
	t.Helper()
	var rows [][]pool.Row
	var size uint64
	for _, s := range ss {
		rows = append(rows, s.Rows[from:to])
		size += s.Size
	}
	sum, err := pool.Sum(rows...)
	if err != nil {
		t.Fatal(err)
	}
	return &forecast.Series{Name: name, Size: size, Interval: ss[0].Interval, Rows: sum}
}

// poolService runs a service of the members as remote sensors (one token
// for all) with the pools' tables given, on the data folder data.
func poolService(t *testing.T, dir, data, pools string) *running {
	t.Helper()
	cfg, err := poolConfig(t, dir, data, pools)
	if err != nil {
		t.Fatal(err)
	}
	return start(t, cfg, Options{})
}

// poolConfig loads the configuration of poolService.
func poolConfig(t *testing.T, dir, data, pools string, ins ...Input) (*Config, error) {
	t.Helper()
	tok := filepath.Join(dir, "push.token")
	if err := os.WriteFile(tok, []byte(remoteToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var conf bytes.Buffer
	for _, s := range poolMembers {
		fmt.Fprintf(&conf, "[[remote]]\nsensor = %q\ntoken_file = %q\n", s, tok)
	}
	conf.WriteString(pools)
	path := filepath.Join(dir, "serve.toml")
	if err := os.WriteFile(path, conf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load(path, Overrides{Sets: servetest.Sets(data), Inputs: ins})
}

// poolStatus returns the status's pools.
func poolsOf(t *testing.T, r *running) []poolJSON {
	t.Helper()
	code, body := r.get(t, "/api/v1/status")
	var st struct {
		Pools []poolJSON `json:"pools"`
	}
	if code != 200 || json.Unmarshal(body, &st) != nil {
		t.Fatalf("status: %d %s", code, body)
	}
	return st.Pools
}

// alarmTime returns the time of a series' first alarm transition.
func alarmTime(t *testing.T, r *running, series string) time.Time {
	t.Helper()
	_, body := r.get(t, "/api/v1/alarms?series="+series)
	var out struct {
		Transitions []alarmTransition
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	for _, tr := range out.Transitions {
		if tr.To == "alarm" {
			return tr.Time
		}
	}
	t.Fatalf("no alarm of %s: %s", series, body)
	return time.Time{}
}

// rowsJSON returns rows as the API writes them.
func rowsJSON(rows []forecast.Row) []RowJSON {
	var out []RowJSON
	for _, r := range rows {
		out = append(out, rowJSON("", storeRow(r)))
	}
	return out
}

// expectedTransitions returns the transitions a RowSeries of the watch's
// default settings makes of rows, as transitionsOf writes them.
func expectedTransitions(t *testing.T, s *forecast.Series) []string {
	t.Helper()
	rs, err := watch.NewRowSeries(s.Name, s.Size, s.Interval, watch.DefaultSettings, forecast.DefaultSettings.Options(32))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range s.Rows {
		if err := rs.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	var out []string
	for _, ev := range rs.Events(nil) {
		out = append(out, fmt.Sprintf("%s %s->%s %s", ev.Time.Format(time.RFC3339), ev.From, ev.To, withoutCommitDetail(t, eventDetail(ev, 0))))
	}
	return out
}

// TestRemotePool: three members push their telescopes' series of a Code
// Red v2 day, each in random pieces (some rows again) at its own pace;
// the pool of the three makes a row of an interval once every member has
// pushed it (its rows are, after every push, as many as the slowest
// member's), and at the end its rows are pool.Sum of the members' series,
// its alarm forecast.Analyze's on that sum (time, row, onset, K, the
// step's estimates, bit for bit) and earlier than each member's own, its
// transitions those of a RowSeries fed the sum, its forecast forecast's,
// and /metrics has its state and latest row.
func TestRemotePool(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := poolService(t, dir, filepath.Join(dir, "data"), "[[pool]]\nname = \"alliance\"\nsensors = [\"m1\", \"m2\", \"m3\"]\n")
	ms := memberSeries(t)
	n := len(ms[0].Rows)
	pushAll(t, r, ms, rand.New(rand.NewPCG(3, 5)), 0, n, func(pushed []int) {
		if ps := poolsOf(t, r); len(ps) != 1 || ps[0].Rows != slices.Min(pushed) {
			t.Fatalf("after pushes of %v rows: the pool %+v, want %d rows", pushed, ps, slices.Min(pushed))
		}
	})
	want := summed(t, "alliance", ms, 0, n)
	if got := storedRows(t, r, "alliance"); !equalRows(got, rowsJSON(want.Rows)) {
		t.Fatalf("the pool's rows (%d) are not pool.Sum of its members' (%d)", len(got), len(want.Rows))
	}
	checkAlarmAsAnalyze(t, r, want, "alliance")
	pooled := alarmTime(t, r, "alliance")
	for _, m := range poolMembers {
		if own := alarmTime(t, r, m); !pooled.Before(own) {
			t.Errorf("the pool's alarm at %s is not before member %s's own, at %s", pooled, m, own)
		}
	}
	if got, exp := transitionsOf(t, r, "alliance"), expectedTransitions(t, want); len(exp) < 2 || !slices.Equal(got, exp) {
		t.Errorf("the pool's transitions:\n%s\nof a RowSeries fed the sum:\n%s", strings.Join(got, "\n"), strings.Join(exp, "\n"))
	}
	a, err := forecast.Analyze(context.Background(), want, forecast.DefaultSettings.Options(32))
	var js bytes.Buffer
	if err == nil {
		err = a.WriteJSON(&js)
	}
	if err != nil {
		t.Fatal(err)
	}
	if code, got := r.get(t, "/api/v1/forecast?sensor=alliance"); code != 200 || !bytes.Equal(got, js.Bytes()) {
		t.Errorf("forecast of the pool: %d %s", code, firstDiff(string(got), js.String()))
	}
	checkPoolMetrics(t, r, "alliance", want.Rows[n-1])
	t.Logf("alarms: pool %s, members %s %s %s", pooled.Format("15:04"), alarmTime(t, r, "m1").Format("15:04"), alarmTime(t, r, "m2").Format("15:04"), alarmTime(t, r, "m3").Format("15:04"))
}

// pushAll pushes rows from to to of each member's series in random pieces
// (2 to 91 rows, with up to 4 rows again), the members in random order,
// and calls after with the rows each member pushed after each push.
func pushAll(t *testing.T, r *running, ms []*forecast.Series, rng *rand.Rand, from, to int, after func(pushed []int)) {
	t.Helper()
	pushed := make([]int, len(ms))
	for i := range pushed {
		pushed[i] = from
	}
	for slices.Min(pushed) < to {
		i := rng.IntN(len(ms))
		if pushed[i] == to {
			continue
		}
		end := min(to, pushed[i]+2+rng.IntN(90)) // two rows at least: the first push's give the interval
		back := min(pushed[i], rng.IntN(5))
		pushOK(t, r, poolMembers[i], ms[i].Rows[pushed[i]-back:end], ms[i].Size, rng.IntN(2) == 0, end-pushed[i], back)
		pushed[i] = end
		if after != nil {
			after(pushed)
		}
	}
}

// TestRemotePoolRestart pushes the first part of the members' day (each
// to another row), stops the service and starts it again on its data
// folder: the pool's rows, state and transitions are those it had; the
// rest of the day pushed, its rows are pool.Sum of the members' whole
// series and its transitions those of a RowSeries fed the sum, none twice.
// A configuration whose pool has another member is refused, naming
// pool.alliance.sensors.
func TestRemotePoolRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	table := "[[pool]]\nname = \"alliance\"\nsensors = [\"m1\", \"m2\", \"m3\"]\n"
	ms := memberSeries(t)
	n := len(ms[0].Rows)
	r := poolService(t, dir, data, table)
	cuts := []int{250, 230, 260} // the pool has 230 rows, to 13:49, before its alarm
	for i, m := range poolMembers {
		pushOK(t, r, m, ms[i].Rows[:cuts[i]], ms[i].Size, false, cuts[i], 0)
	}
	before, beforeTr, beforeSt := storedRows(t, r, "alliance"), transitionsOf(t, r, "alliance"), poolsOf(t, r)
	if len(before) != 230 || len(beforeTr) == 0 || beforeSt[0].State == "quiet" {
		t.Fatalf("before the restart: %d rows, transitions %q, %+v", len(before), beforeTr, beforeSt)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	r = poolService(t, dir, data, table)
	if got, st := storedRows(t, r, "alliance"), poolsOf(t, r); !equalRows(got, before) || !slices.Equal(transitionsOf(t, r, "alliance"), beforeTr) ||
		st[0].State != beforeSt[0].State || st[0].Rows != beforeSt[0].Rows || !slices.Equal(st[0].WaitingFor, []string{"m2"}) {
		t.Fatalf("after the restart: %d rows, %+v; before %d rows, %+v", len(got), st, len(before), beforeSt)
	}
	for i, m := range poolMembers {
		pushOK(t, r, m, ms[i].Rows[cuts[i]-3:], ms[i].Size, true, n-cuts[i], 3)
	}
	want := summed(t, "alliance", ms, 0, n)
	if got := storedRows(t, r, "alliance"); !equalRows(got, rowsJSON(want.Rows)) {
		t.Fatalf("the pool's rows (%d) are not pool.Sum of its members' (%d)", len(got), len(want.Rows))
	}
	if got, exp := transitionsOf(t, r, "alliance"), expectedTransitions(t, want); !slices.Equal(got, exp) {
		t.Errorf("the pool's transitions across the restart:\n%s\nof a RowSeries fed the sum:\n%s", strings.Join(got, "\n"), strings.Join(exp, "\n"))
	}
	checkAlarmAsAnalyze(t, r, want, "alliance")
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	cfg, err := poolConfig(t, dir, data, "[[pool]]\nname = \"alliance\"\nsensors = [\"m1\", \"m2\"]\n")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(context.Background(), cfg, Options{Logger: servetest.Logger(t, 0)}); err == nil || !strings.Contains(err.Error(), "pool.alliance.sensors") {
		t.Errorf("a pool whose sensors changed: %v", err)
	}
}

// TestRemotePoolLag: with a lag of 10 minutes a pool does not wait for a
// member that fell behind: its rows up to 10 minutes before the others'
// latest are made without the member, which the status counts (and keeps
// across a restart); the member's rows pushed later are its own, and the
// pool's rows from where the others are not 10 minutes ahead have every
// member again.
func TestRemotePoolLag(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	table := "[[pool]]\nname = \"lagged\"\nsensors = [\"m1\", \"m2\", \"m3\"]\nlag = \"10m\"\n"
	ms := memberSeries(t)
	n := len(ms[0].Rows)
	r := poolService(t, dir, data, table)
	pushOK(t, r, "m3", ms[2].Rows[:300], ms[2].Size, false, 300, 0)
	pushOK(t, r, "m1", ms[0].Rows, ms[0].Size, false, n, 0)
	if ps := poolsOf(t, r); ps[0].Rows != 0 || !slices.Equal(ps[0].WaitingFor, []string{"m2"}) {
		t.Fatalf("before m2's first push: %+v", ps[0])
	}
	pushOK(t, r, "m2", ms[1].Rows, ms[1].Size, false, n, 0)
	ps := poolsOf(t, r)
	if ps[0].Rows != n-10 || ps[0].Absent["m3"] != int64(n-10-300) || len(ps[0].Absent) != 1 || !slices.Equal(ps[0].WaitingFor, []string{"m3"}) {
		t.Fatalf("m3 300 rows behind: %+v", ps[0])
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	r = poolService(t, dir, data, table)
	if got := poolsOf(t, r); got[0].Absent["m3"] != ps[0].Absent["m3"] || got[0].Rows != ps[0].Rows || !reflectEqualJSON(t, got[0].LastAbsent, ps[0].LastAbsent) {
		t.Fatalf("after the restart: %+v, before %+v", got[0], ps[0])
	}
	pushOK(t, r, "m3", ms[2].Rows[300:], ms[2].Size, true, n-300, 0)
	all := summed(t, "lagged", ms, 0, n)
	two := summed(t, "lagged", ms[:2], 0, n)
	want := slices.Concat(all.Rows[:300], two.Rows[300:n-10], all.Rows[n-10:])
	for i := 300; i < n; i++ { // cumulative sources: the first row's, grown by the new
		want[i].CumulativeSources = want[i-1].CumulativeSources + want[i].NewSources
	}
	if got := storedRows(t, r, "lagged"); !equalRows(got, rowsJSON(want)) {
		t.Fatalf("the pool's rows (%d) are not the members' sum with m3 absent from 15:00 to 23:49 (%d)", len(got), len(want))
	}
	if got, exp := transitionsOf(t, r, "lagged"), expectedTransitions(t, &forecast.Series{Name: "lagged", Size: all.Size, Interval: all.Interval, Rows: want}); !slices.Equal(got, exp) {
		t.Errorf("the pool's transitions:\n%s\nof a RowSeries fed its rows:\n%s", strings.Join(got, "\n"), strings.Join(exp, "\n"))
	}
	if st := poolsOf(t, r); st[0].Rows != n || st[0].Absent["m3"] != int64(n-10-300) || !slices.Equal(st[0].WaitingFor, poolMembers) {
		t.Errorf("at the end: %+v", st[0])
	}
}

// reflectEqualJSON reports whether two values marshal to the same JSON.
func reflectEqualJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return bytes.Equal(ja, jb)
}

// TestRemotePoolPushes: a remote sensor of a pool must push rows of the
// pool's interval on its intervals (409 naming the pool otherwise, nothing
// taken); the same sensor outside pools may.
func TestRemotePoolPushes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := poolService(t, dir, filepath.Join(dir, "data"), "[[pool]]\nname = \"p\"\nsensors = [\"m1\", \"m2\"]\n")
	ms := memberSeries(t)
	off := slices.Clone(ms[0].Rows[:5])
	for i := range off {
		off[i].Time = off[i].Time.Add(30 * time.Second)
	}
	for _, c := range []struct {
		sensor, ctype string
		body          []byte
		want          string
	}{
		{"m1", "text/csv", rowsCSV(t, off, 65536), "row 2001-07-19T10:00:30Z is not on the pool's intervals"},
		{"m2", "text/csv", []byte("time,probes,sources,new_sources,cumulative_sources,size\n2001-07-19T10:00:00Z,1,1,1,1,65536\n2001-07-19T10:02:00Z,1,1,0,1,65536\n"), "whose rows are of 1m0s (watch.interval): its rows are of 2m0s"},
	} {
		code, body := push(t, r, c.sensor, c.ctype, c.body)
		if code != 409 || !strings.Contains(string(body), c.want) || !strings.Contains(string(body), "pool p") {
			t.Errorf("push to %s: %d %s, want 409 with %q", c.sensor, code, body, c.want)
		}
	}
	if code, body := r.get(t, "/api/v1/series/m1"); code != 404 {
		t.Errorf("a refused push made a series: %d %s", code, body)
	}
	pushOK(t, r, "m3", off, 65536, false, 5, 0)
}

// TestMixedPool pools a sensor of the inputs (a followed log of the Code
// Red day's first four hours) with a remote member: the pool's rows are
// pool.Sum of the local sensor's rows, as the service counted and stored
// them, and the member's pushed rows at the same times, from the later of
// their first rows, as long as both have rows; its size is the sum.
func TestMixedPool(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pa := filepath.Join(dir, "a.log")
	cfg, err := poolConfig(t, dir, filepath.Join(dir, "data"), "[[pool]]\nname = \"mixed\"\nsensors = [\"a\", \"m1\"]\n", logInput(t, pa, "name=a", "size=65536"))
	if err != nil {
		t.Fatal(err)
	}
	r := start(t, cfg, Options{})
	var log []byte
	for _, iv := range servetest.CodeRedLog(t, time.Date(2001, 7, 19, 14, 0, 0, 0, time.UTC), 2) {
		log = append(log, iv.Lines...)
	}
	servetest.AppendFile(t, pa, log)
	servetest.WaitFor(t, "the log", func() bool { return r.committedOffset(t, pa) == int64(len(log)) })
	ms := memberSeries(t)
	pushOK(t, r, "m1", ms[0].Rows, ms[0].Size, false, len(ms[0].Rows), 0)
	local := storedRows(t, r, "a")
	var a []forecast.Row
	for _, j := range local {
		a = append(a, forecast.Row{Time: j.Time, Probes: j.Probes, Sources: j.Sources, NewSources: j.NewSources, CumulativeSources: j.CumulativeSources})
	}
	from := slices.IndexFunc(ms[0].Rows, func(r forecast.Row) bool { return r.Time.Equal(a[0].Time) })
	if len(a) < 60 || from < 0 || from+len(a) > len(ms[0].Rows) {
		t.Fatalf("local rows %d from %v: not within the member's", len(a), a[0].Time)
	}
	want, err := pool.Sum(a, ms[0].Rows[from:from+len(a)])
	if err != nil {
		t.Fatal(err)
	}
	if got := storedRows(t, r, "mixed"); !equalRows(got, rowsJSON(want)) {
		t.Fatalf("the mixed pool's rows (%d) are not pool.Sum of the local sensor's (%d) and the member's", len(got), len(want))
	}
	if ps := poolsOf(t, r); ps[0].Size != 2*65536 || !slices.Equal(ps[0].WaitingFor, []string{"a"}) {
		t.Errorf("the pool: %+v", ps[0])
	}
	t.Logf("the pool's rows: %d, from %s, %d probes in the last", len(want), want[0].Time.Format(time.RFC3339), want[len(want)-1].Probes)
}

// TestRemotePoolConfig: a pool's sensors may be sensors of the inputs and
// [[remote]] sensors, mixed; another name, and a lag for a pool of the
// inputs' sensors alone, are errors naming the file and the key.
func TestRemotePoolConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := logInput(t, filepath.Join(dir, "a.log"), "name=a")
	for _, c := range []struct{ table, want string }{
		{"name = \"p\"\nsensors = [\"a\", \"m1\"]\nlag = \"5m\"", ""},
		{"name = \"p\"\nsensors = [\"m1\", \"m2\", \"m3\"]", ""},
		{"name = \"p\"\nsensors = [\"m1\", \"x\"]", `pool.p.sensors: "x" is no sensor of the inputs and no [[remote]] sensor`},
		{"name = \"p\"\nsensors = [\"m1\", \"m1\"]", `pool.p.sensors: "m1" is given twice`},
		{"name = \"p\"\nsensors = [\"m1\"]", "pool.p.sensors: 1 of them"},
		{"name = \"m2\"\nsensors = [\"m1\", \"a\"]", "pool.m2.name: m2 is the name of a sensor"},
		{"name = \"p\"\nsensors = [\"a\", \"a2\"]\nlag = \"10m\"", "pool.p.lag: 10m0s: only a pool with remote sensors waits"},
		{"name = \"p\"\nsensors = [\"a\", \"m1\"]\nlag = \"-1m\"", "pool.p.lag"},
		{"name = \"p\"\nsensors = [\"a\", \"m1\"]\nlag = \"40d\"", "pool.p.lag"},
	} {
		_, err := poolConfig(t, dir, filepath.Join(dir, "data"), "[[pool]]\n"+c.table+"\n", in, logInput(t, filepath.Join(dir, "a2.log"), "name=a2"))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.table, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "serve.toml")):
			t.Errorf("%q: error %v, want one naming serve.toml and %q", c.table, err, c.want)
		}
	}
}

// checkPoolMetrics checks that /metrics has a pool's series: the state
// the status gives, and its latest row's counts.
func checkPoolMetrics(t *testing.T, r *running, name string, last forecast.Row) {
	t.Helper()
	state := -1
	for _, p := range poolsOf(t, r) {
		if p.Name == name {
			state = slices.IndexFunc([]watch.State{watch.Quiet, watch.Watching, watch.Alarm, watch.Subsiding}, func(s watch.State) bool { return s.String() == p.State })
		}
	}
	code, body := r.get(t, "/metrics")
	if code != 200 || state < 0 {
		t.Fatalf("/metrics: %d; pool %s's state %d", code, name, state)
	}
	for metric, want := range map[string]string{
		"wormwatch_series_state":              fmt.Sprint(state),
		"wormwatch_series_probes":             fmt.Sprint(last.Probes),
		"wormwatch_series_cumulative_sources": fmt.Sprint(last.CumulativeSources),
	} {
		if line := fmt.Sprintf("%s{kind=\"all\",sensor=%q,series=%q} %s\n", metric, name, name, want); !bytes.Contains(body, []byte(line)) {
			t.Errorf("/metrics lacks %q", line)
		}
	}
}
