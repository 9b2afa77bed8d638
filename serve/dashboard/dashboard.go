// Package dashboard is the page of wormwatch serve: one HTML page, its
// stylesheet and its script, embedded in the binary and served at / and
// /static/. The page reads nothing but the service's JSON API and its
// event stream (GET /api/v1/events, Server-Sent Events): each sensor's
// series drawn live, the alarm state of every series and the history of
// transitions, the forecast band against what was observed, the families,
// top sources and networks of detect's report, the alert outbox (webhook
// deliveries with their tries, dead letters with a Retry button, links to
// the STIX bundles and CSAF drafts), the service's counters and inputs.
// It loads nothing from elsewhere: the Content-Security-Policy of
// every response allows only the service's own origin, and no inline
// script or style.
//
// The package imports nothing of the module: serve mounts Handler on its
// mux, and the page learns everything else from the API at run time
// (docs/serve.md, Dashboard).
package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// CSP is the Content-Security-Policy of every response of Handler: the
// page may load scripts, styles, images and connections from its own
// origin only (no inline script or style, no other host), may not be
// framed, and submits no form anywhere.
const CSP = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'"

// file is an embedded file ready to serve.
type file struct {
	name  string
	body  []byte
	ctype string
	etag  string
}

// files are the embedded files by the path they are served at.
var files = func() map[string]*file {
	out := map[string]*file{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ctype := mime.TypeByExtension(path.Ext(p))
		switch path.Ext(p) { // not left to the system's MIME tables
		case ".html":
			ctype = "text/html; charset=utf-8"
		case ".css":
			ctype = "text/css; charset=utf-8"
		case ".js":
			ctype = "text/javascript; charset=utf-8"
		case ".svg":
			ctype = "image/svg+xml"
		}
		f := &file{name: path.Base(p), body: body, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		out["/"+p] = f
		if p == "static/index.html" {
			out["/"] = f
		}
		return nil
	})
	if err != nil {
		panic(err) // the embedded tree is fixed: a test serves every file
	}
	return out
}()

// Handler returns the handler of the page: GET (or HEAD) / is the page,
// /static/NAME its files; any other path is 404 and any other method 405.
// Every answer carries the Content-Security-Policy CSP and headers that
// forbid sniffing, framing and referrers. Files are revalidated by their
// ETag (Cache-Control: no-cache), so a new binary's page is never mixed
// with an old script. The page itself holds no data: it needs no token,
// and asks the API for one when the API wants it.
func Handler() http.Handler {
	return http.HandlerFunc(serve)
}

// serve answers one request of the page.
func serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		plainError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed here (allowed: GET, HEAD)")
		return
	}
	f := files[r.URL.Path]
	if f == nil {
		plainError(w, http.StatusNotFound, "no such page: "+r.URL.Path+" (the dashboard is at /, the API under /api/v1/)")
		return
	}
	h.Set("Content-Type", f.ctype)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", f.etag)
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.body))
}

// plainError answers an error as one line of text.
func plainError(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(strings.TrimSpace(msg) + "\n"))
}
