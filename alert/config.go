package alert

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"

	_ "wormwatch/internal/names" // the valid:"name" rule of webhook names
	"wormwatch/internal/param"
)

// The events a transition of a series' alarm state machine is, and a
// webhook may ask for (Webhook.Events).
const (
	Opened   = "opened"   // an alarm opens: quiet or watching -> alarm
	Changed  = "changed"  // an open alarm changes: alarm -> subsiding, subsiding -> alarm
	Closed   = "closed"   // an alarm ends: alarm or subsiding -> quiet (or watching)
	Watching = "watching" // no alarm yet: quiet <-> watching (a trend seen or gone)
)

// MinSecret is the least length of a webhook's secret, in bytes.
const MinSecret = 16

// Config is the [alert] table of serve's configuration: where alarm
// transitions are delivered and how. Every option is declared once with
// the tags of package param, so serve can embed it as a table and document
// it. The rules the tags cannot say (URLs, secrets' sources) are Check's.
type Config struct {
	Webhooks    []Webhook      `toml:"webhook" maxlen:"64" doc:"the webhooks: each gets a signed JSON POST per transition of the kinds it asks for"`
	MaxAttempts int            `toml:"max_attempts" default:"20" min:"1" max:"100" doc:"tries of a webhook delivery before it is dead (the dead-letter list)"`
	BackoffBase param.Duration `toml:"backoff_base" default:"1s" min:"1ms" max:"1h" doc:"wait after the first failed try; it doubles with each failure, with jitter"`
	BackoffCap  param.Duration `toml:"backoff_cap" default:"10m" min:"1ms" max:"1d" doc:"longest wait between two tries (before jitter; a Retry-After may ask for more)"`
	Timeout     param.Duration `toml:"timeout" default:"10s" min:"1ms" max:"5m" doc:"time allowed for one try: connection, request and answer"`
	Concurrency int            `toml:"concurrency" default:"4" min:"1" max:"64" doc:"tries in flight at most"`
	Poll        param.Duration `toml:"poll" default:"1s" min:"1ms" max:"1h" doc:"how often the outbox is looked at for retries that have come due (new deliveries wake the deliverer at once)"`
	STIX        bool           `toml:"stix" default:"true" doc:"make a STIX 2.1 bundle (indicator and sighting) for each alarm transition of a family or port series"`
	CSAF        bool           `toml:"csaf" default:"true" doc:"make a draft CSAF 2.0 advisory for each alarm transition"`
	TLP         string         `toml:"tlp" default:"amber" enum:"white,green,amber,red" doc:"TLP marking of the STIX bundles and CSAF drafts"`
	BaseURL     string         `toml:"base_url" default:"http://127.0.0.1:8080" doc:"the service's address as the receivers reach it, for the links in payloads and advisories (wormwatch serve, when it is not given and the service listens on loopback: the address it listens on)"`
	Publisher   string         `toml:"publisher" default:"wormwatch" doc:"publisher name of the CSAF drafts"`
	Namespace   string         `toml:"namespace" default:"https://wormwatch.invalid" doc:"publisher namespace of the CSAF drafts (a URL of your organisation)"`
	TAXII       string         `toml:"taxii_collection" doc:"share each STIX bundle in this collection (its id or alias) of the service's own TAXII server ([taxii]), posted as taxii_member; empty: not shared"`
	TAXIIMember string         `toml:"taxii_member" doc:"the [[taxii.member]] the bundles are posted as (its write right and TLP audience apply); required with taxii_collection"`
}

// Webhook is one receiver of signed JSON POSTs.
type Webhook struct {
	Name       string   `toml:"name" valid:"name" doc:"the webhook's name: deliveries name their webhook, so a reload may change its URL or secret"`
	URL        string   `toml:"url" doc:"where to POST: https://..., or http:// to a loopback address (127.0.0.1, ::1, localhost) unless allow_http"`
	SecretFile string   `toml:"secret_file" doc:"file holding the HMAC secret (at least 16 bytes; a final newline is dropped)"`
	SecretEnv  string   `toml:"secret_env" doc:"environment variable holding the HMAC secret, instead of secret_file"`
	Events     []string `toml:"events" default:"opened,changed,closed" enum:"opened,changed,closed,watching" doc:"the transitions to deliver: opened, changed, closed (an alarm's), watching (quiet <-> watching)"`
	AllowHTTP  bool     `toml:"allow_http" default:"false" doc:"allow an http:// URL to a host that is not loopback (the payload and signature then cross the network in clear)"`
}

