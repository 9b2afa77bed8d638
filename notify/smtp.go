package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mailer delivers a message to its recipients.
type Mailer interface {
	// Send delivers msg from the envelope sender from to the addresses to,
	// and returns the server's reply.
	Send(ctx context.Context, from string, to []string, msg []byte) (reply string, err error)
	// Close ends the connection.
	Close() error
}

// SMTP is a Mailer that submits messages to one SMTP server over a
// connection upgraded with STARTTLS (never in the clear: a server that
// does not offer it is refused), authenticating with PLAIN when Username
// is set. The connection is kept open across messages and opened again
// after an error.
type SMTP struct {
	Addr     string        // host:port of the server
	TLS      *tls.Config   // the server's name and roots; nil: the system's roots and Addr's host
	Username string        // for AUTH PLAIN; "" for none
	Password string        // for AUTH PLAIN
	Timeout  time.Duration // for connecting and for each command; 0: one minute

	c *smtp.Client
}

// connect opens the connection: STARTTLS, then AUTH.
func (m *SMTP) connect(ctx context.Context) error {
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", m.Addr)
	if err != nil {
		return err
	}
	cfg := m.TLS
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		host, _, _ := net.SplitHostPort(m.Addr)
		cfg = cfg.Clone()
		cfg.ServerName = host
	}
	conn.SetDeadline(time.Now().Add(timeout))   // for the greeting and STARTTLS
	c, err := smtp.NewClientStartTLS(conn, cfg) // refuses a server without STARTTLS
	if err != nil {
		conn.Close()
		return fmt.Errorf("STARTTLS with %s (notices are never sent in the clear): %w", m.Addr, err)
	}
	c.CommandTimeout, c.SubmissionTimeout = timeout, 2*timeout
	if err := c.Noop(); err != nil { // EHLO again, over TLS: the handshake, which checks the server's certificate
		c.Close()
		return fmt.Errorf("TLS with %s: %w", m.Addr, err)
	}
	conn.SetDeadline(time.Time{})
	if m.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", m.Username, m.Password)); err != nil {
			c.Close()
			return fmt.Errorf("authenticating to %s: %w", m.Addr, err)
		}
	}
	m.c = c
	return nil
}

// Send submits one message, connecting first if needed. After an error
// the connection is closed (the next Send opens a new one), except for a
// refusal of this message alone (a 5xx reply to its sender, recipients or
// content), after which the transaction is reset.
func (m *SMTP) Send(ctx context.Context, from string, to []string, msg []byte) (string, error) {
	if m.c == nil {
		if err := m.connect(ctx); err != nil {
			return "", err
		}
	}
	reply, err := submit(m.c, from, to, msg)
	if err == nil {
		return reply, nil
	}
	var se *smtp.SMTPError
	if errors.As(err, &se) && se.Code >= 500 && m.c.Reset() == nil {
		return fmt.Sprintf("%d %s", se.Code, se.Message), err
	}
	m.c.Close()
	m.c = nil
	return "", err
}

// Close says QUIT and closes the connection.
func (m *SMTP) Close() error {
	if m.c == nil {
		return nil
	}
	err := m.c.Quit()
	m.c = nil
	return err
}

// submit sends one message: MAIL, RCPT, DATA. It returns the server's
// reply to the message (250 and, often, its queue id).
func submit(c *smtp.Client, from string, to []string, msg []byte) (string, error) {
	if err := c.Mail(from, nil); err != nil {
		return "", err
	}
	for _, t := range to {
		if err := c.Rcpt(t, nil); err != nil {
			return "", err
		}
	}
	w, err := c.Data()
	if err != nil {
		return "", err
	}
	if _, err := w.Write(msg); err != nil {
		w.Close()
		return "", err
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return "", err
	}
	return "250 " + resp.StatusText, nil
}
