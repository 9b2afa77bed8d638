package detect

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sampleDir, name))
	if err != nil {
		t.Fatalf("the sample logs are needed (testdata/shared/logs in the repository): %v", err)
	}
	return b
}

func TestFormats(t *testing.T) {
	t.Parallel()
	combined := clf("10.0.0.1", "10/May/2004:13:18:06", "GET /scripts/root.exe?/c+dir HTTP/1.0", 404)
	common := `10.0.0.1 - - [10/May/2004:13:18:06 +0000] "GET /scripts/root.exe?/c+dir HTTP/1.0" 404 283`
	// nginx's default format is combined; it escapes raw bytes as \xNN.
	nginx := `10.0.0.1 - - [10/May/2004:13:18:06 +0000] "GET /scripts/root.exe?/c+dir HTTP/1.0" 404 283 "-" "Mozilla/5.0 \xE2\x80\x94"`
	iis := "#Fields: date time c-ip cs-method cs-uri-stem cs-uri-query sc-status\n2004-05-10 13:18:06 10.0.0.1 GET /scripts/root.exe /c+dir 404"
	tests := []struct {
		name, log string
		format    Format // given
		want      Format // read as
	}{
		{"combined, sniffed", combined, Auto, Combined},
		{"common, sniffed", common, Auto, Common},
		{"nginx, sniffed", nginx, Auto, Combined},
		{"iis, sniffed", iis, Auto, W3C},
		{"combined, given", combined, Combined, Combined},
		{"common, given", common, Common, Common},
		{"combined read as common", combined, Common, Common},
		{"iis, given", iis, W3C, W3C},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rd, err := NewReader("test", strings.NewReader(tc.log+"\n"), ReaderOptions{Format: tc.format})
			if err != nil {
				t.Fatal(err)
			}
			if rd.Format() != tc.want {
				t.Errorf("format %v, want %v", rd.Format(), tc.want)
			}
			rec, err := rd.Next()
			if err != nil {
				t.Fatal(err)
			}
			if string(rec.Source) != "10.0.0.1" || string(rec.Target) != "/scripts/root.exe?/c+dir" || string(rec.Query) != "/c+dir" ||
				rec.Status != 404 || rec.Time.Unix() != 1084195086 {
				t.Errorf("record %+v", rec)
			}
			if _, err := rd.Next(); err != io.EOF {
				t.Errorf("after the line: %v, want io.EOF", err)
			}
		})
	}
}

func TestReaderLines(t *testing.T) {
	t.Parallel()
	good := clf("10.0.0.1", "10/May/2004:13:18:06", "GET / HTTP/1.1", 200)
	long := clf("10.0.0.2", "10/May/2004:13:18:07", "SEARCH /"+strings.Repeat(`\x90`, 3000)+" HTTP/1.1", 414)
	tests := []struct {
		name    string
		lines   []string // joined with "\n"
		maxLine int
		parsed  int64
		skipped map[Reason]int64
	}{
		{"plain", []string{good, good, ""}, 0, 2, nil},
		{"CRLF", []string{good, good, ""}, 0, 2, nil},
		{"no newline at the end, complete", []string{good, good}, 0, 2, nil},
		{"truncated last line", []string{good, good[:len(good)-10]}, 0, 1, map[Reason]int64{Truncated: 1}},
		{"blank lines", []string{good, "", "   ", "\t", good, ""}, 0, 2, map[Reason]int64{Empty: 3}},
		{"too long", []string{good, long, good, ""}, 1024, 2, map[Reason]int64{TooLong: 1}},
		{"too long, last and unterminated", []string{good, long}, 1024, 1, map[Reason]int64{TooLong: 1}},
		{"long but under the cap", []string{good, long, good, ""}, 0, 3, nil},
		{"binary junk", []string{good, "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", good + "\x00", "\x1b[31m" + good, good, ""}, 0, 2, map[Reason]int64{Binary: 3}},
		{"invalid UTF-8", []string{good, good[:30] + "\xff\xfe" + good[30:], good, ""}, 0, 2, map[Reason]int64{InvalidUTF8: 1}},
		{"valid UTF-8 and tabs", []string{strings.Replace(good, `"-" "-"`, "\"-\" \"Mozilla\tÄ\"", 1), ""}, 0, 1, nil},
		{"junk after good lines", []string{good, "hello world", "GET / HTTP/1.0", good, ""}, 0, 2, map[Reason]int64{BadTime: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sep := "\n"
			if tc.name == "CRLF" {
				sep = "\r\n"
			}
			data := strings.Join(tc.lines, sep)
			for _, gz := range []bool{false, true} {
				in := []byte(data)
				if gz {
					in = gzipped(t, in)
				}
				recs, c, err := readAll(t, in, ReaderOptions{MaxLine: tc.maxLine})
				if err != nil {
					t.Fatalf("gzip %v: %v", gz, err)
				}
				if int64(len(recs)) != tc.parsed || c.Parsed != tc.parsed {
					t.Errorf("gzip %v: %d records (%d counted), want %d", gz, len(recs), c.Parsed, tc.parsed)
				}
				for _, why := range Reasons() {
					if c.Skipped[why] != tc.skipped[why] {
						t.Errorf("gzip %v: %d skipped as %v, want %d", gz, c.Skipped[why], why, tc.skipped[why])
					}
				}
				wantLines := int64(strings.Count(data, "\n"))
				if !strings.HasSuffix(data, "\n") {
					wantLines++
				}
				if c.Lines != wantLines || c.Lines != c.Parsed+c.Directives+c.SkippedTotal() {
					t.Errorf("gzip %v: %d lines read (%+v), want %d", gz, c.Lines, c, wantLines)
				}
				// Only the long line comes from 10.0.0.2: a record from it
				// means it was read whole.
				long := 0
				for _, r := range recs {
					if string(r.Source) == "10.0.0.2" {
						long++
					}
				}
				if wantLong := strings.Count(tc.name, "under the cap"); long != wantLong {
					t.Errorf("gzip %v: %d records of the long line, want %d", gz, long, wantLong)
				}
			}
		})
	}
}

