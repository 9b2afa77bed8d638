package notify

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/time/rate"
)

// The defaults of a Sender.
const (
	DefaultRate   = 1.0            // messages a second
	DefaultWindow = 24 * time.Hour // an address is reported at most once in it
	// MaxFailures is how many messages in a row may fail before Send stops.
	MaxFailures = 3
)

// Sender sends notices by e-mail, one message per notice: to the owner's
// contact, at most Rate a second, each address at most once per Window
// (State), every notice recorded in the Ledger, sent or not.
type Sender struct {
	Mailer Mailer           // delivers the messages (SMTP)
	From   string           // the sender's e-mail address (envelope and From)
	Letter *Letter          // the text of the notices
	Rate   float64          // messages a second; 0: DefaultRate
	Window time.Duration    // 0: DefaultWindow
	State  State            // the addresses reported; nil: none remembered
	Ledger Ledger           // required
	Now    func() time.Time // nil: time.Now
}

// Sent counts what Send did, by notice.
type Sent struct {
	Messages  int   `json:"messages"`   // notices sent
	Addresses int64 `json:"addresses"`  // addresses reported in them
	Failed    int   `json:"failed"`     // notices the server refused, or that could not be delivered
	NoContact int   `json:"no_contact"` // notices of owners with no contact
	Reported  int   `json:"reported"`   // notices whose every address was reported in the window already
	Skipped   int64 `json:"skipped"`    // addresses left out: reported in the window already
}

// Send sends the notices in order. It returns when every notice was sent
// or recorded as not sent, when ctx is done, or when MaxFailures messages
// in a row failed or the ledger or state could not be written (an error).
func (s *Sender) Send(ctx context.Context, notices []Notice) (Sent, error) {
	var sent Sent
	if s.Ledger == nil || s.Mailer == nil || s.Letter == nil {
		return sent, errors.New("notify: a Sender needs a Mailer, a Letter and a Ledger")
	}
	now := s.Now
	if now == nil {
		now = time.Now
	}
	lim := rate.NewLimiter(rate.Limit(cmp.Or(s.Rate, DefaultRate)), 1)
	failures := 0
	for i := range notices {
		if err := ctx.Err(); err != nil {
			return sent, err
		}
		tried, failed, err := s.one(ctx, &notices[i], lim, now, &sent)
		switch {
		case err != nil:
			return sent, err
		case !tried:
			continue
		case !failed:
			failures = 0
			continue
		}
		if failures++; failures >= MaxFailures {
			return sent, fmt.Errorf("%d messages in a row failed; stopped (see the ledger)", failures)
		}
	}
	return sent, nil
}

// one sends one notice and records it; tried says a message was
// submitted, failed that it could not be delivered.
func (s *Sender) one(ctx context.Context, n *Notice, lim *rate.Limiter, now func() time.Time, sent *Sent) (tried, failed bool, err error) {
	e := entry(n, now())
	if n.Owner.Contact == "" {
		sent.NoContact++
		e.Status = StatusNoContact
		return false, false, s.Ledger.Record(e)
	}
	fresh, skipped, err := Fresh(ctx, s.State, []Notice{*n}, now().Add(-cmp.Or(s.Window, DefaultWindow)))
	if err != nil {
		return false, false, err
	}
	sent.Skipped += skipped
	if len(fresh) == 0 {
		sent.Reported++
		e.Status, e.Skipped = StatusReported, int(skipped)
		return false, false, s.Ledger.Record(e)
	}
	if err := lim.Wait(ctx); err != nil {
		return false, false, err
	}
	f := &fresh[0]
	at := now()
	e = entry(f, at)
	e.Skipped, e.To = int(skipped), f.Owner.Contact
	msg, id, err := s.Letter.Message(f, s.From, slug(f.Owner.Key), at)
	if err != nil {
		return false, false, err
	}
	sum := sha256.Sum256(msg)
	e.MessageID, e.SHA256 = id, hex.EncodeToString(sum[:])
	reply, err := s.Mailer.Send(ctx, s.From, []string{f.Owner.Contact}, msg)
	if err != nil {
		sent.Failed++
		e.Status, e.Reply = StatusFailed, cmp.Or(reply, err.Error())
		return true, true, s.Ledger.Record(e)
	}
	sent.Messages++
	sent.Addresses += int64(len(f.Sources))
	e.Status, e.Reply = StatusSent, reply
	if err := s.Ledger.Record(e); err != nil {
		return true, false, err
	}
	if s.State == nil {
		return true, false, nil
	}
	return true, false, s.State.Mark(ctx, f.Owner.Key, addrsOf(f), at)
}

// entry is the ledger entry of a notice, without its status.
func entry(n *Notice, at time.Time) Entry {
	e := Entry{Time: at.UTC(), Owner: n.Owner.Key, Name: n.Owner.Name, Requests: n.Count,
		FirstSeen: n.FirstSeen, LastSeen: n.LastSeen, Families: n.Families, Addresses: make([]string, len(n.Sources))}
	for i := range n.Sources {
		e.Addresses[i] = n.Sources[i].Addr.String()
	}
	return e
}

// addrsOf returns a notice's addresses.
func addrsOf(n *Notice) []netip.Addr {
	out := make([]netip.Addr, len(n.Sources))
	for i := range n.Sources {
		out[i] = n.Sources[i].Addr
	}
	return out
}

// Fresh returns the notices without the addresses st says were reported
// at or after since (a notice left with none is dropped), and how many
// addresses it left out. A nil st leaves every address in.
func Fresh(ctx context.Context, st State, notices []Notice, since time.Time) ([]Notice, int64, error) {
	if st == nil {
		return notices, 0, nil
	}
	var all []netip.Addr
	for i := range notices {
		all = append(all, addrsOf(&notices[i])...)
	}
	done, err := st.Reported(ctx, all, since)
	if err != nil || len(done) == 0 {
		return notices, 0, err
	}
	var out []Notice
	var skipped int64
	in := &interner{}
	for i := range notices {
		n := &notices[i]
		var keep []int32
		for j := range n.Sources {
			if !done[n.Sources[j].Addr] {
				keep = append(keep, int32(j))
			}
		}
		skipped += int64(len(n.Sources) - len(keep))
		if len(keep) > 0 {
			out = append(out, notice(n.Owner, n.Sources, n.ASNs, keep, in))
		}
	}
	return out, skipped, nil
}
