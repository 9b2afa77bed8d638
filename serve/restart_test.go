package serve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wormwatch/serve/servetest"
)

// event is one Server-Sent Event.
type event struct {
	name, id string
	data     []byte
}

// events opens the event stream (with Last-Event-ID when lastID is not
// "") and returns its events on a channel, closed when the stream ends.
func events(t *testing.T, r *running, lastID string) <-chan event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", r.url+"/api/v1/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan event, 1024)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 16<<20)
		var e event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if e.name != "" {
					out <- e
				}
				e = event{}
			case strings.HasPrefix(line, "event: "):
				e.name = line[7:]
			case strings.HasPrefix(line, "id: "):
				e.id = line[4:]
			case strings.HasPrefix(line, "data: "):
				e.data = []byte(line[6:])
			}
		}
	}()
	return out
}

// next returns the next event, failing after 30 s.
func next(t *testing.T, ch <-chan event) event {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatal("the event stream ended")
		}
		return e
	case <-time.After(30 * time.Second):
		t.Fatal("no event for 30 s")
	}
	return event{}
}

// TestRestartGoesOn stops the service (as SIGTERM does) in the middle of
// a log and starts it again on the same data folder: it goes on where it
// stopped, and at the end equals batch (detect's JSON, the series, the
// transitions). The event stream gives an update per commit; a client
// that comes back with Last-Event-ID gets the updates it missed, or after
// the restart a resync with the transitions since its commit.
func TestRestartGoesOn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	data := servetest.Lines(servetest.CodeRedLog(t, time.Date(2001, 7, 19, 16, 30, 0, 0, time.UTC), 7))
	cut := bytes.IndexByte(data[len(data)/2:], '\n') + len(data)/2 + 1
	cfg := testConfig(t, filepath.Join(dir, "data"), []Input{logInput(t, path, "name=web", "size=65536")})
	servetest.AppendFile(t, path, data[:cut/2])
	r := start(t, cfg, Options{})
	evs := events(t, r, "")
	servetest.AppendFile(t, path, data[cut/2:cut])
	servetest.WaitFor(t, "the first half", func() bool { return r.committedOffset(t, path) == int64(cut) })
	var u Update
	for u.Commit == 0 || len(u.Rows) == 0 {
		e := next(t, evs)
		if err := json.Unmarshal(e.data, &u); err != nil || e.name != "update" || e.id != itoa(u.Commit) {
			t.Fatalf("event %s id %s: %v %s", e.name, e.id, err, e.data)
		}
	}
	if again := next(t, events(t, r, itoa(u.Commit-1))); again.name != "update" || again.id != itoa(u.Commit) {
		t.Errorf("back with Last-Event-ID %d: event %s id %s, want update %d", u.Commit-1, again.name, again.id, u.Commit)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	r = start(t, cfg, Options{})
	t.Logf("restarted in %v", time.Since(t0).Round(time.Millisecond))
	if e := next(t, events(t, r, "0")); e.name != "resync" || !bytes.Contains(e.data, []byte(`"to":"watching"`)) {
		t.Errorf("back with Last-Event-ID 0 after a restart: event %s %.300s, want a resync with the transitions", e.name, e.data)
	}
	servetest.AppendFile(t, path, data[cut:])
	servetest.WaitFor(t, "the whole log", func() bool { return r.committedOffset(t, path) == int64(len(data)) })
	if _, got := r.get(t, "/api/v1/detect"); !bytes.Equal(got, batchDetect(t, []string{path})) {
		t.Fatal("/api/v1/detect after a restart differs from detect's JSON")
	}
	w := batchWatch(t, cfg, "web", 65536, path)
	checkSeries(t, r, w)
	checkTransitions(t, r, w, true)
}

// itoa formats a commit number.
func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestReload adds an input to a running service, then removes the first:
// the second is read from its start, the first stops where it was, and
// detect's JSON is that of both files. A reload that does not fit (a
// sensor's size changed) is refused and the service goes on.
func TestReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	for _, p := range []struct{ path, from string }{{a, "honeynet2004_access_log.10"}, {b, "honeynet2004_access_log.22"}} {
		data := readShared(t, p.from)
		writeFile(t, p.path, data)
	}
	data := filepath.Join(dir, "data")
	r := start(t, testConfig(t, data, []Input{logInput(t, a, "name=a", "sensor=web")}), Options{})
	servetest.WaitFor(t, "a.log", func() bool { return r.committedOffset(t, a) > 0 })
	both := testConfig(t, data, []Input{logInput(t, a, "name=a", "sensor=web"), logInput(t, b, "name=b", "sensor=web")}, "service.log_level=debug")
	if err := r.svc.Reload(context.Background(), both); err != nil {
		t.Fatal(err)
	}
	servetest.WaitFor(t, "b.log", func() bool { return r.committedOffset(t, b) > 0 })
	if _, got := r.get(t, "/api/v1/detect"); !bytes.Equal(got, batchDetect(t, []string{a, b})) {
		t.Fatalf("after adding b.log, /api/v1/detect differs from detect's JSON of a.log b.log")
	}
	bad := testConfig(t, data, []Input{logInput(t, b, "name=b", "sensor=web", "size=2")})
	if err := r.svc.Reload(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "size cannot change") {
		t.Errorf("a reload that changes a sensor's size: %v", err)
	}
	only := testConfig(t, data, []Input{logInput(t, b, "name=b", "sensor=web")})
	if err := r.svc.Reload(context.Background(), only); err != nil {
		t.Fatal(err)
	}
	for _, in := range r.status(t).Inputs {
		if in.Reading != (in.Name == b) {
			t.Errorf("input %s: reading %v after a.log was removed", in.Name, in.Reading)
		}
	}
	if _, got := r.get(t, "/api/v1/detect"); !bytes.Equal(got, batchDetect(t, []string{a, b})) {
		t.Fatalf("after removing a.log, /api/v1/detect differs from detect's JSON of a.log b.log")
	}
}

// readShared reads one of the shared honeynet logs.
func readShared(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "shared", "logs", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}
