package detect

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestParseCLF(t *testing.T) {
	t.Parallel()
	type want struct {
		why                                           Reason
		source, method, target, path, query, protocol string
		status                                        int
		bytes                                         int64
		ua, ref                                       string
		time                                          string // RFC 3339, UTC
	}
	tests := []struct {
		name   string
		line   string
		needUA bool
		want   want
	}{
		{"combined, from the sample logs",
			`67.170.226.184 - - [10/May/2004:13:18:06 -0400] "GET /scripts/root.exe?/c+dir HTTP/1.0" 404 288 "-" "-"`, true,
			want{why: ok, source: "67.170.226.184", method: "GET", target: "/scripts/root.exe?/c+dir", path: "/scripts/root.exe",
				query: "/c+dir", protocol: "HTTP/1.0", status: 404, bytes: 288, time: "2004-05-10T17:18:06Z"}},
		{"combined with referer and user agent",
			`10.0.0.1 - frank [01/Aug/2004:07:02:57 +0200] "GET /a?b=c&d HTTP/1.1" 200 2890 "http://x/y" "Mozilla/4.0 (compatible; MSIE 5.5)"`, true,
			want{why: ok, source: "10.0.0.1", method: "GET", target: "/a?b=c&d", path: "/a", query: "b=c&d", protocol: "HTTP/1.1",
				status: 200, bytes: 2890, ref: "http://x/y", ua: "Mozilla/4.0 (compatible; MSIE 5.5)", time: "2004-08-01T05:02:57Z"}},
		{"common format",
			`host.example - - [31/Dec/2003:23:59:59 +0000] "HEAD / HTTP/1.0" 304 -`, false,
			want{why: ok, source: "host.example", method: "HEAD", target: "/", path: "/", protocol: "HTTP/1.0", status: 304, bytes: -1, time: "2003-12-31T23:59:59Z"}},
		{"common format where combined is required", `h - - [31/Dec/2003:23:59:59 +0000] "HEAD / HTTP/1.0" 304 -`, true, want{why: MissingField}},
		{"no request line (408)", `63.126.133.19 - - [01/Aug/2004:15:04:02 -0400] "-" 408 - "-" "-"`, true,
			want{why: ok, source: "63.126.133.19", status: 408, bytes: -1, time: "2004-08-01T19:04:02Z"}},
		{"request without protocol (HTTP/0.9 style)",
			`24.123.146.146 - - [13/May/2004:14:27:30 -0400] "GET /scripts/..%255c%255c../winnt/system32/cmd.exe?/c+dir" 404 - "-" "-"`, true,
			want{why: ok, source: "24.123.146.146", method: "GET", target: "/scripts/..%255c%255c../winnt/system32/cmd.exe?/c+dir",
				path: "/scripts/..%255c%255c../winnt/system32/cmd.exe", query: "/c+dir", status: 404, bytes: -1, time: "2004-05-13T18:27:30Z"}},
		{"junk request without spaces",
			`1.2.3.4 - - [13/May/2004:14:27:30 -0400] "\x16\x03\x01\x00\xca" 400 226 "-" "-"`, true,
			want{why: ok, source: "1.2.3.4", method: `\x16\x03\x01\x00\xca`, status: 400, bytes: 226, time: "2004-05-13T18:27:30Z"}},
		{"escaped quote inside the request (Apache 2)",
			`1.2.3.4 - - [13/May/2004:14:27:30 -0400] "GET /a\"b HTTP/1.1" 404 1 "-" "ua \"x\""`, true,
			want{why: ok, source: "1.2.3.4", method: "GET", target: `/a\"b`, path: `/a\"b`, protocol: "HTTP/1.1", status: 404, bytes: 1,
				ua: `ua \"x\"`, time: "2004-05-13T18:27:30Z"}},
		{"raw quote inside the request (Apache 1.3)",
			`1.2.3.4 - - [13/May/2004:14:27:30 -0400] "GET /a"b HTTP/1.1" 404 1 "-" "-"`, true,
			want{why: ok, source: "1.2.3.4", method: "GET", target: `/a"b`, path: `/a"b`, protocol: "HTTP/1.1", status: 404, bytes: 1, time: "2004-05-13T18:27:30Z"}},
		{"extra fields after the user agent", `1.2.3.4 - - [13/May/2004:14:27:30 -0400] "GET / HTTP/1.1" 200 5 "-" "curl" 1234 "vhost"`, true,
			want{why: ok, source: "1.2.3.4", method: "GET", target: "/", path: "/", protocol: "HTTP/1.1", status: 200, bytes: 5, ua: "curl", time: "2004-05-13T18:27:30Z"}},
		{"no source", ` - - [13/May/2004:14:27:30 -0400] "GET / HTTP/1.1" 200 5`, false, want{why: BadSource}},
		{"no time", `1.2.3.4 - - "GET / HTTP/1.1" 200 5`, false, want{why: BadTime}},
		{"bad month", `1.2.3.4 - - [13/Mai/2004:14:27:30 -0400] "GET / HTTP/1.1" 200 5`, false, want{why: BadTime}},
		{"31 April", `1.2.3.4 - - [31/Apr/2004:14:27:30 -0400] "GET / HTTP/1.1" 200 5`, false, want{why: BadTime}},
		{"29 February 2003", `1.2.3.4 - - [29/Feb/2003:14:27:30 -0400] "GET / HTTP/1.1" 200 5`, false, want{why: BadTime}},
		{"hour 24", `1.2.3.4 - - [13/May/2004:24:00:00 -0400] "GET / HTTP/1.1" 200 5`, false, want{why: BadTime}},
		{"year 1970", `1.2.3.4 - - [13/May/1970:14:27:30 -0400] "GET / HTTP/1.1" 200 5`, false, want{why: BadTime}},
		{"unclosed time", `1.2.3.4 - - [13/May/2004:14:27:30 -0400 "GET / HTTP/1.1" 200 5`, false, want{why: BadTime}},
		{"unclosed request", `1.2.3.4 - - [13/May/2004:14:27:30 -0400] "GET / HTTP/1.1 200 5`, false, want{why: BadRequest}},
		{"no request", `1.2.3.4 - - [13/May/2004:14:27:30 -0400] 200 5`, false, want{why: BadRequest}},
		{"status not a number", `1.2.3.4 - - [13/May/2004:14:27:30 -0400] "GET / HTTP/1.1" -x 5`, false, want{why: BadStatus}},
		{"status a word", `1.2.3.4 - - [13/May/2004:14:27:30 -0400] "GET / HTTP/1.1" OK 5`, false, want{why: BadRequest}},
		{"status too large", `1.2.3.4 - - [13/May/2004:14:27:30 -0400] "GET / HTTP/1.1" 2000 5`, false, want{why: BadStatus}},
		{"no bytes", `1.2.3.4 - - [13/May/2004:14:27:30 -0400] "GET / HTTP/1.1" 200`, false, want{why: BadBytes}},
		{"bytes not a number", `1.2.3.4 - - [13/May/2004:14:27:30 -0400] "GET / HTTP/1.1" 200 5k`, false, want{why: BadBytes}},
		{"user agent not closed", `1.2.3.4 - - [13/May/2004:14:27:30 -0400] "GET / HTTP/1.1" 200 5 "-" "Mozi`, true, want{why: MissingField}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var rec Record
			rec.reset()
			why := parseCLF([]byte(tc.line), &rec, tc.needUA, nil)
			if why != tc.want.why {
				t.Fatalf("reason %v, want %v", why, tc.want.why)
			}
			if why != ok {
				return
			}
			w := tc.want
			got := want{why: why, source: string(rec.Source), method: string(rec.Method), target: string(rec.Target), path: string(rec.Path),
				query: string(rec.Query), protocol: string(rec.Protocol), status: rec.Status, bytes: rec.Bytes, ua: string(rec.UserAgent),
				ref: string(rec.Referer), time: rec.Time.Format(time.RFC3339)}
			if got != w {
				t.Errorf("got  %+v\nwant %+v", got, w)
			}
		})
	}
}

