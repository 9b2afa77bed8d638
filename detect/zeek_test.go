package detect

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The Zeek samples in testdata/zeek are hand-written in the layout Zeek
// writes (the header lines of its http.log and conn.log, TSV and JSON):
// http.log holds Code Red II, Nimda and ordinary requests, an entry
// without a request line, escaped fields (a tab, a URI that is "-"), an
// IPv6 client, and two bad lines; conn.log holds connections in each
// state, over TCP, UDP and ICMP. http.json and conn.json hold the same
// entries as JSON lines (conn.json with ISO 8601 times).

func zeekSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "zeek", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestZeekHTTP(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"http.log", "http.json"} {
		recs, c, err := readAll(t, zeekSample(t, name), ReaderOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		wantDirectives := int64(9)
		if strings.HasSuffix(name, ".json") {
			wantDirectives = 0
		}
		if len(recs) != 8 || c.Parsed != 8 || c.Directives != wantDirectives || c.SkippedTotal() != 2 || c.Lines != c.Parsed+c.Directives+c.SkippedTotal() {
			t.Fatalf("%s: %d records, counts %+v", name, len(recs), c)
		}
		wantSkip := FieldCount
		if strings.HasSuffix(name, ".json") {
			wantSkip = BadJSON
		}
		if c.Skipped[wantSkip] != 1 || c.Skipped[BadPort] != 1 {
			t.Errorf("%s: skipped %v, want one %s and one bad_port", name, c.Skipped, wantSkip)
		}
		cr := recs[0]
		if !cr.Time.Equal(time.Unix(996912012, 483215000)) || string(cr.Source) != "10.1.2.3" || cr.DstPort != 80 || cr.Transport != TCP ||
			string(cr.Method) != "GET" || string(cr.Target) != codeRed("X") || string(cr.Path) != "/default.ida" ||
			string(cr.Protocol) != "HTTP/1.0" || cr.Status != 404 || cr.Bytes != 284 || cr.UserAgent != nil || cr.Attempt || cr.Pos == 0 {
			t.Errorf("%s: Code Red II record %+v", name, cr)
		}
		if r := recs[3]; string(r.UserAgent) != "Mozilla/5.0 (X11; Linux x86_64)" || string(r.Referer) != "http://www.example.org/" || r.Status != 200 {
			t.Errorf("%s: browser record %+v", name, r)
		}
		if r := recs[4]; r.Method != nil || r.Target != nil || r.Protocol != nil || r.Status != 400 {
			t.Errorf("%s: entry without a request line %+v", name, r)
		}
		if r := recs[5]; string(r.Source) != "2001:db8::7" || r.DstPort != 8080 || string(r.Target) != "/a\tb?c=d" || string(r.Query) != "c=d" {
			t.Errorf("%s: escaped tab, IPv6: %+v", name, r)
		}
		if r := recs[6]; string(r.Target) != "-" {
			t.Errorf(`%s: a URI that is "-" (escaped \x2d): %q`, name, r.Target)
		}
	}
}

