package serve

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"

	"wormwatch/alert"
	"wormwatch/csafsite"
	"wormwatch/share"
	"wormwatch/store"
	"wormwatch/taxii"
)

// The sharing alliance inside the service: the TAXII 2.1 server
// ([taxii], package taxii, under /taxii2/) and the CSAF trusted provider
// ([csaf], package csafsite, under /.well-known/), each with its own
// files in the data folder, and the endpoint that publishes an alarm's
// draft advisory on the provider once a person has reviewed it. Both are
// fixed while the service runs: a reload logs their changes for the next
// start.

// checkSharing checks the [taxii] and [csaf] tables beyond their tags.
func (c *checker) checkSharing() error {
	if c.cfg.TAXII.Enabled {
		if err := c.cfg.TAXII.Check(); err != nil {
			return c.at("taxii", "%v", err)
		}
	}
	if c.cfg.CSAF.Enabled() {
		if err := c.cfg.CSAF.Check(); err != nil {
			return c.at("csaf", "%v", err)
		}
	}
	return c.checkShareBundles()
}

// checkShareBundles checks alert.taxii_collection and alert.taxii_member
// against the [taxii] table: the server on, the member known and allowed
// to write to the collection.
func (c *checker) checkShareBundles() error {
	a, t := c.cfg.Alert, c.cfg.TAXII
	if a.TAXII == "" {
		return nil
	}
	if !t.Enabled {
		return c.at("alert.taxii_collection", "%q: the service has no TAXII server ([taxii] enabled = true)", a.TAXII)
	}
	if !slices.ContainsFunc(t.Members, func(m taxii.Member) bool { return m.Name == a.TAXIIMember }) {
		return c.at("alert.taxii_member", "%q is no [[taxii.member]]", a.TAXIIMember)
	}
	i := slices.IndexFunc(t.Collections, func(cl taxii.Collection) bool { return cl.ID == a.TAXII || (cl.Alias != "" && cl.Alias == a.TAXII) })
	if i < 0 {
		return c.at("alert.taxii_collection", "%q is no [[taxii.collection]] (its id or alias)", a.TAXII)
	}
	for _, g := range t.Groups {
		if slices.Contains(t.Collections[i].Write, g.Name) && slices.Contains(g.Members, a.TAXIIMember) {
			return nil
		}
	}
	return c.at("alert.taxii_member", "%s may not write to collection %s (no group of its in the collection's write list)", a.TAXIIMember, a.TAXII)
}

// shareBundle delivers an alarm's STIX bundle to the service's TAXII
// server (alert.ChannelTAXII): its objects added to the collection as
// alert.taxii_member. An object already stored by that member is a
// success (a retry after a kill), another refused object fails the
// delivery permanently: its bundle will not change.
func (s *Service) shareBundle(ctx context.Context, d store.Delivery) error {
	if s.taxii == nil {
		return fmt.Errorf("%w: no TAXII server ([taxii] enabled = true)", alert.ErrPermanent)
	}
	var bundle struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(d.Payload, &bundle); err != nil {
		return fmt.Errorf("%w: the bundle does not read: %v", alert.ErrPermanent, err)
	}
	res, err := s.taxii.Add(ctx, s.cfg.Load().Alert.TAXIIMember, d.Target, bundle.Objects)
	if err != nil {
		return err
	}
	if len(res.Refused) > 0 {
		return fmt.Errorf("%w: %d of %d objects refused by collection %s (status %s): %s", alert.ErrPermanent, len(res.Refused), len(bundle.Objects), d.Target, res.StatusID, strings.Join(res.Refused, "; "))
	}
	return nil
}

// openSharing opens the TAXII server and the CSAF site a configuration
// asks for, in the data folder (taxii.db, csaf/).
func (s *Service) openSharing(cfg *Config) error {
	if cfg.TAXII.Enabled {
		ts, err := taxii.New(cfg.TAXII, filepath.Join(cfg.Service.Data, "taxii.db"), s.log)
		if err != nil {
			return &ConfigError{File: cfg.File, Key: "taxii", Msg: err.Error()}
		}
		s.taxii = ts
	}
	if cfg.CSAF.Enabled() {
		site, err := csafsite.New(cfg.CSAF, cfg.Service.Data, s.log)
		if err != nil {
			s.closeSharing()
			return &ConfigError{File: cfg.File, Key: "csaf", Msg: err.Error()}
		}
		s.csaf = site
	}
	return nil
}

// closeSharing closes the TAXII server's store (after the HTTP server has
// stopped).
func (s *Service) closeSharing() {
	if s.taxii != nil {
		if err := s.taxii.Close(); err != nil {
			s.log.Error("taxii: closing its store", "error", err)
		}
		s.taxii = nil
	}
}

// mountSharing adds the TAXII server's and the CSAF site's routes. They
// authorise their requests themselves (TAXII's members; the CSAF site is
// public: TLP:WHITE only), without the API's read token.
func (s *Service) mountSharing(mux *http.ServeMux) {
	if s.taxii != nil {
		mux.Handle(taxii.Prefix, s.taxii.Handler())
	}
	if s.csaf != nil {
		for _, p := range s.csaf.Patterns() {
			mux.Handle(p, s.csaf.Handler())
		}
	}
	mux.Handle("/api/v1/csaf/{id}/publish", s.api(http.MethodPost, s.handlePublish))
}

