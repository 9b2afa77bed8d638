package serve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"wormwatch/detect"
	"wormwatch/internal/param"
	"wormwatch/notify"
	"wormwatch/taxii"
)

// Telling owners from the service (docs/share.md, "Telling owners"): the
// [notify] table makes a notify.Job of the owner table, the delegation
// files and the opt-out list; POST /api/v1/notify runs it now, and every
// runs it on a schedule, on the sources detect's analyzer has counted so
// far. The state (each address told once per window), the ledger and the
// notices live in the data folder. One run at a time.

// NotifyConfig is the [notify] table: who holds the addresses, what the
// notices say, and how they are sent (as the flags of wormwatch notify).
type NotifyConfig struct {
	Enabled          bool           `toml:"enabled" default:"false" doc:"tell the owners of the infected addresses the service has seen: POST /api/v1/notify, and every (docs/share.md, Telling owners). The state is notify-state.db, the ledger notify-ledger.jsonl and the notices notices/TIME/ in the data folder"`
	Owners           string         `toml:"owners" doc:"the owner table: CSV with the columns prefix, owner, contact (abuse e-mail address) and optionally asn; the longest prefix holding an address wins. Read at the start and at each reload"`
	Delegations      []string       `toml:"delegations" maxlen:"16" doc:"RIR delegation files (delegated-REGISTRY-extended-latest): the holders of what the owner table does not name (their notices are written, not sent: no contact)"`
	OptOut           string         `toml:"opt_out" doc:"the opt-out list: lines prefix P, owner NAME or contact ADDRESS"`
	Families         []string       `toml:"families" maxlen:"256" doc:"tell only of these worm families (names of the signature table); empty: every family detected"`
	TAXIIMember      string         `toml:"taxii_member" doc:"with taxii_collections: read the sightings members share in the service's TAXII server ([taxii]) as this member, TLP 2.0 enforced as for its own reads; their addresses are told too, each seen by the identity that created its sighting (TLP:RED and TLP:AMBER+STRICT sightings are not passed on: AMBER+STRICT is for the recipient's own organisation)"`
	TAXIICollections []string       `toml:"taxii_collections" maxlen:"64" doc:"the TAXII collections (ids or aliases) whose sightings are read as taxii_member; a collection whose TLP floor is red or amber+strict is refused"`
	Reporter         string         `toml:"reporter" default:"wormwatch" doc:"who saw the detections, in the notices (the CSV's public_source)"`
	Org              string         `toml:"org" default:"wormwatch" doc:"who writes the notices (the letter's signature, the From name)"`
	Contact          string         `toml:"contact" doc:"where owners answer and opt out: an e-mail address or an https URL; empty: reply to the message"`
	Advisory         string         `toml:"advisory" doc:"a link to your advisory, first among the notices' links; empty: the CSAF site's provider-metadata.json when [csaf] is on, none otherwise"`
	Listed           int            `toml:"listed" default:"200" min:"1" max:"1000000" doc:"addresses listed in a notice's text, at most (its CSV lists every one)"`
	SMTP             string         `toml:"smtp" doc:"the SMTP server, host:port, STARTTLS required; empty: notices are written, not sent"`
	SMTPUser         string         `toml:"smtp_user" doc:"user for AUTH PLAIN, after STARTTLS; the password is read from the environment variable smtp_password_env (never from this file)"`
	SMTPPasswordEnv  string         `toml:"smtp_password_env" default:"WORMWATCH_SMTP_PASSWORD" doc:"the environment variable holding smtp_user's password"`
	SMTPCA           string         `toml:"smtp_ca" doc:"PEM certificates to trust for the SMTP server; empty: the system's roots"`
	From             string         `toml:"from" doc:"the sender's e-mail address (envelope and From); required with smtp"`
	Rate             float64        `toml:"rate" default:"1" min:"0.001" max:"1000" doc:"messages a second, at most"`
	Window           param.Duration `toml:"window" default:"1d" min:"1m" max:"365d" doc:"an address is reported at most once in this window (kept in notify-state.db across restarts)"`
	Every            param.Duration `toml:"every" default:"0s" min:"0s" max:"365d" doc:"run a notification on this schedule (from the start, and from each reload), at least 1s; 0s: only when asked (POST /api/v1/notify). Without smtp nothing is told, so each run writes the notices of every address again"`
}

