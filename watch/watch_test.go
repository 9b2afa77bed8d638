package watch_test

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"wormwatch/detect"
	"wormwatch/forecast"
	"wormwatch/internal/param"
	"wormwatch/watch"
)

// TestCodeRedTelescope feeds the records of a simulated Code Red /16
// telescope (one per probe, slightly out of order) and checks that the
// sensor's series is the telescope's, row for row, and that the alarm is
// forecast.Analyze's on that series: same time, same estimates.
func TestCodeRedTelescope(t *testing.T) {
	t.Parallel()
	cr := readCodeRed(t)
	rows := fromFirst(cr.Rows)
	ops := expand(rows, cr.Interval, 0, []int{0}, "10", 1, 0.9)
	w := newWatch(t, watch.DefaultSettings)
	apply(t, w, ops)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Late != 0 || st.Records != int64(len(ops)) {
		t.Fatalf("stats %+v: want %d records, none late", st, len(ops))
	}
	got := w.Rows(0)
	if len(got) != len(rows) {
		t.Fatalf("%d rows, the telescope's series has %d from its first probe", len(got), len(rows))
	}
	for i := range rows {
		if got[i] != rows[i] {
			t.Fatalf("row %d: %+v, the telescope's %+v", i, got[i], rows[i])
		}
	}
	a, err := forecast.Analyze(t.Context(), &forecast.Series{Name: "ucsd-16", Size: cr.Size, Interval: cr.Interval, Rows: rows}, forecast.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Alarm == nil {
		t.Fatal("Analyze raised no alarm on the telescope")
	}
	var alarm *watch.Event
	for _, e := range w.Events(nil) {
		if e.Series == 0 && e.To == watch.Alarm && alarm == nil {
			alarm = &e
		}
	}
	if alarm == nil {
		t.Fatal("no alarm event")
	}
	if !alarm.Time.Equal(a.Alarm.Time) || alarm.Alarm == nil || *alarm.Alarm != *a.Alarm || stepText(alarm.Step) != stepText(a.Steps[a.Alarm.Index]) {
		t.Errorf("alarm event %s, Analyze's alarm %+v step %s", eventText(*alarm), *a.Alarm, stepText(a.Steps[a.Alarm.Index]))
	}
	t.Logf("alarm at %s (Analyze: %s), %d records", alarm.Time.Format(time.RFC3339), a.Alarm.Time.Format(time.RFC3339), len(ops))
	wa, err := w.Analysis(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var x, y bytes.Buffer
	if err := wa.WriteJSON(&x); err != nil {
		t.Fatal(err)
	}
	if err := a.WriteJSON(&y); err != nil {
		t.Fatal(err)
	}
	if x.String() != y.String() {
		t.Errorf("the watch's analysis differs from Analyze's on the telescope's series")
	}
}

// TestBatchEquivalence feeds the same records (two waves on two sensors
// with background, slightly out of order) at once, and in chunks of 1, 7
// and 1000 with Advance calls between them (to the earliest time still to
// come, a watermark), and gets the same series, steps, events and
// analyses.
func TestBatchEquivalence(t *testing.T) {
	t.Parallel()
	ops := waves(1, 60)
	// the earliest time from each op on
	minFrom := make([]time.Time, len(ops)+1)
	minFrom[len(ops)] = ops[len(ops)-1].t.Add(time.Hour)
	for i := len(ops) - 1; i >= 0; i-- {
		minFrom[i] = ops[i].t
		if minFrom[i+1].Before(ops[i].t) {
			minFrom[i] = minFrom[i+1]
		}
	}
	run := func(chunk int) (string, []string) {
		w := newWatch(t, watch.DefaultSettings)
		var evs []string
		for i := 0; i < len(ops); i += chunk {
			apply(t, w, ops[i:min(i+chunk, len(ops))])
			if i+chunk < len(ops) {
				if err := w.Advance(minFrom[min(i+chunk, len(ops))]); err != nil {
					t.Fatal(err)
				}
				evs = append(evs, events(w)...) // taken as they come
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, events(w)...)
		out := dump(w)
		for _, s := range w.Series() {
			if a, err := w.Analysis(t.Context(), s.Index); err == nil {
				var b bytes.Buffer
				if err := a.WriteJSON(&b); err != nil {
					t.Fatal(err)
				}
				out += b.String()
			}
		}
		return out, evs
	}
	// Events come in time order within each series; across sensors their
	// order follows the records' (and Advance's), so they are compared
	// series by series.
	bySeries := func(ev []string) []string {
		ev = slices.Clone(ev)
		slices.SortStableFunc(ev, func(a, b string) int { return strings.Compare(strings.Fields(a)[1], strings.Fields(b)[1]) })
		return ev
	}
	want, wantEv := run(len(ops))
	wantEv = bySeries(wantEv)
	for _, chunk := range []int{1, 7, 1000} {
		got, ev := run(chunk)
		ev = bySeries(ev)
		if got != want {
			t.Errorf("chunks of %d: the series differ from the batch's:\n%s", chunk, firstDiff(got, want))
		}
		if !slices.Equal(ev, wantEv) {
			t.Errorf("chunks of %d: events\n%s\nbatch:\n%s", chunk, strings.Join(ev, "\n"), strings.Join(wantEv, "\n"))
		}
	}
	// The records must exercise the state machine: on the /16's
	// code-red series, an alarm in each wave, with a restart between.
	var path []string
	for _, e := range wantEv {
		if strings.Contains(e, " ucsd-16/family/code-red ") {
			path = append(path, e)
		}
	}
	t.Logf("%d records; events:\n%s", len(ops), strings.Join(wantEv, "\n"))
	var alarms, restarts int
	for _, e := range path {
		if strings.Contains(e, "->alarm") && !strings.Contains(e, "subsiding->") {
			alarms++
		}
		if strings.Contains(e, "subsiding->quiet") {
			restarts++
		}
	}
	if alarms < 2 || restarts < 1 {
		t.Errorf("the /16's code-red series: %d alarms, %d restarts; want an alarm in each wave, a restart between:\n%s", alarms, restarts, strings.Join(path, "\n"))
	}
	for _, e := range wantEv {
		if strings.Contains(e, "/family/scan ") && strings.Contains(e, "->alarm") {
			t.Errorf("an alarm on background: %s", e)
		}
	}
}

// firstDiff returns the first differing line of two dumps with context.
func firstDiff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(x), len(y)) {
		if x[i] != y[i] {
			return "got:  " + x[i] + "\nwant: " + y[i]
		}
	}
	return "one is longer"
}

// smallOps is a small input that goes through every state: the Code Red
// telescope's records up to shortly after its alarm, on both families
// (the code-red family for one source in three), a few late records, a
// quiet stretch (Advance) long enough for the alarm to subside and end
// under short settings, and a few records after it.
func smallOps(t testing.TB) ([]op, watch.Settings) {
	cr := readCodeRed(t)
	rows := fromFirst(cr.Rows)
	end := cr.Rows[0].Time.Add(5*time.Hour + 10*time.Minute)
	for i, r := range rows {
		if !r.Time.Before(end) {
			rows = rows[:i]
			break
		}
	}
	var ops []op
	for _, o := range expand(rows, cr.Interval, 0, []int{0}, "10", 2, 0.9) {
		if !o.t.Before(end) {
			break
		}
		if o.src[len(o.src)-1]%3 == 0 {
			o.fams = []int{0, 1}
		}
		ops = append(ops, o)
		if len(ops)%97 == 0 { // a late record
			ops = append(ops, op{sensor: 0, t: o.t.Add(-10 * time.Minute), src: "late." + o.src, fams: []int{0}})
		}
		if len(ops)%50 == 0 { // the other sensor
			ops = append(ops, op{sensor: 1, t: o.t, src: o.src, fams: []int{1}})
		}
	}
	last := ops[len(ops)-1].t
	ops = append(ops, op{advance: true, t: last.Add(3 * time.Hour)})
	for i := range 20 {
		ops = append(ops, op{sensor: 0, t: last.Add(3*time.Hour + time.Duration(i)*20*time.Second), src: "10.0." + string(rune('a'+i%5)), fams: []int{0}})
	}
	set := watch.DefaultSettings
	set.Subside = param.Duration(10 * time.Minute)
	set.Quiet = param.Duration(30 * time.Minute)
	return ops, set
}

// TestSnapshotEverySplit feeds a small input (smallOps) with a
// checkpoint every 40 calls; at each split point it saves, restores into a
// new Watch and feeds the rest, and gets what feeding everything to one
// Watch gives. The split's save is a Checkpoint (appended to the log so
// far) at odd points and a Full one at even points.
func TestSnapshotEverySplit(t *testing.T) {
	t.Parallel()
	ops, set := smallOps(t)
	ref := newWatch(t, set)
	apply(t, ref, ops)
	if err := ref.Flush(); err != nil {
		t.Fatal(err)
	}
	wantEv := events(ref)
	var sawAlarm, sawRestart bool
	for _, e := range wantEv {
		sawAlarm = sawAlarm || strings.Contains(e, "->alarm")
		sawRestart = sawRestart || strings.Contains(e, "subsiding->quiet")
	}
	if !sawAlarm || !sawRestart || ref.Stats().Late == 0 {
		t.Fatalf("the small input must alarm, restart and have late records: %+v\n%s", ref.Stats(), strings.Join(wantEv, "\n"))
	}
	t.Logf("%d calls, events:\n%s", len(ops), strings.Join(wantEv, "\n"))
	for k := 0; k <= len(ops); k++ {
		w := newWatch(t, set)
		var log []byte
		for i := 0; i < k; i += 40 {
			apply(t, w, ops[i:min(i+40, k)])
			log = append(log, w.Checkpoint().Log...)
		}
		var snap watch.Snapshot
		if k%2 == 0 {
			snap = w.Full()
			log = snap.Log
		} else {
			snap = w.Checkpoint()
			log = append(log, snap.Log...)
		}
		r, err := watch.Restore(watch.Config{Settings: set, Families: families}, log, snap.Hot)
		if err != nil {
			t.Fatalf("split %d: %v", k, err)
		}
		sameState(t, r, w, fmt.Sprintf("split %d, restored", k))
		evs := events(r)
		apply(t, r, ops[k:])
		if err := r.Flush(); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, events(r)...)
		sameState(t, r, ref, fmt.Sprintf("split %d, fed the rest", k))
		if !slices.Equal(evs, wantEv) {
			t.Fatalf("split %d: events\n%s\nwant\n%s", k, strings.Join(evs, "\n"), strings.Join(wantEv, "\n"))
		}
		// and the restored watch's next checkpoint goes on the log
		snap2 := r.Checkpoint()
		r2, err := watch.Restore(watch.Config{Settings: set, Families: families}, append(log, snap2.Log...), snap2.Hot)
		if err != nil {
			t.Fatalf("split %d, second restore: %v", k, err)
		}
		sameState(t, r2, ref, fmt.Sprintf("split %d, restored again", k))
	}
}

