package taxii

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"sync"

	"github.com/google/uuid"
)

// statusDetail is one object's line in a status resource.
type statusDetail struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Message string `json:"message,omitempty"`
}

// statusResource is TAXII's status resource of a POST. The server files a
// POST before answering it, so its status is always complete.
type statusResource struct {
	ID               string         `json:"id"`
	Status           string         `json:"status"`
	RequestTimestamp string         `json:"request_timestamp"`
	TotalCount       int            `json:"total_count"`
	SuccessCount     int            `json:"success_count"`
	Successes        []statusDetail `json:"successes,omitempty"`
	FailureCount     int            `json:"failure_count"`
	Failures         []statusDetail `json:"failures,omitempty"`
	PendingCount     int            `json:"pending_count"`
}

// checked is one posted object after validation.
type checked struct {
	obj object
	err error
}

// post answers POST .../objects/: validates every object of the envelope
// against the STIX 2.1 schemas and the server's rules, stores those that
// pass in one transaction with the status resource and the audit entry,
// and answers 202 with the status, which lists each refused object with
// its reason.
func (s *Server) post(c *call) {
	c.audit.action = "add"
	cl := c.coll()
	if cl == nil {
		return
	}
	if !cl.write[c.p.member] {
		c.fail(http.StatusForbidden, "Forbidden", "your organisation may not write to this collection")
		return
	}
	if !isTAXIIContent(c.r.Header.Get("Content-Type")) {
		c.fail(http.StatusUnsupportedMediaType, "Unsupported media type", "send the envelope as "+MediaTAXII)
		return
	}
	raws, status, err := s.readEnvelope(c)
	if err != nil {
		c.fail(status, http.StatusText(status), err.Error())
		return
	}
	results := s.validateAll(raws)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	st, rows := s.file(cl, c.p.member, results)
	body, _ := json.Marshal(st)
	c.audit.status, c.audit.count = http.StatusAccepted, len(rows)
	for _, r := range rows {
		c.audit.seqs = append(c.audit.seqs, r.seq)
	}
	err = s.db.commitPost(c.r.Context(), rows, statusRow{id: st.ID, poster: s.members[c.p.member].Name,
		collection: cl.cfg.ID, requested: c.audit.at, body: body}, c.audit)
	if err != nil {
		s.log.Error("taxii: storing a POST", "collection", cl.cfg.ID, "err", err)
		c.audit.seqs, c.audit.count = nil, 0
		c.fail(http.StatusInternalServerError, "Internal error", "the objects could not be stored; nothing was")
		return
	}
	s.apply(cl, rows)
	writeBody(c.w, http.StatusAccepted, MediaTAXII, body)
}

// readEnvelope reads the body (413 past max_content_length) and the
// envelope's objects (422 when it is not an envelope with objects).
func (s *Server) readEnvelope(c *call) ([]json.RawMessage, int, error) {
	max := s.cfg.MaxContentLength
	if c.r.ContentLength > max {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("the body of %d bytes is over the API root's max_content_length of %d", c.r.ContentLength, max)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, max))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("the body is over the API root's max_content_length of %d bytes", max)
	} else if err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("reading the body: %v", err)
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil || env == nil {
		return nil, http.StatusUnprocessableEntity, errors.New("the body is not a JSON object (a TAXII envelope)")
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(env["objects"], &raws); err != nil || len(raws) == 0 {
		return nil, http.StatusUnprocessableEntity, errors.New("the envelope has no objects: want \"objects\": a non-empty list of STIX objects")
	}
	return raws, 0, nil
}

// validateAll checks the objects on all cores, keeping their order.
func (s *Server) validateAll(raws []json.RawMessage) []checked {
	out := make([]checked, len(raws))
	workers := min(runtime.GOMAXPROCS(0), len(raws)/32+1)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(raws); i += workers {
				out[i].obj, out[i].err = s.val.check(raws[i])
			}
		})
	}
	wg.Wait()
	return out
}

// file checks what depends on the collection (markings known, recipients
// members, versions not stored yet), assigns seq and date_added to the
// objects accepted and makes the status resource (under wmu).
func (s *Server) file(cl *coll, member int, results []checked) (statusResource, []objRow) {
	now := s.now()
	st := statusResource{ID: uuid.NewString(), Status: "complete", RequestTimestamp: timestamp(now.UnixMicro()), TotalCount: len(results)}
	envMarks := map[string]bool{}
	for _, r := range results {
		if r.err == nil && r.obj.typ == "marking-definition" {
			envMarks[r.obj.id] = true
		}
	}
	var rows []objRow
	seen := map[string]bool{}
	cl.mu.RLock()
	defer cl.mu.RUnlock()
	for _, r := range results {
		o := r.obj
		t, err := s.rules(cl, member, o, r.err, envMarks)
		key := fmt.Sprint(o.id, "|", o.versionNS)
		if err == nil && o.version != "" && (seen[key] || cl.has(o.id, o.versionNS)) {
			if old := cl.find(o.id, o.versionNS); old != nil && old.aud.poster == member && bytes.Equal(old.data, o.raw) {
				st.Successes = append(st.Successes, statusDetail{o.id, o.version, "already stored"})
				continue
			}
			err = errors.New("an object with this id and version is already in this collection (a new version needs a later modified)")
		}
		if err != nil {
			st.Failures = append(st.Failures, statusDetail{o.id, o.version, err.Error()})
			continue
		}
		seen[key] = true
		s.seq++
		s.added = max(now.UnixMicro(), s.added+1)
		if o.version == "" { // an SCO without created or modified: its version is date_added
			o.version, o.versionNS = timestamp(s.added), s.added*1000
		}
		rows = append(rows, objRow{seq: s.seq, collection: cl.cfg.ID, id: o.id, version: o.version, versionNS: o.versionNS,
			added: s.added, typ: o.typ, tlp: t, poster: s.members[member].Name, recipients: o.recipients, data: o.raw})
		st.Successes = append(st.Successes, statusDetail{ID: o.id, Version: o.version})
	}
	st.SuccessCount, st.FailureCount = len(st.Successes), len(st.Failures)
	return st, rows
}

