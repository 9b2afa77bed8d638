package taxii

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"time"
)

// Prefix is the path under which Handler serves everything: mount the
// handler at "/taxii2/".
const Prefix = "/taxii2/"

// auditSegment is the path segment of the audit endpoint under Prefix.
const auditSegment = "audit"

// Server is the TAXII 2.1 server: its configuration compiled (members,
// groups, collections and who may see what), the objects in memory, and
// the database that holds them durably.
type Server struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	db      *db
	auth    *authenticator
	val     *validator
	members []Member
	byName  map[string]int
	colls   map[string]*coll
	order   []*coll // as configured
	mux     *http.ServeMux
	audit   *auditor
	turns   *turns // of the requests for pages of objects

	wmu   sync.Mutex // serialises writes: seq, date_added, arena
	seq   int64
	added int64 // microseconds
	arena arena
}

// New opens the server's database at file (made when missing: taxii.db in
// the service's data folder; a file.lock beside it keeps a second process
// out), loads the stored objects and returns the server. cfg is checked
// first (Config.Validate). logger may be nil.
func New(cfg Config, file string, logger *slog.Logger) (*Server, error) {
	return newServer(cfg, file, logger, time.Now)
}

// newServer is New with a clock.
func newServer(cfg Config, file string, logger *slog.Logger, now func() time.Time) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: logger, now: now, val: newValidator(), members: cfg.Members,
		byName: map[string]int{}, colls: map[string]*coll{}}
	for i, m := range cfg.Members {
		s.byName[m.Name] = i
	}
	groups := map[string][]int{}
	for _, g := range cfg.Groups {
		for _, m := range g.Members {
			groups[g.Name] = append(groups[g.Name], s.byName[m])
		}
	}
	for _, c := range cfg.Collections {
		cl := newColl(c, cfg.Members, groups)
		s.colls[c.ID] = cl
		s.order = append(s.order, cl)
	}
	s.auth = newAuthenticator(cfg, now)
	var err error
	ctx := context.Background()
	if s.db, err = openDB(ctx, file); err != nil {
		return nil, err
	}
	if err := s.load(ctx); err != nil {
		s.db.close()
		return nil, fmt.Errorf("%s: loading the objects: %w", file, err)
	}
	s.audit = newAuditor(s.db, logger)
	s.turns = newTurns(turnsPerProc*runtime.GOMAXPROCS(0), turnHold)
	s.mux = s.routes()
	return s, nil
}

// load reads the stored versions into memory. Versions of collections no
// longer configured stay in the database, unserved.
func (s *Server) load(ctx context.Context) error {
	var err error
	if s.seq, s.added, err = s.db.counters(ctx); err != nil {
		return err
	}
	return s.db.eachObject(ctx, func(r objRow) error {
		cl := s.colls[r.collection]
		if cl == nil {
			return nil
		}
		cl.add(stored{seq: r.seq, added: r.added, vns: r.versionNS, version: r.version,
			aud: s.audienceOf(r.tlp, r.poster, r.recipients), data: s.arena.copy(r.data)}, r.id, r.typ)
		return nil
	})
}

// audienceOf resolves member names to indexes (-1, or nothing, for names
// no longer configured).
func (s *Server) audienceOf(t TLP, poster string, recipients []string) audience {
	a := audience{tlp: t, poster: -1}
	if i, ok := s.byName[poster]; ok {
		a.poster = i
	}
	for _, r := range recipients {
		if i, ok := s.byName[r]; ok {
			a.recipients = append(a.recipients, i)
		}
	}
	return a
}

// Handler returns the HTTP handler of everything under Prefix (/taxii2/):
// discovery, the API root and its collections, objects, manifests,
// versions and status resources, and the audit endpoint. Mount it at
// Prefix.
func (s *Server) Handler() http.Handler { return s }

// ClientAuth returns what a TLS listener should ask of clients:
// tls.RequestClientCert when a member authenticates with a client
// certificate (cert_sha256; the server matches the certificate's digest,
// so it need not be verified against a CA), tls.NoClientCert otherwise.
func (s *Server) ClientAuth() tls.ClientAuthType {
	if len(s.auth.certs) > 0 {
		return tls.RequestClientCert
	}
	return tls.NoClientCert
}

// Close waits for the audit entries being written and closes the
// database. Requests still being served after Close fail.
func (s *Server) Close() error {
	return errors.Join(s.audit.close(), s.db.close())
}
