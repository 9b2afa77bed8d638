package csafsite

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// checkerReport is what the test reads of csaf_checker's JSON report
// (cmd/csaf_checker/report.go of github.com/gocsaf/csaf/v3).
type checkerReport struct {
	Domains []struct {
		Name         string `json:"name"`
		Role         string `json:"role"`
		Passed       bool   `json:"passed"`
		Requirements []struct {
			Num         int    `json:"num"`
			Description string `json:"description"`
			Messages    []struct {
				Type int    `json:"type"` // 0 info, 1 warning, 2 error
				Text string `json:"text"`
			} `json:"messages"`
		} `json:"requirements"`
	} `json:"domains"`
}

// Message types of the report.
const (
	msgInfo  = 0
	msgWarn  = 1
	msgError = 2
)

// expectedWarnings are the checker's warnings the site cannot avoid, by
// requirement: the checker validates against the schema but runs CSAF's
// mandatory tests (section 6.1) only through a remote validator service,
// which is not part of this test.
var expectedWarnings = map[int][]string{1: {"No remote validator configured"}}

// publishedSite is a site with the TLP:WHITE examples of the shared folder
// in the operator's folder and three wormwatch advisories published at run
// time, one of them a revision; it returns the site and the number of
// advisories.
func publishedSite(t *testing.T) (*Site, int) {
	t.Helper()
	folder, n := exampleFolder(t)
	cfg := testConfig()
	cfg.Folder = folder
	s, _ := newSite(t, cfg)
	docs := [][]byte{
		wormAdvisory(t, "codered2-july19", time.Date(2001, 7, 19, 23, 0, 0, 0, time.UTC)),
		wormAdvisory(t, "codered2-august", time.Date(2001, 8, 4, 12, 0, 0, 0, time.UTC)),
		wormAdvisory(t, "live", time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)),
		revise(t, wormAdvisory(t, "live", time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)), time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)),
	}
	for _, d := range docs {
		if _, err := s.Publish(d); err != nil {
			t.Fatal(err)
		}
	}
	if s.Len() != n+3 {
		t.Fatalf("%d advisories, want %d", s.Len(), n+3)
	}
	return s, n + 3
}

// TestCSAFChecker runs the BSI's csaf_checker (github.com/gocsaf/csaf/v3,
// the version of go.mod, as a Go tool) against the site served over TLS on
// loopback, as its domain (so security.txt, the well-known path and the
// DNS path are tested too), and fails on any error of its report, on a
// warning it does not expect, on a requirement of the trusted-provider
// role missing from the report, or on a role not passed.
func TestCSAFChecker(t *testing.T) {
	checker := tool(t, "csaf_checker")
	s, _ := publishedSite(t)
	l := serveLoopback(t, s, nil)
	rep := runChecker(t, l, checker)
	d := rep.Domains[0]
	t.Logf("csaf_checker: domain %s, role %s, passed %v", d.Name, d.Role, d.Passed)
	var nums []int
	for _, r := range d.Requirements {
		nums = append(nums, r.Num)
		for _, m := range r.Messages {
			kind := [...]string{"info", "warning", "ERROR"}[m.Type]
			t.Logf("  %2d %-40s %-7s %s", r.Num, r.Description, kind, m.Text)
			switch {
			case m.Type == msgError:
				t.Errorf("requirement %d (%s): error: %s", r.Num, r.Description, m.Text)
			case m.Type == msgWarn && !slices.Contains(expectedWarnings[r.Num], m.Text):
				t.Errorf("requirement %d (%s): unexpected warning: %s", r.Num, r.Description, m.Text)
			}
		}
	}
	for want := 1; want <= 20; want++ {
		if !slices.Contains(nums, want) {
			t.Errorf("requirement %d of the trusted-provider role is not in the report", want)
		}
	}
	if !d.Passed || d.Role != "csaf_trusted_provider" {
		t.Errorf("role %q passed %v, want csaf_trusted_provider passed", d.Role, d.Passed)
	}
	if r := l.tunnel.refusals(); len(r) > 0 {
		t.Errorf("the checker asked the proxy for %q", r)
	}
}

