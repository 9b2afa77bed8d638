package share

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"wormwatch/share/schematest"
)

func advisoryFor(t *testing.T, kind string, opt AdvisoryOptions) (*Outlook, *CSAF, []byte) {
	t.Helper()
	o, err := ReadFolder(synthFolder(t, kind))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Advisory(o, opt)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := c.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	return o, c, buf.Bytes()
}

// productIDs collects the product ids the tree defines.
func productIDs(bs []Branch) []string {
	var out []string
	for _, b := range bs {
		if b.Product != nil {
			out = append(out, b.Product.ProductID)
		}
		out = append(out, productIDs(b.Branches)...)
	}
	return out
}

func TestAdvisory(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"run", "replay"} {
		for _, tlp := range []string{"", "green", "AMBER", "red"} {
			t.Run(kind+"/"+tlp, func(t *testing.T) {
				t.Parallel()
				o, c, b := advisoryFor(t, kind, AdvisoryOptions{TLP: tlp, Version: "9.9"})
				for _, k := range []schematest.Kind{schematest.CSAF, schematest.CSAFStrict} {
					if err := schematest.Validate(k, b); err != nil {
						t.Fatal(err)
					}
				}
				d := c.Document
				wantTLP := strings.ToUpper(tlp)
				if wantTLP == "" {
					wantTLP = "WHITE"
				}
				if d.Distribution.TLP.Label != wantTLP {
					t.Errorf("TLP %s, want %s", d.Distribution.TLP.Label, wantTLP)
				}
				// Dates: the end of the data, the same everywhere (CSAF
				// 6.1.16 and 6.2.5-6: the last revision is the version, no
				// date older than the history's).
				end := "2001-08-02T00:00:00Z"
				tr := d.Tracking
				if tr.InitialReleaseDate != end || tr.CurrentReleaseDate != end || tr.Generator.Date != end ||
					len(tr.RevisionHistory) != 1 || tr.RevisionHistory[0].Date != end || tr.RevisionHistory[0].Number != tr.Version {
					t.Errorf("tracking %+v", tr)
				}
				if d.Category != "csaf_security_advisory" || d.Publisher.Category != "other" || tr.Generator.Engine.Version != "9.9" {
					t.Errorf("document %+v", d)
				}
				if !strings.HasPrefix(tr.ID, "WORMWATCH-SYNTHETIC-") || strings.ToLower(tr.ID[len(tr.ID)-12:]) != o.Digest[:12] {
					t.Errorf("tracking id %s for digest %s", tr.ID, o.Digest)
				}
				// 6.1.1: every product id used is defined in the tree.
				defined := productIDs(c.ProductTree.Branches)
				v := c.Vulnerabilities[0]
				used := slices.Clone(v.ProductStatus.KnownAffected)
				for _, r := range v.Remediations {
					used = append(used, r.ProductIDs...)
				}
				for _, th := range v.Threats {
					used = append(used, th.ProductIDs...)
				}
				for _, id := range used {
					if !slices.Contains(defined, id) {
						t.Errorf("product id %s is used but not defined (defined: %v)", id, defined)
					}
				}
				if len(defined) != 2 || len(v.ProductStatus.KnownAffected) != 2 {
					t.Errorf("products %v, known affected %v; want IIS 4.0 and 5.0", defined, v.ProductStatus.KnownAffected)
				}
				if v.CVE != "CVE-2001-0500" || v.CWE.ID != "CWE-120" {
					t.Errorf("vulnerability %s %+v", v.CVE, v.CWE)
				}
				cats := map[string]bool{}
				for _, r := range v.Remediations {
					cats[r.Category] = true
				}
				if !cats["vendor_fix"] || !cats["workaround"] || !cats["mitigation"] {
					t.Errorf("remediations %v", cats)
				}
				// The forecast's numbers, from folder_test.go's hand-worked
				// figures, are in the notes.
				var details string
				for _, n := range d.Notes {
					if n.Category == "details" {
						details = n.Text
					}
				}
				wants := []string{"1,120", "23:00 UTC", "1,220", "1 September 2001 00:00 UTC", "600 dormant hosts woke", "220 infections", "2 hours", "0.167 new infections per minute"}
				if kind == "replay" {
					wants = []string{"1,120 (1,008 to 1,232)", "1,220 (1,098 to 1,342)", "600 (540 to 660) dormant hosts woke", "0.167 (0.15 to 0.183) new infections per minute"}
				}
				for _, w := range wants {
					if !strings.Contains(details, w) {
						t.Errorf("forecast note lacks %q:\n%s", w, details)
					}
				}
			})
		}
	}
}