// DefaultConfig returns the defaults the tags of Config declare: no
// webhook, artifacts on.
func DefaultConfig() Config {
	var c Config
	param.Defaults(&c)
	return c
}

// DefaultWebhook returns a webhook with the defaults its tags declare.
func DefaultWebhook() Webhook {
	var w Webhook
	param.Defaults(&w)
	return w
}

// Validate reports the first option out of range or inconsistent, naming
// its key: the tags' rules (param.Validate) and Check's.
func (c *Config) Validate() error {
	if errs := param.Validate(c); len(errs) > 0 {
		return fmt.Errorf("%s: %s", errs[0].Path, errs[0].Msg)
	}
	return nil
}

// Check reports rules between the options: the backoff cap not below
// its base, webhook names unique, the base URL absolute.
func (c Config) Check() error {
	if c.BackoffCap < c.BackoffBase {
		return fmt.Errorf("backoff_cap %s is below backoff_base %s", c.BackoffCap, c.BackoffBase)
	}
	for i, w := range c.Webhooks {
		for _, o := range c.Webhooks[:i] {
			if o.Name == w.Name {
				return fmt.Errorf("webhook %q is given twice", w.Name)
			}
		}
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("base_url %q: want http:// or https://, a host and no query", c.BaseURL)
		}
	}
	if u, err := url.Parse(c.Namespace); err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("namespace %q: want an absolute URL (https://example.org)", c.Namespace)
	}
	if (c.TAXII == "") != (c.TAXIIMember == "") {
		return errors.New("taxii_collection and taxii_member go together: the collection to share the STIX bundles in, and the member who posts them")
	}
	if c.TAXII != "" && !c.STIX {
		return errors.New("taxii_collection shares the STIX bundles, and stix is false: none is made")
	}
	return nil
}

// Check reports a webhook that cannot be used: a URL that is not http or
// https, http to a host that is not loopback without allow_http, user
// information in the URL, no secret or two.
func (w Webhook) Check() error {
	if err := checkURL(w.URL, w.AllowHTTP); err != nil {
		return fmt.Errorf("webhook %s: %w", w.Name, err)
	}
	if (w.SecretFile == "") == (w.SecretEnv == "") {
		return fmt.Errorf("webhook %s: give one of secret_file and secret_env", w.Name)
	}
	return nil
}

// checkURL checks a webhook's URL.
func checkURL(s string, allowHTTP bool) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("url %q: %w", s, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("url %q: the scheme must be http or https", s)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("url %q has no host", s)
	case u.User != nil:
		return fmt.Errorf("url %q: no user information in the URL (the secret signs the requests)", s)
	case u.Fragment != "":
		return fmt.Errorf("url %q: no fragment", s)
	case u.Scheme == "http" && !allowHTTP && !Loopback(u.Hostname()):
		return fmt.Errorf("url %q: http:// only to a loopback address (127.0.0.0/8, ::1, localhost); use https:// or set allow_http", s)
	}
	return nil
}

// Loopback reports whether host (a name or an address, as in a URL) is
// loopback: localhost, an address of 127.0.0.0/8 or ::1.
func Loopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// wants reports whether the webhook asks for events of kind ev.
func (w *Webhook) wants(ev string) bool { return slices.Contains(w.Events, ev) }

// Secret reads the webhook's HMAC secret from its file or environment
// variable: at least MinSecret bytes, a final newline (or CRLF) dropped.
func (w *Webhook) Secret() ([]byte, error) {
	var b []byte
	switch {
	case w.SecretFile != "":
		var err error
		if b, err = os.ReadFile(w.SecretFile); err != nil {
			return nil, fmt.Errorf("webhook %s: secret: %w", w.Name, err)
		}
		b = []byte(strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"))
	case w.SecretEnv != "":
		v, ok := os.LookupEnv(w.SecretEnv)
		if !ok {
			return nil, fmt.Errorf("webhook %s: secret: environment variable %s is not set", w.Name, w.SecretEnv)
		}
		b = []byte(v)
	default:
		return nil, errors.New("webhook " + w.Name + ": no secret_file or secret_env")
	}
	if len(b) < MinSecret {
		return nil, fmt.Errorf("webhook %s: the secret has %d bytes, fewer than %d (openssl rand -hex 32 makes one)", w.Name, len(b), MinSecret)
	}
	return b, nil
}