// TestRestoreRefuses checks that a damaged snapshot is refused with an
// error, never a panic: truncations of the log (about 300) and every one
// of the hot part, a hot part of another save, other settings, and bytes
// flipped (an error or a watch, never a panic).
func TestRestoreRefuses(t *testing.T) {
	t.Parallel()
	ops, set := smallOps(t)
	w := newWatch(t, set)
	apply(t, w, ops[:300])
	old := w.Full()
	apply(t, w, ops[300:min(600, len(ops))])
	snap := w.Full()
	cfg := watch.Config{Settings: set, Families: families}
	if _, err := watch.Restore(cfg, snap.Log, snap.Hot); err != nil {
		t.Fatal(err)
	}
	// every cut in the first 64 bytes, then about 300 cuts
	step := max(len(snap.Log)/300, 1)
	next := func(n int) int {
		if n < 64 {
			return n + 1
		}
		return n + step
	}
	for n := 0; n < len(snap.Log); n = next(n) {
		if _, err := watch.Restore(cfg, snap.Log[:n], snap.Hot); err == nil {
			t.Fatalf("a log cut at byte %d of %d was accepted", n, len(snap.Log))
		}
	}
	for n := range len(snap.Hot) {
		if _, err := watch.Restore(cfg, snap.Log, snap.Hot[:n]); err == nil {
			t.Fatalf("a hot part cut at byte %d of %d was accepted", n, len(snap.Hot))
		}
	}
	if _, err := watch.Restore(cfg, snap.Log, old.Hot); err == nil {
		t.Error("the hot part of another save was accepted")
	}
	other := set
	other.Interval = param.Duration(2 * time.Minute)
	if _, err := watch.Restore(watch.Config{Settings: other, Families: families}, snap.Log, snap.Hot); err == nil || !strings.Contains(err.Error(), "interval") {
		t.Errorf("another interval: %v", err)
	}
	// flipped bytes: an error or a watch, never a panic
	for i := 0; i < len(snap.Log); i += 1 + step/3 {
		b := slices.Clone(snap.Log)
		b[i] ^= 0x55
		_, _ = watch.Restore(cfg, b, snap.Hot)
	}
}

