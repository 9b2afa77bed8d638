package serve

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"wormwatch/internal/paramcli"
)

// TestLoadErrors checks that each mistake in a configuration is one error
// naming the file, the line and the key (or the flag), with what is
// allowed.
func TestLoadErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	short := tokenFile(t, dir, "short", "abc")
	for _, tc := range []struct {
		doc  string
		sets []string
		want string
	}{
		{"[service]\nlisten = 8080\n", nil, "serve.toml:2: service.listen: "},
		{"[service]\nlisten2 = \"x\"\n", nil, "serve.toml:2"},
		{"[[input]]\npath = \"a.log\"\nsize = 0\n", nil, "serve.toml:3: input.a.size: 0 is below the minimum 1"},
		{"[[input]]\npath = \"a.log\"\nformat = \"zeek\"\n", nil, "serve.toml:3: input.a.format: zeek: a Zeek log is kind zeek"},
		{"[[input]]\nkind = \"zeek\"\npath = \"conn.log\"\nformat = \"iis\"\n", nil, "input.conn.format: iis: allowed for kind zeek: auto, zeek, zeek-json"},
		{"[[input]]\nkind = \"pcap\"\npath = \"x\"\nformat = \"combined\"\n", nil, "serve.toml:4: input.x.format: applies only when"},
		{"[[input]]\nkind = \"gopher\"\npath = \"x\"\n", nil, "serve.toml:2: input.x.kind"},
		{"[[input]]\npath = \"a.log\"\n[[input]]\npath = \"b/a.log\"\n", nil, "name=..."},
		{"[[input]]\npath = \"a.log\"\nname = \"Web\"\n", nil, "serve.toml:3: input.Web.name: "},
		{"[[input]]\npath = \"-\"\n", nil, "standard input"},
		{"[[input]]\npath = \"/var/log/...\"\n", nil, "serve.toml:1: input.0.name: \"\", made from the path /var/log/..., is not a name"},
		{"[[input]]\npath = \"a.log\"\nsensor = \"s\"\n[[input]]\npath = \"b.log\"\nsensor = \"s\"\nsize = 2\n", nil, "a sensor has one size"},
		{"[watch]\ninterval = \"90500ms\"\n", nil, "serve.toml:2: watch.interval: 1m30.5s: want whole seconds"},
		{"[forecast]\nlevel = 2.0\n", nil, "serve.toml:2: forecast.level"},
		{"[[remote]]\nsensor = \"far\"\n", nil, "serve.toml:1: remote.0.token_file: missing"},
		{"[[remote]]\nsensor = \"far\"\ntoken_file = \"" + short + "\"\n", nil, "want at least 16"},
		{"[[input]]\npath = \"a.log\"\nsensor = \"far\"\n[[remote]]\nsensor = \"far\"\ntoken_file = \"x\"\n", nil, "a name of its own"},
		{"[service]\ntls_cert = \"x\"\n", nil, "serve.toml:2: service.tls_cert: give both"},
		{"[service]\ntls_cert = \"x\"\ntls_key = \"y\"\n", nil, "service.tls_cert: x and y: open x"},
		{"[service]\ntoken_file = \"/nonexistent/tok\"\n", nil, "service.token_file"},
		{"[service]\nlisten = \"localhost\"\n", nil, "want host:port"},
		{"signatures = [\"/nonexistent/sigs.toml\"]\n", nil, "serve.toml:1: signatures: "},
		{"", []string{"service.commit_interval=0s"}, "--commit-interval=0s: service.commit_interval: 0s is below the minimum 10ms"},
		{"", []string{"watch.lateness=0"}, "--lateness=0: watch.lateness"},
		{"[service]\ndata = \"\"\n", nil, "service.data: empty"},
		{"[service\n", nil, "serve.toml:1:"},
	} {
		file := filepath.Join(dir, "serve.toml")
		writeFile(t, file, []byte(tc.doc))
		_, err := Load(file, Overrides{Sets: tc.sets})
		if err == nil {
			t.Errorf("%q %v: no error", tc.doc, tc.sets)
			continue
		}
		msg := strings.ReplaceAll(err.Error(), file, "serve.toml")
		if !strings.Contains(msg, tc.want) {
			t.Errorf("%q %v:\n got %s\nwant it to hold %q", tc.doc, tc.sets, msg, tc.want)
		}
		if strings.Contains(msg, "\n") {
			t.Errorf("%q: the error is more than one line: %q", tc.doc, msg)
		}
	}
}

