package dashboard_test

import (
	"bytes"
	"context"
	"image/png"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"wormwatch/internal/chrometest"
	"wormwatch/serve"
	"wormwatch/serve/servetest"
)

// startService runs a real service (serve.New and Run, as wormwatch serve
// does) on loopback until the test ends, following the log at logPath as
// the sensor web, a /16; conf is a configuration file ("" for none) and
// sets are configuration assignments. It returns the service's URL.
func startService(t *testing.T, dir, logPath, conf string, sets ...string) string {
	t.Helper()
	in, err := serve.ParseInputFlag("log", logPath+",name=web,size=65536")
	if err != nil {
		t.Fatal(err)
	}
	// commits and polls at a browser's pace, not at serve's own tests'
	all := servetest.Sets(filepath.Join(dir, "data"), append([]string{"service.commit_interval=100ms", "service.poll=50ms", "service.shutdown_grace=10s"}, sets...)...)
	cfg, err := serve.Load(conf, serve.Overrides{Sets: all, Inputs: []serve.Input{in}})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := serve.New(context.Background(), cfg, serve.Options{Logger: servetest.Logger(t, slog.LevelWarn)})
	if err != nil {
		t.Fatal(err)
	}
	servetest.Run(t, svc.Run)
	return "http://" + svc.Addr().String()
}

