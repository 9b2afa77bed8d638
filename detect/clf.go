package detect

import (
	"bytes"
	"time"
)

// The readers of this package are hand-written: no maintained Go library
// reads Apache/nginx combined and common logs and IIS W3C logs with what
// detect needs (a reason for every line that does not parse, a #Fields
// header that changes mid-file, no allocation per line at hundreds of MB/s).

// parseCLF reads one line of the NCSA common or combined log format, as
// Apache and nginx write it:
//
//	host ident user [10/May/2004:11:39:11 -0400] "GET / HTTP/1.1" 200 2890 "referer" "user agent"
//
// With needUA the quoted referer and user agent must follow the bytes
// field (the combined format); without, they are read when present.
// Anything after the user agent (extra fields of a custom format) is
// ignored.
func parseCLF(line []byte, rec *Record, needUA bool, tc *timeCache) Reason {
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		return BadSource
	}
	rec.Source = line[:sp]
	rest := line[sp+1:]
	// Fast paths (most lines): ident and user "- - ", and a time of 26 bytes.
	lb := 4
	if len(rest) < 5 || string(rest[:5]) != "- - [" {
		if lb = bytes.IndexByte(rest, '['); lb < 0 {
			return BadTime
		}
	}
	rest = rest[lb+1:]
	rb := 26
	if len(rest) <= 26 || rest[26] != ']' {
		if rb = bytes.IndexByte(rest, ']'); rb < 0 {
			return BadTime
		}
	}
	sec, good := tc.parse(rest[:rb])
	if !good {
		return BadTime
	}
	rec.Time = time.Unix(sec, 0).UTC()
	rest = rest[rb+1:]
	if len(rest) < 2 || rest[0] != ' ' || rest[1] != '"' {
		return BadRequest
	}
	rest = rest[2:]
	q := requestEnd(rest)
	if q < 0 {
		return BadRequest
	}
	splitRequest(rest[:q], rec)
	rest = rest[q+2:] // past `" `
	sp = space(rest)
	if st := rest[:sp]; !(len(st) == 1 && st[0] == '-') {
		v, good := digits(st)
		if !good || v > 999 {
			return BadStatus
		}
		rec.Status = int(v)
	}
	if sp == len(rest) {
		return BadBytes
	}
	rest = rest[sp+1:]
	sp = space(rest)
	if b := rest[:sp]; !(len(b) == 1 && b[0] == '-') {
		v, good := digits(b)
		if !good || len(b) > 18 {
			return BadBytes
		}
		rec.Bytes = v
	}
	rest = rest[sp:]
	if len(rest) < 2 || rest[0] != ' ' || rest[1] != '"' {
		if needUA {
			return MissingField
		}
		return ok
	}
	rest = rest[2:]
	if len(rest) >= 4 && string(rest[:4]) == `-" "` {
		q = 1 // no referer: the usual case
	} else {
		q = refererEnd(rest)
	}
	if q < 0 {
		if needUA {
			return MissingField
		}
		return ok
	}
	ref := rest[:q]
	rest = rest[q+3:] // past `" "`
	q = agentEnd(rest)
	if q < 0 {
		if needUA {
			return MissingField
		}
		return ok
	}
	rec.Referer, rec.UserAgent, rec.hasUA = dash(ref), dash(rest[:q]), true
	return ok
}

// closingQuote returns the index of the first unescaped quote in b for
// which closes(b, i) holds, or -1.
func closingQuote(b []byte, closes func(b []byte, i int) bool) int {
	off := 0
	for {
		i := bytes.IndexByte(b[off:], '"')
		if i < 0 {
			return -1
		}
		i += off
		if !escaped(b, i) && closes(b, i) {
			return i
		}
		off = i + 1
	}
}

// requestEnd returns the index of the quote closing the request field in
// b, which starts after the opening quote: an unescaped quote followed by
// a space and a status (a digit or "-"). Requiring the status lets a raw
// quote inside the request (Apache 1.3 did not escape it) pass. It returns
// -1 when there is none.
func requestEnd(b []byte) int {
	return closingQuote(b, func(b []byte, i int) bool {
		return i+2 < len(b) && b[i+1] == ' ' && (b[i+2] == '-' || b[i+2] >= '0' && b[i+2] <= '9')
	})
}

// refererEnd returns the index of the quote closing the referer field in
// b: the first unescaped quote followed by ` "` (the user agent's opening
// quote), or -1.
func refererEnd(b []byte) int {
	return closingQuote(b, func(b []byte, i int) bool { return i+2 < len(b) && b[i+1] == ' ' && b[i+2] == '"' })
}

