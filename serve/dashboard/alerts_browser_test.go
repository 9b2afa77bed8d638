package dashboard_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"wormwatch/alert"
	"wormwatch/internal/chrometest"
)

// webhookSecret is the HMAC secret of the test's webhooks.
const webhookSecret = "dashboard-webhook-secret-0123456789"

// alertConfig starts two webhook receivers on loopback and writes a
// configuration whose [alert] table sends to both: soc refuses each
// delivery's first two tries (500) and accepts the third; broken always
// answers 503, so its deliveries become dead letters after max_attempts
// (3) tries. Both check each signature with alert.Verify.
func alertConfig(t *testing.T, dir string) string {
	t.Helper()
	var mu sync.Mutex
	tries := map[string]int{}
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err == nil {
			err = alert.Verify([]byte(webhookSecret), r.Header, body, time.Now(), 0)
		}
		if err != nil {
			t.Errorf("webhook %s: %v", r.URL.Path, err)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		mu.Lock()
		tries[r.Header.Get(alert.HeaderDelivery)]++
		n := tries[r.Header.Get(alert.HeaderDelivery)]
		mu.Unlock()
		switch {
		case r.URL.Path == "/broken":
			http.Error(w, "receiver down for maintenance", http.StatusServiceUnavailable)
		case n <= 2:
			http.Error(w, "not yet", http.StatusInternalServerError)
		}
	}))
	t.Cleanup(rcv.Close)
	secret := filepath.Join(dir, "webhook.secret")
	conf := filepath.Join(dir, "serve.toml")
	text := "[alert]\nmax_attempts = 3\nbackoff_base = \"100ms\"\nbackoff_cap = \"200ms\"\npoll = \"50ms\"\n"
	for _, name := range []string{"soc", "broken"} {
		text += "\n[[alert.webhook]]\nname = \"" + name + "\"\nurl = \"" + rcv.URL + "/" + name + "\"\nsecret_file = " + strconv.Quote(secret) + "\n"
	}
	for p, data := range map[string]string{secret: webhookSecret + "\n", conf: text} {
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return conf
}

// checkAlerts checks the page's Alerts after the outbreak's alarm: the
// webhook soc's deliveries sent (after two refusals each), broken's dead
// letters marked as such with a Retry button, and a link to the STIX
// bundle and the CSAF draft of the alarm, which load and parse as JSON
// of their kind and open in a tab of their own.
func checkAlerts(t *testing.T, tb *chrometest.Tab) {
	t.Helper()
	const (
		sent = `document.querySelector('#webhooks-table tbody tr[data-state="sent"]')`
		dead = `document.querySelector('#webhooks-table tbody tr.dead-letter[data-state="dead"] button[data-retry]')`
		stix = `document.querySelectorAll('#documents-table a[data-channel="stix"]')`
		csaf = `document.querySelectorAll('#documents-table a[data-channel="csaf"]')`
	)
	waitFor(t, tb, "the bundle's and the draft's links", stix+`.length > 0 && `+csaf+`.length > 0`, 10*time.Second)
	waitFor(t, tb, "a webhook delivery sent", sent+` !== null`, 15*time.Second)
	waitFor(t, tb, "a dead letter with its Retry button", dead+` !== null`, 15*time.Second)
	row := eval[string](t, tb, dead+`.closest('tr').textContent`)
	if !strings.Contains(row, "broken") || !strings.Contains(row, "dead letter") || !strings.Contains(row, "503") {
		t.Errorf("the dead letter's row says %q: want the webhook, the words dead letter and the last error", row)
	}
	type doc struct {
		Href    string `json:"href"`
		Type    string `json:"type"`
		OK      bool   `json:"ok"`
		Kind    string `json:"kind"`
		Tracker string `json:"tracker"`
	}
	docs, err := chromedp.Run(tb.Ctx, chromedp.Evaluate[[]doc](`Promise.all([...document.querySelectorAll('#documents-table a[data-channel]')].map((a) =>
		fetch(a.href).then((r) => r.text().then((x) => { const j = JSON.parse(x);
			return {href: a.href, type: r.headers.get('content-type'), ok: r.ok, kind: j.type || '', tracker: (j.document && j.document.tracking && j.document.tracking.id) || ''}; }))))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("reading the links: %v", err)
	}
	var stixHref, csafHref string
	for _, d := range docs {
		switch {
		case d.OK && d.Type == "application/stix+json;version=2.1" && d.Kind == "bundle":
			stixHref = d.Href
		case d.OK && d.Type == "application/json" && strings.HasPrefix(d.Tracker, "WORMWATCH-LIVE-"):
			csafHref = d.Href
		default:
			t.Errorf("link %s: %+v", d.Href, d)
		}
	}
	if stixHref == "" || csafHref == "" {
		t.Fatalf("no STIX bundle or no CSAF draft among the links: %+v", docs)
	}
	t.Logf("%d links to bundles and drafts, each parsed as JSON of its kind", len(docs))
	for _, href := range []string{stixHref, csafHref} { // each in a tab of its own, as the links open them
		ctx, cancel := chromedp.NewContext(tb.Ctx)
		err := chromedp.Do(ctx, chromedp.Navigate(href))
		var text string
		if err == nil {
			text, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		}
		cancel()
		if err != nil {
			t.Fatalf("opening %s: %v", href, err)
		}
		if !json.Valid([]byte(text)) {
			t.Errorf("%s opened in a tab is not JSON: %.200s", href, text)
		}
	}
}

// retryDeadLetter presses Retry on a dead letter with the keyboard: the
// message that it was enqueued again gets the focus, the row says
// "retried as", and a screenshot of the section goes to /tmp.
func retryDeadLetter(t *testing.T, tb *chrometest.Tab) {
	t.Helper()
	const dead = `document.querySelector('#webhooks-table tbody tr.dead-letter[data-state="dead"] button[data-retry]')`
	id := eval[string](t, tb, dead+`.dataset.retry`)
	if err := chromedp.Do(tb.Ctx, chromedp.Focus(chromedp.CSS(`button[data-retry="`+id+`"]`)), chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tb, "the retry's message", `document.activeElement.id === 'alerts-status' && document.activeElement.textContent.indexOf('Delivery `+id+` to broken enqueued again') === 0`, 5*time.Second)
	waitFor(t, tb, "the dead letter marked as retried", `document.querySelector('#webhooks-table tr[data-delivery="`+id+`"]').textContent.indexOf('retried as') >= 0`, 5*time.Second)
	t.Logf("retry: %s", eval[string](t, tb, `document.getElementById('alerts-status').textContent`))
	if err := chromedp.Do(tb.Ctx, chromedp.ScrollIntoView(chromedp.ID("alerts-h"))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	shot, err := chromedp.Run(tb.Ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	saveShot(t, "/tmp/wormwatch-dashboard-alerts.png", shot, 1280, 800)
}
