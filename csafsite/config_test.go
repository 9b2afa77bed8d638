package csafsite

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

func TestConfigCheck(t *testing.T) {
	if err := DefaultConfig().Check(); err != nil || DefaultConfig().Enabled() {
		t.Errorf("the default configuration (no site): %v", err)
	}
	cases := map[string]func(*Config){
		"want https://":                  func(c *Config) { c.BaseURL = "http://wormwatch.test" },
		"want https://host[:port] only":  func(c *Config) { c.BaseURL = "https://wormwatch.test/csaf" },
		"has no host":                    func(c *Config) { c.BaseURL = "https:///x" },
		"namespace":                      func(c *Config) { c.Namespace = "wormwatch" },
		"key_passphrase_file is given":   func(c *Config) { c.KeyPassphraseFile = "p" },
		"security.txt needs at least":    func(c *Config) { c.Contacts = nil },
		"want a mailto:, https: or tel:": func(c *Config) { c.Contacts = []string{"csaf@wormwatch.test"} },
		"publisher_name is empty":        func(c *Config) { c.PublisherName = " " },
		"publisher_category":             func(c *Config) { c.PublisherCategory = "vendorx" },
		"expires":                        func(c *Config) { c.Expires = 400 * 24 * 3600e9 },
	}
	for want, change := range cases {
		c := testConfig()
		change(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
		if _, err := New(c, t.TempDir(), nil); err == nil {
			t.Errorf("%s: New accepted the configuration", want)
		}
	}
	c := testConfig()
	c.Contacts, c.SecurityTxt = nil, false
	if err := c.Validate(); err != nil {
		t.Errorf("no security.txt, no contacts: %v", err)
	}
}

// TestGeneratedKey: without key_file, a key is generated at the first
// start, kept private (0600 in a 0700 folder) and used again after.
func TestGeneratedKey(t *testing.T) {
	s, data := newSite(t, testConfig())
	dir := filepath.Join(data, Folder)
	for p, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, KeyFileName): 0o600} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: %v, mode %v, want %v", p, err, st.Mode().Perm(), want)
		}
	}
	again, err := New(testConfig(), data, nil)
	if err != nil || again.Fingerprint() != s.Fingerprint() {
		t.Fatalf("reopened: %v, fingerprint %s, was %s", err, again.Fingerprint(), s.Fingerprint())
	}
	if len(s.Fingerprint()) != 40 || strings.ToUpper(s.Fingerprint()) != s.Fingerprint() {
		t.Errorf("fingerprint %q: want 40 upper-case hex digits", s.Fingerprint())
	}
}

// armoredKey writes an entity's private key, encrypted with pass when it is
// not empty (or only its public key), armored.
func armoredKey(t *testing.T, e *openpgp.Entity, pass string, private bool) []byte {
	t.Helper()
	if pass != "" {
		if err := e.EncryptPrivateKeys([]byte(pass), nil); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	typ := openpgp.PublicKeyType
	if private {
		typ = openpgp.PrivateKeyType
	}
	w, _ := armor.Encode(&b, typ, nil)
	var err error
	if private {
		err = e.SerializePrivateWithoutSigning(w, nil)
	} else {
		err = e.Serialize(w)
	}
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	return b.Bytes()
}

// TestKeyFile: a configured RSA key, encrypted, signs the advisories and
// is the one provider-metadata.json names; a wrong or missing passphrase
// and a public key alone are errors that say so.
func TestKeyFile(t *testing.T) {
	e, err := openpgp.NewEntity("Test CERT", "", "cert@wormwatch.test", &packet.Config{RSABits: 2048})
	if err != nil {
		t.Fatal(err)
	}
	fpr := fmt.Sprintf("%X", e.PrimaryKey.Fingerprint)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pub := write("pub.asc", armoredKey(t, e, "", false))
	key := write("key.asc", armoredKey(t, e, "correct horse", true))
	good, wrong := write("pass", []byte("correct horse\n")), write("wrong", []byte("battery staple\n"))
	cfg := testConfig()
	cfg.KeyFile, cfg.KeyPassphraseFile = key, good
	s, data := newSite(t, cfg)
	if s.Fingerprint() != fpr {
		t.Fatalf("fingerprint %s, want the key file's %s", s.Fingerprint(), fpr)
	}
	if _, err := os.Stat(filepath.Join(data, Folder, KeyFileName)); err == nil {
		t.Error("a key was generated although key_file is given")
	}
	doc := wormAdvisory(t, "k", time.Date(2001, 7, 20, 0, 0, 0, 0, time.UTC))
	u, err := s.Publish(doc)
	if err != nil {
		t.Fatal(err)
	}
	sig := getOK(t, s.Handler(), local(t, u)+".asc", typeSig)
	if _, err := openpgp.CheckArmoredDetachedSignature(openpgp.EntityList{e}, bytes.NewReader(doc), bytes.NewReader(sig), nil); err != nil {
		t.Errorf("signature by the key file's key: %v", err)
	}
	for want, c := range map[string]Config{
		"a wrong passphrase":       withKey(cfg, key, wrong),
		"give key_passphrase_file": withKey(cfg, key, ""),
		"holds no private key":     withKey(cfg, pub, ""),
		"not an armored OpenPGP":   withKey(cfg, good, ""),
	} {
		if _, err := New(c, t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
}

func withKey(c Config, key, pass string) Config {
	c.KeyFile, c.KeyPassphraseFile = key, pass
	return c
}