// TestLateAndOrder checks the counting rules on a hand-made input: exact
// counts with records out of order within the open intervals, a source's
// first sighting moved back by an earlier record, a late record counted in
// its row's probes only, and Advance closing quiet intervals.
func TestLateAndOrder(t *testing.T) {
	t.Parallel()
	set := watch.DefaultSettings // 1m intervals, lateness 2
	w := newWatch(t, set)
	t0 := time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)
	at := func(m float64) time.Time { return t0.Add(time.Duration(m * float64(time.Minute))) }
	apply(t, w, []op{
		{t: at(0.5), src: "a", fams: []int{0}},
		{t: at(1.5), src: "b", fams: []int{0}},
		{t: at(0.7), src: "b", fams: []int{0}}, // out of order: b is first seen in minute 0
		{t: at(1.2), src: "a", fams: []int{0}},
		{t: at(2.1), src: "c", fams: []int{0}}, // closes minute 0
		{t: at(0.9), src: "d", fams: []int{0}}, // late: minute 0 is closed
		{t: at(3.5), src: "c", fams: []int{0}}, // closes minute 1
		{t: at(1.9), src: "e", fams: []int{0}}, // late
		{advance: true, t: at(6)},              // closes minutes 2 to 5
		{t: at(6.5), src: "d", fams: []int{0}}, // d's first sighting counted now
	})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := []forecast.Row{
		{Time: at(0), Probes: 3, Sources: 2, NewSources: 2, CumulativeSources: 2},
		{Time: at(1), Probes: 3, Sources: 2, NewSources: 0, CumulativeSources: 2},
		{Time: at(2), Probes: 1, Sources: 1, NewSources: 1, CumulativeSources: 3},
		{Time: at(3), Probes: 1, Sources: 1, NewSources: 0, CumulativeSources: 3},
		{Time: at(4), CumulativeSources: 3}, {Time: at(5), CumulativeSources: 3},
		{Time: at(6), Probes: 1, Sources: 1, NewSources: 1, CumulativeSources: 4},
	}
	for _, s := range w.Series() {
		got := w.Rows(s.Index)
		if !slices.Equal(got, want) {
			t.Errorf("%s: rows\n%+v\nwant\n%+v", s.Key, got, want)
		}
		if s.Late != 2 {
			t.Errorf("%s: %d late, want 2", s.Key, s.Late)
		}
	}
	if st := w.Stats(); st.Records != 9 || st.Late != 2 || st.Sources != 4 || st.Series != 2 {
		t.Errorf("stats %+v", st)
	}
	// Pending shows the open intervals of a watch that was not flushed.
	w2 := newWatch(t, set)
	apply(t, w2, []op{{t: at(0.5), src: "a", fams: []int{0}}, {t: at(1.5), src: "a", fams: []int{0}}, {t: at(1.6), src: "b", fams: []int{0}}})
	p := w2.Pending(0)
	if len(p) != 2 || p[0].NewSources != 1 || p[1].NewSources != 1 || p[1].Sources != 2 || p[1].CumulativeSources != 2 {
		t.Errorf("pending %+v", p)
	}
}