// clientAuth is the TLS client authentication the listener asks for: a
// request for certificates when a TAXII member is known by one.
func (s *Service) clientAuth() tls.ClientAuthType {
	if s.taxii == nil {
		return tls.NoClientCert
	}
	return s.taxii.ClientAuth()
}

// handlePublish answers POST /api/v1/csaf/{id}/publish?tlp=white
// [&status=interim|final]: the draft advisory of an alarm (GET
// /api/v1/csaf/{id}), reviewed by a person, published on the CSAF site as
// version 1 with the status asked (interim by default: a forecast that
// will change), the site's publisher and TLP:WHITE. tlp=white must be
// given: the drafts are marked with alert.tlp (AMBER by default), and the
// site is public, so publishing is a decision to lift the marking, which
// the request says out loud. An advisory published already is 409 with its
// URL.
func (s *Service) handlePublish(w http.ResponseWriter, r *http.Request) {
	if err := crossOrigin.Check(r); err != nil {
		writeError(w, http.StatusForbidden, "%v: publishing must come from the service's own page or a program", err)
		return
	}
	if s.csaf == nil {
		writeError(w, http.StatusNotFound, "no CSAF site: give [csaf] base_url in the configuration (docs/share.md)")
		return
	}
	id := r.PathValue("id")
	if !csafIDForm.MatchString(id) {
		writeError(w, http.StatusBadRequest, "%q: want a CSAF draft's tracking id (WORMWATCH-LIVE- and 12 hex digits, upper case)", id)
		return
	}
	status, err := publishParams(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if url, ok := s.csaf.Published(id); ok {
		writeError(w, http.StatusConflict, "advisory %s is published already: %s", id, url)
		return
	}
	d, err := s.st.Artifact(r.Context(), alert.ChannelCSAF, id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no CSAF draft %s (GET /api/v1/deliveries?channel=csaf lists them)", id)
		return
	} else if err != nil {
		writeError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	doc, err := s.reviewed(d.Payload, status)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "draft %s: %v", id, err)
		return
	}
	url, err := s.csaf.Publish(doc)
	if errors.Is(err, csafsite.ErrRefused) {
		writeError(w, http.StatusUnprocessableEntity, "draft %s: the site refuses it: %v", id, err)
		return
	} else if err != nil {
		writeError(w, http.StatusInternalServerError, "draft %s: %v", id, err)
		return
	}
	s.log.Info("csaf: draft published", "id", id, "status", status, "url", url)
	writeJSON(w, http.StatusCreated, map[string]string{"id": id, "status": status, "url": url})
}

// publishParams reads the publish request's parameters: tlp=white (the
// one value, required) and status (interim, the default, or final).
func publishParams(r *http.Request) (string, error) {
	q := r.URL.Query()
	for k, v := range q {
		switch {
		case k != "tlp" && k != "status":
			return "", fmt.Errorf("unknown parameter %q (tlp, status)", k)
		case len(v) != 1:
			return "", fmt.Errorf("parameter %q given %d times", k, len(v))
		}
	}
	if t := q.Get("tlp"); !strings.EqualFold(t, "white") {
		return "", fmt.Errorf("tlp=%q: give tlp=white: the site is public, and the draft's own marking (alert.tlp) is lifted only when the request says so", t)
	}
	switch st := q.Get("status"); st {
	case "", "interim":
		return "interim", nil
	case "final":
		return st, nil
	default:
		return "", fmt.Errorf("status=%q: want interim or final", st)
	}
}

// reviewed turns a stored draft into the advisory published: status and
// version 1 (a revision "1" added to the history, dated now), the current
// release now, TLP:WHITE, and the site's publisher.
func (s *Service) reviewed(draft []byte, status string) ([]byte, error) {
	c, err := share.ReadCSAF(bytes.NewReader(draft))
	if err != nil {
		return nil, err
	}
	cfg := s.cfg.Load().CSAF
	now := s.now().UTC().Format("2006-01-02T15:04:05Z")
	d := &c.Document
	d.Tracking.Status, d.Tracking.Version, d.Tracking.CurrentReleaseDate = status, "1", now
	d.Tracking.RevisionHistory = append(d.Tracking.RevisionHistory, share.Revision{Date: now, Number: "1",
		Summary: "Reviewed and published (" + status + ")."})
	d.Distribution = &share.Distribution{TLP: &share.TLP{Label: "WHITE", URL: "https://www.first.org/tlp/"}}
	d.Publisher = share.Publisher{Category: cfg.PublisherCategory, Name: cfg.PublisherName, Namespace: cfg.Namespace,
		ContactDetails: cfg.ContactDetails, IssuingAuthority: cfg.IssuingAuthority}
	var buf bytes.Buffer
	if err := c.Encode(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
