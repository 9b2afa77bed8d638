package notify

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// Message returns a notice as an e-mail (RFC 5322, MIME): From the
// letter's writer at from, To the owner's contact, the subject of Subject,
// the text (WriteText) as its first part and the CSV (WriteCSV) attached
// as stem.csv. Its Message-ID is derived from its content and date, so the
// same notice at the same time gives the same message. It also returns the
// Message-ID.
func (l *Letter) Message(n *Notice, from, stem string, date time.Time) (msg []byte, id string, err error) {
	var text, csv bytes.Buffer
	if err := l.WriteText(&text, n); err != nil {
		return nil, "", err
	}
	if err := l.WriteCSV(&csv, n); err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(append(append([]byte(n.Owner.Key+"\n"+date.UTC().Format(time.RFC3339Nano)+"\n"), text.Bytes()...), csv.Bytes()...))
	domain := "wormwatch.invalid"
	if _, d, ok := strings.Cut(from, "@"); ok && d != "" {
		domain = d
	}
	id = "<" + hex.EncodeToString(sum[:16]) + "@" + domain + ">"
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	h := []string{
		"From: " + (&mail.Address{Name: l.org(), Address: from}).String(),
		"To: " + (&mail.Address{Name: n.Owner.Name, Address: n.Owner.Contact}).String(),
		"Subject: " + mime.QEncoding.Encode("utf-8", l.Subject(n)),
		"Date: " + date.Format(time.RFC1123Z),
		"Message-ID: " + id,
		"MIME-Version: 1.0",
		"Auto-Submitted: auto-generated", // RFC 3834: no automatic replies to it
		"Content-Type: multipart/mixed; boundary=" + mw.Boundary(),
	}
	b.WriteString(strings.Join(h, "\r\n") + "\r\n\r\n")
	if err := textPart(mw, text.Bytes()); err != nil {
		return nil, "", err
	}
	if err := csvPart(mw, csv.Bytes(), stem+".csv"); err != nil {
		return nil, "", err
	}
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	return b.Bytes(), id, nil
}

// textPart writes the text, quoted-printable (its line breaks as CRLF).
func textPart(mw *multipart.Writer, text []byte) error {
	pw, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {"text/plain; charset=utf-8"},
		"Content-Transfer-Encoding": {"quoted-printable"},
	})
	if err != nil {
		return err
	}
	qw := quotedprintable.NewWriter(pw)
	if _, err := qw.Write(text); err != nil {
		return err
	}
	return qw.Close()
}

// csvPart attaches the CSV, base64 in lines of 76 characters.
func csvPart(mw *multipart.Writer, csv []byte, name string) error {
	pw, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {mime.FormatMediaType("text/csv", map[string]string{"charset": "utf-8", "header": "present", "name": name})},
		"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": name})},
		"Content-Transfer-Encoding": {"base64"},
	})
	if err != nil {
		return err
	}
	enc := base64.StdEncoding.EncodeToString(csv)
	for len(enc) > 76 {
		fmt.Fprintf(pw, "%s\r\n", enc[:76])
		enc = enc[76:]
	}
	_, err = fmt.Fprintf(pw, "%s\r\n", enc)
	return err
}
