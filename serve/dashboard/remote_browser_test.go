package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"wormwatch/forecast"
	"wormwatch/serve/servetest"
)

// TestDashboardPushed opens the page of a service with a remote sensor,
// far, then pushes the simulated Code Red /16 telescope's day as far's
// series, in two pushes: the page makes far's card when its first rows
// come on the event stream, and after the second push shows far's alarm in
// the banner, the history and the series table, and its forecast band,
// with no console message or failed request.
func TestDashboardPushed(t *testing.T) {
	b := newBrowser(t)
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	if err := os.WriteFile(logPath, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	const token = "push-token-0123456789abcdef"
	tok := filepath.Join(dir, "push.token")
	if err := os.WriteFile(tok, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "serve.toml")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("[[remote]]\nsensor = \"far\"\ntoken_file = %q\n", tok)), 0o644); err != nil {
		t.Fatal(err)
	}
	base := startService(t, dir, logPath, conf)
	data, err := os.ReadFile(servetest.ModuleFile(t, servetest.CodeRedSeries))
	if err != nil {
		t.Fatal(err)
	}
	s, err := forecast.ReadSeries(context.Background(), strings.NewReader(string(data)), "far")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	header, rows := lines[0], lines[1:len(lines)-1]
	cut := 4 * 60 // 14:00, before the alarm
	push := func(rows []string) {
		t.Helper()
		code, body := servetest.Request(t, http.DefaultClient, "POST", base+"/api/v1/series/far", strings.NewReader(header+strings.Join(rows, "")),
			"Authorization", "Bearer "+token, "Content-Type", "text/csv")
		if code != 200 {
			t.Fatalf("push: %d %s", code, body)
		}
	}
	tb := b.Open(t)
	if err := chromedp.Do(tb.Ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tb, "the page to load", `document.body.dataset.loaded === 'true'`, 15*time.Second)
	waitFor(t, tb, "the event stream", `document.getElementById('conn').dataset.state === 'live'`, 5*time.Second)
	push(rows[:cut])
	card := `document.querySelector('article[data-sensor="far"] svg[data-series]')`
	waitFor(t, tb, "far's card", card+` !== null && +`+card+`.dataset.points > 0`, 15*time.Second)
	if state := eval[string](t, tb, `document.getElementById('banner').dataset.state`); state == "alarm" {
		t.Fatalf("an alarm before the outbreak")
	}
	push(rows[cut-5:])
	waitFor(t, tb, "the alarm banner", `document.getElementById('banner').dataset.state === 'alarm'`, 20*time.Second)
	banner := eval[string](t, tb, `document.getElementById('banner').textContent`)
	if !strings.Contains(banner, "far") {
		t.Errorf("banner %q: want far's alarm", banner)
	}
	waitFor(t, tb, "the alarm in the history", `document.querySelector('#history-table tbody td.change[data-to="alarm"]') !== null`, 5*time.Second)
	waitFor(t, tb, "the alarm in the series table", `document.querySelector('#series-table tbody .badge[data-state="alarm"]') !== null`, 5*time.Second)
	waitFor(t, tb, "the forecast band", `(function () { var s = document.querySelector('article[data-sensor="far"] svg[data-forecast]'); return !!s && +s.dataset.forecast > 0 && !!s.querySelector('path.band'); })()`, 20*time.Second)
	last := s.Rows[len(s.Rows)-1].Time.Format("2006-01-02T15:04")
	waitFor(t, tb, "the last row", card+`.getAttribute('data-last') >= `+fmt.Sprintf("%q", last[:15]), 20*time.Second)
	t.Logf("far's alarm shown: %s", banner)
	checkClean(t, tb, base, nil)
}
