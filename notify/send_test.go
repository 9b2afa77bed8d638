package notify

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"wormwatch/internal/smtptest"
)

// sendRig is what a sending test needs: the server, a Sender on it with
// a state file and a ledger in a temporary folder, and a clock the test
// moves.
type sendRig struct {
	srv    *smtptest.Server
	sender *Sender
	state  *StateFile
	ledger string
	now    time.Time
}

func newRig(t *testing.T, rate float64) *sendRig {
	t.Helper()
	ca := smtptest.NewCA(t)
	r := &sendRig{srv: smtptest.Start(t, ca, smtptest.Options{}), now: time.Date(2001, 8, 5, 9, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	var err error
	if r.state, err = OpenState(t.Context(), filepath.Join(dir, "state.db"), r.now.Add(-DefaultWindow)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.state.Close() })
	r.ledger = filepath.Join(dir, "ledger.jsonl")
	lf, err := OpenLedger(r.ledger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lf.Close() })
	m := &SMTP{Addr: r.srv.Addr, TLS: &tls.Config{RootCAs: ca.Pool, ServerName: "localhost"}, Username: smtptest.User, Password: smtptest.Password, Timeout: 10 * time.Second}
	t.Cleanup(func() { m.Close() })
	r.sender = &Sender{Mailer: m, From: "notices@cert.example.org", Letter: testLetter(), Rate: rate, Window: DefaultWindow,
		State: r.state, Ledger: lf, Now: func() time.Time { return r.now }}
	return r
}

// entries reads the ledger.
func (r *sendRig) entries(t *testing.T) []Entry {
	t.Helper()
	f, err := os.Open(r.ledger)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Entry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("ledger line %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
}

// parts reads a message: its header, its text and its CSV attachment.
func parts(t *testing.T, data []byte) (mail.Header, string, string, string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q", m.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var text, csv, name string
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		if p.FileName() != "" {
			name = p.FileName()
			dec, err := io.ReadAll(base64Decoder(b))
			if err != nil {
				t.Fatal(err)
			}
			csv = string(dec)
		} else {
			text = string(b)
		}
	}
	return m.Header, text, csv, name
}

