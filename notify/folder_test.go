package notify

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// folderReport is detect's JSON report of TestFolders: benchData's shape,
// smaller, with families described and sources the generator does not
// make (IPv6, IPv4-mapped, a zone, a host name, escapes in strings, a
// time with fractions and an offset, families unsorted and repeated, a
// key the reader skips).
func folderReport() []byte {
	rep := string(benchSize{big: 8, small: 240, sources: 20_000}.report())
	rep = strings.Replace(rep, `"families": {}`, `"families": {"slapper": {"title": "Slapper", "kind": "worm",
		"description": "Slapper fingerprints servers with GET / HTTP/1.1 and no Host header.",
		"references": [{"source": "cve", "id": "CVE-2002-0656"}, {"source": "CERT", "id": "CA-2002-27", "url": "https://example.org/ca-2002-27"}]},
		"probe-x": {"kind": "rule", "description": "  A rule of \u0074he test.  "}}`, 1)
	extra := `,
    {"source":"2001:db8::5","first_seen":"2001-07-19T12:00:00.250+02:00","last_seen":"2001-07-19T13:00:00Z","lines":3,"families":["nimda","codered2","nimda"]},
    {"source":"::ffff:11.0.0.5","first_seen":"2001-07-19T09:00:00Z","last_seen":"2001-07-20T01:00:00Z","lines":7,"families":["slapper"],"note":{"a":[1,2]}},
    {"source":"11.0.0.\u0039","first_seen":"2001-07-19T10:00:00Z","last_seen":"2001-07-19T10:00:00Z","lines":1,"families":["\u0063odered1","probe-x"]},
    {"source":"fe80::1%eth0","first_seen":"2001-07-19T10:00:00Z","last_seen":"2001-07-19T10:00:01Z","lines":2,"families":["codered2"]},
    {"lines":4,"families":["codered2"],"source":"host.example"},
    {"source":"11.0.200.9","first_seen":"2001-07-19T23:59:59Z","last_seen":"2001-07-19T23:59:59.999999999Z","lines":9223372036854775807,"families":["codered2"]},
    {"source":"11.1.200.1","first_seen":"2001-07-19T10:00:00-00:00","last_seen":"2001-07-19T11:00:00Z","lines":2,"families":["ida-idq"]}],`
	return []byte(strings.Replace(rep, "],", extra, 1))
}

// folderTable is the owner table of TestFolders: benchData's, with an
// IPv6 owner and names a CSV must quote.
func folderTable() []byte {
	return append(benchSize{big: 8, small: 240}.table(), `2001:db8::/32,Owner V6,abuse@v6.example,AS64500
11.0.200.0/24,"Comma, ""Quoted"" Networks",abuse@comma.example,
11.1.200.0/24,=Formula Owner,,
`...)
}

// TestFolders writes two notices folders from fixed inputs and compares a
// hash of every file (names and contents) with testdata/folders.sha256,
// written by the code before the writers were made faster (rewritten
// with -update): any byte changed fails.
func TestFolders(t *testing.T) {
	as, err := ParseTable(bytes.NewReader(folderTable()), "owners.csv")
	if err != nil {
		t.Fatal(err)
	}
	owners, err := NewOwners(as, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ReadReport(bytes.NewReader(folderReport()), "found.json", "sensor-a")
	if err != nil {
		t.Fatal(err)
	}
	if d.Hosts != 1 {
		t.Errorf("%d host names, want 1", d.Hosts)
	}
	libraryOnly = true
	ref, err := ReadReport(bytes.NewReader(folderReport()), "found.json", "sensor-a")
	libraryOnly = false
	if err != nil || !reflect.DeepEqual(d, ref) {
		t.Errorf("the sources read differ from the JSON library's decoding of each (%v)", err)
	}
	bench, _ := Plan(d.Sources, owners, PlanOptions{})
	small, _ := Plan(testSources(), testOwners(t), PlanOptions{OptOut: testOptOut(t)})
	var got bytes.Buffer
	for _, c := range []struct {
		name    string
		notices []Notice
		letter  *Letter
	}{
		{"bench", bench, &Letter{Org: "Example CERT", Families: d.Families, Window: 7 * 24 * time.Hour}},
		{"small", small, testLetter()},
	} {
		dir := filepath.Join(t.TempDir(), c.name)
		if err := c.letter.Write(t.Context(), dir, c.notices); err != nil {
			t.Fatal(err)
		}
		files, sum := folderSum(t, dir)
		fmt.Fprintf(&got, "%s %d %x\n", c.name, files, sum)
	}
	path := filepath.Join("testdata", "folders.sha256")
	if *update {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("the folders written differ from testdata/folders.sha256:\n%s\nwant\n%s", got.Bytes(), want)
	}
}

// folderSum returns the number of files in dir and a SHA-256 of their
// names, sizes and contents in name order.
func folderSum(t *testing.T, dir string) (int, []byte) {
	t.Helper()
	entries, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	w := bufio.NewWriter(h)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(w, "%s\n%d\n", e.Name(), len(data))
		w.Write(data)
	}
	w.Flush()
	return len(entries), h.Sum(nil)
}
