package notify

import (
	"bytes"
	"encoding/csv"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden notices in testdata/golden")

// testLetter is the letter of the tests.
func testLetter() *Letter {
	return &Letter{Org: "Example CERT", Contact: "cert@example.org", Advisory: "https://cert.example.org/advisories/codered.html",
		Window: 24 * time.Hour, Families: map[string]Family{
			"slapper": {Name: "slapper", Title: "Slapper", Kind: "worm", Description: "Slapper (September 2002, Apache/OpenSSL on Linux) fingerprints servers with GET / HTTP/1.1 and no Host header.",
				References: []string{"CVE-2002-0656", "CERT CA-2002-27"}},
		}}
}

// golden compares got with testdata/golden/name (rewritten with -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (rerun with -update if the change is meant):\n%s", name, got)
	}
}

func TestText(t *testing.T) {
	notices, _ := Plan(testSources(), testOwners(t), PlanOptions{OptOut: testOptOut(t)})
	l := testLetter()
	var b bytes.Buffer
	if err := l.WriteText(&b, &notices[1]); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	flat := strings.Join(strings.Fields(text), " ")
	golden(t, "example-networks.txt", b.Bytes())
	for _, want := range []string{
		"\n  192.0.2.10     2001-08-04 08:00:00  2001-08-04 14:30:00         5  Code Red II, IIS .ida/.idq overflow attempts\n",
		"\n  2001:db8:5::1  2001-08-04 12:00:00  2001-08-04 12:30:00         2  Slapper\n",
		"What it means: Code Red II", "What it means: Code Red\n", "What it means: Slapper",
		"https://learn.microsoft.com/en-us/security-updates/securitybulletins/2001/ms01-033",
		"https://cert.example.org/advisories/codered.html", "https://www.cve.org/CVERecord?id=CVE-2002-0656", "CERT CA-2002-27",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the text lacks %q", want)
		}
	}
	for _, want := range []string{
		"To the abuse team of Example Networks,",
		"Between 2001-08-04 08:00 and 2001-08-04 15:00 UTC, 3 addresses in your network sent worm requests (Code Red, Code Red II, IIS .ida/.idq overflow attempts and Slapper) to the sensors of Example CERT and its partners: 8 requests in all.",
		"Seen by: member-b, sensor-a.", "at most once in 24 hours", "write to cert@example.org",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("the text lacks %q", want)
		}
	}
	// Each link once; the Code Red entries share their patch text.
	if strings.Count(text, "https://www.cve.org/CVERecord?id=CVE-2001-0500\n") != 1 || strings.Count(text, "Internet Services Manager") != 1 {
		t.Error("a link or a paragraph is written twice")
	}
	// ida-idq is explained by the Code Red entries, not given its own.
	if strings.Contains(text, "What it means: IIS .ida/.idq") {
		t.Error("the text explains ida-idq apart from Code Red")
	}
	for _, line := range strings.Split(text, "\n") {
		if len(line) > TextWidth && !strings.HasPrefix(line, "  ") {
			t.Errorf("line of %d bytes: %q", len(line), line)
		}
	}
	// Listed caps the addresses in the text.
	l.Listed = 1
	b.Reset()
	l.WriteText(&b, &notices[1])
	if !strings.Contains(b.String(), "... and 2 more: the attached CSV lists every address.") || strings.Contains(b.String(), "192.0.2.11 ") {
		t.Errorf("with Listed 1:\n%s", b.String())
	}
}

func TestCSV(t *testing.T) {
	notices, _ := Plan(testSources(), testOwners(t), PlanOptions{OptOut: testOptOut(t)})
	l := testLetter()
	var b bytes.Buffer
	if err := l.WriteCSV(&b, &notices[1]); err != nil {
		t.Fatal(err)
	}
	golden(t, "example-networks.csv", b.Bytes())
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], CSVColumns) || len(rows) != 4 {
		t.Fatalf("header %v, %d rows", rows[0], len(rows))
	}
	row := map[string]string{}
	for i, c := range CSVColumns {
		row[c] = rows[1][i]
	}
	want := map[string]string{"timestamp": "2001-08-04 14:30:00", "protocol": "tcp", "src_ip": "192.0.2.10", "src_port": "", "src_asn": "64500",
		"src_geo": "", "dst_port": "", "public_source": "member-b;sensor-a", "infection": "http-scan", "family": "codered2;ida-idq",
		"vulnerability_id": "CVE-2001-0500", "first_seen": "2001-08-04 08:00:00", "count": "5", "owner": "Example Networks"}
	for c, v := range want {
		if row[c] != v {
			t.Errorf("column %s: %q, want %q", c, row[c], v)
		}
	}
	if rows[3][2] != "2001:db8:5::1" || rows[3][10] != "CVE-2002-0656" {
		t.Errorf("last row %v", rows[3])
	}
	// A delegation file's holder: its country in src_geo.
	b.Reset()
	l.WriteCSV(&b, &notices[4])
	if !strings.Contains(b.String(), ",tcp,203.0.113.5,,,NL,,") {
		t.Errorf("org-alpha's CSV:\n%s", b.String())
	}
}

func TestAppendField(t *testing.T) {
	for in, want := range map[string]string{
		"plain": "plain", "a,b": `"a,b"`, `say "hi"`: `"say ""hi"""`, "two\nlines": "\"two\nlines\"", " lead": `" lead"`,
		"=1+2": `"'=1+2"`, "@SUM(A1)": `"'@SUM(A1)"`, "-3": `"'-3"`, "": "",
	} {
		if got := string(appendField(nil, in)); got != want {
			t.Errorf("appendField(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestGuide(t *testing.T) {
	g := BuiltinGuide()
	if len(g.Advice) != 4 {
		t.Fatalf("%d entries in guidance.toml, want 4", len(g.Advice))
	}
	for _, a := range g.Advice {
		if a.Title == "" || a.Means == "" || a.Clean == "" || a.Patch == "" || len(a.Links) == 0 || len(a.CVEs) == 0 {
			t.Errorf("entry %q lacks a key: %+v", a.Title, a)
		}
		for _, u := range a.Links {
			if !strings.HasPrefix(u, "https://") {
				t.Errorf("entry %q: link %q", a.Title, u)
			}
		}
	}
	titles := func(as []Advice) (out []string) {
		for _, a := range as {
			out = append(out, a.Title)
		}
		return out
	}
	for _, c := range []struct {
		fams []string
		want []string
	}{
		{[]string{"codered2", "ida-idq"}, []string{"Code Red II"}},
		{[]string{"codered1", "codered2", "ida-idq"}, []string{"Code Red II", "Code Red"}},
		{[]string{"ida-idq"}, []string{"IIS .ida/.idq overflow attempts"}},
		{[]string{"cmd-exe", "nimda", "root-exe", "unicode-traversal"}, []string{"Nimda"}},
		{[]string{"cmd-exe", "root-exe"}, []string{"cmd-exe", "root-exe"}}, // no entry: made from the detections (here, none)
	} {
		if got := titles(g.For(c.fams, nil)); !slices.Equal(got, c.want) {
			t.Errorf("For(%v) = %v, want %v", c.fams, got, c.want)
		}
	}
}