func TestSend(t *testing.T) {
	r := newRig(t, 100)
	notices, _ := Plan(testSources(), testOwners(t), PlanOptions{OptOut: testOptOut(t)})
	sent, err := r.sender.Send(t.Context(), notices)
	if err != nil {
		t.Fatal(err)
	}
	if sent != (Sent{Messages: 3, Addresses: 6, NoContact: 3}) {
		t.Errorf("sent %+v", sent)
	}
	msgs := r.srv.Received()
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3", len(msgs))
	}
	l := testLetter()
	for i, m := range msgs {
		n := &notices[i] // Example Hosting, Example Networks, then (after Shared Space, no contact) Single Host Ltd
		if i == 2 {
			n = &notices[3]
		}
		if !m.TLS || m.User != smtptest.User || m.From != "notices@cert.example.org" || !slices.Equal(m.To, []string{n.Owner.Contact}) {
			t.Errorf("message %d: tls %v user %q from %q to %v", i, m.TLS, m.User, m.From, m.To)
		}
		h, text, csv, name := parts(t, m.Data)
		var wantText, wantCSV bytes.Buffer
		l.WriteText(&wantText, n)
		l.WriteCSV(&wantCSV, n)
		if strings.ReplaceAll(text, "\r\n", "\n") != wantText.String() || csv != wantCSV.String() || name != slug(n.Owner.Key)+".csv" {
			t.Errorf("message %d: its text or CSV (%s) is not the notice's", i, name)
		}
		if to, _ := mail.ParseAddress(h.Get("To")); to == nil || to.Address != n.Owner.Contact || to.Name != n.Owner.Name {
			t.Errorf("message %d: To %q", i, h.Get("To"))
		}
		if subj, _ := new(mime.WordDecoder).DecodeHeader(h.Get("Subject")); subj != l.Subject(n) {
			t.Errorf("message %d: Subject %q", i, subj)
		}
		if h.Get("Auto-Submitted") != "auto-generated" || h.Get("Message-Id") == "" {
			t.Errorf("message %d: header %v", i, h)
		}
	}
	// The ledger: one entry per notice, in order, sent or why not.
	es := r.entries(t)
	var status []string
	for _, e := range es {
		status = append(status, e.Owner+":"+e.Status)
	}
	if !slices.Equal(status, []string{"Example Hosting:sent", "Example Networks:sent", "Shared Space, Inc.:no_contact", "Single Host Ltd:sent",
		"ripencc:org-alpha:no_contact", "ripencc:org-beta:no_contact"}) {
		t.Errorf("ledger %v", status)
	}
	if e := es[1]; !slices.Equal(e.Addresses, []string{"192.0.2.10", "192.0.2.11", "2001:db8:5::1"}) || e.To != "abuse@example.net" ||
		e.MessageID == "" || len(e.SHA256) != 64 || !strings.HasPrefix(e.Reply, "250 ") || e.Requests != 8 {
		t.Errorf("ledger entry %+v", e)
	}

	// Within the window nothing is sent again; a new address alone is.
	r.now = r.now.Add(23 * time.Hour)
	src := append(testSources(), Source{Addr: netip.MustParseAddr("192.0.2.12"), FirstSeen: at("20:00"), LastSeen: at("20:00"), Count: 1,
		Families: []string{"codered2"}, Reporters: []string{"sensor-a"}})
	notices, _ = Plan(src, testOwners(t), PlanOptions{OptOut: testOptOut(t)})
	sent, err = r.sender.Send(t.Context(), notices)
	if err != nil {
		t.Fatal(err)
	}
	if sent != (Sent{Messages: 1, Addresses: 1, NoContact: 3, Reported: 2, Skipped: 6}) {
		t.Errorf("second run: sent %+v", sent)
	}
	if msgs = r.srv.Received(); len(msgs) != 4 {
		t.Fatalf("%d messages after the second run, want 4", len(msgs))
	}
	_, _, csv, _ := parts(t, msgs[3].Data)
	if rows := strings.Split(strings.TrimSpace(csv), "\n"); len(rows) != 2 || !strings.Contains(rows[1], ",192.0.2.12,") {
		t.Errorf("second run's CSV:\n%s", csv)
	}
	if e := r.entries(t)[7]; e.Status != StatusSent || e.Skipped != 3 || !slices.Equal(e.Addresses, []string{"192.0.2.12"}) {
		t.Errorf("second run's entry %+v", e)
	}

	// Past the window, everything is new again.
	r.now = r.now.Add(DefaultWindow + time.Hour)
	if sent, err = r.sender.Send(t.Context(), notices); err != nil || sent.Messages != 3 || sent.Addresses != 7 {
		t.Errorf("after the window: sent %+v, %v", sent, err)
	}
}

// TestSendRate: at Rate messages a second, the k-th message's MAIL
// command reaches the server no sooner than k-1 intervals after the
// second's (the first's comes after the connection, STARTTLS and AUTH;
// the others right after the limiter lets them go).
func TestSendRate(t *testing.T) {
	const rate, n = 10.0, 8
	r := newRig(t, rate)
	var notices []Notice
	for i := range n {
		s := Source{Addr: addr4(0xc0000201 + uint32(i)), FirstSeen: at("10:00"), LastSeen: at("10:00"), Count: 1, Families: []string{"codered2"}, Reporters: []string{"s"}}
		notices = append(notices, Notice{Owner: Owner{Key: string(rune('a' + i)), Name: "Owner", Contact: "abuse@example.net"},
			Sources: []Source{s}, ASNs: []uint32{0}, FirstSeen: s.FirstSeen, LastSeen: s.LastSeen, Count: 1, Families: s.Families, Reporters: s.Reporters})
	}
	start := time.Now()
	if _, err := r.sender.Send(t.Context(), notices); err != nil {
		t.Fatal(err)
	}
	msgs := r.srv.Received()
	if len(msgs) != n {
		t.Fatalf("%d messages", len(msgs))
	}
	interval := time.Duration(float64(time.Second) / rate)
	for k := 2; k < n; k++ {
		// The limiter and the server read the same clock; a message's MAIL
		// comes a little after the limiter lets it go (the message is
		// made, then written to the socket): allow 10 ms of difference in
		// that delay between two messages.
		if gap := msgs[k].Mail.Sub(msgs[1].Mail); gap < time.Duration(k-1)*interval-10*time.Millisecond {
			t.Errorf("message %d began %v after message 1, sooner than %v", k, gap, time.Duration(k-1)*interval)
		}
	}
	if took := time.Since(start); took < time.Duration(n-1)*interval {
		t.Errorf("%d messages at %v a second took %v", n, rate, took)
	}
}