// newBrowser starts Chromium with a window of 1280 x 800, for the
// subtests to share.
func newBrowser(t *testing.T) *chrometest.Browser {
	return chrometest.Start(t, chrometest.Options{Need: "the browser test of the dashboard", Timeout: 2 * time.Minute,
		Width: 1280, Height: 800, Flags: []chromedp.ExecAllocatorOption{chromedp.Flag("hide-scrollbars", true)}})
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, tb *chrometest.Tab, expr string) T {
	t.Helper()
	v, err := chromedp.Run(tb.Ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it holds, failing after
// timeout.
func waitFor(t *testing.T, tb *chrometest.Tab, what, cond string, timeout time.Duration) {
	t.Helper()
	if _, err := chromedp.Run(tb.Ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		t.Fatalf("waiting for %s (%s): %v", what, cond, err)
	}
}

// The sensor web's chart of its series, and what the page shows.
const (
	seriesSVG = `document.querySelector('article[data-sensor="web"] svg[data-series]')`
	lastPoint = `(function () { var s = ` + seriesSVG + `; return s ? s.getAttribute('data-last') : ''; })()`
)

// checkClean fails the test for every console message and every failed
// request, and for every request to anything but the service.
func checkClean(t *testing.T, tb *chrometest.Tab, base string, allowed func(string) bool) {
	t.Helper()
	tb.Stop()
	for _, m := range tb.Messages() {
		switch {
		case allowed != nil && allowed(m.Text):
			t.Logf("console %s (expected): %s", m.Type, m.Text)
		case m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleWarning:
			t.Errorf("console %s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line+1)
		default:
			t.Logf("console %s: %s", m.Type, m.Text)
		}
	}
	for _, f := range tb.Failed() {
		if allowed != nil && allowed(f) {
			continue
		}
		t.Errorf("failed request: %s", f)
	}
	requests := tb.Requests()
	if len(requests) < 5 {
		t.Errorf("saw %d requests: the request listener is not working", len(requests))
	}
	for _, u := range requests {
		if !strings.HasPrefix(u, base+"/") {
			t.Errorf("the page requested %s: it must load nothing but the service's own files and API", u)
		}
	}
}

// TestDashboard runs a real service following a log, opens the page in
// headless Chromium and checks, as a user would see it: the page loads
// with every part filled and no console message or failed request; a line
// appended to the log shows a new point within 2 s; a Code Red outbreak
// appended raises the alarm in the banner, the tables and the forecast
// chart; the controls are reached with Tab and show their focus; the log
// scale is toggled with the keyboard; a narrow window scrolls nothing
// sideways. It saves screenshots to /tmp (and to $WORMWATCH_DASHBOARD_SCREENSHOT).
func TestDashboard(t *testing.T) {
	b := newBrowser(t)
	t.Run("live", func(t *testing.T) { testLive(t, b) })
	t.Run("token", func(t *testing.T) { testToken(t, b) })
}

func testLive(t *testing.T, b *chrometest.Browser) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	ms := servetest.CodeRedLog(t, time.Date(2001, 7, 19, 17, 30, 0, 0, time.UTC), 1)
	split := slices.IndexFunc(ms, func(m servetest.Interval) bool { return !m.Start.Before(time.Date(2001, 7, 19, 14, 0, 0, 0, time.UTC)) })
	if err := os.WriteFile(logPath, servetest.Lines(ms[:split]), 0o644); err != nil {
		t.Fatal(err)
	}
	base := startService(t, dir, logPath, alertConfig(t, dir))
	tb := b.Open(t)
	t0 := time.Now()
	if err := chromedp.Do(tb.Ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tb, "the page to load", `document.body.dataset.loaded === 'true' && `+seriesSVG+` !== null && +`+seriesSVG+`.dataset.points > 0`, 15*time.Second)
	waitFor(t, tb, "the event stream", `document.getElementById('conn').dataset.state === 'live'`, 5*time.Second)
	waitFor(t, tb, "detect's report", `document.querySelectorAll('#families-table tbody tr td:not(.empty)').length > 0`, 5*time.Second)
	t.Logf("page loaded in %v", time.Since(t0).Round(time.Millisecond))
	state := eval[string](t, tb, `document.getElementById('banner').dataset.state`)
	if state == "alarm" {
		t.Fatalf("an alarm before the outbreak: banner %q", eval[string](t, tb, `document.getElementById('banner').textContent`))
	}
	fam := eval[string](t, tb, `document.querySelector('#families-table tbody').textContent`)
	if !strings.Contains(fam, "Code Red") {
		t.Errorf("the families seen do not name Code Red: %q", fam)
	}

	// A new point within 2 s of the lines that close its interval.
	before := eval[string](t, tb, lastPoint)
	next := split
	for len(ms[next].Lines) == 0 {
		next++
	}
	appended := time.Now()
	servetest.AppendFile(t, logPath, servetest.Lines(ms[split:next+1]))
	waitFor(t, tb, "a new point", lastPoint+` > `+strconv.Quote(before), 10*time.Second)
	took := time.Since(appended)
	after := eval[string](t, tb, lastPoint)
	t.Logf("lines of %s appended: the point of %s (before: %s) shown after %v", ms[next].Start.Format("15:04"), after, before, took.Round(time.Millisecond))
	if took > 2*time.Second {
		t.Errorf("the new point took %v to show, want at most 2 s", took)
	}

	// The outbreak: the alarm appears in the banner, the tables and the
	// forecast.
	servetest.AppendFile(t, logPath, servetest.Lines(ms[next+1:]))
	waitFor(t, tb, "the alarm banner", `document.getElementById('banner').dataset.state === 'alarm'`, 20*time.Second)
	banner := eval[string](t, tb, `document.getElementById('banner').textContent`)
	live := eval[string](t, tb, `document.getElementById('banner').getAttribute('aria-live')`)
	if !strings.Contains(banner, "ALARM") || !strings.Contains(banner, "web") || live != "assertive" {
		t.Errorf("banner %q (aria-live %q): want the alarm of web, assertive", banner, live)
	}
	waitFor(t, tb, "the alarm in the history", `document.querySelector('#history-table tbody td.change[data-to="alarm"]') !== null`, 5*time.Second)
	waitFor(t, tb, "the alarm in the series table", `document.querySelector('#series-table tbody .badge[data-state="alarm"]') !== null`, 5*time.Second)
	waitFor(t, tb, "the forecast band", `(function () { var s = document.querySelector('article[data-sensor="web"] svg[data-forecast]'); return !!s && +s.dataset.forecast > 0 && !!s.querySelector('path.band') && !!s.querySelector('line.vline'); })()`, 20*time.Second)
	waitFor(t, tb, "the whole log", lastPoint+` >= "2001-07-19T17:2"`, 20*time.Second)
	waitFor(t, tb, "detect's report of the whole log", `document.getElementById('detect-summary').textContent.indexOf('to 2001-07-19 17:2') >= 0`, 20*time.Second)
	t.Logf("alarm shown: %s", banner)
	checkAlerts(t, tb)

	checkKeyboard(t, tb)
	retryDeadLetter(t, tb)

	// Space on the log scale's checkbox redraws the chart in log scale.
	if err := chromedp.Do(tb.Ctx, chromedp.Focus(chromedp.ID("sensor-1-log")), chromedp.KeyEvent(" ")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tb, "the log scale", `document.getElementById('sensor-1-log').checked && `+seriesSVG+`.querySelector('title').textContent.indexOf('log scale') >= 0`, 5*time.Second)
	if err := chromedp.Do(tb.Ctx, chromedp.Evaluate[chromedp.Void](`document.activeElement.blur(); window.scrollTo(0, 0)`)); err != nil {
		t.Fatal(err)
	}

	checkShots(t, tb)
	checkClean(t, tb, base, nil)
}

// checkKeyboard presses Tab from the top of the page: it reaches every
// control, each showing its focus.
func checkKeyboard(t *testing.T, tb *chrometest.Tab) {
	t.Helper()
	type stop struct {
		ID      string  `json:"id"`
		Tag     string  `json:"tag"`
		Outline float64 `json:"outline"`
		Style   string  `json:"style"`
	}
	const focused = `(function () { var e = document.activeElement; var s = getComputedStyle(e);
		return {id: e.id || e.textContent.trim().slice(0, 30), tag: e.tagName.toLowerCase(), outline: parseFloat(s.outlineWidth) || 0, style: s.outlineStyle}; })()`
	if err := chromedp.Do(tb.Ctx, chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)`)); err != nil {
		t.Fatal(err)
	}
	var stops []stop
	reached := map[string]bool{}
	for range 120 {
		if err := chromedp.Do(tb.Ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatal(err)
		}
		s := eval[stop](t, tb, focused)
		if s.Tag == "body" {
			break
		}
		stops = append(stops, s)
		reached[s.ID] = true
		if s.Style == "none" || s.Outline < 2 {
			t.Errorf("%s %q has the keyboard's focus but no visible outline (%s %vpx)", s.Tag, s.ID, s.Style, s.Outline)
		}
	}
	var ids []string
	for _, s := range stops {
		ids = append(ids, s.ID)
	}
	t.Logf("Tab stops: %q", ids)
	for _, want := range []string{"sensor-1-series", "sensor-1-log", "sensor-1-probes", "sensor-1-sources", "sensor-1-new_sources", "prefix", "detect-refresh"} {
		if !reached[want] {
			t.Errorf("Tab never reaches #%s", want)
		}
	}
	if !reached["Skip to the sensors"] || !reached["Latest intervals as a table"] {
		t.Errorf("Tab never reaches the skip link or the table's disclosure")
	}
	links := 0
	for id := range reached {
		if strings.HasPrefix(id, "STIX bundle of") || strings.HasPrefix(id, "CSAF draft of") {
			links++
		}
	}
	if !reached["Retry"] || links < 2 {
		t.Errorf("Tab never reaches a dead letter's Retry button (%v) or the bundles' and drafts' links (%d)", reached["Retry"], links)
	}
}

// checkShots saves screenshots (the first screen at 1280 x 800, the whole
// page, and a narrow window, which must not scroll sideways).
func checkShots(t *testing.T, tb *chrometest.Tab) {
	t.Helper()
	time.Sleep(300 * time.Millisecond)
	shot, err := chromedp.Run(tb.Ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	saveShot(t, "/tmp/wormwatch-dashboard.png", shot, 1280, 800)
	if p := os.Getenv("WORMWATCH_DASHBOARD_SCREENSHOT"); p != "" {
		saveShot(t, p, shot, 1280, 800)
	}
	full, err := chromedp.Run(tb.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	saveShot(t, "/tmp/wormwatch-dashboard-full.png", full, 1280, 800)
	if err := chromedp.Do(tb.Ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	type widths struct {
		Scroll float64 `json:"scroll"`
		Client float64 `json:"client"`
	}
	wd := eval[widths](t, tb, `({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})`)
	if wd.Scroll > wd.Client+1 {
		wide := eval[[]string](t, tb, `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1 && !(e.parentElement.closest('.table-wrap')))
			.slice(0, 8).map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))`)
		t.Errorf("at 390 px wide the page is %v px wide: it scrolls sideways; elements past the edge: %q", wd.Scroll, wide)
	}
	narrow, err := chromedp.Run(tb.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	saveShot(t, "/tmp/wormwatch-dashboard-narrow.png", narrow, 390, 844)
}

// saveShot checks that a screenshot is a PNG of at least w x h and saves
// it.
func saveShot(t *testing.T, path string, shot []byte, w, h int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	if bd := img.Bounds(); bd.Dx() < w || bd.Dy() < h {
		t.Errorf("screenshot %s is %d x %d, want at least %d x %d", path, bd.Dx(), bd.Dy(), w, h)
	}
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d KB)", path, len(shot)>>10)
}

// testToken runs a service that wants a read token: the page asks for it,
// reads the API with it and follows the event stream with it (the token
// query parameter, which only the stream takes): a line appended then
// shows a new point. The only console messages are the refusals before
// the token was given.
func testToken(t *testing.T, b *chrometest.Browser) {
	dir := t.TempDir()
	const token = "s3cret-read-token-0123456789"
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "access.log")
	ms := servetest.CodeRedLog(t, time.Date(2001, 7, 19, 14, 30, 0, 0, time.UTC), 1)
	if err := os.WriteFile(logPath, servetest.Lines(ms[:len(ms)-20]), 0o644); err != nil {
		t.Fatal(err)
	}
	base := startService(t, dir, logPath, "", "service.token_file="+tokenFile)
	tb := b.Open(t)
	if err := chromedp.Do(tb.Ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tb, "the token form", `!document.getElementById('auth').hidden && document.activeElement === document.getElementById('auth-token')`, 10*time.Second)
	refusals := len(tb.Messages())
	if err := chromedp.Do(tb.Ctx, chromedp.SendKeys(chromedp.ID("auth-token"), token+kb.Enter)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tb, "the page to load with the token", `document.body.dataset.loaded === 'true' && `+seriesSVG+` !== null && +`+seriesSVG+`.dataset.points > 0`, 15*time.Second)
	waitFor(t, tb, "the event stream", `document.getElementById('conn').dataset.state === 'live'`, 5*time.Second)
	if got := eval[string](t, tb, `sessionStorage.getItem('wormwatch.token')`); got != token {
		t.Errorf("sessionStorage holds %q", got)
	}
	before := eval[string](t, tb, lastPoint)
	servetest.AppendFile(t, logPath, servetest.Lines(ms[len(ms)-20:]))
	waitFor(t, tb, "a new point through the stream", lastPoint+` > `+strconv.Quote(before), 10*time.Second)
	late := tb.Messages()[refusals:]
	for _, u := range tb.Requests() {
		q, err := url.Parse(u)
		if err == nil && q.Query().Has("token") && q.Path != "/api/v1/events" {
			t.Errorf("the token went in the query of %s: only the event stream takes it so", q.Path)
		}
	}
	for _, m := range late {
		if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleWarning {
			t.Errorf("console %s after the token was given: %s", m.Type, m.Text)
		}
	}
	checkClean(t, tb, base, func(s string) bool {
		return strings.Contains(s, "401") || strings.Contains(s, "text/event-stream")
	})
}
