// Package smtptest is what tests need to talk TLS and SMTP on loopback: a
// certificate authority made for one test with a server certificate it
// signs (NewCA), and an SMTP server (github.com/emersion/go-smtp's) on
// 127.0.0.1 with STARTTLS and AUTH PLAIN that keeps the messages it
// accepts (Start). Tests only: notify, cmd/wormwatch, csafsite and serve
// use it instead of copies of their own.
package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// CA is a certificate authority made for one test, and a server
// certificate it signed, valid from an hour ago for a day.
type CA struct {
	Pool   *x509.CertPool  // the CA, for a client's RootCAs
	PEM    []byte          // the CA's certificate, PEM
	Server tls.Certificate // the server's key pair
}

// NewCA makes a CA and a server certificate for hosts: names, and
// addresses (given as text, such as "127.0.0.1"). No hosts: localhost and
// 127.0.0.1.
func NewCA(t testing.TB, hosts ...string) *CA {
	t.Helper()
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1"}
	}
	caKey, err1 := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	key, err2 := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wormwatch test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: hosts[0]},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return &CA{Pool: pool, Server: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})}
}

// WritePEM writes the CA's certificate to dir/name and returns its path.
func (ca *CA) WritePEM(t testing.TB, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The credentials the server accepts (AUTH PLAIN).
const (
	User     = "notifier"
	Password = "secret"
)

// Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	Data []byte
	TLS  bool      // it came over TLS
	User string    // the user it authenticated as
	Mail time.Time // when its MAIL command came
	At   time.Time // when its data ended
}

// Server is an SMTP server on loopback for one test: STARTTLS with the
// CA's certificate (unless Plain), AUTH PLAIN for User and Password
// required before MAIL, recipients refused (550) when their address
// starts with "refuse".
type Server struct {
	Addr string // host:port

	mu   sync.Mutex
	msgs []Message
	mail int
}

// Options change the server.
type Options struct {
	Plain bool // no STARTTLS offered (AUTH allowed in the clear)
}

// Start starts a server on 127.0.0.1 with ca's certificate; it stops when
// the test ends.
func Start(t testing.TB, ca *CA, opt Options) *Server {
	t.Helper()
	ts := &Server{}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{ts: ts, c: c}, nil
	}))
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.ErrorLog = discardLogger{}
	if opt.Plain {
		s.AllowInsecureAuth = true
	} else {
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{ca.Server}}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.Addr = l.Addr().String()
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return ts
}

// Received returns the messages accepted so far, in order.
func (ts *Server) Received() []Message {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return slices.Clone(ts.msgs)
}

// MailCommands returns how many MAIL commands came, accepted or not.
func (ts *Server) MailCommands() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.mail
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

// session is one connection's session.
type session struct {
	ts   *Server
	c    *smtp.Conn
	user string
	cur  Message
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != User || pass != Password {
			return errors.New("invalid credentials")
		}
		s.user = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.ts.mu.Lock()
	s.ts.mail++
	s.ts.mu.Unlock()
	if s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.cur = Message{From: from, Mail: time.Now()}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasPrefix(to, "refuse") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.c.TLSConnectionState()
	s.cur.Data, s.cur.TLS, s.cur.User, s.cur.At = b, isTLS, s.user, time.Now()
	s.ts.mu.Lock()
	s.ts.msgs = append(s.ts.msgs, s.cur)
	s.ts.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.cur = Message{} }
func (s *session) Logout() error { return nil }