// checkNotify checks the [notify] table and makes its job: the owner
// table, the delegation files and the opt-out list read, the sending keys
// consistent.
func (c *checker) checkNotify() error {
	n := &c.cfg.Notify
	if !n.Enabled {
		return nil
	}
	switch {
	case n.Owners == "" && len(n.Delegations) == 0:
		return c.at("notify.owners", "missing: give owners (a table) or delegations (RIR files): who holds the addresses")
	case n.Every.D() > 0 && n.Every.D() < time.Second:
		return c.at("notify.every", "%v: want 0s (no schedule) or at least 1s", n.Every.D())
	case n.Contact != "" && !strings.Contains(n.Contact, "@") && !strings.HasPrefix(n.Contact, "https://"):
		return c.at("notify.contact", "%q: want an e-mail address or an https URL", n.Contact)
	}
	if n.Advisory != "" {
		if u, err := url.Parse(n.Advisory); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return c.at("notify.advisory", "%q: want an http or https URL", n.Advisory)
		}
	}
	fams, _, _ := detect.LoadTable(c.cfg.Signatures) // checked before
	for _, f := range n.Families {
		if !slices.ContainsFunc(fams, func(x detect.Family) bool { return x.Name == f }) {
			return c.at("notify.families", "%q is no family of the signature table", f)
		}
	}
	if err := c.checkNotifyMail(); err != nil {
		return err
	}
	if err := c.checkNotifyTAXII(); err != nil {
		return err
	}
	job, err := notify.NewJob(c.cfg.notifyOptions())
	if err != nil {
		var oe *notify.OptionError
		if errors.As(err, &oe) {
			return c.at("notify."+oe.Option, "%v", oe.Err)
		}
		return c.at("notify", "%v", err)
	}
	c.cfg.notifyJob = job
	return nil
}

// checkNotifyMail checks the sending keys: none without smtp; with it an
// address, a sender, certificates that read and a password when a user
// is given.
func (c *checker) checkNotifyMail() error {
	n := &c.cfg.Notify
	if n.SMTP == "" {
		for key, v := range map[string]string{"smtp_user": n.SMTPUser, "smtp_ca": n.SMTPCA, "from": n.From} {
			if v != "" {
				return c.at("notify."+key, "applies only with smtp (the server notices are sent through)")
			}
		}
		return nil
	}
	if _, _, err := net.SplitHostPort(n.SMTP); err != nil {
		return c.at("notify.smtp", "%q: want host:port (mail.example.org:587)", n.SMTP)
	}
	if n.From == "" {
		return c.at("notify.from", "missing: the sender's address is needed with smtp")
	}
	if a, err := notify.ParseContact(n.From); err != nil || a == "" {
		return c.at("notify.from", "%q: want an e-mail address", n.From)
	}
	if n.SMTPCA != "" {
		if _, err := notify.LoadCA(n.SMTPCA); err != nil {
			return c.at("notify.smtp_ca", "%s: %v", n.SMTPCA, err)
		}
	}
	if n.SMTPUser != "" && os.Getenv(n.SMTPPasswordEnv) == "" {
		return c.at("notify.smtp_password_env", "$%s is not set or empty: it holds the password of smtp_user %s", n.SMTPPasswordEnv, n.SMTPUser)
	}
	return nil
}

// checkNotifyTAXII checks taxii_member and taxii_collections against the
// [taxii] table: the server on, the member known and allowed to read each
// collection, no collection whose floor is TLP:RED or TLP:AMBER+STRICT.
func (c *checker) checkNotifyTAXII() error {
	n, t := &c.cfg.Notify, &c.cfg.TAXII
	switch {
	case n.TAXIIMember == "" && len(n.TAXIICollections) == 0:
		return nil
	case !t.Enabled:
		return c.at("notify.taxii_member", "the service has no TAXII server ([taxii] enabled = true)")
	case n.TAXIIMember == "":
		return c.at("notify.taxii_member", "missing: the member the sightings of taxii_collections are read as")
	case len(n.TAXIICollections) == 0:
		return c.at("notify.taxii_collections", "missing: the collections whose sightings are read as taxii_member")
	case !slices.ContainsFunc(t.Members, func(m taxii.Member) bool { return m.Name == n.TAXIIMember }):
		return c.at("notify.taxii_member", "%q is no [[taxii.member]]", n.TAXIIMember)
	}
	for _, key := range n.TAXIICollections {
		i := slices.IndexFunc(t.Collections, func(cl taxii.Collection) bool { return cl.ID == key || (cl.Alias != "" && cl.Alias == key) })
		switch {
		case i < 0:
			return c.at("notify.taxii_collections", "%q is no [[taxii.collection]] (its id or alias)", key)
		case t.Collections[i].TLP == "red" || t.Collections[i].TLP == "amber+strict":
			return c.at("notify.taxii_collections", "%q has the TLP floor %s: what it holds may not be passed on to owners", key, t.Collections[i].TLP)
		case !c.reads(n.TAXIIMember, t.Collections[i]):
			return c.at("notify.taxii_member", "%s may not read collection %s (no group of its in the collection's read list)", n.TAXIIMember, key)
		}
	}
	return nil
}

