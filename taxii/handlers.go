package taxii

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// discovery answers GET /taxii2/: the server and its one API root.
func (s *Server) discovery(c *call) {
	c.audit.action = "discovery"
	root := baseURL(c.r) + s.cfg.APIRoot + "/"
	c.replyJSON(http.StatusOK, map[string]any{
		"title":       s.cfg.Title,
		"description": s.cfg.Description,
		"contact":     s.cfg.Contact,
		"default":     root,
		"api_roots":   []string{root},
	})
}

// apiRoot answers GET /taxii2/ROOT/.
func (s *Server) apiRoot(c *call) {
	c.audit.action = "api-root"
	c.replyJSON(http.StatusOK, map[string]any{
		"title":              s.cfg.Title,
		"description":        s.cfg.Description,
		"versions":           []string{MediaTAXII},
		"max_content_length": s.cfg.MaxContentLength,
	})
}

// collectionResource is TAXII's collection resource for one member.
func (s *Server) collectionResource(cl *coll, member int) map[string]any {
	return map[string]any{
		"id":          cl.cfg.ID,
		"title":       cl.cfg.Title,
		"description": cl.cfg.Description,
		"alias":       cl.cfg.Alias,
		"can_read":    cl.read[member],
		"can_write":   cl.write[member],
		"media_types": []string{MediaSTIX},
	}
}

// collections answers GET /taxii2/ROOT/collections/: every collection,
// with what the member may do in each.
func (s *Server) collections(c *call) {
	c.audit.action = "collections"
	list := make([]map[string]any, 0, len(s.order))
	for _, cl := range s.order {
		list = append(list, s.collectionResource(cl, c.p.member))
	}
	out := map[string]any{}
	if len(list) > 0 {
		out["collections"] = list
	}
	c.replyJSON(http.StatusOK, out)
}

// coll finds the request's collection (404 when unknown).
func (c *call) coll() *coll {
	id := c.r.PathValue("cid")
	c.audit.collection = id
	cl := c.s.colls[id]
	if cl == nil {
		c.fail(http.StatusNotFound, "Collection not found", "no collection "+id+" in this API root")
	}
	return cl
}

// readable finds the request's collection and checks the member may read
// it (403 otherwise).
func (c *call) readable() *coll {
	cl := c.coll()
	if cl != nil && cl.readers[c.p.member] == nil {
		c.fail(http.StatusForbidden, "Forbidden", "your organisation may not read this collection")
		return nil
	}
	return cl
}

// collection answers GET /taxii2/ROOT/collections/ID/.
func (s *Server) collection(c *call) {
	c.audit.action = "collection"
	if cl := c.coll(); cl != nil {
		c.replyJSON(http.StatusOK, s.collectionResource(cl, c.p.member))
	}
}

// status answers GET /taxii2/ROOT/status/ID/: a POST's status resource,
// to the organisation that posted.
func (s *Server) status(c *call) {
	c.audit.action = "status"
	id := c.r.PathValue("id")
	c.audit.object = id
	poster, body, err := s.db.status(c.r.Context(), id)
	switch {
	case errors.Is(err, sql.ErrNoRows) || (err == nil && poster != s.members[c.p.member].Name):
		c.fail(http.StatusNotFound, "Status not found", "no status resource "+id+" of your organisation")
	case err != nil:
		c.fail(http.StatusInternalServerError, "Internal error", err.Error())
	default:
		c.reply(http.StatusOK, MediaTAXII, body)
	}
}

// objects answers GET and POST /taxii2/ROOT/collections/ID/objects/.
func (s *Server) objects(c *call) {
	if c.r.Method == http.MethodPost {
		s.post(c)
		return
	}
	c.audit.action = "objects"
	cl := c.readable()
	if cl == nil {
		return
	}
	c.turn = s.turns.take(c.r.Context())
	defer c.turn.done()
	f, err := parseFilter(c.r.URL.Query(), objectsParams, s.cfg.PageLimit, "last")
	if err != nil {
		c.fail(http.StatusBadRequest, "Bad request", err.Error())
		return
	}
	p := cl.query(cl.readers[c.p.member], f, nil)
	defer p.release()
	c.envelope(p, false)
}

