package alert

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// signed returns the headers of body signed with secret at t.
func signed(secret string, body []byte, t time.Time) http.Header {
	h := http.Header{}
	ts := strconv.FormatInt(t.Unix(), 10)
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderSignature, Sign([]byte(secret), ts, body))
	return h
}

// TestSign checks Sign against HMAC-SHA256 computed here from its
// definition (TestDocOpenSSL checks it against openssl).
func TestSign(t *testing.T) {
	body := []byte(`{"version":1}`)
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write([]byte("996000000." + string(body)))
	if got, want := Sign([]byte(testSecret), "996000000", body), "sha256="+hex.EncodeToString(m.Sum(nil)); got != want {
		t.Errorf("Sign %s, want %s", got, want)
	}
}

// TestVerify accepts a good delivery and refuses a changed body, another
// secret, a stale or future timestamp and missing headers.
func TestVerify(t *testing.T) {
	body := []byte(`{"version":1,"event":"opened"}`)
	now := time.Unix(996000000, 0)
	h := signed(testSecret, body, now)
	if err := Verify([]byte(testSecret), h, body, now.Add(time.Minute), 0); err != nil {
		t.Errorf("a good delivery: %v", err)
	}
	cases := []struct {
		name   string
		secret string
		h      http.Header
		body   []byte
		now    time.Time
		tol    time.Duration
		want   error
	}{
		{"body changed", testSecret, h, []byte(`{"version":1,"event":"closed"}`), now, 0, ErrBadSignature},
		{"other secret", "fedcba9876543210fedcba9876543210", h, body, now, 0, ErrBadSignature},
		{"stale", testSecret, h, body, now.Add(DefaultTolerance + time.Second), 0, ErrStale},
		{"future", testSecret, h, body, now.Add(-2 * time.Minute), time.Minute, ErrStale},
		{"no headers", testSecret, http.Header{}, body, now, 0, ErrNoSignature},
	}
	for _, c := range cases {
		if err := Verify([]byte(c.secret), c.h, c.body, c.now, c.tol); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if err := Verify([]byte(testSecret), h, body, now.Add(48*time.Hour), -1); err != nil {
		t.Errorf("age not checked: %v", err)
	}
	// Two signatures (a secret being rotated): either may match.
	h2 := h.Clone()
	h2.Set(HeaderSignature, "sha256=00, "+h.Get(HeaderSignature))
	if err := Verify([]byte(testSecret), h2, body, now, 0); err != nil {
		t.Errorf("a list of signatures: %v", err)
	}
	h2.Set(HeaderTimestamp, "yesterday")
	if err := Verify([]byte(testSecret), h2, body, now, 0); err == nil {
		t.Error("a timestamp that is not a number was accepted")
	}
}

// alertsSection returns the Alerts section of docs/serve.md.
func alertsSection(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../docs/serve.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## Alerts")
	if !ok {
		t.Fatal("docs/serve.md has no Alerts section")
	}
	if i := strings.Index(sec, "\n## "); i >= 0 {
		sec = sec[:i]
	}
	return sec
}

// codeBlock returns the first fenced block of a language in text.
func codeBlock(t *testing.T, text, lang string) string {
	t.Helper()
	_, rest, ok := strings.Cut(text, "```"+lang+"\n")
	if !ok {
		t.Fatalf("no %s block", lang)
	}
	block, _, _ := strings.Cut(rest, "```")
	return block
}

// TestDocPayload: the payload example of docs/serve.md is an Event, with
// no field it lacks and none it would leave out, in its order.
func TestDocPayload(t *testing.T) {
	ex := []byte(codeBlock(t, alertsSection(t), "json"))
	ev := strictEvent(t, ex)
	again, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := json.Compact(&want, ex); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, want.Bytes()) {
		t.Errorf("the example is not what Event writes:\n%s\n%s", want.Bytes(), again)
	}
	if ev.Links.Alarms != "http://127.0.0.1:8080/api/v1/alarms?after=16" || ev.TransitionID != 17 {
		t.Errorf("the example's link does not follow its transition: %+v", ev.Links)
	}
}

// TestDocOpenSSL runs the shell check of docs/serve.md with openssl on a
// delivery signed by Sign: it says valid, and invalid once the body
// changes.
func TestDocOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl is needed to check the documented shell verification: run bash .ci/run, which installs it")
	}
	script := codeBlock(t, alertsSection(t), "sh")
	dir := t.TempDir()
	body := []byte(`{"version":1,"event":"opened","series":"web1/family/codered2"}`)
	h := signed(testSecret, body, time.Now())
	run := func(b []byte) string {
		if err := os.WriteFile(filepath.Join(dir, "body.json"), b, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("sh", "-c", script)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TS="+h.Get(HeaderTimestamp), "SIG="+h.Get(HeaderSignature), "SECRET="+testSecret)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got := run(body); got != "signature valid" {
		t.Errorf("openssl on a good body: %q", got)
	}
	if got := run(append(body, ' ')); got != "signature INVALID" {
		t.Errorf("openssl on a changed body: %q", got)
	}
}