// TestReaderFirstSkipped checks the line numbers given for skipped lines.
func TestReaderFirstSkipped(t *testing.T) {
	t.Parallel()
	good := clf("10.0.0.1", "10/May/2004:13:18:06", "GET / HTTP/1.1", 200)
	data := strings.Join([]string{good, good, "x\x00", good, "some nonsense", "x\x00", ""}, "\n")
	rd, err := NewReader("t", strings.NewReader(data), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := rd.Next(); err != nil {
			break
		}
	}
	if rd.FirstSkipped(Binary) != 3 || rd.FirstSkipped(BadTime) != 5 || rd.FirstSkipped(TooLong) != 0 {
		t.Errorf("first skipped: binary %d, bad time %d, too long %d; want 3, 5, 0", rd.FirstSkipped(Binary), rd.FirstSkipped(BadTime), rd.FirstSkipped(TooLong))
	}
}

func TestGzip(t *testing.T) {
	t.Parallel()
	plain := sample(t, "honeynet2004_access_log.10")
	want, wc, err := readAll(t, plain, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gz := gzipped(t, plain)
	got, gc, err := readAll(t, gz, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || gc != wc || !slices.EqualFunc(got, want, func(a, b Record) bool {
		return a.Time.Equal(b.Time) && bytes.Equal(a.Target, b.Target) && bytes.Equal(a.Source, b.Source)
	}) {
		t.Errorf("gzip: %d records %+v, plain: %d records %+v", len(got), gc, len(want), wc)
	}
	// Two gzip members one after the other (as cat a.gz b.gz) are one stream.
	two := append(gzipped(t, plain[:len(plain)/2]), gzipped(t, plain[len(plain)/2:])...)
	got, gc, err = readAll(t, two, ReaderOptions{})
	if err != nil || len(got) != len(want) || gc != wc {
		t.Errorf("two members: %d records %+v, %v; want %d", len(got), gc, err, len(want))
	}

	tests := []struct {
		name string
		data []byte
		msg  string
	}{
		{"truncated", gz[:len(gz)/2], "gzip: the compressed stream is truncated"},
		{"corrupt", corrupt(gz), "gzip: "},
		{"header only", gz[:2], "gzip: "},
	}
	for _, tc := range tests {
		_, _, err := readAll(t, tc.data, ReaderOptions{})
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want an *InputError with %q", tc.name, err, tc.msg)
		}
	}
}

// corrupt flips bytes in the middle of the compressed data.
func corrupt(gz []byte) []byte {
	b := bytes.Clone(gz)
	for i := len(b) / 2; i < len(b)/2+64; i++ {
		b[i] ^= 0x55
	}
	return b
}

type failing struct{ after int }

func (f *failing) Read(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("input/output error")
	}
	line := []byte(clf("10.0.0.1", "10/May/2004:13:18:06", "GET / HTTP/1.1", 200) + "\n")
	f.after--
	return copy(p, line), nil
}

