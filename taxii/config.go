package taxii

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	_ "wormwatch/internal/names" // registers the valid:"name" rule
	"wormwatch/internal/param"
)

// Config is the [taxii] table of wormwatch serve's configuration, with its
// [[taxii.member]], [[taxii.group]] and [[taxii.collection]] arrays,
// declared once with internal/param's tags (docs come from them). Check
// adds the rules between tables: names unique, every group's member and
// every collection's group known.
type Config struct {
	Enabled           bool           `toml:"enabled" default:"false" doc:"serve TAXII 2.1 under /taxii2/ (discovery at /taxii2/, the API root at /taxii2/API_ROOT/); the objects live in taxii.db in the data folder"`
	Title             string         `toml:"title" default:"wormwatch TAXII 2.1 server" doc:"the title of the discovery resource and of the API root"`
	Description       string         `toml:"description" doc:"the description of the discovery resource and of the API root"`
	Contact           string         `toml:"contact" doc:"contact information for the server's operators (discovery resource)"`
	APIRoot           string         `toml:"api_root" default:"alliance" valid:"name" doc:"the one API root's path segment: /taxii2/API_ROOT/ (not audit)"`
	MaxContentLength  int64          `toml:"max_content_length" default:"10485760" min:"1024" max:"1073741824" doc:"largest body of a POST, in bytes (the API root's max_content_length; larger: 413)"`
	PageLimit         int            `toml:"page_limit" default:"1000" min:"1" max:"100000" doc:"most objects, manifest records or versions in one page; a limit above it is lowered to it, no limit means it"`
	MaxFailures       int            `toml:"max_failures" default:"10" min:"1" max:"100000" doc:"failed authentications from one address, or for one user name, within failure_window before both are refused (429) for lockout"`
	FailureWindow     param.Duration `toml:"failure_window" default:"1m" min:"1s" max:"1d" doc:"the window over which failed authentications are counted"`
	Lockout           param.Duration `toml:"lockout" default:"5m" min:"1s" max:"30d" doc:"how long an address or user name stays refused after max_failures"`
	CleartextLoopback bool           `toml:"cleartext_loopback" default:"true" doc:"accept credentials over plain HTTP when the client's address is loopback (127.0.0.0/8, ::1); over any other plain HTTP connection credentials are refused (401): use TLS"`
	Members           []Member       `toml:"member" maxlen:"1000" doc:"the member organisations and their credentials"`
	Groups            []Group        `toml:"group" maxlen:"1000" doc:"trust groups: sets of members that collections give rights to, and the audience of TLP:AMBER"`
	Collections       []Collection   `toml:"collection" maxlen:"1000" doc:"the collections of the API root, with their groups' rights and TLP floor"`
}

// Member is one organisation of the alliance: a [[taxii.member]] table.
// Its credentials are stored as hashes (HashPassword, HashToken), never
// in clear.
type Member struct {
	Name         string   `toml:"name" valid:"name" doc:"the organisation's name: in groups, in objects' x_tlp_recipients, in the audit log"`
	Title        string   `toml:"title" doc:"the organisation's name for people"`
	Kind         string   `toml:"kind" default:"member" enum:"member,guest" doc:"member: part of the community (sees TLP:GREEN); guest: an outside organisation given rights to some collections (sees TLP:CLEAR, and AMBER of its groups, not GREEN)"`
	Admin        bool     `toml:"admin" default:"false" doc:"may read the audit log (GET /taxii2/audit/); gives no right over objects or TLP"`
	User         string   `toml:"user" doc:"user name for HTTP Basic (default: the member's name)"`
	PasswordHash string   `toml:"password_hash" doc:"HTTP Basic password as pbkdf2_sha256$ITERATIONS$SALT$BASE64 (Django's format; wormwatch's taxii.HashPassword writes it); empty: no Basic login"`
	TokenSHA256  []string `toml:"token_sha256" maxlen:"16" doc:"bearer tokens, each as the hex SHA-256 of the token (Authorization: Bearer TOKEN); several allow rotation"`
	CertSHA256   []string `toml:"cert_sha256" maxlen:"16" doc:"TLS client certificates, each as the hex SHA-256 of the certificate (DER); the listener must request client certificates (Server.ClientAuth)"`
}

// Group is a trust group: a [[taxii.group]] table.
type Group struct {
	Name    string   `toml:"name" valid:"name" doc:"the group's name, as collections' read and write lists name it"`
	Members []string `toml:"members" maxlen:"1000" doc:"the names of its members"`
}

