package csafsite

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wormwatch/share"
	"wormwatch/share/schematest"
)

// testBase is the site's address in the tests: a name of the reserved .test
// domain (RFC 6761), which the tests' clients reach on loopback only.
const testBase = "https://wormwatch.test"

// testConfig is an enabled configuration for tests.
func testConfig() Config {
	c := DefaultConfig()
	c.BaseURL = testBase
	c.Namespace = testBase
	c.Contacts = []string{"mailto:csaf@wormwatch.test"}
	c.ContactDetails = "csaf@wormwatch.test"
	return c
}

// newSite opens a site on a fresh data folder.
func newSite(t testing.TB, cfg Config) (*Site, string) {
	t.Helper()
	data := t.TempDir()
	s, err := New(cfg, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, data
}

// wormAdvisory writes a wormwatch advisory (share.Advisory, TLP:WHITE,
// interim) for a made-up outlook of scenario sc released at date.
func wormAdvisory(t testing.TB, sc string, date time.Time) []byte {
	t.Helper()
	b, err := makeAdvisory(sc, date)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// makeAdvisory is wormAdvisory without a test (for the child process of
// the kill -9 test).
func makeAdvisory(sc string, date time.Time) ([]byte, error) {
	h := sha256.Sum256([]byte(sc + date.String()))
	start := time.Date(2001, 7, 19, 0, 0, 0, 0, time.UTC)
	est := func(v float64) share.Estimate {
		return share.Estimate{Value: v, Low: v, High: v, At: start.Add(12 * time.Hour)}
	}
	o := &share.Outlook{
		Kind: "run", Scenario: sc, Seeds: []uint64{1}, Digest: hex.EncodeToString(h[:]),
		Version: "test", Description: "a test outlook", Files: []string{"summary.json"},
		Start: start, End: start.Add(24 * time.Hour), BinSeconds: 60,
		Population: est(360000), EverInfected: est(359000), PeakInfected: est(300000), PeakNewPerMin: est(2000),
		EndInfected: est(250000), EndDormant: est(0), EndSusceptible: est(1000), EndPatched: est(9000),
		RestartNote: "No restart is expected.",
	}
	c, err := share.Advisory(o, share.AdvisoryOptions{Date: date, PublisherNamespace: testBase, Version: "test"})
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	err = c.Encode(&b)
	return b.Bytes(), err
}

// exampleFolder copies the TLP:WHITE advisories among the CSAF 2.0
// examples of the shared folder (Red Hat, BSI, secvisogram) into a new
// folder, and returns it with their number.
func exampleFolder(t testing.TB) (string, int) {
	t.Helper()
	dir, err := schematest.Dir()
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	n := 0
	err = filepath.WalkDir(filepath.Join(dir, "csaf2.0", "examples", "csaf"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(b, []byte(`"label": "WHITE"`)) {
			return err
		}
		n++
		return os.WriteFile(filepath.Join(out, d.Name()), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, n
}