// reads reports whether a TAXII member is in a group that reads cl.
func (c *checker) reads(member string, cl taxii.Collection) bool {
	for _, g := range c.cfg.TAXII.Groups {
		if slices.Contains(cl.Read, g.Name) && slices.Contains(g.Members, member) {
			return true
		}
	}
	return false
}

// notifyOptions are the job's options: the table's, with the state, the
// ledger in the data folder.
func (cfg *Config) notifyOptions() notify.Options {
	n := &cfg.Notify
	o := notify.Options{Owners: n.Owners, Delegations: n.Delegations, OptOut: n.OptOut, Families: n.Families,
		Org: n.Org, Contact: n.Contact, Advisory: n.Advisory, Listed: n.Listed, Window: n.Window.D(),
		State: filepath.Join(cfg.Service.Data, "notify-state.db"), Ledger: filepath.Join(cfg.Service.Data, "notify-ledger.jsonl"),
		SkipEmpty: true}
	if o.Advisory == "" && cfg.CSAF.Enabled() {
		o.Advisory = strings.TrimSuffix(cfg.CSAF.BaseURL, "/") + "/.well-known/csaf/provider-metadata.json"
	}
	if n.SMTP != "" {
		o.Mail = &notify.MailOptions{SMTP: n.SMTP, User: n.SMTPUser, Password: os.Getenv(n.SMTPPasswordEnv), CA: n.SMTPCA, From: n.From, Rate: n.Rate}
	}
	return o
}

// errNotifyBusy is a run's error while another runs.
var errNotifyBusy = errors.New("a notification is running: ask again when it has ended")

// notifyNow runs a notification with the current configuration: on what
// detect's analyzer has counted so far, into DATA/notices/TIME/, sent
// when send is true. It returns errNotifyBusy while another runs.
func (s *Service) notifyNow(ctx context.Context, send bool) (*notify.Summary, error) {
	if !s.notifyMu.TryLock() {
		return nil, errNotifyBusy
	}
	defer s.notifyMu.Unlock()
	cfg := s.cfg.Load()
	if cfg.notifyJob == nil {
		return nil, errors.New("no [notify] table (enabled = true)")
	}
	d, err := s.detections(ctx, cfg)
	if err != nil {
		return nil, err
	}
	out, err := s.noticesDir(cfg)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	sum, err := cfg.notifyJob.WithNow(s.now).Run(ctx, d, out, send)
	if sum != nil {
		s.logNotify(sum, time.Since(t0))
	}
	return sum, err
}

// detections returns the sources detect's analyzer has counted so far
// (none before anything was read), taken on the loop, and the sightings
// of cfg's TAXII collections.
func (s *Service) detections(ctx context.Context, cfg *Config) (*notify.Detections, error) {
	var d *notify.Detections
	var err error
	if e := s.l.do(ctx, s.done, func() {
		rep, e := s.l.a.Snapshot(ctx)
		if errors.Is(e, detect.ErrNoLines) {
			d = &notify.Detections{}
			return
		} else if e != nil {
			err = e
			return
		}
		defer rep.Close()
		d, err = notify.FromReport(rep, cfg.Notify.Reporter)
	}); e != nil {
		return nil, e
	}
	if err != nil {
		return nil, err
	}
	return d, s.sightings(cfg, d)
}

// sightings adds to d the sightings of [notify] taxii_collections, read
// from the service's TAXII server as taxii_member.
func (s *Service) sightings(cfg *Config, d *notify.Detections) error {
	n := cfg.Notify
	if s.taxii == nil || n.TAXIIMember == "" {
		return nil
	}
	for _, coll := range n.TAXIICollections {
		objs, err := s.taxii.Objects(n.TAXIIMember, coll)
		if err != nil {
			return err
		}
		got, err := notify.ReadObjects(objs, "TAXII collection "+coll, "")
		if err != nil {
			return err
		}
		d.Add(got)
	}
	return nil
}

// noticesDir returns a new folder's path for a run's notices:
// DATA/notices/TIME (UTC, 20261202T081500Z; -2, -3 after a name taken).
func (s *Service) noticesDir(cfg *Config) (string, error) {
	parent := filepath.Join(cfg.Service.Data, "notices")
	if err := os.MkdirAll(parent, 0o750); err != nil {
		return "", err
	}
	stem := s.now().UTC().Format("20060102T150405Z")
	for i := 1; ; i++ {
		name := stem
		if i > 1 {
			name = fmt.Sprintf("%s-%d", stem, i)
		}
		p := filepath.Join(parent, name)
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			return p, nil
		}
	}
}