// rules checks one validated object against the collection: every
// marking it refers to is defined (TLP, or a marking-definition in the
// envelope or in the collection that the poster may read), and
// x_tlp_recipients is only on objects served as RED and names members. It
// returns the TLP the object is served at.
func (s *Server) rules(cl *coll, member int, o object, verr error, envMarks map[string]bool) (TLP, error) {
	if verr != nil {
		return 0, verr
	}
	t := cl.floor
	for _, m := range o.markings {
		if lvl, ok := tlpMarkings[m]; ok {
			t = max(t, lvl)
			continue
		}
		rd := cl.readers[member]
		if !envMarks[m] && (rd == nil || !cl.visibleID(rd, m)) {
			return 0, fmt.Errorf("marking %q: no such marking-definition (TLP, in this envelope or in this collection)", m)
		}
	}
	if o.hasRecips && t != Red {
		return 0, fmt.Errorf("%s is only for objects served as TLP:RED (this one is %s)", RecipientsProperty, t)
	}
	for _, n := range o.recipients {
		if _, ok := s.byName[n]; !ok {
			return 0, fmt.Errorf("%s: no member named %q", RecipientsProperty, n)
		}
	}
	return t, nil
}

// find returns the stored version of id with version vns, not deleted, or
// nil (under mu).
func (c *coll) find(id string, vns int64) *stored {
	oi, ok := c.byID[id]
	if !ok {
		return nil
	}
	for _, i := range c.objs[oi].idxs {
		if v := &c.vers[i]; v.vns == vns && !v.deleted {
			return v
		}
	}
	return nil
}

// apply adds committed versions to memory (under wmu).
func (s *Server) apply(cl *coll, rows []objRow) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	for _, r := range rows {
		cl.add(stored{seq: r.seq, added: r.added, vns: r.versionNS, version: r.version,
			aud: s.audienceOf(r.tlp, r.poster, r.recipients), data: s.arena.copy(r.data)}, r.id, r.typ)
	}
}

// delete answers DELETE .../objects/OID/: removes the versions selected
// (match[version], all by default; match[spec_version]) that the member
// may see; all of them must be its own organisation's (403 otherwise,
// nothing removed); none: 404.
func (s *Server) delete(c *call) {
	c.audit.action = "delete"
	cl := c.coll()
	if cl == nil {
		return
	}
	id := c.r.PathValue("oid")
	c.audit.object = id
	if !cl.write[c.p.member] {
		c.fail(http.StatusForbidden, "Forbidden", "your organisation may not write to this collection")
		return
	}
	f, err := parseFilter(c.r.URL.Query(), deleteParams, s.cfg.PageLimit, "all")
	if err != nil {
		c.fail(http.StatusBadRequest, "Bad request", err.Error())
		return
	}
	rd := cl.readers[c.p.member]
	if rd == nil {
		rd = &reader{member: c.p.member, ownOnly: true}
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	seqs, idxs, others := cl.deletable(rd, f, id)
	switch {
	case len(seqs) == 0:
		c.fail(http.StatusNotFound, "Object not found", "no object "+id+" that you may read matches")
		return
	case others:
		c.fail(http.StatusForbidden, "Forbidden", "some versions selected were posted by another organisation: delete only your own (match[version])")
		return
	}
	c.audit.status, c.audit.count, c.audit.seqs = http.StatusOK, len(seqs), seqs
	if err := s.db.deleteVersions(c.r.Context(), seqs, s.now().UnixMicro(), c.audit); err != nil {
		c.audit.seqs, c.audit.count = nil, 0
		c.fail(http.StatusInternalServerError, "Internal error", "the versions could not be deleted; none was")
		return
	}
	cl.mu.Lock()
	for _, i := range idxs {
		cl.vers[i].deleted = true
	}
	cl.mu.Unlock()
	writeBody(c.w, http.StatusOK, MediaTAXII, nil)
}

// deletable returns the versions of id the filter selects among those rd
// sees, and whether any of them is another organisation's (under no lock).
func (c *coll) deletable(rd *reader, f *filter, id string) (seqs []int64, idxs []int32, others bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	oi, ok := c.byID[id]
	if !ok {
		return nil, nil, false
	}
	list := slices.Clone(c.objs[oi].idxs)
	slices.Sort(list)
	for _, i := range list {
		v := &c.vers[i]
		if !c.candidate(rd, f, v) || !c.selected(rd, f, i, v) {
			continue
		}
		others = others || v.aud.poster != rd.member
		seqs, idxs = append(seqs, v.seq), append(idxs, i)
	}
	return seqs, idxs, others
}
