package csafsite

import (
	"bytes"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"strings"
	"time"
)

// Handler serves the site, GET and HEAD only:
//
//   - /.well-known/csaf/ and everything under it: provider-metadata.json,
//     the ROLIE service document, the public key (openpgp/FINGERPRINT.asc),
//     and the TLP folder white/ with index.txt, changes.csv, the ROLIE feed
//     and category document, and the advisories by year with their .sha256,
//     .sha512 and .asc files; every folder (a path ending in /) is an HTML
//     listing of its files;
//   - /.well-known/security.txt (RFC 9116) with its CSAF field, unless
//     security_txt is off;
//   - for a request whose host is csaf.data.security.HOST (HOST the host of
//     base_url), provider-metadata.json at / (CSAF 2.0 requirement 10).
//
// Patterns lists where to mount it on a ServeMux. The handler answers each
// request from one snapshot of the site, so a publication in between is
// seen whole or not at all.
func (s *Site) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Patterns are the net/http.ServeMux patterns to register Handler under:
// "/.well-known/csaf/", "/.well-known/security.txt" (when security_txt is
// on) and "csaf.data.security.HOST/".
func (s *Site) Patterns() []string {
	p := []string{wellKnown}
	if s.cfg.SecurityTxt {
		p = append(p, securityPath)
	}
	return append(p, s.dnsHost()+"/")
}

// dnsHost is the host name of CSAF 2.0's DNS path.
func (s *Site) dnsHost() string { return "csaf.data.security." + s.base.Hostname() }

func (s *Site) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	sn := s.snap.Load()
	p := r.URL.Path
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	switch {
	case strings.EqualFold(host, s.dnsHost()) && (p == "/" || p == ""):
		p = pmdPath
	case p == securityPath && s.cfg.SecurityTxt:
		// No Last-Modified: Expires moves with every request.
		s.serveFile(w, r, &file{body: s.securityTxt(time.Now()), ctype: typeText})
		return
	}
	f := sn.files[p]
	if f == nil && sn.files[p+"/"] != nil {
		http.Redirect(w, r, p+"/", http.StatusMovedPermanently)
		return
	}
	if f == nil {
		http.NotFound(w, r)
		return
	}
	s.serveFile(w, r, f)
}

// serveFile answers with a document: its type, Last-Modified, ranges and
// conditional requests (http.ServeContent).
func (s *Site) serveFile(w http.ResponseWriter, r *http.Request, f *file) {
	w.Header().Set("Content-Type", f.ctype)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", f.mod, bytes.NewReader(f.body))
}

// securityTxt is /.well-known/security.txt: the contacts, an Expires
// field cfg.Expires after now, and the CSAF field that names
// provider-metadata.json (CSAF 2.0 requirement 8).
func (s *Site) securityTxt(now time.Time) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s: CSAF 2.0 trusted provider\n", s.cfg.PublisherName)
	for _, c := range s.cfg.Contacts {
		fmt.Fprintf(&b, "Contact: %s\n", c)
	}
	fmt.Fprintf(&b, "Expires: %s\n", now.Add(s.cfg.Expires.D()).UTC().Truncate(time.Second).Format(time.RFC3339))
	fmt.Fprintf(&b, "Canonical: %s\n", s.url(securityPath))
	fmt.Fprintf(&b, "Preferred-Languages: en\n")
	fmt.Fprintf(&b, "CSAF: %s\n", s.pmdURL())
	return []byte(b.String())
}

// listing is the HTML page of a folder: a link to each file and subfolder,
// relative, as the checker's directory-listing test reads them.
var listing = template.Must(template.New("listing").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Index of {{.Dir}}</title></head>
<body><h1>Index of {{.Dir}}</h1>
<ul>
{{if .Up}}<li><a href="../">../</a></li>
{{end}}{{range .Names}}<li><a href="{{.}}">{{.}}</a></li>
{{end}}</ul>
</body></html>
`))

// addListings adds the listing of every folder to the snapshot.
func addListings(sn *snapshot) {
	for dir, names := range folders(sn.files) {
		var b bytes.Buffer
		data := struct {
			Dir   string
			Up    bool
			Names []string
		}{dir, dir != wellKnown, names}
		if err := listing.Execute(&b, data); err != nil {
			panic("csafsite: listing " + dir + ": " + err.Error())
		}
		sn.files[dir] = &file{body: b.Bytes(), ctype: typeHTML, mod: sn.updated}
	}
}