// TestCLFTime checks the hand-written time parser, with and without its
// cache, against time.Parse on random times and zones.
func TestCLFTime(t *testing.T) {
	t.Parallel()
	const layout = "02/Jan/2006:15:04:05 -0700"
	rng := rand.New(rand.NewPCG(1, 2))
	var tc timeCache
	base := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	span := time.Date(2199, 12, 31, 0, 0, 0, 0, time.UTC).Unix() - base
	for i := range 20000 {
		sec := base + rng.Int64N(span)
		if i%2 == 1 { // runs of times on the same day, as in a real log, to exercise the cache
			sec = base + (rng.Int64N(span)/86400)*86400 + rng.Int64N(86400)
		}
		zone := time.FixedZone("", (rng.IntN(27*4)-12*4)*15*60)
		text := time.Unix(sec, 0).In(zone).Format(layout)
		want, err := time.Parse(layout, text)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []*timeCache{nil, &tc} {
			got, good := c.parse([]byte(text))
			if !good || got != want.Unix() {
				t.Fatalf("%s: got %d (%v), want %d", text, got, good, want.Unix())
			}
		}
	}
	// The cache must not accept a time that only shares the date.
	for _, bad := range []string{"10/May/2004:25:00:00 -0400", "10/May/2004:11:61:00 -0400", "10/May/2004:11:00:0x -0400", "10/May/2004:11-00:00 -0400"} {
		tc.parse([]byte("10/May/2004:11:39:11 -0400"))
		if _, good := tc.parse([]byte(bad)); good {
			t.Errorf("%s: accepted after a time of the same day", bad)
		}
	}
}
