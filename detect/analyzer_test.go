package detect

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFolders(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l22, l10 := sample(t, "honeynet2004_access_log.22"), sample(t, "honeynet2004_access_log.10")
	write(t, filepath.Join(dir, "b", "access.log.10.gz"), gzipped(t, l10))
	write(t, filepath.Join(dir, "a", "access.log.22"), l22)
	write(t, filepath.Join(dir, "a", "README.md"), sample(t, "README.md"))
	write(t, filepath.Join(dir, "a", "empty.log"), nil)
	if err := os.MkdirAll(filepath.Join(dir, "c", "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	paths, err := Expand([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range paths {
		rel, _ := filepath.Rel(dir, p.Name)
		names = append(names, rel)
		if !p.FromDir {
			t.Errorf("%s: FromDir false", p.Name)
		}
	}
	if want := []string{"a/README.md", "a/access.log.22", "a/empty.log", "b/access.log.10.gz"}; !slices.Equal(names, want) {
		t.Errorf("Expand: %v, want %v", names, want)
	}
	r, err := Analyze(context.Background(), []string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Ignored) != 1 || !strings.HasSuffix(r.Ignored[0].Name, "README.md") {
		t.Errorf("ignored %+v, want the README", r.Ignored)
	}
	if len(r.Inputs) != 3 || !r.Inputs[2].Gzip || r.Inputs[1].Lines != 0 || r.Lines != 2718 {
		t.Errorf("inputs %+v, %d lines", r.Inputs, r.Lines)
	}
	if f := r.Family("codered2"); f.Lines != 17 || f.Sources != 11 {
		t.Errorf("codered2 over both logs: %+v, want 17 lines from 11 sources", f)
	}
	// The same README named on the command line is an error.
	_, err = Analyze(context.Background(), []string{filepath.Join(dir, "a", "README.md")}, Options{})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Line != 1 || !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("README given by name: %v", err)
	}
}

func TestStdin(t *testing.T) {
	t.Parallel()
	data := sample(t, "honeynet2004_access_log.10")
	for _, in := range [][]byte{data, gzipped(t, data)} {
		r, err := Analyze(context.Background(), []string{"-"}, Options{Stdin: strings.NewReader(string(in))})
		if err != nil {
			t.Fatal(err)
		}
		if r.Inputs[0].Name != "stdin" || r.Lines != 518 || r.Family("codered2").Lines != 12 {
			t.Errorf("stdin: inputs %+v, %d lines, codered2 %d", r.Inputs, r.Lines, r.Family("codered2").Lines)
		}
	}
}

func TestAnalyzeErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "empty.log"), nil)
	write(t, filepath.Join(dir, "blank.log"), []byte("\n\n  \n"))
	write(t, filepath.Join(dir, "notes", "todo.txt"), []byte("buy milk\n"))
	tests := []struct {
		name  string
		paths []string
		msg   string
	}{
		{"missing", []string{filepath.Join(dir, "none.log")}, "none.log: stat: no such file or directory"},
		{"empty", []string{filepath.Join(dir, "empty.log")}, "empty.log: empty: no log lines to read"},
		{"empty and blank", []string{filepath.Join(dir, "empty.log"), filepath.Join(dir, "blank.log")}, "all 2 inputs"},
		{"empty folder", []string{filepath.Join(dir, "notes", "none")}, "no such file"},
		{"folder without logs", []string{filepath.Join(dir, "notes")}, "todo.txt: cannot tell the log format"},
		{"not a folder", []string{filepath.Join(dir, "empty.log", "x.log")}, "x.log: stat: not a directory"},
	}
	for _, tc := range tests {
		_, err := Analyze(context.Background(), tc.paths, Options{})
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want an *InputError with %q", tc.name, err, tc.msg)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Analyze(ctx, []string{filepath.Join(sampleDir, "honeynet2004_access_log.22")}, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestEvents checks the event gap: lines of a family from one source no
// further apart than the gap are one event, whatever the input order.
func TestEvents(t *testing.T) {
	t.Parallel()
	nimda := "GET /scripts/root.exe?/c+dir HTTP/1.0"
	cr := "GET " + codeRed("X") + " HTTP/1.0"
	lines := []string{
		clf("1.1.1.1", "10/May/2004:10:00:00", nimda, 404),
		clf("1.1.1.1", "10/May/2004:10:00:30", nimda, 404), // 30 s later: same burst
		clf("1.1.1.1", "10/May/2004:10:01:30", nimda, 404), // 60 s later: same burst
		clf("1.1.1.1", "10/May/2004:10:02:31", nimda, 404), // 61 s later: a new burst
		clf("2.2.2.2", "10/May/2004:10:02:31", nimda, 404), // another source
		clf("1.1.1.1", "10/May/2004:10:05:00", cr, 404),
		clf("1.1.1.1", "10/May/2004:10:05:00", cr, 404), // the same second: Code Red counts every line
	}
	for _, order := range [][]int{{0, 1, 2, 3, 4, 5, 6}, {6, 5, 4, 3, 2, 1, 0}} {
		var in []string
		for _, i := range order {
			in = append(in, lines[i])
		}
		r, err := Analyze(context.Background(), []string{"-"}, Options{Stdin: strings.NewReader(strings.Join(in, "\n") + "\n")})
		if err != nil {
			t.Fatal(err)
		}
		n, c := r.Family("nimda"), r.Family("codered2")
		if n.Lines != 5 || n.Sources != 2 || n.Events != 3 || c.Lines != 2 || c.Events != 2 || c.Sources != 1 {
			t.Errorf("order %v: nimda %d/%d/%d, codered2 %d/%d/%d; want 5/2/3 and 2/1/2", order, n.Lines, n.Sources, n.Events, c.Lines, c.Sources, c.Events)
		}
		if !n.FirstSeen.Equal(time.Date(2004, 5, 10, 10, 0, 0, 0, time.UTC)) || !n.LastSeen.Equal(time.Date(2004, 5, 10, 10, 2, 31, 0, time.UTC)) {
			t.Errorf("order %v: nimda seen %v to %v", order, n.FirstSeen, n.LastSeen)
		}
		s := sources(t, r)[0]
		if s.Source != "1.1.1.1" || s.Lines != 6 || !slices.Equal(s.FamilyNames(), []string{"codered2", "nimda", "ida-idq", "root-exe"}) ||
			s.Families[1].Lines != 4 || !s.Families[0].FirstSeen.Equal(time.Date(2004, 5, 10, 10, 5, 0, 0, time.UTC)) {
			t.Errorf("order %v: first source %+v", order, s)
		}
	}
}

// TestSeries compares the sensor series with a direct count over the
// matched lines.
func TestSeries(t *testing.T) {
	t.Parallel()
	nimda := "GET /scripts/root.exe?/c+dir HTTP/1.0"
	type hit struct {
		src, when string
	}
	hits := []hit{
		{"1.1.1.1", "10/May/2004:10:00:00"}, {"1.1.1.1", "10/May/2004:10:59:59"}, {"2.2.2.2", "10/May/2004:10:30:00"},
		// 11:00 and 12:00 have no worm line; 13:00 has two sources, one new
		{"2.2.2.2", "10/May/2004:13:00:00"}, {"3.3.3.3", "10/May/2004:13:10:00"},
	}
	var lines []string
	for _, h := range hits {
		lines = append(lines, clf(h.src, h.when, nimda, 404))
	}
	lines = append(lines, clf("9.9.9.9", "10/May/2004:11:30:00", "GET / HTTP/1.1", 200)) // not a worm
	// Read in reverse order: the series must not depend on it.
	slices.Reverse(lines)
	r, err := Analyze(context.Background(), []string{"-"}, Options{SeriesInterval: time.Hour, Stdin: strings.NewReader(strings.Join(lines, "\n"))})
	if err != nil {
		t.Fatal(err)
	}
	at := func(h int) time.Time { return time.Date(2004, 5, 10, h, 0, 0, 0, time.UTC) }
	want := []SeriesRow{
		{at(10), 3, 2, 2, 2},
		{at(11), 0, 0, 0, 2},
		{at(12), 0, 0, 0, 2},
		{at(13), 2, 2, 1, 3},
	}
	if r.Series == nil || !slices.Equal(slices.Collect(r.Series.Rows()), want) || r.Series.Len() != len(want) {
		t.Errorf("series %+v, want %+v", slices.Collect(r.Series.Rows()), want)
	}
	// A stray time far away would make the series huge: an error.
	lines = []string{clf("1.1.1.1", "10/May/2004:10:00:00", nimda, 404), clf("1.1.1.1", "10/May/2190:10:00:00", nimda, 404)}
	_, err = Analyze(context.Background(), []string{"-"}, Options{SeriesInterval: time.Second, Stdin: strings.NewReader(strings.Join(lines, "\n"))})
	if err == nil || !strings.Contains(err.Error(), "choose a longer interval") {
		t.Errorf("a huge series: %v", err)
	}
}

// TestPassedOver checks files found in a folder whose format cannot be
// told from their first lines (issue 7, item 10): one whose first line is
// over --max-line is read after all, one that only later holds log lines
// matching signatures is an error naming its first matching line, and one
// without any (a README) is passed over and listed.
func TestPassedOver(t *testing.T) {
	t.Parallel()
	l10 := sample(t, "honeynet2004_access_log.10")
	long := []byte(strings.Repeat("x", 70_000) + "\n")

	dir := t.TempDir()
	write(t, filepath.Join(dir, "access.log"), append(slices.Clone(long), l10...))
	write(t, filepath.Join(dir, "README.md"), sample(t, "README.md"))
	r, err := Analyze(context.Background(), []string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if len(r.Inputs) != 1 || r.Matched != 274 || r.Skipped[TooLong] != 1 || len(r.Ignored) != 1 {
		t.Errorf("a log whose first line is over the cap: inputs %+v, %d matched, %d too long, ignored %+v; want 274 matched", r.Inputs, r.Matched, r.Skipped[TooLong], r.Ignored)
	}

	// 120 lines of notes, then the log: the format cannot be told from the
	// first lines, but the log's lines match.
	notes := []byte(strings.Repeat("notes from the incident, not a log line\n", 120))
	dir = t.TempDir()
	write(t, filepath.Join(dir, "a", "mixed.log.gz"), gzipped(t, append(slices.Clone(notes), l10...)))
	write(t, filepath.Join(dir, "b", "README.md"), sample(t, "README.md"))
	_, err = Analyze(context.Background(), []string{dir}, Options{})
	var ie *InputError
	if !errors.As(err, &ie) || !errors.Is(err, ErrPassedOverMatches) || !strings.HasSuffix(ie.Name, "mixed.log.gz") || ie.Line < 121 ||
		!strings.Contains(err.Error(), "yet 274 lines of it match worm signatures") || strings.Contains(err.Error(), "\n") {
		t.Errorf("a file passed over with matching lines: %v", err)
	}
	// Named on the command line, a file whose format cannot be told is an
	// error whatever it holds.
	_, err = Analyze(context.Background(), []string{filepath.Join(dir, "b", "README.md")}, Options{})
	if !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("README named: %v", err)
	}
}
