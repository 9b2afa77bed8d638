package alert

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"wormwatch/internal/param"
)

// TestConfigDefaults: the defaults the brief and docs/serve.md give.
func TestConfigDefaults(t *testing.T) {
	c := DefaultConfig()
	if c.MaxAttempts != 20 || c.BackoffBase.D() != time.Second || c.BackoffCap.D() != 10*time.Minute || c.Timeout.D() != 10*time.Second ||
		c.Concurrency != 4 || c.Poll.D() != time.Second || !c.STIX || !c.CSAF || c.TLP != "amber" || len(c.Webhooks) != 0 {
		t.Errorf("defaults %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("the defaults do not validate: %v", err)
	}
	if w := DefaultWebhook(); !slices.Equal(w.Events, []string{Opened, Changed, Closed}) || w.AllowHTTP {
		t.Errorf("webhook defaults %+v", w)
	}
}

// TestConfigTOML reads the [alert] table of docs/serve.md's example (its
// body, as serve hands it over) with param's loader: each webhook gets its
// defaults, the keys given replace them.
func TestConfigTOML(t *testing.T) {
	doc := codeBlock(t, alertsSection(t), "toml")
	doc = strings.Replace(doc, "[alert]\n", "", 1)
	doc = strings.ReplaceAll(doc, "[[alert.webhook]]", "[[webhook]]")
	doc = strings.Replace(doc, `secret_file = "/etc/wormwatch/soc.secret"`, `secret_env = "WW_TEST_SECRET"`, 1)
	doc += "\n[[webhook]]\nname = \"local\"\nurl = \"http://127.0.0.1:9000/hook\"\nsecret_env = \"WW_TEST_SECRET\"\nevents = [\"watching\"]\n"
	var c Config
	l := param.NewLoader(&c)
	if err := l.Decode([]byte(doc)); err != nil {
		t.Fatal(err)
	}
	if errs := l.Validate(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(c.Webhooks) != 2 || c.Webhooks[0].Name != "soc" || !slices.Equal(c.Webhooks[0].Events, []string{Opened, Changed, Closed}) ||
		!slices.Equal(c.Webhooks[1].Events, []string{Watching}) || c.MaxAttempts != 20 || c.TLP != "amber" {
		t.Errorf("read %+v", c)
	}
}

// TestConfigValidate refuses what cannot be used, naming the key or the
// webhook.
func TestConfigValidate(t *testing.T) {
	ok := func(c *Config) {}
	cases := []struct {
		name string
		mod  func(*Config)
		want string // "" for valid
	}{
		{"https", ok, ""},
		{"http to 127.0.0.1", func(c *Config) { c.Webhooks[0].URL = "http://127.0.0.1:8000/x" }, ""},
		{"http to ::1", func(c *Config) { c.Webhooks[0].URL = "http://[::1]:8000/x" }, ""},
		{"http to localhost", func(c *Config) { c.Webhooks[0].URL = "http://localhost/x" }, ""},
		{"http allowed", func(c *Config) { c.Webhooks[0].URL, c.Webhooks[0].AllowHTTP = "http://hooks.example.org/x", true }, ""},
		{"http elsewhere", func(c *Config) { c.Webhooks[0].URL = "http://hooks.example.org/x" }, "only to a loopback address"},
		{"http to a private address", func(c *Config) { c.Webhooks[0].URL = "http://10.0.0.1/x" }, "only to a loopback address"},
		{"ftp", func(c *Config) { c.Webhooks[0].URL = "ftp://hooks.example.org/x" }, "scheme must be http or https"},
		{"relative", func(c *Config) { c.Webhooks[0].URL = "/x" }, "scheme must be http or https"},
		{"no host", func(c *Config) { c.Webhooks[0].URL = "https:///x" }, "has no host"},
		{"user info", func(c *Config) { c.Webhooks[0].URL = "https://me:pw@hooks.example.org/x" }, "no user information"},
		{"no secret", func(c *Config) { c.Webhooks[0].SecretFile = "" }, "one of secret_file and secret_env"},
		{"two secrets", func(c *Config) { c.Webhooks[0].SecretEnv = "X" }, "one of secret_file and secret_env"},
		{"bad name", func(c *Config) { c.Webhooks[0].Name = "Bad Name" }, "webhook.0.name"},
		{"same name", func(c *Config) { c.Webhooks = append(c.Webhooks, c.Webhooks[0]) }, `webhook "soc" is given twice`},
		{"bad event", func(c *Config) { c.Webhooks[0].Events = []string{"exploded"} }, "events"},
		{"cap below base", func(c *Config) {
			c.BackoffBase, c.BackoffCap = param.Duration(time.Minute), param.Duration(time.Second)
		}, "backoff_cap 1s is below backoff_base 1m"},
		{"no attempts", func(c *Config) { c.MaxAttempts = 0 }, "max_attempts"},
		{"bad tlp", func(c *Config) { c.TLP = "clear" }, "tlp"},
		{"bad base_url", func(c *Config) { c.BaseURL = "127.0.0.1:8080" }, "base_url"},
		{"bad namespace", func(c *Config) { c.Namespace = "wormwatch" }, "namespace"},
	}
	for _, tc := range cases {
		c := DefaultConfig()
		c.Webhooks = []Webhook{hook(t, "soc", "https://hooks.example.org/x")}
		tc.mod(&c)
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one with %q", tc.name, err, tc.want)
		}
	}
}

// TestSecret reads secrets from files (the final newline dropped) and
// environment variables, and refuses short or missing ones.
func TestSecret(t *testing.T) {
	w := hook(t, "soc", "https://hooks.example.org/x")
	if s, err := w.Secret(); err != nil || string(s) != testSecret {
		t.Errorf("from a file: %q, %v", s, err)
	}
	t.Setenv("WW_TEST_SECRET", testSecret+"!")
	w.SecretFile, w.SecretEnv = "", "WW_TEST_SECRET"
	if s, err := w.Secret(); err != nil || string(s) != testSecret+"!" {
		t.Errorf("from the environment: %q, %v", s, err)
	}
	w.SecretEnv = "WW_TEST_NOT_SET"
	if _, err := w.Secret(); err == nil || !strings.Contains(err.Error(), "not set") {
		t.Errorf("an unset variable: %v", err)
	}
	short := filepath.Join(t.TempDir(), "short")
	os.WriteFile(short, []byte("0123456789\n"), 0o600)
	w.SecretFile, w.SecretEnv = short, ""
	if _, err := w.Secret(); err == nil || !strings.Contains(err.Error(), "fewer than 16") {
		t.Errorf("a short secret: %v", err)
	}
	w.SecretFile = filepath.Join(t.TempDir(), "missing")
	if _, err := w.Secret(); err == nil {
		t.Error("a missing file gave a secret")
	}
}
