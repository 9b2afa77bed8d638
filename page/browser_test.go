package page_test

import (
	"bytes"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"wormwatch/chart"
	"wormwatch/internal/chrometest"
	"wormwatch/page"
)

// figInfo is what the page says about one <figure>.
type figInfo struct {
	ID       string  `json:"id"`
	Hidden   bool    `json:"hidden"`
	Complete bool    `json:"complete"`
	Natural  float64 `json:"natural"`
	Width    float64 `json:"width"`
	Height   float64 `json:"height"`
}

const figuresJS = `Array.from(document.querySelectorAll("figure")).map(function (f) {
	var img = f.querySelector("img");
	var r = img ? img.getBoundingClientRect() : {width: 0, height: 0};
	return {id: f.id, hidden: f.hidden, complete: !!img && img.complete,
		natural: img ? img.naturalWidth : 0, width: r.width, height: r.height};
})`

// mapState is the map viewer's state: the visible frames and the text
// the slider shows.
type mapState struct {
	Visible  []string `json:"visible"`
	Output   string   `json:"output"`
	Value    string   `json:"value"`
	Controls bool     `json:"controls"`
	Labels   []string `json:"labels"`
}

const mapJS = `({
	visible: Array.from(document.querySelectorAll(".map-frame")).filter(function (f) { return !f.hidden && f.getBoundingClientRect().height > 0; }).map(function (f) { return f.id; }),
	output: document.getElementById("map-time").textContent,
	value: document.getElementById("map-slider").value,
	controls: !document.getElementById("map-controls").hidden,
	labels: Array.from(document.querySelectorAll(".map-frame")).map(function (f) { return f.getAttribute("data-label"); })
})`

// TestReportInBrowser opens report.html from disk in headless Chromium and
// checks that every figure is there and drawn, that the map slider works
// from the keyboard and the buttons, that the page writes nothing to the
// console and requests nothing but itself and data: URIs; it saves a
// full-page screenshot (to $WORMWATCH_REPORT_SCREENSHOT too, if set).
func TestReportInBrowser(t *testing.T) {
	b := chrometest.Start(t, chrometest.Options{Need: "the browser test of report.html", Timeout: 90 * time.Second, Width: 1280, Height: 900})
	r, figs := synthetic(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	var buf bytes.Buffer
	if err := page.Write(&buf, r, figs); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	tb := b.Open(t)
	ctx := tb.Ctx
	u := (&url.URL{Scheme: "file", Path: path}).String()
	if err := chromedp.Do(ctx, chromedp.Navigate(u), chromedp.WaitReady(chromedp.CSS("footer"))); err != nil {
		t.Fatalf("opening %s: %v", u, err)
	}
	// Images from data: URIs decode asynchronously; wait until all have
	// loaded or failed (a failed one is reported below).
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`Array.from(document.images).every(function (i) { return i.complete; })`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("waiting for the images to load: %v", err)
	}

	infos, err := chromedp.Run(ctx, chromedp.Evaluate[[]figInfo](figuresJS))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]figInfo{}
	for _, fi := range infos {
		byID[fi.ID] = fi
	}
	for _, fi := range infos {
		if fi.ID == "" {
			t.Errorf("a <figure> without id (image decoded: %v)", fi.Natural > 0)
		}
	}
	broken, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.images).filter(function (i) { return !(i.naturalWidth > 0); }).map(function (i) { return i.src.slice(0, 60); })`))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range broken {
		t.Errorf("an image did not load: %s", b)
	}
	if len(infos) != len(figs) {
		t.Errorf("the page has %d <figure> elements, want %d (one per figure)", len(infos), len(figs))
	}
	var mapIDs []string
	for _, f := range figs {
		id := "fig-" + f.Name
		fi, ok := byID[id]
		switch {
		case !ok:
			t.Errorf("figure %s: no <figure id=%q> in the page", f.Name, id)
			continue
		case !fi.Complete || fi.Natural <= 0:
			t.Errorf("figure %s: its image did not decode (complete %v, natural width %v)", f.Name, fi.Complete, fi.Natural)
		}
		if strings.HasPrefix(f.Name, chart.MapPrefix) {
			mapIDs = append(mapIDs, id)
			continue // hidden frames have no size; checked below as they are shown
		}
		if fi.Width < 300 || fi.Height < 150 {
			t.Errorf("figure %s is drawn %.0f x %.0f px, want at least 300 x 150", f.Name, fi.Width, fi.Height)
		}
	}
	if len(mapIDs) < 2 {
		t.Fatalf("the synthetic result has %d maps, the slider test needs at least 2", len(mapIDs))
	}

	state := func() mapState {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[mapState](mapJS))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	expect := func(step string, want int) {
		t.Helper()
		s := state()
		if !s.Controls {
			t.Errorf("%s: the map controls are hidden", step)
		}
		if len(s.Visible) != 1 || s.Visible[0] != mapIDs[want] {
			t.Errorf("%s: visible map frames %q, want only %s", step, s.Visible, mapIDs[want])
		}
		if s.Output != s.Labels[want] || s.Output == "" {
			t.Errorf("%s: the slider shows %q, want %q", step, s.Output, s.Labels[want])
		}
		fi, err := chromedp.Run(ctx, chromedp.Evaluate[[]figInfo](figuresJS))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fi {
			if f.ID == mapIDs[want] && (f.Width < 300 || f.Height < 200) {
				t.Errorf("%s: map %s is drawn %.0f x %.0f px, want at least 300 x 200", step, f.ID, f.Width, f.Height)
			}
		}
	}
	last := len(mapIDs) - 1
	expect("on load", 0)
	if err := chromedp.Do(ctx, chromedp.Focus(chromedp.ID("map-slider")), chromedp.KeyEvent(kb.ArrowRight)); err != nil {
		t.Fatal(err)
	}
	expect("after the right arrow key on the slider", 1)
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.End)); err != nil {
		t.Fatal(err)
	}
	expect("after the End key on the slider", last)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("map-next"))); err != nil {
		t.Fatal(err)
	}
	expect("after the next button at the last frame", 0)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("map-prev"))); err != nil {
		t.Fatal(err)
	}
	expect("after the previous button at the first frame", last)
	if err := chromedp.Do(ctx, chromedp.Focus(chromedp.ID("map-slider")), chromedp.KeyEvent(kb.Home)); err != nil {
		t.Fatal(err)
	}
	expect("after the Home key on the slider", 0)

	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 3000 {
		t.Errorf("the full-page screenshot is %d x %d px: the page looks too short for %d figures", b.Dx(), b.Dy(), len(figs))
	}
	shotPath := filepath.Join(dir, "report.png")
	if err := os.WriteFile(shotPath, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if p := os.Getenv("WORMWATCH_REPORT_SCREENSHOT"); p != "" {
		if err := os.WriteFile(p, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot written to %s", p)
	}

	tb.Stop() // lets late messages arrive
	for _, m := range tb.Messages() {
		switch m.Type {
		case chromedp.ConsoleError, chromedp.ConsoleException, chromedp.ConsoleWarning:
			t.Errorf("console %s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line+1)
		default:
			t.Logf("console %s: %s", m.Type, m.Text)
		}
	}
	requests := tb.Requests()
	if len(requests) == 0 {
		t.Error("saw no request at all: the request listener is not working")
	}
	for _, u := range requests {
		if !strings.HasPrefix(u, "file://") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page requested %s: it must load nothing but itself and data: URIs", u)
		}
	}
}