// TestAdvisoryDeterministic checks that the same folder gives the same
// bytes, and that the date and the publisher can be set.
func TestAdvisoryDeterministic(t *testing.T) {
	t.Parallel()
	dir := synthFolder(t, "run")
	encode := func(opt AdvisoryOptions) []byte {
		o, err := ReadFolder(dir)
		if err != nil {
			t.Fatal(err)
		}
		c, err := Advisory(o, opt)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := c.Encode(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	if a, b := encode(AdvisoryOptions{}), encode(AdvisoryOptions{}); !bytes.Equal(a, b) {
		t.Error("two advisories from one folder differ")
	}
	b := encode(AdvisoryOptions{Date: time.Date(2001, 7, 29, 20, 0, 0, 0, time.FixedZone("EDT", -4*3600)), PublisherName: "NIPC", PublisherNamespace: "https://example.org"})
	c, err := ReadCSAF(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if c.Document.Tracking.CurrentReleaseDate != "2001-07-30T00:00:00Z" || c.Document.Publisher.Name != "NIPC" || c.Document.Publisher.Namespace != "https://example.org" {
		t.Errorf("date %s, publisher %+v", c.Document.Tracking.CurrentReleaseDate, c.Document.Publisher)
	}
	if _, err := Advisory(&Outlook{}, AdvisoryOptions{TLP: "clear"}); err == nil || !strings.Contains(err.Error(), "allowed values") {
		t.Errorf("TLP clear: error %v", err)
	}
}

func TestCSAFFileName(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"WORMWATCH-CODERED-2001-EE3208880301": "wormwatch-codered-2001-ee3208880301.json",
		"cisco-sa-20180328-smi2":              "cisco-sa-20180328-smi2.json",
		"RHSA-2019:1862":                      "rhsa-2019_1862.json",
		"BSI-2022-0001":                       "bsi-2022-0001.json",
		"a b//c+d":                            "a_b_c+d.json",
	}
	for id, want := range cases {
		if got := CSAFFileName(id); got != want {
			t.Errorf("CSAFFileName(%q) = %q, want %q", id, got, want)
		}
	}
}

// TestReadCSAFExamples reads back every real CSAF 2.0 advisory of the
// shared folder (vendors' and the VEX examples): ReadCSAF must accept each,
// and writing it again must give the same JSON value, valid against the
// schema. The file names follow the tracking ids (CSAF 5.1).
func TestReadCSAFExamples(t *testing.T) {
	t.Parallel()
	dir, err := schematest.Dir()
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	err = filepath.WalkDir(filepath.Join(dir, "csaf2.0", "examples", "csaf"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 19 {
		t.Fatalf("found %d examples, want the 19 of the shared folder", len(files))
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		c, err := ReadCSAF(bytes.NewReader(b))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		var out bytes.Buffer
		if err := c.Encode(&out); err != nil {
			t.Fatal(err)
		}
		var before, after any
		if err := json.Unmarshal(b, &before); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out.Bytes(), &after); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(before, after) {
			t.Errorf("%s: written back differently", p)
		}
		if err := schematest.Validate(schematest.CSAF, out.Bytes()); err != nil {
			t.Errorf("%s written back: %v", p, err)
		}
		if got := CSAFFileName(c.Document.Tracking.ID); got != filepath.Base(p) {
			t.Logf("%s: the tracking id %s gives the file name %s", p, c.Document.Tracking.ID, got)
		}
	}
}

func TestReadCSAFErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		`{"document": {"csaf_version": "2.0", "extra": 1}}`: `unknown field "extra"`,
		`{"document": {"csaf_version": "2.1"}}`:             "only 2.0",
		`{"document": {"csaf_version": "2.0"}} {}`:          "more data",
		`[`: "CSAF document",
	}
	for in, want := range cases {
		if _, err := ReadCSAF(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", in, err, want)
		}
	}
}

// TestPages checks the pages for people: the HTML parses, shows the
// numbers and escapes what it shows; the Markdown has the same sections.
func TestPages(t *testing.T) {
	t.Parallel()
	o, err := ReadFolder(synthFolder(t, "run"))
	if err != nil {
		t.Fatal(err)
	}
	o.Description = `<script>alert(1)</script> & more`
	c, err := Advisory(o, AdvisoryOptions{TLP: "amber"})
	if err != nil {
		t.Fatal(err)
	}
	var h, m bytes.Buffer
	if err := WriteHTML(&h, c); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&m, c); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(h.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	var headings []string
	scripts := 0
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "script" {
			scripts++
		}
		if n.Type == html.ElementNode && n.Data == "h2" && n.FirstChild != nil {
			headings = append(headings, n.FirstChild.Data)
		}
		if n.Type == html.TextNode {
			text.WriteString(n.Data)
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	walk(doc)
	if scripts != 0 {
		t.Errorf("the page has %d script elements: the description was not escaped", scripts)
	}
	wantHeadings := []string{"What is happening", "Who is affected", "What to do", "The numbers", "How they were made", "References"}
	if !slices.Equal(headings, wantHeadings) {
		t.Errorf("HTML sections %v, want %v", headings, wantHeadings)
	}
	for _, w := range []string{"TLP:AMBER", "1,120", "1,220", "Internet Information Server 4.0", "MS01-033", "<script>alert(1)</script> & more"} {
		if !strings.Contains(text.String(), w) {
			t.Errorf("the HTML page's text lacks %q", w)
		}
	}
	md := m.String()
	for _, w := range append([]string{"# Code Red worm", "**TLP:AMBER**", "1,120", `\<script\>alert(1)\</script\>`}, wantHeadings...) {
		if !strings.Contains(md, w) {
			t.Errorf("the Markdown page lacks %q", w)
		}
	}
}

// TestWriteAdvisoryFiles writes the three files, checks their names and
// that nothing else (no temporary file) is left.
func TestWriteAdvisoryFiles(t *testing.T) {
	t.Parallel()
	o, err := ReadFolder(synthFolder(t, "replay"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "a", "b")
	paths, err := WriteAdvisoryFiles(out, o, AdvisoryOptions{}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	base := strings.ToLower(o.TrackingID())
	want := []string{filepath.Join(out, base+".json"), filepath.Join(out, base+".html"), filepath.Join(out, base+".md")}
	if !slices.Equal(paths, want) {
		t.Errorf("paths %v, want %v", paths, want)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Errorf("folder holds %d entries, want 3", len(entries))
	}
	b, err := os.ReadFile(want[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := schematest.Validate(schematest.CSAFStrict, b); err != nil {
		t.Error(err)
	}
	// Writing again over the same files is refused without force, and
	// with it works and gives the same bytes.
	if _, err := WriteAdvisoryFiles(out, o, AdvisoryOptions{}, false, nil); err == nil || !strings.Contains(err.Error(), "exists; give --force") {
		t.Fatalf("writing over the files without force: %v", err)
	}
	if _, err := WriteAdvisoryFiles(out, o, AdvisoryOptions{}, true, nil); err != nil {
		t.Fatal(err)
	}
	if b2, _ := os.ReadFile(want[0]); !bytes.Equal(b, b2) {
		t.Error("the second write differs")
	}
	// A folder that cannot be created: an error, nothing written.
	if _, err := WriteAdvisoryFiles(filepath.Join(want[0], "sub"), o, AdvisoryOptions{}, false, nil); err == nil {
		t.Error("writing under a file gave no error")
	}
}