// manifest answers GET /taxii2/ROOT/collections/ID/manifest/.
func (s *Server) manifest(c *call) {
	c.audit.action = "manifest"
	cl := c.readable()
	if cl == nil {
		return
	}
	f, err := parseFilter(c.r.URL.Query(), objectsParams, s.cfg.PageLimit, "last")
	if err != nil {
		c.fail(http.StatusBadRequest, "Bad request", err.Error())
		return
	}
	p := cl.query(cl.readers[c.p.member], f, nil)
	defer p.release()
	c.pageHeaders(p)
	var b bytes.Buffer
	b.WriteString(`{"more":` + strconv.FormatBool(p.more))
	if p.more {
		b.WriteString(`,"next":"` + strconv.FormatInt(p.items[len(p.items)-1].seq, 10) + `"`)
	}
	if len(p.items) > 0 {
		b.WriteString(`,"objects":[`)
		for i := range p.items {
			v := &p.items[i]
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"id":` + quote(v.id) + `,"date_added":"` + timestamp(v.added) +
				`","version":` + quote(v.version) + `,"media_type":"` + MediaSTIX + `"}`)
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
	c.reply(http.StatusOK, MediaTAXII, b.Bytes())
}

// object answers GET and DELETE /taxii2/ROOT/collections/ID/objects/OID/.
func (s *Server) object(c *call) {
	if c.r.Method == http.MethodDelete {
		s.delete(c)
		return
	}
	p, ok := s.objectPage(c, "object", objectParams, "last")
	if !ok {
		return
	}
	defer p.release()
	c.envelope(p, false)
}

// objectPage is the page of the versions of the request's object that the
// member may read, for the object and versions endpoints (their action,
// parameters and default of match[version]); ok is false when it answered
// already (403, 400, or 404: none it may read).
func (s *Server) objectPage(c *call, action string, params []string, version string) (page, bool) {
	c.audit.action = action
	cl := c.readable()
	if cl == nil {
		return page{}, false
	}
	id := c.r.PathValue("oid")
	c.audit.object = id
	f, err := parseFilter(c.r.URL.Query(), params, s.cfg.PageLimit, version)
	if err != nil {
		c.fail(http.StatusBadRequest, "Bad request", err.Error())
		return page{}, false
	}
	p := cl.query(cl.readers[c.p.member], f, nonNil(cl.objectIdxs(id)))
	if len(p.items) == 0 && f.after == 0 {
		p.release()
		c.fail(http.StatusNotFound, "Object not found", "no object "+id+" that you may read matches")
		return page{}, false
	}
	return p, true
}

// versions answers GET .../objects/OID/versions/.
func (s *Server) versions(c *call) {
	p, ok := s.objectPage(c, "versions", versionsParams, "all")
	if !ok {
		return
	}
	defer p.release()
	c.pageHeaders(p)
	var b bytes.Buffer
	b.WriteString(`{"more":` + strconv.FormatBool(p.more))
	if p.more {
		b.WriteString(`,"next":"` + strconv.FormatInt(p.items[len(p.items)-1].seq, 10) + `"`)
	}
	b.WriteString(`,"versions":[`)
	for i := range p.items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(quote(p.items[i].version))
	}
	b.WriteString("]}")
	c.reply(http.StatusOK, MediaTAXII, b.Bytes())
}

// envelope answers with a page of objects as a TAXII envelope, written
// from the arena: the versions of a page mostly lie one after another
// there, commas between, so the body is its head, a few spans of the
// arena and its end, with no copy of the objects.
func (c *call) envelope(p page, _ bool) {
	c.pageHeaders(p)
	head := make([]byte, 0, 64)
	head = append(head, `{"more":`...)
	head = strconv.AppendBool(head, p.more)
	if p.more {
		head = append(head, `,"next":"`...)
		head = strconv.AppendInt(head, p.items[len(p.items)-1].seq, 10)
		head = append(head, '"')
	}
	if len(p.items) == 0 {
		c.reply(http.StatusOK, MediaTAXII, append(head, '}'))
		return
	}
	head = append(head, `,"objects":[`...)
	parts := [][]byte{head}
	var run []byte
	for i := range p.items {
		d := p.items[i].data
		switch {
		case i == 0:
			run = d
		case follows(p.items[i-1].data, d):
			run = span(run, d)
		default:
			parts = append(parts, run, comma)
			run = d
		}
	}
	parts = append(parts, run, envelopeEnd)
	c.reply(http.StatusOK, MediaTAXII, parts...)
}

// The bytes between the spans of an envelope, and its end.
var (
	comma       = []byte{','}
	envelopeEnd = []byte("]}")
)

// pageHeaders sets X-TAXII-Date-Added-First and -Last of a page, and
// records the versions served in the audit entry.
func (c *call) pageHeaders(p page) {
	c.audit.count = len(p.items)
	if len(p.items) == 0 {
		return
	}
	var seqs []int64
	if p.buf != nil {
		seqs = p.buf.seqs[:0]
	}
	for i := range p.items {
		seqs = append(seqs, p.items[i].seq)
	}
	c.audit.seqs = seqs
	if p.buf != nil {
		p.buf.seqs = seqs
	}
	h := c.w.Header()
	h.Set("X-TAXII-Date-Added-First", timestamp(p.items[0].added))
	h.Set("X-TAXII-Date-Added-Last", timestamp(p.items[len(p.items)-1].added))
}

// nonNil makes a nil list of indexes an empty one, so that query looks at
// none rather than the whole collection.
func nonNil(idxs []int32) []int32 {
	if idxs == nil {
		return []int32{}
	}
	return idxs
}

// quote writes s as a JSON string.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