// TestCaps checks that records past the caps are refused and change
// nothing.
func TestCaps(t *testing.T) {
	t.Parallel()
	set := watch.DefaultSettings
	set.MaxSources = 3
	set.MaxSeries = 2
	w := newWatch(t, set)
	t0 := time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)
	rec := func(src string, m int, fams ...int) error {
		return w.Add(0, &detect.Record{Time: t0.Add(time.Duration(m) * time.Minute), Source: []byte(src)}, fams)
	}
	for i, s := range []string{"a", "b", "c"} {
		if err := rec(s, i, 0); err != nil {
			t.Fatal(err)
		}
	}
	before := dump(w)
	if err := rec("d", 3, 0); err == nil || !strings.Contains(err.Error(), "max_sources") {
		t.Errorf("a fourth source: %v", err)
	}
	if err := rec("a", 3, 1); err == nil || !strings.Contains(err.Error(), "max_series") {
		t.Errorf("a third series: %v", err)
	}
	if err := rec("a", 3, 7); err == nil {
		t.Error("a family out of range was accepted")
	}
	if err := w.Add(0, &detect.Record{Time: time.Date(9001, 1, 1, 0, 0, 0, 0, time.UTC), Source: []byte("a")}, []int{0}); err == nil {
		t.Error("a time past forecast.MaxTime was accepted")
	}
	// a time that would make the series longer than forecast.MaxRows
	if err := rec("a", forecast.MaxRows+10, 0); err == nil || !strings.Contains(err.Error(), "MaxRows") {
		t.Errorf("a record %d intervals ahead: %v", forecast.MaxRows+10, err)
	}
	if after := dump(w); after != before {
		t.Errorf("refused records changed the watch:\n%s", firstDiff(after, before))
	}
	if _, err := w.AddSensor("ucsd-16", 1<<8); err == nil {
		t.Error("a sensor again with another size was accepted")
	}
	if i, err := w.AddSensor("ucsd-16", 1<<16); err != nil || i != 0 {
		t.Errorf("the sensor again: %d, %v", i, err)
	}
	if _, err := w.AddSensor("everything", 1<<32); err == nil {
		t.Error("a sensor of the whole space was accepted")
	}
}