// runChecker runs csaf_checker on the loopback site and reads its report.
func runChecker(t *testing.T, l *loopback, checker string) *checkerReport {
	t.Helper()
	cfg, report := filepath.Join(l.dir, "checker.toml"), filepath.Join(l.dir, "report.json")
	if err := os.WriteFile(cfg, []byte("# empty: every option on the command line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := l.run(t, checker, "--config", cfg, "--format", "json", "--output", report, "--client_timeout", "60s", testHost)
	if err != nil {
		t.Fatalf("csaf_checker: %v\n%s", err, out)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("csaf_checker wrote no report: %v\n%s", err, out)
	}
	var rep checkerReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("report: %v", err)
	}
	if len(rep.Domains) != 1 {
		t.Fatalf("report of %d domains, want 1:\n%s", len(rep.Domains), b)
	}
	return &rep
}

// revise returns a new revision of a wormwatch advisory: current release
// date and version moved on, a revision added.
func revise(t *testing.T, doc []byte, at time.Time) []byte {
	t.Helper()
	out, err := reviseDoc(doc, at, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// reviseDoc is revise without a test; a non-zero initial also moves the
// initial release date (and so the year folder).
func reviseDoc(doc []byte, at, initial time.Time) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, err
	}
	tr := m["document"].(map[string]any)["tracking"].(map[string]any)
	date := at.UTC().Format(time.RFC3339)
	n := len(tr["revision_history"].([]any)) + 1
	tr["current_release_date"], tr["version"] = date, fmt.Sprint(n)
	tr["revision_history"] = append(tr["revision_history"].([]any), map[string]any{"date": date, "number": fmt.Sprint(n), "summary": "Revised."})
	if !initial.IsZero() {
		tr["initial_release_date"] = initial.UTC().Format(time.RFC3339)
	}
	out, err := json.MarshalIndent(m, "", "  ")
	return append(out, '\n'), err
}

// messages returns the texts of a requirement's messages of a type.
func (r *checkerReport) messages(num, typ int) []string {
	var out []string
	for _, q := range r.Domains[0].Requirements {
		for _, m := range q.Messages {
			if q.Num == num && m.Type == typ {
				out = append(out, m.Text)
			}
		}
	}
	return out
}

// TestCSAFDownloader runs the BSI's csaf_downloader against the loopback
// site in trusted-only mode (it keeps an advisory only when its signature
// verifies with the key of provider-metadata.json): every advisory must
// come back byte for byte with its hash and signature files, and its
// statistics must count every one as succeeded and none as failed.
func TestCSAFDownloader(t *testing.T) {
	downloader := tool(t, "csaf_downloader")
	s, n := publishedSite(t)
	l := serveLoopback(t, s, nil)
	stats, out, err := runDownloader(t, l, downloader)
	if err != nil {
		t.Errorf("csaf_downloader: %v", err)
	}
	t.Logf("csaf_downloader statistics: %v", stats)
	if stats["succeeded"] != n || stats["total_failed"] != 0 {
		t.Errorf("csaf_downloader statistics %v, want %d succeeded and none failed\n%s", stats, n, out)
	}
	sn := s.snap.Load()
	for _, a := range sn.entries {
		p := filepath.Join(out, tlpFolder, fmt.Sprint(a.year()), a.name)
		for _, ext := range []string{"", ".sha256", ".sha512", ".asc"} {
			got, err := os.ReadFile(p + ext)
			if err != nil {
				t.Errorf("csaf_downloader did not keep %s: %v", a.path()+ext, err)
				continue
			}
			if want := sn.files[tlpDir+a.path()+ext].body; string(got) != string(want) {
				t.Errorf("%s: downloaded %d bytes, not the %d served", a.path()+ext, len(got), len(want))
			}
		}
	}
	if r := l.tunnel.refusals(); len(r) > 0 {
		t.Errorf("the downloader asked the proxy for %q", r)
	}
}

// runDownloader runs csaf_downloader on the loopback site (trusted-only)
// and returns the figures of its final "Download statistics" log line and
// the folder it downloaded into.
func runDownloader(t *testing.T, l *loopback, downloader string) (map[string]int, string, error) {
	t.Helper()
	cfg, out, logFile := filepath.Join(l.dir, "downloader.toml"), filepath.Join(l.dir, "downloaded"), filepath.Join(l.dir, "downloader.log")
	if err := os.WriteFile(cfg, []byte("# empty: every option on the command line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	output, err := l.run(t, downloader, "--config", cfg, "--directory", out, "--trusted_only",
		"--log_file", logFile, "--log_level", "info", "--client_timeout", "60s", testHost)
	logText, _ := os.ReadFile(logFile)
	if err != nil {
		err = fmt.Errorf("%w\n%s\n%s", err, output, logText)
	}
	stats := map[string]int{}
	for line := range strings.Lines(string(logText)) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != "Download statistics" {
			continue
		}
		for k, v := range rec {
			if f, ok := v.(float64); ok {
				stats[k] = int(f)
			}
		}
	}
	if len(stats) == 0 {
		t.Fatalf("csaf_downloader logged no statistics (%v)\n%s\n%s", err, output, logText)
	}
	return stats, out, err
}

// TestToolsSeeBrokenSite serves the same site with one advisory's SHA-512
// file wrong and another's signature taken from a third advisory: the
// checker must fail the role with errors under Integrity and Signatures
// naming those files, and the downloader must count both failures. This is
// what makes the two tests above worth passing.
func TestToolsSeeBrokenSite(t *testing.T) {
	checker, downloader := tool(t, "csaf_checker"), tool(t, "csaf_downloader")
	s, _ := publishedSite(t)
	sn := s.snap.Load()
	badHash, badSig, other := tlpDir+sn.entries[0].path()+".sha512", tlpDir+sn.entries[1].path()+".asc", sn.entries[2]
	l := serveLoopback(t, s, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case badHash:
				w.Write([]byte(strings.Repeat("0", 128) + "  " + path.Base(strings.TrimSuffix(badHash, ".sha512")) + "\n"))
			case badSig:
				w.Write(other.sig)
			default:
				h.ServeHTTP(w, r)
			}
		})
	})
	rep := runChecker(t, l, checker)
	if rep.Domains[0].Passed {
		t.Error("the checker passed a site with a wrong hash and a wrong signature")
	}
	found := func(num int, part string) {
		for _, m := range rep.messages(num, msgError) {
			if strings.Contains(m, part) {
				return
			}
		}
		t.Errorf("requirement %d: no error naming %s; errors: %q", num, part, rep.messages(num, msgError))
	}
	found(18, path.Base(badHash))
	found(19, path.Base(strings.TrimSuffix(badSig, ".asc")))
	stats, _, _ := runDownloader(t, l, downloader)
	t.Logf("csaf_downloader statistics: %v", stats)
	if stats["sha512_failed"] != 1 || stats["signature_failed"] != 1 {
		t.Errorf("csaf_downloader statistics %v, want one SHA-512 and one signature failure", stats)
	}
}
