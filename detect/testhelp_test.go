package detect

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"
)

// sampleDir holds the real honeypot logs (a copy of shared/data/logs in the
// repository).
const sampleDir = "../testdata/shared/logs"

// The tail of every Code Red request after its 224 padding characters, as
// the sample logs hold it.
const crTail = "%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u9090%u8190%u00c3%u0003%u8b00%u531b%u53ff%u0078%u0000%u00=a"

// codeRed returns a Code Red request target with the given padding
// character: N for Code Red I (v1 and v2), X for Code Red II.
func codeRed(pad string) string { return "/default.ida?" + strings.Repeat(pad, 224) + crTail }

// clf returns an Apache combined line from 10.0.0.1 with the given time
// (dd/Mon/yyyy:hh:mm:ss), request line and status.
func clf(src, when, request string, status int) string {
	return src + ` - - [` + when + ` +0000] "` + request + `" ` + itoa(status) + ` 283 "-" "-"`
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func gzipped(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readAll reads every record of an input and returns copies of them with
// the reader's counts.
func readAll(t testing.TB, data []byte, opt ReaderOptions) ([]Record, Counts, error) {
	t.Helper()
	rd, err := NewReader("test", bytes.NewReader(data), opt)
	if err != nil {
		return nil, Counts{}, err
	}
	defer rd.Close()
	var out []Record
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out, rd.Counts(), nil
		}
		if err != nil {
			return out, rd.Counts(), err
		}
		c := *rec
		for _, p := range []*[]byte{&c.Source, &c.Method, &c.Target, &c.Path, &c.Query, &c.Protocol, &c.UserAgent, &c.Referer} {
			*p = bytes.Clone(*p)
		}
		out = append(out, c)
	}
}

// sources returns the report's sources.
func sources(t testing.TB, r *Report) []SourceResult {
	t.Helper()
	var out []SourceResult
	for s, err := range r.Sources.All() {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if int64(len(out)) != r.Sources.Len() {
		t.Fatalf("%d sources read, Len %d", len(out), r.Sources.Len())
	}
	return out
}