// TestAttempts checks that connection attempts count per transport and
// destination port (and in the sensor's series), requests per family, and
// that the keys name them.
func TestAttempts(t *testing.T) {
	t.Parallel()
	w := newWatch(t, watch.DefaultSettings)
	t0 := time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)
	recs := []detect.Record{
		{Time: t0, Source: []byte("a"), Attempt: true, Transport: detect.TCP, DstPort: 80},
		{Time: t0.Add(time.Second), Source: []byte("b"), Attempt: true, Transport: detect.TCP, DstPort: 80},
		{Time: t0.Add(2 * time.Second), Source: []byte("a"), Attempt: true, Transport: detect.UDP, DstPort: 1434},
		{Time: t0.Add(3 * time.Second), Source: []byte("c")},
	}
	for i := range recs {
		var fams []int
		if i == 3 {
			fams = []int{0}
		}
		if err := w.Add(0, &recs[i], fams); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := map[string]forecast.Row{
		"ucsd-16":                 {Time: t0, Probes: 4, Sources: 3, NewSources: 3, CumulativeSources: 3},
		"ucsd-16/port/tcp/80":     {Time: t0, Probes: 2, Sources: 2, NewSources: 2, CumulativeSources: 2},
		"ucsd-16/port/udp/1434":   {Time: t0, Probes: 1, Sources: 1, NewSources: 1, CumulativeSources: 1},
		"ucsd-16/family/code-red": {Time: t0, Probes: 1, Sources: 1, NewSources: 1, CumulativeSources: 1},
	}
	got := map[string]forecast.Row{}
	for _, s := range w.Series() {
		rows := w.Rows(s.Index)
		if len(rows) != 1 {
			t.Fatalf("%s: %d rows", s.Key, len(rows))
		}
		got[s.Key.String()] = rows[0]
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("series %v, want %v", got, want)
	}
}