// TestSendRefused: a recipient the server refuses is a failed notice, and
// the others go on; a server without STARTTLS, or whose certificate is
// not trusted, gets no message at all.
func TestSendRefused(t *testing.T) {
	r := newRig(t, 100)
	notices, _ := Plan(testSources(), testOwners(t), PlanOptions{OptOut: testOptOut(t)})
	notices[0].Owner.Contact = "refuse@hosting.example"
	sent, err := r.sender.Send(t.Context(), notices)
	if err != nil || sent.Messages != 2 || sent.Failed != 1 {
		t.Fatalf("sent %+v, %v", sent, err)
	}
	if e := r.entries(t)[0]; e.Status != StatusFailed || !strings.HasPrefix(e.Reply, "550 ") {
		t.Errorf("entry %+v", e)
	}
	// Not marked as reported: the next run tries it again.
	if done, _ := r.state.Reported(t.Context(), []netip.Addr{netip.MustParseAddr("192.0.2.130")}, r.now.Add(-time.Hour)); len(done) != 0 {
		t.Error("a refused notice's addresses were marked reported")
	}

	for _, c := range []struct {
		name  string
		plain bool
		trust bool
	}{{"no STARTTLS", true, true}, {"untrusted certificate", false, false}} {
		ca := smtptest.NewCA(t)
		srv := smtptest.Start(t, ca, smtptest.Options{Plain: c.plain})
		pool := ca.Pool
		if !c.trust {
			pool = smtptest.NewCA(t).Pool
		}
		lf := &memLedger{}
		s := &Sender{Mailer: &SMTP{Addr: srv.Addr, TLS: &tls.Config{RootCAs: pool, ServerName: "localhost"}, Username: smtptest.User, Password: smtptest.Password},
			From: "notices@cert.example.org", Letter: testLetter(), Rate: 1000, Ledger: lf}
		sent, err := s.Send(t.Context(), notices)
		if err == nil || sent.Messages != 0 || sent.Failed != MaxFailures {
			t.Errorf("%s: sent %+v, error %v", c.name, sent, err)
		}
		if n := srv.MailCommands(); n != 0 || len(srv.Received()) != 0 {
			t.Errorf("%s: the server saw %d MAIL commands", c.name, n)
		}
		if len(lf.entries) != MaxFailures+1 || lf.entries[0].Status != StatusFailed || !strings.Contains(lf.entries[0].Reply, map[bool]string{true: "STARTTLS", false: "certificate"}[c.plain]) {
			t.Errorf("%s: ledger %+v", c.name, lf.entries)
		}
	}
}

// memLedger keeps entries in memory.
type memLedger struct{ entries []Entry }

func (m *memLedger) Record(e Entry) error {
	m.entries = append(m.entries, e)
	return nil
}

// TestSendContext: a cancelled context stops Send before the next message.
func TestSendContext(t *testing.T) {
	r := newRig(t, 100)
	notices, _ := Plan(testSources(), testOwners(t), PlanOptions{OptOut: testOptOut(t)})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if sent, err := r.sender.Send(ctx, notices); err == nil || sent.Messages != 0 {
		t.Errorf("sent %+v, %v", sent, err)
	}
}

// base64Decoder decodes base64 split over lines.
func base64Decoder(b []byte) io.Reader {
	return base64.NewDecoder(base64.StdEncoding, bytes.NewReader(bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r"), nil), []byte("\n"), nil)))
}