// TestInputFlags checks --follow, --zeek and --pcap values: the path, the
// options after it, and the names derived.
func TestInputFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind  InputKind
		value string
		want  Input
		err   string
	}{
		{"log", "/var/log/apache2/access.log", Input{Kind: "log", Path: "/var/log/apache2/access.log", Name: "access", Sensor: "access", Size: 1, Format: "auto"}, ""},
		{"log", "a,b.log,name=web,size=3,format=combined", Input{Kind: "log", Path: "a,b.log", Name: "web", Sensor: "web", Size: 3, Format: "combined"}, ""},
		{"zeek", "conn.log,sensor=dmz", Input{Kind: "zeek", Path: "conn.log", Name: "conn", Sensor: "dmz", Size: 1, Format: "auto"}, ""},
		{"pcap", "-,size=65536", Input{Kind: "pcap", Path: "-", Name: "stdin", Sensor: "stdin", Size: 65536, Format: "auto"}, ""},
		{"log", "a.log,size=x", Input{}, "--follow a.log,size=x: size: "},
		{"log", ",name=x", Input{}, "no path"},
		{"pcap", "d,size=0", Input{}, "--pcap d,size=0: size: 0 is below the minimum 1"},
		{"log", "ACCESS LOG.txt", Input{Kind: "log", Path: "ACCESS LOG.txt", Name: "access-log", Sensor: "access-log", Size: 1, Format: "auto"}, ""},
	} {
		in, err := ParseInputFlag(tc.kind, tc.value)
		var cfg *Config
		if err == nil {
			cfg, err = Load("", Overrides{Inputs: []Input{in}})
		}
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s %s: %v, want %q", tc.kind, tc.value, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s %s: %v", tc.kind, tc.value, err)
		default:
			got := cfg.Inputs[0]
			got.flag = ""
			if got != tc.want {
				t.Errorf("%s %s:\n got %+v\nwant %+v", tc.kind, tc.value, got, tc.want)
			}
		}
	}
}

// TestDescribe checks what serve check prints of a configuration: a
// summary, then the configuration resolved, which loads back the same.
func TestDescribe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "serve.toml")
	writeFile(t, file, []byte("[service]\ncommit_interval = \"2s\"\n[[input]]\npath = \"/var/log/access.log\"\nname = \"web1\"\n[[input]]\nkind = \"pcap\"\npath = \"/data/dark\"\nsize = 65536\n[watch]\ninterval = \"5m\"\n"))
	cfg, err := Load(file, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := cfg.Describe(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"listen   http://127.0.0.1:8080 (no token)", "input 1  log /var/log/access.log: name web1, sensor web1 (size 1), format auto",
		"input 2  pcap /data/dark: name dark, sensor dark (size 65536)", "interval 5m0s, lateness 2; commit every 2s", "[service]", "interval = \"5m\""} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in:\n%s", want, b.String())
		}
	}
	_, toml, _ := strings.Cut(b.String(), "\n\n")
	again := filepath.Join(dir, "again.toml")
	writeFile(t, again, []byte(toml))
	cfg2, err := Load(again, Overrides{})
	if err != nil {
		t.Fatalf("the resolved configuration does not load: %v\n%s", err, toml)
	}
	cfg.File, cfg2.File = "", ""
	var b2 bytes.Buffer
	cfg2.Describe(&b2)
	if b2.String() != b.String() {
		t.Errorf("the resolved configuration loads as another:\n%s\nwant\n%s", b2.String(), b.String())
	}
}

// TestFlagSetsDistinct checks that the flags of the three parameter
// structs do not clash with one another or with serve's own flags.
func TestFlagSetsDistinct(t *testing.T) {
	t.Parallel()
	seen := map[string]string{"config": "", "follow": "", "zeek": "", "pcap": "", "signatures": "", "http-ports": "", "help": ""}
	for _, fs := range FlagSets {
		for _, k := range paramcli.Keys(fs.New()) {
			f := strings.TrimPrefix(paramcli.FlagName(k), "--")
			if other, ok := seen[f]; ok {
				t.Errorf("flag --%s of [%s] clashes with %q", f, fs.Table, other)
			}
			seen[f] = fs.Table
		}
	}
}
