package notify

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"time"
)

// Options are the choices of a Job: what `wormwatch notify`'s flags and
// the [notify] table of `wormwatch serve` say. Files are read by NewJob
// (the owners and the opt-out list) or at each Run (the state, the
// ledger, the SMTP server's certificates).
type Options struct {
	Owners      string   // the owner table; "" for none
	Delegations []string // RIR delegation files
	OptOut      string   // the opt-out list; "" for none
	Families    []string // tell only of these families; nil: of every family

	Org, Contact, Advisory string // the letter's (Letter)
	Listed                 int    // addresses listed in a notice's text; 0: DefaultListed

	Window time.Duration // an address is reported at most once in it; 0: DefaultWindow
	State  string        // the SQLite file of the addresses reported (OpenState); "" for none
	Ledger string        // the ledger file (OpenLedger); needed to send

	Mail *MailOptions // how to send; nil: the job writes only

	// SkipEmpty writes no folder when there is no notice (a service that
	// runs on a schedule); the command writes one in any case.
	SkipEmpty bool
	// Now is the clock of the window and the ledger; nil: time.Now.
	Now func() time.Time
}

// MailOptions say how a Job sends its notices: an SMTP server with
// STARTTLS (SMTP), from an address.
type MailOptions struct {
	SMTP     string  // host:port
	User     string  // for AUTH PLAIN; "" for none
	Password string  // for AUTH PLAIN
	CA       string  // PEM certificates to trust for the server; "" for the system's roots
	From     string  // the sender's address
	Rate     float64 // messages a second; 0: DefaultRate
}

// Job is one notification, made once and run as often as wanted: the
// owners and the opt-out list read, then at each Run the detections
// planned into notices (Plan), the addresses reported in the window left
// out (Fresh, with the state file), the notices written into a new folder
// (Letter.Write) and, if asked, sent (Sender.Send, with the ledger).
// `wormwatch notify` runs one; `wormwatch serve` keeps one and runs it on
// request and on a schedule. A Job does not run twice at once (the state
// file allows it, but two runs would tell the same addresses twice).
type Job struct {
	opt    Options
	owners *Owners
	optOut *OptOut
}

// OptionError is a file of the Options that could not be read or opened:
// Option names it (owners, delegations, opt_out, state, ledger, smtp_ca,
// as the keys of serve's [notify] table).
type OptionError struct {
	Option string
	Err    error
}

// Error returns the file's error (which names the file).
func (e *OptionError) Error() string { return e.Err.Error() }

// Unwrap returns the file's error.
func (e *OptionError) Unwrap() error { return e.Err }

// WriteError is the failure of writing a Run's folder (nothing was
// written: see Letter.Write).
type WriteError struct {
	Dir string
	Err error
}

// Error returns the writer's error.
func (e *WriteError) Error() string { return e.Err.Error() }

// Unwrap returns the writer's error.
func (e *WriteError) Unwrap() error { return e.Err }

// NewJob reads the owner table, the delegation files and the opt-out list
// of opt. A bad file is an *OptionError wrapping its *InputError.
func NewJob(opt Options) (*Job, error) {
	owners, err := LoadOwners(opt.Owners, opt.Delegations)
	if err != nil {
		key := "delegations"
		var ie *InputError
		if opt.Owners != "" && errors.As(err, &ie) && ie.File == opt.Owners {
			key = "owners"
		}
		return nil, &OptionError{key, err}
	}
	optOut, err := LoadOptOut(opt.OptOut)
	if err != nil {
		return nil, &OptionError{"opt_out", err}
	}
	return &Job{opt: opt, owners: owners, optOut: optOut}, nil
}

// Owners returns the owners the job tells.
func (j *Job) Owners() *Owners { return j.owners }

// now is the job's clock.
func (j *Job) now() time.Time {
	if j.opt.Now != nil {
		return j.opt.Now()
	}
	return time.Now()
}

