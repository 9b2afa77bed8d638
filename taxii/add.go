package taxii

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
)

// AddResult is what Add filed: as the status resource of a POST says it.
type AddResult struct {
	StatusID string   // the status resource's id (GET .../status/ID/ by the member)
	Accepted int      // objects stored
	Refused  []string // each refused object's id and the reason
}

// Add files STIX objects in a collection (its id or alias) on behalf of
// member, exactly as a POST of them by that member would: each object
// validated against the STIX 2.1 schemas and the server's rules, those that
// pass stored in one transaction with a status resource and an audit
// entry (credential "service", remote "internal"). It is the way the
// service that embeds the server shares what it finds (wormwatch serve's
// alert bundles). An error means nothing was stored: an unknown member or
// collection, no write right, no objects, or the store's failure.
func (s *Server) Add(ctx context.Context, member, collection string, objects []json.RawMessage) (AddResult, error) {
	mi, ok := s.byName[member]
	if !ok {
		return AddResult{}, fmt.Errorf("taxii: no member %q", member)
	}
	cl := s.collectionByKey(collection)
	if cl == nil {
		return AddResult{}, fmt.Errorf("taxii: no collection %q (an id or an alias)", collection)
	}
	if !cl.write[mi] {
		return AddResult{}, fmt.Errorf("taxii: member %s may not write to collection %s", member, collection)
	}
	if len(objects) == 0 {
		return AddResult{}, errors.New("taxii: no objects to add")
	}
	results := s.validateAll(objects)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	st, rows := s.file(cl, mi, results)
	body, _ := json.Marshal(st)
	a := auditRow{at: s.now().UnixMicro(), member: member, credential: "service", remote: "internal", action: "add",
		collection: cl.cfg.ID, status: 202, count: len(rows)}
	for _, r := range rows {
		a.seqs = append(a.seqs, r.seq)
	}
	if err := s.db.commitPost(ctx, rows, statusRow{id: st.ID, poster: member, collection: cl.cfg.ID, requested: a.at, body: body}, a); err != nil {
		return AddResult{}, fmt.Errorf("taxii: storing the objects: %w", err)
	}
	s.apply(cl, rows)
	out := AddResult{StatusID: st.ID, Accepted: st.SuccessCount}
	for _, f := range st.Failures {
		out.Refused = append(out.Refused, f.ID+": "+f.Message)
	}
	return out, nil
}

// collectionByKey finds a collection by its id or its alias.
func (s *Server) collectionByKey(key string) *coll {
	if cl := s.colls[key]; cl != nil {
		return cl
	}
	for _, cl := range s.colls {
		if cl.cfg.Alias != "" && cl.cfg.Alias == key {
			return cl
		}
	}
	return nil
}

// Objects returns the objects of a collection (its id or alias) that
// member may read, exactly as a GET of its objects by that member with no
// filter would give them over every page: the last version of each, in
// the order they were added, TLP 2.0 enforced. It is the way the service
// that embeds the server reads what members share (wormwatch serve's
// notifications read their sightings). The read is recorded in the audit
// log (credential "service", remote "internal") before it is returned.
// An error means nothing was read: an unknown member or collection, no
// read right, or the audit log's failure.
func (s *Server) Objects(member, collection string) ([]json.RawMessage, error) {
	mi, ok := s.byName[member]
	if !ok {
		return nil, fmt.Errorf("taxii: no member %q", member)
	}
	cl := s.collectionByKey(collection)
	if cl == nil {
		return nil, fmt.Errorf("taxii: no collection %q (an id or an alias)", collection)
	}
	if cl.readers[mi] == nil {
		return nil, fmt.Errorf("taxii: member %s may not read collection %s", member, collection)
	}
	p := cl.query(cl.readers[mi], &filter{limit: math.MaxInt, addedAfter: -1, last: true}, nil)
	a := auditRow{at: s.now().UnixMicro(), member: member, credential: "service", remote: "internal", action: "objects",
		collection: cl.cfg.ID, status: 200, count: len(p.items)}
	for _, it := range p.items {
		a.seqs = append(a.seqs, it.seq)
	}
	if err := s.audit.record(a); err != nil {
		return nil, fmt.Errorf("taxii: recording the read in the audit log: %w", err)
	}
	out := make([]json.RawMessage, len(p.items))
	for i, it := range p.items {
		out[i] = slices.Clone(it.data)
	}
	return out, nil
}