// TestSnapshotLarge saves a larger input (two waves: tens of thousands of
// sources, tables by source id) in full at half way and by a checkpoint at
// three quarters, restores, feeds the rest and gets what one Watch fed
// everything gets.
func TestSnapshotLarge(t *testing.T) {
	t.Parallel()
	ops := waves(2, 50)
	ref := newWatch(t, watch.DefaultSettings)
	apply(t, ref, ops)
	if err := ref.Flush(); err != nil {
		t.Fatal(err)
	}
	wantEv := events(ref)
	w := newWatch(t, watch.DefaultSettings)
	h, q := len(ops)/2, len(ops)*3/4
	apply(t, w, ops[:h])
	full := w.Full()
	evs := events(w)
	apply(t, w, ops[h:q])
	inc := w.Checkpoint()
	r, err := watch.Restore(watch.Config{Settings: watch.DefaultSettings, Families: families}, append(full.Log, inc.Log...), inc.Hot)
	if err != nil {
		t.Fatal(err)
	}
	sameState(t, r, w, "restored")
	apply(t, r, ops[q:])
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	sameState(t, r, ref, "restored and fed the rest")
	if evs = append(evs, events(r)...); !slices.Equal(evs, wantEv) {
		t.Errorf("events\n%s\nwant\n%s", strings.Join(evs, "\n"), strings.Join(wantEv, "\n"))
	}
	t.Logf("%d records, %d sources; full log %d bytes, checkpoint %d, hot %d", len(ops), ref.Stats().Sources, len(full.Log), len(inc.Log), len(inc.Hot))
}

// TestRestoreVersion1Log restores a snapshot saved before the log wrote
// IPv4 sources in 4 bytes (testdata/version1.log and .hot: a Full save of
// smallOps' first 300 calls and a Checkpoint after 150 more, made at
// a297482, when sources were their text): it is the Watch fed those
// calls, and goes on as it does.
func TestRestoreVersion1Log(t *testing.T) {
	t.Parallel()
	ops, set := smallOps(t)
	log, err := os.ReadFile("testdata/version1.log")
	if err != nil {
		t.Fatal(err)
	}
	hot, err := os.ReadFile("testdata/version1.hot")
	if err != nil {
		t.Fatal(err)
	}
	cfg := watch.Config{Settings: set, Families: families}
	r, err := watch.Restore(cfg, log, hot)
	if err != nil {
		t.Fatal(err)
	}
	w := newWatch(t, set)
	apply(t, w, ops[:450])
	sameState(t, r, w, "restored from version 1")
	apply(t, r, ops[450:])
	apply(t, w, ops[450:])
	sameState(t, r, w, "restored from version 1 and fed the rest")
	// Saved again in the new form: a log of old and new records.
	snap := r.Checkpoint()
	r2, err := watch.Restore(cfg, append(log, snap.Log...), snap.Hot)
	if err != nil {
		t.Fatal(err)
	}
	sameState(t, r2, w, "version 1 and a new checkpoint")
	if w.Stats().Sources == 0 || !bytes.Contains(log, []byte("10.")) {
		t.Fatal("the fixture holds no source text")
	}
}
