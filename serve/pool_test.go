package serve

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"wormwatch/serve/servetest"
	"wormwatch/watch"
)

// TestPool follows two logs of two sensors (a Code Red web server's log
// cut in two by source, so that many sources are seen by both sensors)
// with a pool of the two: each sensor's series is its own log's, and the
// pool's is, row for row, the series of one sensor that sees both logs
// with the sum of their sizes (the union's sources counted once), as a
// batch watch of the merged log makes it; the pool raises its own alarm.
func TestPool(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pa, pb, merged := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log"), filepath.Join(dir, "merged.log")
	conf := filepath.Join(dir, "serve.toml")
	writeFile(t, conf, []byte("[[pool]]\nname = \"both\"\nsensors = [\"a\", \"b\"]\n"))
	cfg := loadConfig(t, conf, []Input{logInput(t, pa, "name=a", "size=65536"), logInput(t, pb, "name=b", "size=32768")},
		servetest.Sets(filepath.Join(dir, "data"), "watch.lateness=64", "service.commit_interval=50ms"))
	r := start(t, cfg, Options{})
	ivs := servetest.CodeRedLog(t, time.Date(2001, 7, 19, 16, 0, 0, 0, time.UTC), 1)
	var all []byte
	var na, nb int64
	for i := 0; i < len(ivs); i += 30 { // 30 intervals at a time: none late (lateness 64)
		var a, b []byte
		for _, iv := range ivs[i:min(i+30, len(ivs))] {
			for _, line := range bytes.SplitAfter(iv.Lines, []byte("\n")) {
				if len(line) == 0 {
					continue
				}
				// by the last digit of the address: most sources probe both
				// sensors over the day, each probe one of them
				if src := line[:bytes.IndexByte(line, ' ')]; (src[len(src)-1]+byte(len(a)+len(b)))%3 == 0 {
					a = append(a, line...)
				} else {
					b = append(b, line...)
				}
			}
			all = append(all, iv.Lines...)
		}
		servetest.AppendFile(t, pa, a)
		servetest.AppendFile(t, pb, b)
		na, nb = na+int64(len(a)), nb+int64(len(b))
		servetest.WaitFor(t, "both logs", func() bool { return r.committedOffset(t, pa) == na && r.committedOffset(t, pb) == nb })
	}
	writeFile(t, merged, all)
	w := batchWatch(t, cfg, "both", 65536+32768, merged)
	for i, info := range w.Series() {
		want := rowsOf(w, i)
		got := storedRows(t, r, info.Key.String())
		if len(want) == 0 || !equalRows(got, want) {
			t.Errorf("pool series %s: %d rows, the merged log's sensor has %d; they differ", info.Key, len(got), len(want))
		}
	}
	for _, s := range []struct {
		name string
		size uint64
		path string
	}{{"a", 65536, pa}, {"b", 32768, pb}} {
		w := batchWatch(t, cfg, s.name, s.size, s.path)
		if got, want := storedRows(t, r, s.name), rowsOf(w, seriesIndex(w, s.name)); len(want) == 0 || !equalRows(got, want) {
			t.Errorf("sensor %s: %d rows, its log alone %d; they differ", s.name, len(got), len(want))
		}
	}
	if code, body := r.get(t, "/api/v1/alarms"); code != 200 || !bytes.Contains(body, []byte(`"both`)) {
		t.Errorf("no alarm of the pool: %d %s", code, body)
	}
}

// rowsOf returns series i of a watch as the API writes rows.
func rowsOf(w *watch.Watch, i int) []RowJSON {
	var out []RowJSON
	for _, row := range w.Rows(i) {
		out = append(out, rowJSON("", storeRow(row)))
	}
	return out
}

// seriesIndex returns the index of the series with the key in a watch.
func seriesIndex(w *watch.Watch, key string) int {
	for i, info := range w.Series() {
		if info.Key.String() == key {
			return i
		}
	}
	return -1
}

// storedRows returns the rows of a series as GET /api/v1/series/KEY
// answers them.
func storedRows(t *testing.T, r *running, key string) []RowJSON {
	t.Helper()
	var got struct {
		Rows []RowJSON `json:"rows"`
	}
	code, body := r.get(t, "/api/v1/series/"+key+"?limit=1100000")
	if code != 200 || json.Unmarshal(body, &got) != nil {
		t.Fatalf("series %s: %d %s", key, code, body)
	}
	return got.Rows
}

// equalRows reports whether two lists of rows are the same.
func equalRows(a, b []RowJSON) bool { return reflect.DeepEqual(a, b) }

// TestPoolConfig: a pool's mistakes are configuration errors naming the
// file, the key and why.
func TestPoolConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ins := []Input{logInput(t, filepath.Join(dir, "a.log"), "name=a"), logInput(t, filepath.Join(dir, "b.log"), "name=b")}
	for _, c := range []struct{ table, want string }{
		{"name = \"a\"\nsensors = [\"a\", \"b\"]", "pool.a.name: a is the name of a sensor"},
		{"name = \"p\"\nsensors = [\"a\"]", "pool.p.sensors: 1 of them"},
		{"name = \"p\"\nsensors = [\"a\", \"c\"]", `"c" is no sensor of the inputs`},
		{"name = \"p\"\nsensors = [\"a\", \"a\"]", `"a" is given twice`},
		{"sensors = [\"a\", \"b\"]", "pool.0.name"},
	} {
		conf := filepath.Join(dir, "serve.toml")
		writeFile(t, conf, []byte("[[pool]]\n"+c.table+"\n"))
		_, err := Load(conf, Overrides{Sets: servetest.Sets(filepath.Join(dir, "data")), Inputs: ins})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "serve.toml") {
			t.Errorf("%q: error %v, want one naming serve.toml and %q", c.table, err, c.want)
		}
	}
}
