package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"wormwatch/forecast"
)

// TestDetectLimits checks detect's bounds on flags and signatures (issue 7,
// items 7, 9, 10 and 11): each refused with exit status 2 and one line,
// before any log is read, nothing written.
func TestDetectLimits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := logPath(t, "honeynet2004_access_log.10")
	os.WriteFile(filepath.Join(dir, "badstix.toml"), []byte("[[family]]\nname = \"x\"\ndescription = \"d\"\nstix_pattern = \"[url:value = 'x'\"\n[[family.match]]\nmethod = { equals = [\"GET\"] }\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "longname.toml"), []byte("[[family]]\nname = \""+strings.Repeat("a", 70)+"\"\ndescription = \"d\"\n[[family.match]]\nmethod = { equals = [\"GET\"] }\n"), 0o644)
	// A folder holding a file whose first lines are no log, then a log.
	logs := filepath.Join(dir, "logs")
	os.Mkdir(logs, 0o755)
	os.WriteFile(filepath.Join(logs, "mixed.log"), append(bytes.Repeat([]byte("notes, not a log line\n"), 120), readFile(t, log)...), 0o644)
	os.WriteFile(filepath.Join(logs, "other.log"), readFile(t, logPath(t, "honeynet2004_access_log.22")), 0o644)
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"max line 1e11", []string{"--max-line", "100000000000", log}, "--max-line 100000000000: want 256 to 67108864 bytes (64 MiB)"},
		{"max line 2^63-1", []string{"--max-line", "9223372036854775807", log}, "--max-line 9223372036854775807: want 256 to 67108864 bytes"},
		{"max line over 64 MiB", []string{"--max-line", "67108865", log}, "want 256 to 67108864 bytes"},
		{"max line too small", []string{"--max-line", "10", log}, "--max-line 10: want 256 to 67108864 bytes"},
		{"sensor size forecast refuses", []string{"--series", "s.csv", "--sensor-size", "99999999999999", log}, "--sensor-size 99999999999999: want 1 to 4294967295 addresses"},
		{"sensor size 0", []string{"--series", "s.csv", "--sensor-size", "0", log}, "--sensor-size 0: want 1 to 4294967295"},
		{"interval not whole seconds", []string{"--series", "s.csv", "--interval", "1500ms", log}, "--interval 1.5s: want whole seconds"},
		{"interval over a year", []string{"--series", "s.csv", "--interval", "9000h", log}, "--interval 9000h0m0s: want 1s to 8784h0m0s"},
		{"interval under a second", []string{"--series", "s.csv", "--interval", "1ms", log}, "--interval 1ms: want 1s to"},
		{"memory not a size", []string{"--memory", "lots", log}, `--memory: "lots" is not a size`},
		{"memory too small", []string{"--memory", "1MiB", log}, "--memory 1MiB: want at least 16 MiB"},
		{"no temporary folder", []string{"--tmp-dir", "nowhere", log}, "--tmp-dir nowhere: not a folder"},
		// The signatures are checked before any log is read: the log
		// named does not exist, the error is the signature's.
		{"bad stix pattern", []string{"--signatures", "badstix.toml", "none.log"}, `badstix.toml: line 4: family.x.stix_pattern: STIX pattern "[url:value = 'x'": at offset 16 (end of pattern): expected "]"`},
		{"family name too long", []string{"--signatures", "longname.toml", "none.log"}, ".name: name of 70 characters is too long (want 1 to 64 characters"},
		{"passed over with matches", []string{"logs"}, "mixed.log: line 123: the log format cannot be told from its first lines (from line 1), yet 274 lines of it match worm signatures"},
	}
	for _, tc := range tests {
		r := wormwatch(t, dir, append([]string{"detect"}, tc.args...)...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code != 2 || len(lines) != 1 || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and one line with %q", tc.name, r.code, r.stderr, tc.msg)
		}
	}
	if got := tree(t, dir); !slices.Equal(got, []string{".", "badstix.toml", "logs", "logs/mixed.log", "logs/other.log", "longname.toml"}) {
		t.Errorf("left behind: %v", got)
	}
}

// TestDetectSeriesForForecast checks that the largest --sensor-size detect
// accepts gives a series forecast reads.
func TestDetectSeriesForForecast(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustRun(t, dir, "detect", "--series", "s.csv", "--sensor-size", fmt.Sprint(uint64(forecast.MaxSensorSize)), logPath(t, "honeynet2004_access_log.22"))
	f, err := os.Open(filepath.Join(dir, "s.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := forecast.ReadSeries(t.Context(), f, "s.csv")
	if err != nil || s.Size != forecast.MaxSensorSize {
		t.Errorf("forecast reads the series: %v, size %d", err, s.Size)
	}
}

// TestDetectGzipPadding checks that a gzip log padded with zero bytes (as
// tape and block tools leave it, and gzip(1) accepts) is read like the
// plain log, and that other bytes after it are an error naming the offset.
func TestDetectGzipPadding(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plain := readFile(t, logPath(t, "honeynet2004_access_log.10"))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	os.WriteFile(filepath.Join(dir, "padded.log.gz"), append(bytes.Clone(gz.Bytes()), make([]byte, 4096)...), 0o644)
	os.WriteFile(filepath.Join(dir, "garbage.log.gz"), append(bytes.Clone(gz.Bytes()), "junk"...), 0o644)
	if j := detectRun(t, dir, "padded.log.gz"); j.Lines != 518 || j.Matched != 274 {
		t.Errorf("padded gzip: %d lines, %d matched", j.Lines, j.Matched)
	}
	r := wormwatch(t, dir, "detect", "garbage.log.gz")
	want := fmt.Sprintf("garbage.log.gz: gzip: trailing garbage at byte offset %d", gz.Len())
	if r.code != 2 || !strings.Contains(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("gzip with trailing garbage: exit %d, %q; want 2 and %q", r.code, r.stderr, want)
	}
}

// TestDetectMemory checks that --memory spills the per-source tables to
// --tmp-dir with the same output, and leaves no temporary file.
func TestDetectMemory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var b bytes.Buffer
	for i := range 150_000 {
		fmt.Fprintf(&b, "10.%d.%d.%d - - [01/Aug/2004:%02d:%02d:%02d +0000] \"GET /scripts/root.exe?/c+dir HTTP/1.0\" 404 283 \"-\" \"-\"\n",
			i>>16, i>>8&255, i&255, i/3600%24, i/60%60, i%60)
	}
	os.WriteFile(filepath.Join(dir, "many.log"), b.Bytes(), 0o644)
	tmp := filepath.Join(dir, "tmp")
	os.Mkdir(tmp, 0o755)
	args := []string{"detect", "--format", "csv", "--table", "sources", "--series", "s1.csv", "many.log"}
	inMemory := mustRun(t, dir, args...)
	args[len(args)-2] = "s2.csv"
	spilled := mustRun(t, dir, slices.Insert(args, 1, "--memory", "16MiB", "--tmp-dir", "tmp")...)
	if inMemory.stdout != spilled.stdout || !bytes.Equal(readFile(t, filepath.Join(dir, "s1.csv")), readFile(t, filepath.Join(dir, "s2.csv"))) ||
		strings.Count(inMemory.stdout, "\n") != 150_001 {
		t.Errorf("the output differs with --memory 16MiB (%d and %d bytes)", len(inMemory.stdout), len(spilled.stdout))
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("left in --tmp-dir: %v", ents)
	}
}