// TestZeekSame checks that the TSV and JSON forms of a log give the same
// records.
func TestZeekSame(t *testing.T) {
	t.Parallel()
	for _, pair := range [][2]string{{"http.log", "http.json"}, {"conn.log", "conn.json"}} {
		a, _, err := readAll(t, zeekSample(t, pair[0]), ReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := readAll(t, zeekSample(t, pair[1]), ReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != len(b) {
			t.Fatalf("%s: %d records, %s: %d", pair[0], len(a), pair[1], len(b))
		}
		for i := range a {
			x, y := a[i], b[i]
			x.Pos, y.Pos = 0, 0
			if !x.Time.Equal(y.Time) || !bytes.Equal(x.Source, y.Source) || !bytes.Equal(x.Target, y.Target) || !bytes.Equal(x.Method, y.Method) ||
				!bytes.Equal(x.Protocol, y.Protocol) || !bytes.Equal(x.UserAgent, y.UserAgent) || x.Status != y.Status || x.Bytes != y.Bytes ||
				x.Attempt != y.Attempt || x.Transport != y.Transport || x.DstPort != y.DstPort {
				t.Errorf("record %d: %s %+v\n%s %+v", i, pair[0], x, pair[1], y)
			}
		}
	}
}

func TestZeekConn(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"conn.log", "conn.json"} {
		recs, c, err := readAll(t, zeekSample(t, name), ReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Attempts: S0 twice, REJ, RSTOS0, SH, UDP S0, the history S
		// without a state, S0 over IPv6. Passed over: SF, RSTO, UDP SF,
		// ICMP, an established history without a state.
		var got []string
		for _, r := range recs {
			if !r.Attempt || r.Method != nil {
				t.Errorf("%s: %+v is not an attempt", name, r)
			}
			got = append(got, string(r.Source)+">"+r.Transport.String()+"/"+itoa(int(r.DstPort)))
		}
		want := []string{"10.1.1.1>tcp/80", "10.1.1.1>tcp/80", "10.1.1.2>tcp/80", "10.1.1.4>tcp/445", "10.1.1.5>tcp/135",
			"10.2.2.2>udp/1434", "10.1.1.6>tcp/80", "2001:db8::66>tcp/80"}
		if !slices.Equal(got, want) {
			t.Errorf("%s: attempts %v, want %v", name, got, want)
		}
		if c.Parsed != 13 || c.SkippedTotal() != 0 {
			t.Errorf("%s: counts %+v", name, c)
		}
	}
	// In the report: per port, most attempts first.
	r, err := Analyze(context.Background(), []string{filepath.Join("testdata", "zeek", "conn.log")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	at := r.Attempts
	if at.Count != 8 || at.Sources != 7 || r.Inputs[0].Format != "zeek-conn" || r.Matched != 0 {
		t.Fatalf("attempts %+v, input %+v", at, r.Inputs[0])
	}
	p := at.Ports[0]
	if p.Transport != TCP || p.Port != 80 || p.Attempts != 5 || p.Sources != 4 ||
		!p.FirstSeen.Equal(time.Unix(1043472600, 113012000)) || !p.LastSeen.Equal(time.Unix(1043472612, 0)) {
		t.Errorf("port 80: %+v", p)
	}
	var ports []string
	for _, p := range at.Ports {
		ports = append(ports, p.Transport.String()+"/"+itoa(int(p.Port)))
	}
	if !slices.Equal(ports, []string{"tcp/80", "tcp/135", "tcp/445", "udp/1434"}) {
		t.Errorf("ports %v", ports)
	}
}

func TestZeekErrors(t *testing.T) {
	t.Parallel()
	head := "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t%s\n"
	tests := []struct {
		name, in, msg string
		line          int64
	}{
		{"no source field", strings.Replace(head, "%s", "http", 1) + "#fields\tts\tuid\tid.resp_p\turi\n1.0\tC\t80\t/\n",
			"the Zeek #fields header lacks id.orig_h", 6},
		{"conn without state", strings.Replace(head, "%s", "conn", 1) + "#fields\tts\tid.orig_h\tid.resp_p\tproto\n",
			"lacks conn_state (or history)", 6},
		{"dns.log", strings.Replace(head, "%s", "dns", 1) + "#fields\tts\tid.orig_h\tquery\n1.0\t1.2.3.4\texample.org\n",
			"not http.log or conn.log", 1},
	}
	for _, tc := range tests {
		_, _, err := readAll(t, []byte(tc.in), ReaderOptions{})
		var ie *InputError
		if !errors.As(err, &ie) || ie.Line != tc.line || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v; want line %d and %q", tc.name, err, tc.line, tc.msg)
		}
	}
	// A dns.log in a folder is passed over, as a README is.
	dir := t.TempDir()
	write(t, filepath.Join(dir, "dns.log"), []byte(tests[2].in))
	write(t, filepath.Join(dir, "http.log"), zeekSample(t, "http.log"))
	r, err := Analyze(context.Background(), []string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if len(r.Ignored) != 1 || !strings.HasSuffix(r.Ignored[0].Name, "dns.log") || r.Family("codered2").Lines != 1 || r.Family("nimda").Lines != 2 {
		t.Errorf("ignored %+v, codered2 %d, nimda %d", r.Ignored, r.Family("codered2").Lines, r.Family("nimda").Lines)
	}
	// --log-format zeek on an Apache log.
	_, _, err = readAll(t, []byte(clf("1.2.3.4", "10/May/2004:13:18:06", "GET / HTTP/1.0", 200)+"\n"), ReaderOptions{Format: ZeekTSV})
	if err == nil || !strings.Contains(err.Error(), "not a Zeek TSV log") {
		t.Errorf("zeek on an Apache log: %v", err)
	}
}

func TestZeekTime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1354328870.191989", 1354328870191989000, true},
		{"1354328870", 1354328870000000000, true},
		{"2020-06-05T14:39:59.430166Z", time.Date(2020, 6, 5, 14, 39, 59, 430166000, time.UTC).UnixNano(), true},
		{"2020-06-05T16:39:59.5+02:00", time.Date(2020, 6, 5, 14, 39, 59, 500000000, time.UTC).UnixNano(), true},
		{"2020-06-05T14:39:59", 0, false},
		{"1.5e9", 0, false},
		{"-", 0, false},
		{"", 0, false},
		{"99999999999", 0, false}, // year 5138
		{"1354328870.1234567890", 0, false},
	} {
		got, ok := zeekTime([]byte(tc.in))
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("zeekTime(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestIsAttempt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		t              Transport
		state, history string
		want           bool
	}{
		{TCP, "S0", "S", true}, {TCP, "REJ", "Sr", true}, {TCP, "RSTOS0", "SR", true}, {TCP, "SH", "SF", true},
		{TCP, "SF", "ShADadFf", false}, {TCP, "S1", "ShAD", false}, {TCP, "RSTO", "ShAR", false}, {TCP, "RSTR", "ShAr", false},
		{TCP, "S2", "", false}, {TCP, "S3", "", false}, {TCP, "RSTRH", "H", false}, {TCP, "SHR", "Hf", false}, {TCP, "OTH", "D", false},
		{TCP, "", "S", true}, {TCP, "", "ShA", false}, {TCP, "", "D", false}, {TCP, "", "", false},
		{UDP, "S0", "D", true}, {UDP, "SF", "Dd", false}, {UDP, "REJ", "", false},
	} {
		var state, history []byte
		if tc.state != "" {
			state = []byte(tc.state)
		}
		if tc.history != "" {
			history = []byte(tc.history)
		}
		if got := isAttempt(tc.t, state, history); got != tc.want {
			t.Errorf("isAttempt(%s, %q, %q) = %v", tc.t, tc.state, tc.history, got)
		}
	}
}

func TestJSONUnquote(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`plain`:        "plain",
		`a\"b\\c\/d`:   `a"b\c/d`,
		`\t\n\r\b\f`:   "\t\n\r\b\f",
		`\u00e9\u20ac`: "é€",
		`\ud83d\ude00`: "😀",
		`\u12`:         `\u12`,
		`\q`:           `\q`,
		`trailing\`:    `trailing\`,
	} {
		if got := string(jsonUnquote(nil, []byte(in))); got != want {
			t.Errorf("jsonUnquote(%s) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{`/a\x09b`: "/a\tb", `\x2d`: "-", `\x`: `\x`, `\xZZ`: `\xZZ`, `no`: "no", `\x41\x42`: "AB"} {
		if got := string(unescapeHex(nil, []byte(in))); got != want {
			t.Errorf("unescapeHex(%s) = %q, want %q", in, got, want)
		}
	}
}

// TestAttemptSeries checks the sensor series of connection attempts: of
// every attempt, of one port, and auto (attempts when no request matched).
func TestAttemptSeries(t *testing.T) {
	t.Parallel()
	conn := filepath.Join("testdata", "zeek", "conn.log")
	rows := func(of SeriesOf) []SeriesRow {
		r, err := Analyze(context.Background(), []string{conn}, Options{SeriesInterval: 5 * time.Second, SeriesOf: of})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if r.Series.Attempts != (of.Kind != SeriesRequests) {
			t.Errorf("%v: Attempts %v", of, r.Series.Attempts)
		}
		return slices.Collect(r.Series.Rows())
	}
	at := func(s int64) time.Time { return time.Unix(1043472600+s, 0).UTC() }
	// Attempts at 00.1 (10.1.1.1), 01 (10.1.1.1), 02.5 (10.1.1.2), 05
	// (10.1.1.4, port 445), 06 (10.1.1.5, 135), 07 (10.2.2.2, udp 1434),
	// 10 (10.1.1.6) and 12 (2001:db8::66).
	all := []SeriesRow{{at(0), 3, 2, 2, 2}, {at(5), 3, 3, 3, 5}, {at(10), 2, 2, 2, 7}}
	if got := rows(SeriesOf{Kind: SeriesAttempts}); !slices.Equal(got, all) {
		t.Errorf("every attempt: %+v, want %+v", got, all)
	}
	if got := rows(SeriesOf{Kind: SeriesAuto}); !slices.Equal(got, all) {
		t.Errorf("auto: %+v, want %+v", got, all)
	}
	web := []SeriesRow{{at(0), 3, 2, 2, 2}, {at(5), 0, 0, 0, 2}, {at(10), 2, 2, 2, 4}}
	if got := rows(SeriesOf{Kind: SeriesAttempts, Transport: TCP, Port: 80}); !slices.Equal(got, web) {
		t.Errorf("tcp:80: %+v, want %+v", got, web)
	}
	if got := rows(SeriesOf{Kind: SeriesAttempts, Transport: UDP, Port: 1434}); !slices.Equal(got, []SeriesRow{{at(5), 1, 1, 1, 1}}) {
		t.Errorf("udp:1434: %+v", got)
	}
	if got := rows(SeriesOf{}); len(got) != 0 {
		t.Errorf("requests of a conn.log: %+v", got)
	}
	for in, want := range map[string]SeriesOf{"auto": {Kind: SeriesAuto}, "requests": {}, "attempts": {Kind: SeriesAttempts},
		"syn:80": {SeriesAttempts, TCP, 80}, "TCP:8080": {SeriesAttempts, TCP, 8080}, "udp:1434": {SeriesAttempts, UDP, 1434}} {
		got, err := ParseSeriesOf(in)
		if err != nil || got != want {
			t.Errorf("ParseSeriesOf(%q) = %+v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"syn", "tcp:", "tcp:65536", "icmp:8", "lines"} {
		if _, err := ParseSeriesOf(bad); err == nil || !strings.Contains(err.Error(), SeriesOfNames) {
			t.Errorf("ParseSeriesOf(%q): %v", bad, err)
		}
	}
}