// logNotify logs what a run did.
func (s *Service) logNotify(sum *notify.Summary, took time.Duration) {
	j := sum.Describe()
	args := []any{"notices", j.Notices, "addresses", j.Addresses, "skipped", j.Skipped, "folder", j.Folder, "took", took.Round(time.Millisecond)}
	if j.Sent != nil {
		args = append(args, "sent", j.Sent.Messages, "failed", j.Sent.Failed)
	}
	s.log.Info("notify: run", args...)
}

// runNotifier starts the schedule of [notify] every and the context of
// the runs; the function it returns cancels a run in progress and waits
// for the schedule to end (at most until wait is done).
func (s *Service) runNotifier() (stop func(wait context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	s.notifyCtx = ctx
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.notifyEvery(ctx)
	}()
	return func(wait context.Context) {
		cancel()
		select {
		case <-done:
		case <-wait.Done():
			s.log.Warn("notify: not stopped within the shutdown grace")
		}
	}
}

// notifyEvery runs a notification every [notify] every, the schedule
// starting again at each reload, until ctx is done.
func (s *Service) notifyEvery(ctx context.Context) {
	for {
		var tick <-chan time.Time
		var t *time.Timer
		if n := s.cfg.Load().Notify; n.Enabled && n.Every.D() > 0 {
			t = time.NewTimer(n.Every.D())
			tick = t.C
		}
		var due bool
		select {
		case <-ctx.Done():
		case <-s.notifyWake:
		case <-tick:
			due = true
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return
		}
		if !due {
			continue
		}
		cfg := s.cfg.Load()
		if _, err := s.notifyNow(ctx, cfg.Notify.SMTP != ""); errors.Is(err, errNotifyBusy) {
			s.log.Info("notify: the scheduled run is skipped: another is running")
		} else if err != nil && ctx.Err() == nil {
			s.log.Error("notify: the scheduled run failed", "error", err)
		}
	}
}

// handleNotify answers POST /api/v1/notify[?send=false]: a notification
// now (see notifyNow), sent unless send=false (or when no smtp is
// configured); the summary as JSON. 409 while another runs.
func (s *Service) handleNotify(w http.ResponseWriter, r *http.Request) {
	if err := crossOrigin.Check(r); err != nil {
		writeError(w, http.StatusForbidden, "%v: a notification must be asked for by the service's own page or a program", err)
		return
	}
	cfg := s.cfg.Load()
	if cfg.notifyJob == nil {
		writeError(w, http.StatusNotFound, "no [notify] table: give [notify] enabled = true in the configuration (docs/share.md, Telling owners)")
		return
	}
	send, err := notifyParams(r, cfg.Notify.SMTP != "")
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	// A run that sends waits for the rate: the answer may take longer
	// than the server's write timeout, lifted here as for the events.
	http.NewResponseController(w).SetWriteDeadline(time.Time{})
	sum, err := s.notifyNow(s.notifyCtx, send)
	switch {
	case errors.Is(err, errNotifyBusy):
		writeError(w, http.StatusConflict, "%v", err)
	case errors.Is(err, errStopped) || s.notifyCtx.Err() != nil:
		writeError(w, http.StatusServiceUnavailable, "the service is stopping")
	case err != nil && sum != nil:
		writeJSON(w, http.StatusBadGateway, struct {
			Error   string             `json:"error"`
			Summary notify.SummaryJSON `json:"summary"`
		}{err.Error(), sum.Describe()})
	case err != nil:
		writeError(w, http.StatusInternalServerError, "%v", err)
	default:
		writeJSON(w, http.StatusOK, sum.Describe())
	}
}

// notifyParams reads the request's one parameter, send (true or false;
// by default true when smtp is configured).
func notifyParams(r *http.Request, smtp bool) (bool, error) {
	q := r.URL.Query()
	for k, v := range q {
		switch {
		case k != "send":
			return false, fmt.Errorf("unknown parameter %q (send)", k)
		case len(v) != 1:
			return false, fmt.Errorf("parameter %q given %d times", k, len(v))
		}
	}
	switch v := q.Get("send"); v {
	case "":
		return smtp, nil
	case "false":
		return false, nil
	case "true":
		if !smtp {
			return false, errors.New("send=true: no notify.smtp in the configuration: the notices can be written only")
		}
		return true, nil
	default:
		return false, fmt.Errorf("send=%q: want true or false", v)
	}
}
