package detect

import (
	"strings"
	"testing"
	"time"
)

// iisLog is an IIS log whose #Fields header changes mid-file: first without
// a date field (the date comes from #Date) or a query, then with both.
var iisLog = strings.Join([]string{
	"#Software: Microsoft Internet Information Services 5.0",
	"#Version: 1.0",
	"#Date: 2001-08-04 00:00:00",
	"#Fields: time c-ip cs-method cs-uri-stem sc-status",
	"00:01:02 10.1.2.3 GET /default.ida 404",
	"#Software: Microsoft Internet Information Services 5.0",
	"#Version: 1.0",
	"#Date: 2001-08-05 00:00:00",
	"#Fields: date time c-ip cs-username s-ip s-port cs-method cs-uri-stem cs-uri-query sc-status sc-bytes cs-version cs(User-Agent) cs(Referer)",
	"2001-08-05 10:11:12 10.9.8.7 - 10.0.0.1 80 GET /default.ida " + strings.Repeat("X", 224) + crTail + " 404 1234 HTTP/1.0 - -",
	"2001-08-05 10:11:13.250 10.9.8.6 - 10.0.0.1 80 GET /index.htm - 200 5 HTTP/1.1 Mozilla/4.0+(compatible) http://a/",
	"2001-08-05 10:11:14 10.9.8.6 - 10.0.0.1 80 GET /index.htm - 200 5 HTTP/1.1 Mozilla/4.0+(compatible)", // one field short
	"2001-08-05 25:11:14 10.9.8.6 - 10.0.0.1 80 GET /index.htm - 200 5 HTTP/1.1 - -",                      // bad hour
	"2001-08-05 10:11:15 10.9.8.6 - 10.0.0.1 80 GET /x - abc 5 HTTP/1.1 - -",                              // bad status
	"2001-08-05 10:11:15 - - 10.0.0.1 80 GET /x - 200 5 HTTP/1.1 - -",                                     // no client address
	"",
}, "\r\n")

func TestW3C(t *testing.T) {
	t.Parallel()
	for _, format := range []Format{Auto, W3C} {
		recs, c, err := readAll(t, []byte(iisLog), ReaderOptions{Format: format})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 3 {
			t.Fatalf("format %v: %d records, want 3", format, len(recs))
		}
		type row struct {
			time, src, method, target, path, query, proto, ua, ref string
			status                                                 int
			bytes                                                  int64
		}
		want := []row{
			{"2001-08-04T00:01:02Z", "10.1.2.3", "GET", "/default.ida", "/default.ida", "", "", "", "", 404, -1},
			{"2001-08-05T10:11:12Z", "10.9.8.7", "GET", codeRed("X"), "/default.ida", strings.Repeat("X", 224) + crTail, "HTTP/1.0", "", "", 404, 1234},
			{"2001-08-05T10:11:13.25Z", "10.9.8.6", "GET", "/index.htm", "/index.htm", "", "HTTP/1.1", "Mozilla/4.0+(compatible)", "http://a/", 200, 5},
		}
		for i, r := range recs {
			got := row{r.Time.Format(time.RFC3339Nano), string(r.Source), string(r.Method), string(r.Target), string(r.Path), string(r.Query),
				string(r.Protocol), string(r.UserAgent), string(r.Referer), r.Status, r.Bytes}
			if got != want[i] {
				t.Errorf("format %v, record %d:\n got  %+v\n want %+v", format, i, got, want[i])
			}
		}
		wantSkip := map[Reason]int64{FieldCount: 1, BadTime: 1, BadStatus: 1, BadSource: 1}
		for _, why := range Reasons() {
			if c.Skipped[why] != wantSkip[why] {
				t.Errorf("format %v: %d lines skipped as %v, want %d", format, c.Skipped[why], why, wantSkip[why])
			}
		}
		if c.Directives != 8 || c.Lines != 15 || c.Lines != c.Parsed+c.Directives+c.SkippedTotal() {
			t.Errorf("format %v: counts %+v", format, c)
		}
	}
}

func TestW3CErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, log string
		format    Format
		line      int64
		msg       string
	}{
		{"fields without c-ip", "#Version: 1.0\n#Fields: date time cs-uri-stem\n2001-08-05 10:11:12 /x\n", Auto, 2, "lacks c-ip"},
		{"fields without time or stem", "#Fields: date c-ip\n", W3C, 1, "lacks time, cs-uri-stem"},
		{"an Apache log read as IIS", `1.2.3.4 - - [13/May/2004:14:27:30 -0400] "GET / HTTP/1.1" 200 5 "-" "-"` + "\n", W3C, 1, "not an IIS W3C log"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := readAll(t, []byte(tc.log), ReaderOptions{Format: tc.format})
			ie, isInput := err.(*InputError)
			if !isInput || ie.Line != tc.line || !strings.Contains(err.Error(), tc.msg) || !strings.HasPrefix(err.Error(), "test: line ") {
				t.Errorf("error %v, want an *InputError at line %d saying %q", err, tc.line, tc.msg)
			}
		})
	}
}

func TestW3CNoHeader(t *testing.T) {
	t.Parallel()
	// A data line before the first #Fields is skipped, not fatal; the
	// lines after the header are read.
	log := "#Software: IIS\n2001-08-05 10:11:12 10.9.8.7 GET /x 404\n#Fields: date time c-ip cs-method cs-uri-stem sc-status\n2001-08-05 10:11:12 10.9.8.7 GET /x 404\n"
	recs, c, err := readAll(t, []byte(log), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || c.Skipped[NoFieldsHeader] != 1 || c.Directives != 2 {
		t.Errorf("%d records, counts %+v", len(recs), c)
	}
}