// agentEnd returns the index of the quote closing the user agent field in
// b: the first unescaped quote at the end of b or followed by a space, or
// -1.
func agentEnd(b []byte) int {
	return closingQuote(b, func(b []byte, i int) bool { return i+1 == len(b) || b[i+1] == ' ' })
}

// escaped reports whether b[i] is preceded by an odd number of backslashes.
func escaped(b []byte, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && b[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// splitRequest splits a logged request line "METHOD TARGET PROTOCOL" into
// rec's fields. "-" (no request, as for a 408) leaves them empty; a line
// without spaces (junk such as a TLS handshake sent to port 80) is all
// method; without a protocol ("GET /x", HTTP/0.9 style) the rest is the
// target.
func splitRequest(req []byte, rec *Record) {
	if len(req) == 1 && req[0] == '-' {
		return
	}
	sp := space(req)
	if sp == len(req) {
		rec.Method = req
		return
	}
	rec.Method = req[:sp]
	rest := req[sp+1:]
	if n := len(rest); n >= 9 && string(rest[n-9:n-3]) == " HTTP/" { // HTTP/1.0, HTTP/1.1
		rec.Protocol = rest[n-8:]
		rest = rest[:n-9]
	} else if last := bytes.LastIndexByte(rest, ' '); last >= 0 && bytes.HasPrefix(rest[last+1:], []byte("HTTP/")) {
		rec.Protocol = rest[last+1:]
		rest = rest[:last]
	}
	rec.Target = rest
	rec.splitTarget()
}

// space returns the index of the first space in b, or len(b): for the
// short status and bytes fields a loop beats bytes.IndexByte's set-up.
func space(b []byte) int {
	for i, c := range b {
		if c == ' ' {
			return i
		}
	}
	return len(b)
}

// parseCLFTime reads "10/May/2004:11:39:11 -0400" and returns Unix seconds.
func parseCLFTime(b []byte) (int64, bool) {
	if len(b) != 26 || b[2] != '/' || b[6] != '/' || b[11] != ':' || b[14] != ':' || b[17] != ':' ||
		b[20] != ' ' || (b[21] != '+' && b[21] != '-') {
		return 0, false
	}
	d, ok1 := digits(b[0:2])
	y, ok2 := digits(b[7:11])
	h, ok3 := digits(b[12:14])
	mi, ok4 := digits(b[15:17])
	s, ok5 := digits(b[18:20])
	zh, ok6 := digits(b[22:24])
	zm, ok7 := digits(b[24:26])
	mo := month(b[3:6])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || mo == 0 || zh > 23 || zm > 59 {
		return 0, false
	}
	sec, good := civilSeconds(y, mo, d, h, mi, s)
	if !good {
		return 0, false
	}
	off := zh*3600 + zm*60
	if b[21] == '-' {
		off = -off
	}
	return sec - off, true
}

// timeCache remembers the day and zone of the last time parsed: lines of
// one day differ only in the time of day, so most lines skip the date.
type timeCache struct {
	key  [17]byte // "10/May/2004:" and "-0400"
	base int64    // Unix time of the day's midnight in that zone
	ok   bool
}

// parse is parseCLFTime with the cache.
func (c *timeCache) parse(b []byte) (int64, bool) {
	if c == nil {
		return parseCLFTime(b)
	}
	if len(b) != 26 {
		return 0, false
	}
	if c.ok && string(b[:12]) == string(c.key[:12]) && string(b[21:]) == string(c.key[12:]) &&
		b[14] == ':' && b[17] == ':' && b[20] == ' ' {
		h, ok1 := digits(b[12:14])
		m, ok2 := digits(b[15:17])
		s, ok3 := digits(b[18:20])
		if ok1 && ok2 && ok3 && h <= 23 && m <= 59 && s <= 60 {
			if s == 60 {
				s = 59
			}
			return c.base + h*3600 + m*60 + s, true
		}
		return 0, false
	}
	sec, good := parseCLFTime(b)
	if good {
		h, _ := digits(b[12:14])
		m, _ := digits(b[15:17])
		s, _ := digits(b[18:20])
		if s == 60 {
			s = 59
		}
		copy(c.key[:12], b[:12])
		copy(c.key[12:], b[21:])
		c.base, c.ok = sec-(h*3600+m*60+s), true
	}
	return sec, good
}

// month returns 1-12 for "Jan" to "Dec", 0 for anything else.
func month(b []byte) int64 {
	switch string(b) {
	case "Jan":
		return 1
	case "Feb":
		return 2
	case "Mar":
		return 3
	case "Apr":
		return 4
	case "May":
		return 5
	case "Jun":
		return 6
	case "Jul":
		return 7
	case "Aug":
		return 8
	case "Sep":
		return 9
	case "Oct":
		return 10
	case "Nov":
		return 11
	case "Dec":
		return 12
	}
	return 0
}
