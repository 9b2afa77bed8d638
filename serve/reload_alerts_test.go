package serve

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wormwatch/alert"
	"wormwatch/serve/servetest"
	"wormwatch/store"
)

// gateHandler is a log handler that holds the goroutine logging a record
// with the message msg until gate is closed (at most a minute): a test's
// way into the window between two steps of a function that logs between
// them.
type gateHandler struct {
	slog.Handler
	msg  string
	gate <-chan struct{}
}

// Handle holds a record with the message msg, then hands it on.
func (h *gateHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == h.msg {
		select {
		case <-h.gate:
		case <-time.After(time.Minute):
		}
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs keeps the gate.
func (h *gateHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &gateHandler{h.Handler.WithAttrs(as), h.msg, h.gate}
}

// WithGroup keeps the gate.
func (h *gateHandler) WithGroup(name string) slog.Handler {
	return &gateHandler{h.Handler.WithGroup(name), h.msg, h.gate}
}

// plannedTransition is a transition as the batch hook planned it: its
// series and event, the webhooks and artifacts planned for it, the batch
// it came in, and the phase of the reload when it was planned.
type plannedTransition struct {
	series, event string
	hooks         []string // webhook targets
	csaf          bool
	batch         int
	phase         int32 // reloadBefore, reloadDuring or reloadAfter
}

// The phases of TestAlertReloadBoundary's reload.
const (
	reloadBefore = iota // Reload not called yet
	reloadDuring        // Reload called, not returned
	reloadAfter         // Reload returned
)

// TestAlertReloadBoundary checks the rule of a reload that changes the
// [alert] table: each batch is planned whole with one table, the old one
// until the ingest loop applies the reload and the new one from the first
// batch after, which is before Reload returns. The reload adds a second
// sensor's log, renames the webhook (old -> new) and turns the CSAF drafts
// off. Reload is held in its last steps (its "webhook added" log line,
// after the loop applied the reload, before Reload returns) until the new
// sensor's first transition is planned: each transition of the new
// sensor, read only once the loop runs with the new configuration, must
// be planned with the new table, as must each one planned after Reload
// returned; each one before, with the old. Planning with the service's
// configuration of the moment (s.cfg, stored after the loop's step)
// planned the new sensor's first transitions with the old table.
func TestAlertReloadBoundary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rcv := newHookReceiver(t, func(string, int) (int, http.Header) { return 200, nil })
	table := func(name string, csaf bool) string {
		return fmt.Sprintf("[alert]\npoll = \"20ms\"\ncsaf = %v\nbase_url = \"https://wormwatch.test\"\n\n[[alert.webhook]]\nname = %q\nurl = %q\nsecret_file = SECRET_FILE\nevents = [\"opened\", \"changed\", \"closed\", \"watching\"]\n",
			csaf, name, rcv.srv.URL+"/"+name)
	}
	aLog, bLog := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	a, b := logInput(t, aLog, "name=a", "size=65536"), logInput(t, bLog, "name=b", "size=65536")
	sets := []string{"watch.subside=10m", "watch.quiet=20m"}
	before := alertConfig(t, dir, table("old", true), []Input{a}, sets...)
	after := alertConfig(t, dir, table("new", false), []Input{a, b}, sets...)

	var (
		mu      sync.Mutex
		got     []plannedTransition
		batches int
		phase   atomic.Int32
		bSeen   = make(chan struct{})
		once    sync.Once
	)
	record := func(tr []store.Transition, bt *store.Batch) {
		mu.Lock()
		defer mu.Unlock()
		batches++
		first := len(bt.Transitions) - len(tr)
		for i, x := range tr {
			p := plannedTransition{series: x.Series, event: eventName(x.From, x.To), batch: batches, phase: phase.Load()}
			for _, d := range bt.Deliveries {
				switch {
				case d.TransitionIndex != first+i+1:
				case d.Channel == alert.ChannelWebhook:
					p.hooks = append(p.hooks, d.Target)
				case d.Channel == alert.ChannelCSAF:
					p.csaf = true
				}
			}
			got = append(got, p)
			if strings.HasPrefix(x.Series, "b") {
				once.Do(func() { close(bSeen) })
			}
		}
	}
	logger := slog.New(&gateHandler{servetest.Logger(t, slog.LevelInfo).Handler(), "webhook added", bSeen})
	r := start(t, before, Options{Logger: logger, Hook: record})

	// Sensor a to its alarm (15:30) with the old table; sensor b's log is
	// there, not read yet.
	log := servetest.Lines(servetest.CodeRedLog(t, time.Date(2001, 7, 19, 15, 30, 0, 0, time.UTC), 1))
	servetest.AppendFile(t, aLog, log)
	servetest.AppendFile(t, bLog, log)
	servetest.WaitFor(t, "sensor a's log", func() bool { return r.committedOffset(t, aLog) == int64(len(log)) })
	phase.Store(reloadDuring)
	if err := r.svc.Reload(t.Context(), after); err != nil {
		t.Fatal(err)
	}
	phase.Store(reloadAfter)
	select {
	case <-bSeen:
	default:
		t.Fatal("Reload returned before sensor b's first transition was planned: the gate did not hold it")
	}
	// Hours without a probe on sensor a (a page request at 20:00): its
	// alarm subsides and ends, planned after the reload.
	servetest.AppendFile(t, aLog, []byte("192.0.2.7 - - [19/Jul/2001:20:00:00 +0000] \"GET /index.html HTTP/1.1\" 200 - \"-\" \"-\"\n"))
	servetest.WaitFor(t, "sensor a's alarm closed", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.ContainsFunc(got, func(p plannedTransition) bool { return p.series == "a" && p.event == alert.Closed })
	})
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	checkReloadBoundary(t, got)
}

// checkReloadBoundary checks each planned transition against the rule of
// TestAlertReloadBoundary.
func checkReloadBoundary(t *testing.T, got []plannedTransition) {
	t.Helper()
	counts := map[string]int{}
	tables := map[int]string{}
	for _, p := range got {
		table := fmt.Sprintf("%v csaf=%v", p.hooks, p.csaf)
		old := fmt.Sprintf("[old] csaf=%v", p.event != alert.Watching)
		cur := "[new] csaf=false"
		want, why := "", ""
		switch {
		case strings.HasPrefix(p.series, "b"):
			want, why = cur, "sensor b, read only after the reload"
		case p.phase == reloadBefore:
			want, why = old, "planned before Reload was called"
		case p.phase == reloadAfter:
			want, why = cur, "planned after Reload returned"
		}
		if want != "" && table != want {
			t.Errorf("%s %s (batch %d, %s): planned %s, want %s", p.series, p.event, p.batch, why, table, want)
		}
		if prev, ok := tables[p.batch]; ok && prev != strings.TrimSuffix(strings.TrimSuffix(table, " csaf=false"), " csaf=true") {
			t.Errorf("batch %d planned with two tables: %s and %s", p.batch, prev, table)
		}
		tables[p.batch] = strings.TrimSuffix(strings.TrimSuffix(table, " csaf=false"), " csaf=true")
		counts[fmt.Sprintf("%s/phase %d", strings.SplitN(p.series, "/", 2)[0], p.phase)]++
	}
	if counts["a/phase 0"] == 0 || counts["b/phase 1"] == 0 || counts["a/phase 2"] == 0 {
		t.Errorf("transitions per sensor and phase: %v; want some of sensor a before the reload, of sensor b during it, of sensor a after it", counts)
	}
	t.Logf("%d transitions planned, per sensor and phase of the reload: %v", len(got), counts)
}
