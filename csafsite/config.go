package csafsite

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"wormwatch/internal/param"
)

// Config is the [csaf] table of a configuration: the trusted provider's
// address, where its advisories and signing key come from, and what its
// provider-metadata.json and security.txt say. Every option is declared
// once with the tags of package param, so a service can embed it as a table
// and document it. An empty base_url means no site (Enabled is false); the
// rules the tags cannot say are Check's.
type Config struct {
	BaseURL           string         `toml:"base_url" doc:"the site's canonical address, https://host[:port] with no path: every URL of provider-metadata.json, the feeds, the indexes and security.txt starts with it. Empty: no CSAF site"`
	Folder            string         `toml:"folder" doc:"a folder of CSAF 2.0 advisories (*.json at any depth) published at each start besides those published at run time; each must pass the same checks as a publication"`
	KeyFile           string         `toml:"key_file" doc:"armored OpenPGP private key (gpg --export-secret-keys --armor) that signs the advisories; empty: an Ed25519 key generated at the first start and kept in the data folder (csaf/signing-key.asc)"`
	KeyPassphraseFile string         `toml:"key_passphrase_file" doc:"file whose first line is the passphrase of key_file, when the key is encrypted"`
	PublisherName     string         `toml:"publisher_name" default:"wormwatch" doc:"the provider's name in provider-metadata.json (publisher.name) and in a generated key's user id"`
	PublisherCategory string         `toml:"publisher_category" default:"other" enum:"coordinator,discoverer,other,translator,user,vendor" doc:"the provider's CSAF publisher category"`
	Namespace         string         `toml:"namespace" default:"https://wormwatch.invalid" doc:"the provider's namespace (publisher.namespace), a URL of your organisation"`
	ContactDetails    string         `toml:"contact_details" doc:"how to reach the provider (publisher.contact_details), e.g. an e-mail address"`
	IssuingAuthority  string         `toml:"issuing_authority" doc:"the provider's authority and responsibility (publisher.issuing_authority)"`
	ListOnAggregators bool           `toml:"list_on_aggregators" default:"true" doc:"provider-metadata.json's list_on_CSAF_aggregators: aggregators may list this provider"`
	MirrorOnAggr      bool           `toml:"mirror_on_aggregators" default:"true" doc:"provider-metadata.json's mirror_on_CSAF_aggregators: aggregators may mirror the advisories"`
	SecurityTxt       bool           `toml:"security_txt" default:"true" doc:"serve /.well-known/security.txt (RFC 9116) with its CSAF field; false when the host's security.txt is served elsewhere (add the CSAF line there)"`
	Contacts          []string       `toml:"contacts" maxlen:"16" doc:"the Contact fields of security.txt (mailto:, https: or tel: URIs); required when security_txt is on"`
	Expires           param.Duration `toml:"expires" default:"30d" min:"1d" max:"365d" doc:"security.txt's Expires field is this far after the moment of each request (RFC 9116 asks for less than a year)"`
	MaxBytes          int64          `toml:"max_bytes" default:"16777216" min:"1024" max:"1073741824" doc:"largest advisory accepted, in bytes (every advisory is kept in memory)"`
}

// DefaultConfig returns the defaults the tags of Config declare: no
// base_url, so no site.
func DefaultConfig() Config {
	var c Config
	param.Defaults(&c)
	return c
}

// Enabled reports whether the site is configured (base_url given).
func (c Config) Enabled() bool { return c.BaseURL != "" }

// Validate reports the first option out of range or inconsistent, naming
// its key: the tags' rules (param.Validate) and Check's.
func (c *Config) Validate() error {
	if errs := param.Validate(c); len(errs) > 0 {
		return fmt.Errorf("%s: %s", errs[0].Path, errs[0].Msg)
	}
	return nil
}

// Check reports rules between the options, for an enabled site: base_url
// an https URL without path, query or user, the namespace an absolute URL,
// a passphrase only with a key file, contacts when security.txt is on.
func (c Config) Check() error {
	if !c.Enabled() {
		return nil
	}
	if _, err := baseURL(c.BaseURL); err != nil {
		return err
	}
	if u, err := url.Parse(c.Namespace); err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("namespace %q: want an absolute URL (https://example.org)", c.Namespace)
	}
	if c.KeyPassphraseFile != "" && c.KeyFile == "" {
		return errors.New("key_passphrase_file is given without key_file")
	}
	if strings.TrimSpace(c.PublisherName) == "" {
		return errors.New("publisher_name is empty")
	}
	if c.SecurityTxt && len(c.Contacts) == 0 {
		return errors.New("contacts: security.txt needs at least one Contact (mailto:..., https://...), or set security_txt = false")
	}
	for _, ct := range c.Contacts {
		u, err := url.Parse(ct)
		if err != nil || (u.Scheme != "mailto" && u.Scheme != "https" && u.Scheme != "tel") || strings.ContainsAny(ct, "\r\n") {
			return fmt.Errorf("contacts: %q: want a mailto:, https: or tel: URI (RFC 9116)", ct)
		}
	}
	return nil
}

// baseURL checks and parses base_url: https, a host, no path but "/", no
// query, fragment or user information. The returned URL has no trailing
// slash.
func baseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return nil, fmt.Errorf("base_url %q: %w", s, err)
	case u.Scheme != "https":
		return nil, fmt.Errorf("base_url %q: want https:// (CSAF requires TLS for every URL of a provider)", s)
	case u.Hostname() == "":
		return nil, fmt.Errorf("base_url %q has no host", s)
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return nil, fmt.Errorf("base_url %q: want https://host[:port] only (the site lives at /.well-known/csaf/)", s)
	}
	u.Path = ""
	return u, nil
}
