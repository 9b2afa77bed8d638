package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"wormwatch/serve/servetest"
)

// TestClock checks the wall clock's part: a live sensor (its latest
// record a minute old) that falls quiet has its intervals closed up to the
// wall clock less clock_delay, with zero rows; a log of 2001 read now is
// never advanced (its rows are those records close).
func TestClock(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var clock atomic.Int64
	clock.Store(now.UnixNano())
	opt := Options{Now: func() time.Time { return time.Unix(0, clock.Load()) }}
	live, old := filepath.Join(dir, "live.log"), filepath.Join(dir, "old.log")
	var lb, ob bytes.Buffer
	for i := range 12 { // 11:58:00 to 11:59:50, and the same in 2001
		at := now.Add(-2*time.Minute + time.Duration(i)*10*time.Second)
		fmt.Fprintf(&lb, "10.0.0.%d - - [%s] \"%s\" 404 - \"-\" \"-\"\n", i, at.Format("02/Jan/2006:15:04:05 -0700"), servetest.CodeRedRequest)
		fmt.Fprintf(&ob, "10.0.0.%d - - [%s] \"%s\" 404 - \"-\" \"-\"\n", i, at.AddDate(-25, 0, 0).Format("02/Jan/2006:15:04:05 -0700"), servetest.CodeRedRequest)
	}
	writeFile(t, live, lb.Bytes())
	writeFile(t, old, ob.Bytes())
	cfg := testConfig(t, filepath.Join(dir, "data"), []Input{logInput(t, live, "name=live"), logInput(t, old, "name=old")},
		"service.clock=true", "service.clock_delay=10s", "service.clock_window=1h")
	r := start(t, cfg, opt)
	rows := func(key string) []RowJSON {
		code, body := r.get(t, "/api/v1/series/"+key)
		var out struct{ Rows []RowJSON }
		if code == 404 {
			return nil
		}
		if code != 200 || json.Unmarshal(body, &out) != nil {
			t.Fatalf("%s: %d %s", key, code, body)
		}
		return out.Rows
	}
	servetest.WaitFor(t, "both logs", func() bool {
		return r.committedOffset(t, live) == int64(lb.Len()) && r.committedOffset(t, old) == int64(ob.Len())
	})
	// At 12:00:00 the clock closes what ended by 11:59:50: 11:58 only.
	servetest.WaitFor(t, "11:58 closed by the clock", func() bool { return len(rows("live")) == 1 })
	clock.Store(now.Add(5 * time.Minute).UnixNano()) // 12:05:00: up to 12:04:50
	servetest.WaitFor(t, "12:00 to 12:03 closed by the clock", func() bool { return len(rows("live")) == 6 })
	got := rows("live")
	if got[0].Probes != 6 || got[1].Probes != 6 || got[5].Probes != 0 || !got[5].Time.Equal(now.Add(3*time.Minute)) {
		t.Errorf("rows of the live sensor: %+v", got)
	}
	if n := len(rows("old")); n != 0 {
		t.Errorf("the log of 2001 has %d rows closed by the clock", n)
	}
	clock.Store(now.Add(2 * time.Hour).UnixNano()) // the sensor's latest record is now 2 h old: not live
	r.stop()
	if n := len(rows2(t, cfg)); n != 6 {
		t.Errorf("after the clock passed the window: %d rows, want 6", n)
	}
}

// rows2 opens the store of cfg after its service stopped and returns the
// rows of the series live.
func rows2(t *testing.T, cfg *Config) []RowJSON {
	t.Helper()
	r := start(t, cfg, Options{Now: func() time.Time { return time.Date(2026, 3, 1, 14, 0, 0, 0, time.UTC) }})
	code, body := r.get(t, "/api/v1/series/live")
	var out struct{ Rows []RowJSON }
	if code != 200 || json.Unmarshal(body, &out) != nil {
		t.Fatalf("%d %s", code, body)
	}
	return out.Rows
}

// TestZeekEqualsDetect follows Zeek's conn.log and http.log in TSV and
// JSON, appended line by line, as inputs of kind zeek: /api/v1/detect is
// detect's JSON of the four files.
func TestZeekEqualsDetect(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var ins []Input
	var paths []string
	datas := map[string][]byte{}
	for _, name := range []string{"conn.log", "http.log", "conn.json", "http.json"} {
		data, err := os.ReadFile(filepath.Join("..", "detect", "testdata", "zeek", name))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		writeFile(t, p, nil)
		paths, datas[p] = append(paths, p), data
		in, err := ParseInputFlag("zeek", p+",name="+nameOf(name)+",sensor=zeek")
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, in)
	}
	r := start(t, testConfig(t, filepath.Join(dir, "data"), ins), Options{})
	for _, p := range paths {
		for rest := datas[p]; len(rest) > 0; {
			n := bytes.IndexByte(rest, '\n') + 1
			servetest.AppendFile(t, p, rest[:n])
			rest = rest[n:]
		}
	}
	for _, p := range paths {
		servetest.WaitFor(t, p, func() bool { return r.committedOffset(t, p) == int64(len(datas[p])) })
	}
	if _, got := r.get(t, "/api/v1/detect"); !bytes.Equal(got, batchDetect(t, paths)) {
		t.Fatalf("/api/v1/detect differs from detect's JSON of the Zeek logs %s", firstDiff(string(got), string(batchDetect(t, paths))))
	}
}

// nameOf makes an input name of a file name.
func nameOf(file string) string {
	return map[string]string{"conn.log": "conn-tsv", "http.log": "http-tsv", "conn.json": "conn-json", "http.json": "http-json"}[file]
}
