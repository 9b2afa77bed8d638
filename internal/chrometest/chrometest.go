// Package chrometest runs headless Chromium for the browser tests
// (chromedp): it finds the browser, starts it with the options every test
// wants, and opens tabs that record their console messages, requests and
// failed requests. Only tests import it (page's and serve/dashboard's).
package chrometest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Path finds the browser: $WORMWATCH_CHROMIUM, or chromium (Debian's
// package, which .ci/run installs) on the PATH. It fails the test when
// there is none; need names what needs it ("the browser test of
// report.html").
func Path(t testing.TB, need string) string {
	t.Helper()
	if p := os.Getenv("WORMWATCH_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	t.Fatal("chromium not found: " + need + " needs it. Install it with " +
		"`apt-get install -y chromium` (.ci/run does), or set WORMWATCH_CHROMIUM to a Chrome or Chromium binary")
	return ""
}

// Options are a browser's.
type Options struct {
	Need          string        // what needs the browser, for Path's message
	Timeout       time.Duration // how long the browser may run at most
	Width, Height int           // the window's size
	// Flags are added to the options every test uses (headless, no
	// sandbox, no GPU, no QUIC, no background networking, component
	// updates or sync, a profile of the test's own).
	Flags []chromedp.ExecAllocatorOption
}

// Browser is a headless Chromium that runs until the test ends.
type Browser struct {
	path  string
	alloc context.Context
}

// Start prepares the browser (it starts with the first tab).
func Start(t testing.TB, opt Options) *Browser {
	t.Helper()
	exe := Path(t, opt.Need)
	parent, cancelParent := context.WithTimeout(context.Background(), opt.Timeout)
	t.Cleanup(cancelParent)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	opts = append(opts, opt.Flags...)
	opts = append(opts,
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.WindowSize(opt.Width, opt.Height),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	t.Cleanup(cancelAlloc)
	return &Browser{path: exe, alloc: alloc}
}

// Tab is a page open in the browser, with what it logged and requested.
type Tab struct {
	Ctx context.Context // chromedp's context of the tab

	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
	requests []string
	failed   []string
	stop     func()
}

// Open opens a tab (starting the browser with the first) and listens to
// its console and network until Stop or the end of the test.
func (b *Browser) Open(t testing.TB) *Tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.alloc)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", b.path, err)
	}
	tb := &Tab{Ctx: ctx}
	listen, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	tb.stop = func() {
		time.Sleep(200 * time.Millisecond) // late messages
		stop()
		wg.Wait()
	}
	t.Cleanup(tb.Stop)
	console := chromedp.Console(listen)
	sent := chromedp.Events(listen, network.RequestWillBeSent)
	answered := chromedp.Events(listen, network.ResponseReceived)
	failed := chromedp.Events(listen, network.LoadingFailed)
	wg.Go(func() {
		for m, err := range console {
			if err != nil {
				return
			}
			record(tb, &tb.messages, m)
		}
	})
	wg.Go(func() {
		for ev, err := range sent {
			if err != nil {
				return
			}
			record(tb, &tb.requests, ev.Request.URL)
		}
	})
	wg.Go(func() {
		for ev, err := range answered {
			if err != nil {
				return
			}
			if ev.Response.Status >= 400 {
				record(tb, &tb.failed, fmt.Sprintf("%s: %d", ev.Response.URL, ev.Response.Status))
			}
		}
	})
	wg.Go(func() {
		for ev, err := range failed {
			if err != nil {
				return
			}
			if !ev.Canceled {
				record(tb, &tb.failed, fmt.Sprintf("request %s failed: %s", ev.RequestID, ev.ErrorText))
			}
		}
	})
	return tb
}

// record appends v to one of the tab's lists.
func record[T any](tb *Tab, list *[]T, v T) {
	tb.mu.Lock()
	*list = append(*list, v)
	tb.mu.Unlock()
}

// Stop waits 200 ms for late messages, then stops listening; the lists
// are complete after it. Calling it again only waits.
func (tb *Tab) Stop() { tb.stop() }

// Messages returns the console messages so far.
func (tb *Tab) Messages() []chromedp.ConsoleMessage {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return slices.Clone(tb.messages)
}

// Requests returns the URLs requested so far.
func (tb *Tab) Requests() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return slices.Clone(tb.requests)
}

// Failed returns the requests answered with a status of 400 or more, or
// that failed (not cancelled), so far.
func (tb *Tab) Failed() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return slices.Clone(tb.failed)
}
