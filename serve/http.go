package serve

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"wormwatch/alert"
	"wormwatch/serve/dashboard"
)

// maxRequestBody is the largest request body of every handler but a push
// (Settings.MaxPushBytes): the API's other requests carry none.
const maxRequestBody = 64 << 10

// routes returns the service's mux: the API under /api/v1/ (with the
// alert outbox's deliveries and documents), /metrics, /healthz, /readyz
// and the dashboard at / (package serve/dashboard).
func (s *Service) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/api/v1/detect", s.api(http.MethodGet, s.handleDetect))
	mux.Handle("/api/v1/forecast", s.api(http.MethodGet, s.handleForecast))
	mux.Handle("/api/v1/series", s.api(http.MethodGet, s.handleSeriesList))
	mux.Handle("/api/v1/series/{key...}", http.HandlerFunc(s.handleSeries))
	mux.Handle("/api/v1/sources/{key}", http.HandlerFunc(s.handleSourcesPush))
	mux.Handle("/api/v1/alarms", s.api(http.MethodGet, s.handleAlarms))
	mux.Handle("/api/v1/events", queryToken(s.api(http.MethodGet, s.handleEvents)))
	mux.Handle("/api/v1/status", s.api(http.MethodGet, s.handleStatus))
	mux.Handle("/api/v1/deliveries", s.api(http.MethodGet, s.handleDeliveries))
	mux.Handle("/api/v1/deliveries/{id}/retry", s.api(http.MethodPost, s.handleRetry))
	mux.Handle("/api/v1/artifacts/{id}", s.api(http.MethodGet, s.handleArtifact))
	mux.Handle("/api/v1/stix/{id}", s.api(http.MethodGet, s.handleDocument(alert.ChannelSTIX)))
	mux.Handle("/api/v1/csaf/{id}", s.api(http.MethodGet, s.handleDocument(alert.ChannelCSAF)))
	s.mountSharing(mux)
	mux.Handle("/api/v1/notify", s.api(http.MethodPost, s.handleNotify))
	mux.Handle("/api/", s.api("", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: %s (see docs/serve.md, HTTP API)", r.URL.Path)
	}))
	mux.Handle("/metrics", s.api(http.MethodGet, s.metricsHandler().ServeHTTP))
	mux.Handle("/healthz", plain(http.MethodGet, s.handleHealth))
	mux.Handle("/readyz", plain(http.MethodGet, s.handleReady))
	mux.Handle("/", dashboard.Handler())
	return mux
}

// api wraps a handler of the API: the body limit, the method and the read
// token.
func (s *Service) api(method string, h http.HandlerFunc) http.Handler {
	return plain(method, func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r, s.cfg.Load().Token) {
			unauthorized(w)
			return
		}
		h(w, r)
	})
}

// queryToken lets the event stream take the read token from a query
// parameter token when the request has no Authorization header: a
// browser's EventSource (the dashboard) cannot set headers. Only the event
// stream takes it so. The parameter is removed before the handler reads
// the query.
func queryToken(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		toks, ok := q["token"]
		if !ok {
			h.ServeHTTP(w, r)
			return
		}
		if len(toks) > 1 {
			writeError(w, http.StatusBadRequest, "parameter \"token\" given %d times: give it once", len(toks))
			return
		}
		q.Del("token")
		r = r.Clone(r.Context())
		r.URL.RawQuery = q.Encode()
		if r.Header.Get("Authorization") == "" {
			r.Header.Set("Authorization", "Bearer "+toks[0])
		}
		h.ServeHTTP(w, r)
	})
}

// plain wraps a handler with the body limit and the method check only.
func plain(method string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
		if method != "" && !allowed(r.Method, method) {
			methodNotAllowed(w, r, method)
			return
		}
		h(w, r)
	})
}

// allowed reports whether a request's method is the handler's (HEAD is a
// GET).
func allowed(got, want string) bool {
	return got == want || got == http.MethodHead && want == http.MethodGet
}

// methodNotAllowed answers 405 with the allowed methods.
func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, "method %s not allowed here (allowed: %s)", r.Method, allow)
}

// authorized reports whether the request carries the token want as a
// bearer token (any request does when want is ""). The comparison takes
// the same time whatever the token given.
func (s *Service) authorized(r *http.Request, want string) bool {
	if want == "" {
		return true
	}
	got, ok := bearer(r)
	if !ok {
		return false
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// bearer returns the token of an "Authorization: Bearer TOKEN" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// unauthorized answers 401.
func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="wormwatch"`)
	writeError(w, http.StatusUnauthorized, "missing or wrong token: send Authorization: Bearer TOKEN")
}

// writeError answers an error as JSON: {"error": "..."}.
func writeError(w http.ResponseWriter, status int, format string, a ...any) {
	body, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{fmt.Sprintf(format, a...)})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// writeJSON answers v as indented JSON, with &, < and > as they are (the
// links' queries): the answer is application/json with nosniff, never
// read as HTML.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		writeError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	writeBody(w, status, "application/json", b.Bytes())
}

// writeBody answers a body of a content type.
func writeBody(w http.ResponseWriter, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}