// Run tells the owners of d's sources: the notices planned, those of the
// addresses reported in the window left out (with Options.State), written
// into the new folder out (unless out is ""), then sent when send is true
// (which needs Options.Mail and Options.Ledger). The summary says what it
// did; it is returned with the error of sending (Summary.Sent set), nil
// with any other error: an *OptionError for the state file or the ledger,
// a *WriteError for the folder.
func (j *Job) Run(ctx context.Context, d *Detections, out string, send bool) (*Summary, error) {
	if send && (j.opt.Mail == nil || j.opt.Ledger == "") {
		return nil, errors.New("notify: sending needs the mail options and a ledger")
	}
	sum := &Summary{Detections: d}
	sum.Notices, sum.Left = Plan(d.Sources, j.owners, PlanOptions{OptOut: j.optOut, Families: j.opt.Families})
	letter := &Letter{Org: j.opt.Org, Contact: j.opt.Contact, Advisory: j.opt.Advisory, Families: d.Families, Listed: j.opt.Listed}
	window := cmp.Or(j.opt.Window, DefaultWindow)
	var state *StateFile
	if j.opt.State != "" {
		letter.Window = window // said in the notices only when it is kept
		now := j.now()
		var err error
		if state, err = OpenState(ctx, j.opt.State, now.Add(-window)); err != nil {
			return nil, &OptionError{"state", err}
		}
		defer state.Close()
		if sum.Notices, sum.Skipped, err = Fresh(ctx, state, sum.Notices, now.Add(-window)); err != nil {
			return nil, err
		}
	}
	if out != "" && (len(sum.Notices) > 0 || !j.opt.SkipEmpty) {
		if err := letter.Write(ctx, out, sum.Notices); err != nil {
			return nil, &WriteError{out, err}
		}
		sum.Dir = out
	}
	if send {
		sent, err := j.send(ctx, letter, state, window, sum.Notices)
		sum.Sent = &sent
		if err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// send e-mails the notices.
func (j *Job) send(ctx context.Context, letter *Letter, state *StateFile, window time.Duration, notices []Notice) (Sent, error) {
	mo := j.opt.Mail
	cfg := &tls.Config{}
	if mo.CA != "" {
		pool, err := LoadCA(mo.CA)
		if err != nil {
			return Sent{}, &OptionError{"smtp_ca", err}
		}
		cfg.RootCAs = pool
	}
	ledger, err := OpenLedger(j.opt.Ledger)
	if err != nil {
		return Sent{}, &OptionError{"ledger", err}
	}
	defer ledger.Close()
	m := &SMTP{Addr: mo.SMTP, TLS: cfg, Username: mo.User, Password: mo.Password}
	defer m.Close()
	var st State
	if state != nil { // not a nil *StateFile in the interface
		st = state
	}
	s := &Sender{Mailer: m, From: mo.From, Letter: letter, Rate: mo.Rate, Window: window, State: st, Ledger: ledger, Now: j.opt.Now}
	return s.Send(ctx, notices)
}

// ErrNoPEM is LoadCA's error for a file without a PEM certificate.
var ErrNoPEM = errors.New("no PEM certificate in it")

// LoadCA reads PEM certificates to trust for an SMTP server. The error is
// the file's (naming it), or ErrNoPEM.
func LoadCA(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, ErrNoPEM
	}
	return pool, nil
}

// Describe returns what a summary counts, for a program: the notices
// (owner, name, contact, addresses), the addresses, those left out and
// why, and what was sent.
func (s *Summary) Describe() SummaryJSON {
	out := SummaryJSON{Folder: s.Dir, Left: s.Left, Skipped: s.Skipped, Sent: s.Sent, Owners: []OwnerJSON{}}
	for i := range s.Notices {
		n := &s.Notices[i]
		out.Addresses += int64(len(n.Sources))
		out.Owners = append(out.Owners, OwnerJSON{Owner: n.Owner.Key, Name: n.Owner.Name, Contact: n.Owner.Contact, Addresses: len(n.Sources)})
	}
	out.Notices = len(s.Notices)
	if d := s.Detections; d != nil {
		out.Hosts, out.WithheldTLP, out.Unresolved = d.Hosts, d.WithheldTLP, d.Unresolved
	}
	return out
}

// SummaryJSON is a summary as `wormwatch serve` answers it.
type SummaryJSON struct {
	Folder      string      `json:"folder"`       // where the notices were written; "" if not
	Notices     int         `json:"notices"`      // notices, one per owner
	Addresses   int64       `json:"addresses"`    // addresses in them
	Owners      []OwnerJSON `json:"owners"`       // the notices, by owner key
	Left        Left        `json:"left"`         // addresses left out by Plan, and why
	Skipped     int64       `json:"skipped"`      // addresses left out: reported in the window already
	Hosts       int64       `json:"hosts"`        // sources logged as host names: left out
	WithheldTLP int64       `json:"withheld_tlp"` // TLP:RED and TLP:AMBER+STRICT sightings: left out
	Unresolved  int64       `json:"unresolved"`   // sightings whose objects were not read: left out
	Sent        *Sent       `json:"sent"`         // null when nothing was sent
}

// OwnerJSON is one notice of a SummaryJSON.
type OwnerJSON struct {
	Owner     string `json:"owner"`   // the owner's key
	Name      string `json:"name"`    // its name
	Contact   string `json:"contact"` // its abuse contact; "" for none (written, not sent)
	Addresses int    `json:"addresses"`
}

// WithNow returns a copy of the job with another clock (Options.Now).
func (j *Job) WithNow(now func() time.Time) *Job {
	c := *j
	c.opt.Now = now
	return &c
}
