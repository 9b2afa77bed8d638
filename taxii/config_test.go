package taxii

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wormwatch/internal/param"
)

// TestExampleLoads: the example alliance loads, validates and has what
// docs/share.md says: three member organisations (one a guest), two
// groups, one collection per TLP level.
func TestExampleLoads(t *testing.T) {
	c := loadConfigFile(t, examplePath)
	if !c.Enabled || c.APIRoot != "alliance" || len(c.Members) != 3 || len(c.Groups) != 2 {
		t.Fatalf("example: enabled %v, root %q, %d members, %d groups", c.Enabled, c.APIRoot, len(c.Members), len(c.Groups))
	}
	levels := map[string]bool{}
	for _, col := range c.Collections {
		levels[col.TLP] = true
	}
	for _, l := range tlpNames {
		if !levels[l] {
			t.Errorf("no collection at TLP %s", l)
		}
	}
}

// TestConfigErrors: each mistake is refused naming its table and key.
func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name, from, to, want string
	}{
		{"unknown group member", `members = ["cert-north", "isp-south"]`, `members = ["cert-north", "isp-west"]`, `no member named "isp-west"`},
		{"unknown group in collection", `read = ["responders"]`, `read = ["responder"]`, `no group named "responder"`},
		{"duplicate member", `name = "isp-south"`, `name = "cert-north"`, `member "cert-north" is given twice`},
		{"bad collection id", `id = "a3541e4d-5532-480a-9250-10940343a972"`, `id = "clear"`, `want a UUID`},
		{"bad tlp", `tlp = "red"`, `tlp = "crimson"`, `crimson`},
		{"bad password hash", `password_hash = "pbkdf2_sha256$100000$FbvB`, `password_hash = "md5$100000$FbvB`, `password_hash`},
		{"bad token", `token_sha256 = ["8b97`, `token_sha256 = ["zz97`, `64 hex digits`},
		{"reserved api root", `api_root = "alliance"`, `api_root = "audit"`, `reserved`},
		{"bad kind", `kind = "guest"`, `kind = "visitor"`, `visitor`},
	}
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(string(data), tc.from) {
				t.Fatalf("the example has no %q", tc.from)
			}
			path := filepath.Join(t.TempDir(), "a.toml")
			os.WriteFile(path, []byte(strings.Replace(string(data), tc.from, tc.to, 1)), 0o600)
			_, err := parseConfigFile(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}

// TestConfigDoc: internal/param documents the table, as serve's
// generated docs will once [taxii] is part of its configuration.
func TestConfigDoc(t *testing.T) {
	var b strings.Builder
	if err := param.Doc(&b, &struct {
		TAXII Config `toml:"taxii" doc:"the TAXII server"`
	}{}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"taxii.api_root", "taxii.member", "password_hash", "token_sha256", "taxii.group", "taxii.collection", "amber+strict", "cleartext_loopback"} {
		if !strings.Contains(b.String(), key) {
			t.Errorf("the generated doc has no %q:\n%s", key, b.String())
		}
	}
}