func TestReaderErrors(t *testing.T) {
	t.Parallel()
	readme := sample(t, "README.md")
	apache := clf("10.0.0.1", "10/May/2004:13:18:06", "GET / HTTP/1.1", 200) + "\n"
	common := `10.0.0.1 - - [10/May/2004:13:18:06 +0000] "GET / HTTP/1.1" 200 5` + "\n"
	tests := []struct {
		name    string
		in      io.Reader
		format  Format
		maxLine int
		line    int64
		msg     string
		unknown bool // wraps ErrUnknownFormat
	}{
		{"not a log", bytes.NewReader(readme), Auto, 0, 1, "cannot tell the log format", true},
		{"binary", bytes.NewReader([]byte("\x00\x01\x02\x03\n\x00\x05\n")), Auto, 0, 1, "cannot tell the log format", true},
		{"every line too long", strings.NewReader(strings.Repeat(strings.Repeat("a", 5000)+"\n", 3)), Auto, 1024, 1, "no line of it can be read as a log line (the first: the line is longer than the line length cap); raise --max-line", true},
		{"long lines then binary", strings.NewReader(strings.Repeat("a", 5000) + "\n\x00\x01\n"), Auto, 1024, 1, "no line of it can be read", true},
		{"apache given as iis", strings.NewReader(apache), W3C, 0, 1, "not an IIS W3C log", false},
		{"common given as combined", strings.NewReader(common), Combined, 0, 1, "not a combined log: no quoted referer", false},
		{"line cap too small", strings.NewReader(apache), Auto, 100, 0, "line length cap 100: want 256 to 67108864 bytes", false},
		{"line cap too large", strings.NewReader(apache), Auto, MaxMaxLine + 1, 0, "want 256 to 67108864 bytes", false},
		{"line cap 1e11", strings.NewReader(apache), Auto, 1e11, 0, "want 256 to 67108864 bytes", false},
		{"line cap 2^63-1", strings.NewReader(apache), Auto, math.MaxInt, 0, "want 256 to 67108864 bytes", false},
		{"read error", &failing{after: 0}, Auto, 0, 1, "input/output error", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewReader("f.log", tc.in, ReaderOptions{Format: tc.format, MaxLine: tc.maxLine})
			var ie *InputError
			if !errors.As(err, &ie) || ie.Line != tc.line || ie.Name != "f.log" || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v, want an *InputError for f.log line %d with %q", err, tc.line, tc.msg)
			}
			if errors.Is(err, ErrUnknownFormat) != tc.unknown {
				t.Errorf("errors.Is(ErrUnknownFormat) = %v", !tc.unknown)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("the error is not one line: %q", err)
			}
		})
	}
	// A read error after the first lines: named with the line it stopped at.
	rd, err := NewReader("f.log", &failing{after: 3}, ReaderOptions{})
	if err == nil {
		for err == nil {
			_, err = rd.Next()
		}
	}
	var ie *InputError
	if !errors.As(err, &ie) || ie.Line != 4 || !strings.Contains(err.Error(), "input/output error") {
		t.Errorf("read error mid-file: %v, want one at line 4", err)
	}
	// An empty input is no error for the reader.
	rd, err = NewReader("e", strings.NewReader(""), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rd.Next(); err != io.EOF || rd.Counts().Lines != 0 {
		t.Errorf("empty input: %v, %+v", err, rd.Counts())
	}
}

func TestParseFormat(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Format{"auto": Auto, "combined": Combined, "common": Common, "nginx": Combined, "iis": W3C, "W3C": W3C} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseFormat("syslog"); err == nil || !strings.Contains(err.Error(), FormatNames) {
		t.Errorf("ParseFormat(syslog): %v, want an error listing %s", err, FormatNames)
	}
}

// TestScanBytes compares the eight-at-a-time scan with a plain loop.
func TestScanBytes(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte("abc \t\x00\x1f\x7f\x80\xc3\xa9\xff~")
	for range 20000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			if rng.IntN(4) == 0 {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			} else {
				b[i] = byte('a' + rng.IntN(26))
			}
		}
		var ctrl, high bool
		for _, c := range b {
			ctrl = ctrl || c < 0x20 && c != '\t'
			high = high || c >= 0x80
		}
		gc, gh := scanBytes(b)
		if gc != ctrl || (!ctrl && gh != high) {
			t.Fatalf("scanBytes(%q) = %v, %v; want %v, %v", b, gc, gh, ctrl, high)
		}
	}
}

// TestLowerASCII compares the eight-at-a-time lowering with a plain loop.
func TestLowerASCII(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		want := make([]byte, len(b))
		for i, c := range b {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			want[i] = c
		}
		if got := lowerASCII([]byte("pre"), b); !bytes.Equal(got[3:], want) || string(got[:3]) != "pre" {
			t.Fatalf("lowerASCII(%q) = %q, want %q", b, got[3:], want)
		}
	}
}

