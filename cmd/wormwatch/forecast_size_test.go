package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestForecastSizeTooSmall runs forecast on the simulated Code Red /16
// telescope's day (watch's test data) with its size given as one address:
// the filter's estimates overflow, and forecast refuses the series with
// one line naming the file and the column size (exit 2), where it printed
// estimates of null before. The same rows with the size right go through.
func TestForecastSizeTooSmall(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data, err := os.ReadFile("../../watch/testdata/codered2-ucsd-16.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tel16.csv"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	one := bytes.ReplaceAll(data, []byte(",65536\n"), []byte(",1\n"))
	if bytes.Equal(one, data) {
		t.Fatal("the test data's size is not 65536")
	}
	if err := os.WriteFile(filepath.Join(dir, "tel1.csv"), one, 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, dir, "forecast", "tel16.csv")
	for _, format := range []string{"text", "json"} {
		r := wormwatch(t, dir, "forecast", "tel1.csv", "--format", format)
		want := "wormwatch: tel1.csv: column size: 1 address is far too small for what the sensor saw: by 2001-07-19T19:20:00Z it had seen 76849 distinct sources"
		if r.code != 2 || !strings.HasPrefix(r.stderr, want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 || r.stdout != "" {
			t.Errorf("--format %s: exit %d, stdout %q, stderr %q; want 2, nothing on stdout and one line starting %q", format, r.code, r.stdout, r.stderr, want)
		}
	}
}
