package detect

import (
	"bytes"
	"time"
)

// Record is one log line or one packet's worth, normalised whatever the
// input: an HTTP request (a web-server log line, a Zeek http.log entry, a
// request reassembled from packets) or, with Attempt set, a connection
// attempt (a TCP SYN in a capture, a Zeek conn.log connection that was not
// established). The byte slices point into the reader's buffer: they are
// valid until the next call to the reader, and hold the text as the server
// logged it (Apache's \xNN escapes and IIS's + for spaces are kept; "-" for
// a missing value becomes empty).
//
// Signature families match requests only; attempts are counted per
// transport and destination port (Report.Attempts). An attempt has Time,
// Source, Transport and DstPort; its request fields are empty.
type Record struct {
	Time      time.Time // when the request was logged, UTC
	Source    []byte    // client address (or host name) as logged
	Method    []byte    // request method; empty when the server logged no request line
	Target    []byte    // request target as sent: Path, then "?" and Query when there is a query
	Path      []byte    // Target up to the first "?" (IIS: cs-uri-stem)
	Query     []byte    // Target after the first "?" (IIS: cs-uri-query)
	Protocol  []byte    // "HTTP/1.0", "HTTP/1.1"; empty when not logged (HTTP/0.9-style request lines)
	Status    int       // response status; 0 when not logged
	Bytes     int64     // response bytes; -1 when not logged
	UserAgent []byte    // User-Agent header; empty when absent or not logged
	Referer   []byte    // Referer header; empty when absent or not logged

	Attempt   bool      // a connection attempt, not an HTTP request
	Transport Transport // TCP or UDP for attempts and for requests from packets or Zeek; NoTransport when not known (web-server logs)
	DstPort   uint16    // destination port; 0 when not known (web-server logs)
	Pos       int64     // where in its input the record came from: the line number (logs) or packet number (captures), from 1

	hasUA bool // a combined-format line: quoted referer and user agent were read
}

// reset clears r for the next line.
func (r *Record) reset() {
	*r = Record{Bytes: -1}
}

// Reset clears r: no field set, Bytes -1 (not logged). Readers of other
// packages (captures) start each record with it.
func (r *Record) Reset() { r.reset() }

// SetRequest sets the request fields (Method, Target, Path, Query,
// Protocol) from a request line as the client sent it or a web server
// logged it, "GET /default.ida?NNNN... HTTP/1.0", the same way for every
// input, so that signatures match requests from captures as they match log
// lines: a line without spaces is all method, one without a protocol has
// the rest as its target, and "-" (a server's "no request") sets nothing.
// The fields point into line.
func (r *Record) SetRequest(line []byte) {
	r.Method, r.Target, r.Path, r.Query, r.Protocol = nil, nil, nil, nil, nil
	splitRequest(line, r)
}

// Transport is the transport protocol of an attempt or request.
type Transport uint8

// The transports.
const (
	NoTransport Transport = iota // not known: a web-server log
	TCP
	UDP
)

// String returns "tcp", "udp", or "" when not known.
func (t Transport) String() string {
	switch t {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return ""
}

// splitTarget sets Path and Query from Target.
func (r *Record) splitTarget() {
	r.Path, r.Query = r.Target, nil
	if i := bytes.IndexByte(r.Target, '?'); i >= 0 {
		r.Path, r.Query = r.Target[:i], r.Target[i+1:]
	}
}

// dash returns b, or nil when b is the log formats' "-" for no value.
func dash(b []byte) []byte {
	if len(b) == 1 && b[0] == '-' {
		return nil
	}
	return b
}

// daysFromCivil returns the number of days from 1970-01-01 to the given
// proleptic Gregorian date (H. Hinnant's algorithm). It is here because
// time.Date is several times slower and every log line has a time.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// daysIn returns the number of days of month m (1-12) of year y.
func daysIn(y, m int64) int64 {
	switch m {
	case 4, 6, 9, 11:
		return 30
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	}
	return 31
}

// digits returns the decimal value of b, which must be all ASCII digits.
func digits(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// Years outside this range are taken for a corrupt time field: no web
// server wrote logs before 1990, and a later bound keeps interval arithmetic
// far from overflow.
const (
	minYear = 1990
	maxYear = 2200
)

// civilSeconds returns the Unix time of a date and time of day, checking
// every field's range.
func civilSeconds(y, mo, d, h, mi, s int64) (int64, bool) {
	if y < minYear || y > maxYear || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) ||
		h > 23 || mi > 59 || s > 60 {
		return 0, false
	}
	if s == 60 { // a leap second: count it as the last second of the minute
		s = 59
	}
	return daysFromCivil(y, mo, d)*86400 + h*3600 + mi*60 + s, true
}