// TestSniffSkipsLongLines checks that the format is chosen from the lines
// after those that cannot be log lines whatever the format (longer than the
// cap, binary, blank): a log whose first line is over --max-line is read,
// not passed over (issue 7, item 10).
func TestSniffSkipsLongLines(t *testing.T) {
	t.Parallel()
	log := sample(t, "honeynet2004_access_log.10")
	want, wc, err := readAll(t, log, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 5000) + "\n"
	for _, tc := range []struct {
		name    string
		head    string
		maxLine int
		skipped map[Reason]int64
	}{
		{"one long line", long, 1024, map[Reason]int64{TooLong: 1}},
		{"long lines, blank and binary", long + "\n" + long + "\x00\x01\n" + long, 1024, map[Reason]int64{TooLong: 3, Empty: 1, Binary: 1}},
		{"a line longer than the sniff window, under the cap", strings.Repeat("y", sniffBytes+10) + "\n", 1 << 20, map[Reason]int64{BadSource: 1}},
		{"a line over a cap larger than the sniff window", strings.Repeat("y", sniffBytes+10) + "\n", sniffBytes, map[Reason]int64{TooLong: 1}},
	} {
		data := append([]byte(tc.head), log...)
		rd, err := NewReader("f.log", bytes.NewReader(data), ReaderOptions{MaxLine: tc.maxLine})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if rd.Format() != Combined {
			t.Errorf("%s: format %v", tc.name, rd.Format())
		}
		n := 0
		for {
			if _, err := rd.Next(); err != nil {
				if err != io.EOF {
					t.Errorf("%s: %v", tc.name, err)
				}
				break
			}
			n++
		}
		c := rd.Counts()
		var extra int64
		for why, k := range tc.skipped {
			extra += k
			if c.Skipped[why] != k {
				t.Errorf("%s: skipped %s %d, want %d", tc.name, why, c.Skipped[why], k)
			}
		}
		if n != len(want) || c.Lines != wc.Lines+extra || c.Parsed != wc.Parsed || c.Lines != rd.Line() {
			t.Errorf("%s: %d records, counts %+v; want %d records and %d more lines than %+v", tc.name, n, c, len(want), extra, wc)
		}
	}
	// With the format given, the check also looks past the long line.
	if _, err := NewReader("f.log", bytes.NewReader(append([]byte(long), log...)), ReaderOptions{Format: W3C, MaxLine: 1024}); err == nil ||
		!strings.Contains(err.Error(), "line 2: not an IIS W3C log") {
		t.Errorf("combined given as iis after a long line: %v", err)
	}
}

// TestGzipPadding checks gzip with zero bytes after the last member (which
// gzip(1) accepts) and with other bytes there (an error naming the offset).
func TestGzipPadding(t *testing.T) {
	t.Parallel()
	plain := sample(t, "honeynet2004_access_log.10")
	want, wc, err := readAll(t, plain, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gz := gzipped(t, plain)
	two := append(gzipped(t, plain[:1000]), gzipped(t, plain[1000:])...)
	zeros := func(n int) []byte { return make([]byte, n) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"one zero", cat(gz, zeros(1))},
		{"512 zeros", cat(gz, zeros(512))},
		{"a megabyte of zeros", cat(gz, zeros(1<<20+3))},
		{"two members and zeros", cat(two, zeros(10))},
	} {
		got, gc, err := readAll(t, tc.data, ReaderOptions{})
		if err != nil || len(got) != len(want) || gc != wc {
			t.Errorf("%s: %d records, %+v, %v; want %d records, %+v", tc.name, len(got), gc, err, len(want), wc)
		}
	}
	for _, tc := range []struct {
		name   string
		data   []byte
		offset int
	}{
		{"text after the member", cat(gz, []byte("hello\n")), len(gz)},
		{"zeros then text", cat(gz, zeros(100), []byte("x")), len(gz) + 100},
		{"half a magic number", cat(gz, []byte{0x1f}), len(gz)},
		{"garbage after two members", cat(two, zeros(3), []byte{0xff, 0}), len(two) + 3},
	} {
		_, _, err := readAll(t, tc.data, ReaderOptions{})
		var ie *InputError
		var tg *TrailingGarbageError
		if !errors.As(err, &ie) || ie.Name != "test" || !errors.As(err, &tg) || tg.Offset != int64(tc.offset) ||
			!strings.Contains(err.Error(), fmt.Sprintf("gzip: trailing garbage at byte offset %d", tc.offset)) || strings.Count(err.Error(), "gzip:") != 1 {
			t.Errorf("%s: %v; want an *InputError for test naming offset %d", tc.name, err, tc.offset)
		}
	}
	// A second member with a bad header: an error said once as gzip.
	_, _, err = readAll(t, cat(gz, []byte{0x1f, 0x8b, 0, 0}), ReaderOptions{})
	if err == nil || strings.Count(err.Error(), "gzip:") != 1 {
		t.Errorf("bad second member: %v", err)
	}
}