// Collection is one TAXII collection: a [[taxii.collection]] table.
type Collection struct {
	ID          string   `toml:"id" doc:"the collection's id, a UUID (its URL: /taxii2/API_ROOT/collections/ID/)"`
	Alias       string   `toml:"alias" valid:"name" doc:"a short name for it (the collection resource's alias)"`
	Title       string   `toml:"title" doc:"the collection's title"`
	Description string   `toml:"description" doc:"the collection's description"`
	TLP         string   `toml:"tlp" default:"clear" enum:"clear,green,amber,amber+strict,red" doc:"the TLP floor: an object is served as the more restrictive of its own TLP marking and this (unmarked objects take it)"`
	Read        []string `toml:"read" maxlen:"1000" doc:"groups whose members may read (GET objects, manifest, versions)"`
	Write       []string `toml:"write" maxlen:"1000" doc:"groups whose members may write (POST objects, DELETE their own organisation's objects)"`
}

// DefaultConfig returns the defaults the tags declare: disabled, no
// member, group or collection.
func DefaultConfig() Config {
	var c Config
	param.Defaults(&c)
	return c
}

// Validate reports the first option out of range or inconsistent, naming
// its key: the tags' rules (param.Validate) and the Check methods'.
func (c *Config) Validate() error {
	if errs := param.Validate(c); len(errs) > 0 {
		return fmt.Errorf("taxii.%s: %s", errs[0].Path, errs[0].Msg)
	}
	return nil
}

// Check reports rules between the tables: unique member, user, group and
// collection names; groups naming known members; collections naming known
// groups; an API root other than the reserved "audit".
func (c Config) Check() error {
	if c.APIRoot == auditSegment {
		return fmt.Errorf("api_root %q is reserved for the audit endpoint", c.APIRoot)
	}
	members := map[string]bool{}
	users := map[string]bool{}
	for _, m := range c.Members {
		if members[m.Name] {
			return fmt.Errorf("member %q is given twice", m.Name)
		}
		members[m.Name] = true
		if u := m.user(); m.PasswordHash != "" {
			if users[u] {
				return fmt.Errorf("member %s: user %q is another member's", m.Name, u)
			}
			users[u] = true
		}
	}
	groups := map[string]bool{}
	for _, g := range c.Groups {
		if groups[g.Name] {
			return fmt.Errorf("group %q is given twice", g.Name)
		}
		groups[g.Name] = true
		for _, m := range g.Members {
			if !members[m] {
				return fmt.Errorf("group %s: no member named %q", g.Name, m)
			}
		}
	}
	return checkCollections(c.Collections, groups)
}

// checkCollections checks ids, aliases and the groups the collections name.
func checkCollections(cs []Collection, groups map[string]bool) error {
	ids := map[string]bool{}
	aliases := map[string]bool{}
	for _, col := range cs {
		if ids[col.ID] {
			return fmt.Errorf("collection %q is given twice", col.ID)
		}
		ids[col.ID] = true
		if aliases[col.Alias] {
			return fmt.Errorf("collection %s: alias %q is another collection's", col.ID, col.Alias)
		}
		aliases[col.Alias] = true
		for _, g := range slices.Concat(col.Read, col.Write) {
			if !groups[g] {
				return fmt.Errorf("collection %s: no group named %q", col.Alias, g)
			}
		}
	}
	return nil
}

// Check reports a member whose credentials cannot be used.
func (m Member) Check() error {
	if m.PasswordHash != "" {
		if _, err := parsePasswordHash(m.PasswordHash); err != nil {
			return fmt.Errorf("member %s: password_hash: %w", m.Name, err)
		}
	}
	for _, list := range [][]string{m.TokenSHA256, m.CertSHA256} {
		for _, h := range list {
			if _, err := parseSHA256(h); err != nil {
				return fmt.Errorf("member %s: %w", m.Name, err)
			}
		}
	}
	if strings.ContainsAny(m.User, ":") {
		return fmt.Errorf("member %s: user %q holds a colon, which HTTP Basic cannot carry", m.Name, m.User)
	}
	return nil
}

// user is the member's HTTP Basic user name.
func (m Member) user() string {
	if m.User != "" {
		return m.User
	}
	return m.Name
}

// Check reports a collection id that is not a UUID.
func (c Collection) Check() error {
	if _, err := uuid.Parse(c.ID); err != nil || len(c.ID) != 36 {
		return fmt.Errorf("collection id %q: want a UUID (8-4-4-4-12 hex digits)", c.ID)
	}
	if strings.ToLower(c.ID) != c.ID {
		return fmt.Errorf("collection id %q: write it in lowercase", c.ID)
	}
	return nil
}
