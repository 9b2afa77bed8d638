package taxii

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// The media types of TAXII 2.1 and STIX 2.1.
const (
	MediaTAXII = "application/taxii+json;version=2.1"
	MediaSTIX  = "application/stix+json;version=2.1"
)

// call is one request being answered: who asked, and its audit entry.
type call struct {
	s     *Server
	w     http.ResponseWriter
	r     *http.Request
	p     principal
	audit auditRow
	quiet bool  // not recorded in the audit log (requests without credentials)
	turn  *turn // a page of objects' turn (Server.turns), nil for the rest
}

type callKey struct{}

// ServeHTTP authenticates the request, then routes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{s: s, w: w, r: r}
	c.audit = auditRow{at: s.now().UnixMicro(), remote: clientAddr(r).String(), query: r.URL.RawQuery}
	p, fail := s.auth.authenticate(r)
	if fail != 0 {
		s.refuse(c, fail)
		return
	}
	c.p = p
	c.audit.member, c.audit.credential = s.members[p.member].Name, p.cred
	if clean := path.Clean(r.URL.Path); r.URL.Path != clean+"/" && r.URL.Path != "/" {
		// Not a TAXII URL (they end with a slash): answered here rather
		// than redirected by ServeMux with an HTML body.
		c.fail(http.StatusNotFound, "Not found", "no TAXII resource at "+r.URL.Path+" (TAXII URLs end with /)")
		return
	}
	s.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callKey{}, c)))
}

// refuse answers a request that was not authenticated.
func (s *Server) refuse(c *call, fail authFailure) {
	c.audit.action = "authenticate"
	c.quiet = fail != authBad // only failed credentials are recorded: the rest cost an attacker nothing
	switch fail {
	case authLocked:
		c.w.Header().Set("Retry-After", strconv.Itoa(int(s.cfg.Lockout.D().Seconds())))
		c.fail(http.StatusTooManyRequests, "Too many failed authentications",
			"this address or user name failed to authenticate too often; wait and try again")
		return
	case authCleartext:
		c.w.Header().Set("WWW-Authenticate", `Basic realm="taxii", charset="UTF-8"`)
		c.fail(http.StatusUnauthorized, "Credentials over plain HTTP refused", "send credentials over TLS (https)")
		return
	}
	c.w.Header().Add("WWW-Authenticate", `Basic realm="taxii", charset="UTF-8"`)
	c.w.Header().Add("WWW-Authenticate", `Bearer realm="taxii"`)
	if fail == authMissing {
		c.fail(http.StatusUnauthorized, "Authentication required", "give HTTP Basic credentials, a bearer token or a client certificate")
		return
	}
	c.fail(http.StatusUnauthorized, "Authentication failed", "the credentials given are not a member's")
}

// handle wraps a route's function: the call from the context, the methods
// it takes (405 otherwise), the Accept header (406) and the API root (404).
func (s *Server) handle(methods string, taxii bool, fn func(*call)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := r.Context().Value(callKey{}).(*call)
		c.r = r
		if !strings.Contains(","+methods+",", ","+r.Method+",") {
			w.Header().Set("Allow", methods)
			c.fail(http.StatusMethodNotAllowed, "Method not allowed", r.Method+" is not allowed here (allowed: "+methods+")")
			return
		}
		if taxii && !acceptsTAXII(r.Header.Values("Accept")) {
			c.fail(http.StatusNotAcceptable, "Not acceptable", "this server answers "+MediaTAXII+" only; send it in the Accept header")
			return
		}
		if root := r.PathValue("root"); root != "" && root != s.cfg.APIRoot {
			c.fail(http.StatusNotFound, "API root not found", "no API root "+root+" on this server")
			return
		}
		fn(c)
	})
}

// routes maps the paths under Prefix.
func (s *Server) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.Handle("/taxii2/{$}", s.handle("GET", true, s.discovery))
	m.Handle("/taxii2/audit/{$}", s.handle("GET", false, s.auditEndpoint))
	m.Handle("/taxii2/{root}/{$}", s.handle("GET", true, s.apiRoot))
	m.Handle("/taxii2/{root}/status/{id}/{$}", s.handle("GET", true, s.status))
	m.Handle("/taxii2/{root}/collections/{$}", s.handle("GET", true, s.collections))
	m.Handle("/taxii2/{root}/collections/{cid}/{$}", s.handle("GET", true, s.collection))
	m.Handle("/taxii2/{root}/collections/{cid}/manifest/{$}", s.handle("GET", true, s.manifest))
	m.Handle("/taxii2/{root}/collections/{cid}/objects/{$}", s.handle("GET,POST", true, s.objects))
	m.Handle("/taxii2/{root}/collections/{cid}/objects/{oid}/{$}", s.handle("GET,DELETE", true, s.object))
	m.Handle("/taxii2/{root}/collections/{cid}/objects/{oid}/versions/{$}", s.handle("GET", true, s.versions))
	m.Handle("/", s.handle("GET,POST,DELETE,HEAD,PUT,PATCH,OPTIONS", false, func(c *call) {
		c.fail(http.StatusNotFound, "Not found", "no TAXII resource at "+c.r.URL.Path)
	}))
	return m
}

// acceptsTAXII reports whether an Accept header admits TAXII 2.1 JSON:
// application/taxii+json with version 2.1 or no version, or a wildcard.
func acceptsTAXII(values []string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			switch mt {
			case "*/*", "application/*":
				return true
			case "application/taxii+json":
				if ver, ok := params["version"]; !ok || ver == "2.1" {
					return true
				}
			}
		}
	}
	return false
}

// isTAXIIContent reports whether a Content-Type is TAXII 2.1 JSON.
func isTAXIIContent(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/taxii+json" {
		return false
	}
	ver, ok := params["version"]
	return !ok || ver == "2.1"
}

// taxiiError is TAXII's error message resource.
type taxiiError struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	HTTPStatus  string `json:"http_status"`
}

// fail answers with an error resource, after recording it in the audit
// log.
func (c *call) fail(status int, title, desc string) {
	body, _ := json.Marshal(taxiiError{Title: title, Description: desc, HTTPStatus: strconv.Itoa(status)})
	c.audit.status = status
	if !c.quiet {
		c.s.audit.record(c.audit) // a refusal that cannot be recorded is still a refusal
	}
	writeBody(c.w, status, MediaTAXII, body)
}

// reply records the audit entry, then answers (200 unless status) with
// the body, given in parts. A read that cannot be recorded is not served.
func (c *call) reply(status int, contentType string, body ...[]byte) {
	c.audit.status = status
	if err := c.s.audit.record(c.audit); err != nil {
		c.s.log.Error("taxii: audit log", "err", err)
		c.audit.seqs, c.audit.count = nil, 0
		body, _ := json.Marshal(taxiiError{Title: "Internal error", Description: "the audit log could not be written", HTTPStatus: "500"})
		writeBody(c.w, http.StatusInternalServerError, MediaTAXII, body)
		return
	}
	c.turn.writing()
	writeBody(c.w, status, contentType, body...)
}

// replyJSON answers with v as TAXII JSON.
func (c *call) replyJSON(status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		c.fail(http.StatusInternalServerError, "Internal error", err.Error())
		return
	}
	c.reply(status, MediaTAXII, body)
}

// writeBody writes a response with its length, the body given in parts.
func writeBody(w http.ResponseWriter, status int, contentType string, body ...[]byte) {
	n := 0
	for _, b := range body {
		n += len(b)
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(n))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	for _, b := range body {
		if _, err := w.Write(b); err != nil {
			return
		}
	}
}

// baseURL is the URL of Prefix as the client reached it.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + Prefix
}
