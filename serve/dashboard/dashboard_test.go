package dashboard

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// get asks the handler for a path with a method and headers given as
// name, value pairs.
func get(t *testing.T, method, path string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHandler checks what the handler answers: the page at /, each
// embedded file at /static/ with its type, 404 for anything else, 405 for
// other methods, revalidation by ETag, and the security headers (the CSP
// allowing only the service's origin) on every answer.
func TestHandler(t *testing.T) {
	for _, c := range []struct {
		method, path string
		status       int
		ctype        string
		contains     string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8", `<script src="/static/dashboard.js" defer></script>`},
		{"GET", "/static/index.html", 200, "text/html; charset=utf-8", "<title>wormwatch serve</title>"},
		{"GET", "/static/dashboard.js", 200, "text/javascript; charset=utf-8", "new EventSource("},
		{"GET", "/static/dashboard.css", 200, "text/css; charset=utf-8", ".badge"},
		{"GET", "/static/favicon.svg", 200, "image/svg+xml", "<svg"},
		{"HEAD", "/", 200, "text/html; charset=utf-8", ""},
		{"GET", "/static/", 404, "text/plain; charset=utf-8", "no such page"},
		{"GET", "/static", 404, "text/plain; charset=utf-8", "no such page"},
		{"GET", "/favicon.ico", 404, "text/plain; charset=utf-8", "no such page"},
		{"GET", "/static/nope.js", 404, "text/plain; charset=utf-8", "no such page"},
		{"GET", "/index.html", 404, "text/plain; charset=utf-8", "no such page"},
		{"POST", "/", 405, "text/plain; charset=utf-8", "not allowed"},
		{"DELETE", "/static/dashboard.js", 405, "text/plain; charset=utf-8", "not allowed"},
	} {
		r := get(t, c.method, c.path)
		b := body(t, r)
		if r.StatusCode != c.status || r.Header.Get("Content-Type") != c.ctype || !strings.Contains(b, c.contains) {
			t.Errorf("%s %s: %d %q, want %d %q with %q; body %.80q", c.method, c.path, r.StatusCode, r.Header.Get("Content-Type"), c.status, c.ctype, c.contains, b)
		}
		if c.method == "HEAD" && b != "" {
			t.Errorf("HEAD %s: a body of %d bytes", c.path, len(b))
		}
		if c.status == 405 && r.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s %s: Allow %q", c.method, c.path, r.Header.Get("Allow"))
		}
		for k, want := range map[string]string{
			"Content-Security-Policy": CSP,
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "no-referrer",
		} {
			if got := r.Header.Get(k); got != want {
				t.Errorf("%s %s: %s %q, want %q", c.method, c.path, k, got, want)
			}
		}
	}
	if !strings.HasPrefix(CSP, "default-src 'self';") || strings.Contains(CSP, "unsafe") {
		t.Errorf("CSP %q: want default-src 'self' and nothing unsafe", CSP)
	}

	r := get(t, "GET", "/static/dashboard.js")
	etag := r.Header.Get("ETag")
	if etag == "" || r.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("dashboard.js: ETag %q, Cache-Control %q: want an ETag and no-cache", etag, r.Header.Get("Cache-Control"))
	}
	if r := get(t, "GET", "/static/dashboard.js", "If-None-Match", etag); r.StatusCode != http.StatusNotModified {
		t.Errorf("dashboard.js with If-None-Match its ETag: %d, want 304", r.StatusCode)
	}
	if r := get(t, "GET", "/static/dashboard.js", "If-None-Match", `"other"`); r.StatusCode != 200 {
		t.Errorf("dashboard.js with If-None-Match another ETag: %d, want 200", r.StatusCode)
	}
}

// TestSelfContained reads the embedded files as a browser would: the page
// names only embedded files, nothing names another host (the one URL is
// SVG's namespace, which is no request), and the page has no inline
// script, style or event handler (the CSP would block them). The script
// builds the page with textContent and DOM nodes only (no innerHTML, no
// eval), so nothing the API returns can become markup.
func TestSelfContained(t *testing.T) {
	if len(files) < 5 {
		t.Fatalf("%d files embedded", len(files))
	}
	url := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	for name, f := range files {
		text := strings.ReplaceAll(string(f.body), "http://www.w3.org/2000/svg", "")
		if m := url.FindString(text); m != "" {
			t.Errorf("%s names another host: %s", name, m)
		}
	}
	page := string(files["/"].body)
	for _, m := range regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`).FindAllStringSubmatch(page, -1) {
		if !strings.Contains(m[1], `src="/static/`) || strings.TrimSpace(m[2]) != "" {
			t.Errorf("an inline script: %q", m[0])
		}
	}
	for _, re := range []string{`(?i)<style`, `(?i)\sstyle=`, `(?i)\son[a-z]+=`, `(?i)javascript:`} {
		if m := regexp.MustCompile(re).FindString(page); m != "" {
			t.Errorf("index.html has %q: the CSP forbids inline style and script", m)
		}
	}
	for _, m := range regexp.MustCompile(`(?:src|href)="(/[^"]*)"`).FindAllStringSubmatch(page, -1) {
		if strings.HasPrefix(m[1], "/api/") {
			continue
		}
		if files[m[1]] == nil {
			t.Errorf("index.html names %s, which is not embedded", m[1])
		}
	}
	js := string(files["/static/dashboard.js"].body)
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "new Function", "document.write", "setAttribute('style'", ".style."} {
		if strings.Contains(js, bad) {
			t.Errorf("dashboard.js uses %s", bad)
		}
	}
	if !strings.Contains(js, "const API = '/api/v1';") {
		t.Error("dashboard.js: the API is not read at /api/v1 of its own origin")
	}
}
