package detect

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Zeek logs: http.log (requests) and conn.log (connection attempts), as
// Zeek's ASCII writer writes them, in TSV with a header (the default) or as
// JSON lines (LogAscii::use_json). A TSV log starts with
//
//	#separator \x09
//	#set_separator	,
//	#empty_field	(empty)
//	#unset_field	-
//	#path	http
//	#open	2013-03-25-20-20-22
//	#fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	trans_depth	method	host	uri	...
//	#types	time	string	addr	port	addr	port	count	string	string	string	...
//
// and its data lines hold the fields named by #fields, separated by the
// separator; a field that equals #unset_field is unset, one that equals
// #empty_field is empty, and bytes that are not printable, or that would
// be read as the separator or those markers, are written as \xHH, which is
// decoded (as Zeek's own ASCII reader does). A JSON line is one object whose
// keys are the same field names ("id.orig_h"); unset fields are left out;
// ts is a number of seconds or, with LogAscii::json_timestamps, an ISO 8601
// time.
//
// An http.log entry becomes a request: ts, id.orig_h (the source),
// id.resp_p, method, uri (the target), version ("1.1" becomes the protocol
// "HTTP/1.1"), user_agent, referrer, status_code and response_body_len.
// A conn.log entry becomes a connection attempt when the connection was not
// established (see isAttempt); the other entries are read and passed over.

// zeekKind is the log a Zeek line belongs to.
type zeekKind uint8

const (
	zeekOther zeekKind = iota // a log detect does not read (dns, ssl, ...): passed over
	zeekHTTP
	zeekConn
)

// passed is the "reason" of a line read without error that gives no
// record: a conn.log connection that was established, an entry of a log
// detect does not read. It counts as parsed.
const passed Reason = 254

// zeekFields are the fields of one entry detect reads; nil when unset.
type zeekFields struct {
	path                                       []byte // JSON: _path, when present
	ts, origH, respP, proto, state, history    []byte
	method, uri, version, ua, ref, status, len []byte
}

// fieldPtr returns where a field of that name goes, nil for a field detect
// does not read.
func (f *zeekFields) fieldPtr(name []byte) *[]byte {
	switch string(name) {
	case "ts":
		return &f.ts
	case "id.orig_h":
		return &f.origH
	case "id.resp_p":
		return &f.respP
	case "proto":
		return &f.proto
	case "conn_state":
		return &f.state
	case "history":
		return &f.history
	case "method":
		return &f.method
	case "uri":
		return &f.uri
	case "version":
		return &f.version
	case "user_agent":
		return &f.ua
	case "referrer":
		return &f.ref
	case "status_code":
		return &f.status
	case "response_body_len":
		return &f.len
	case "_path":
		return &f.path
	}
	return nil
}

// kindOf returns the log of a path name.
func kindOf(path []byte) zeekKind {
	switch string(path) {
	case "http":
		return zeekHTTP
	case "conn":
		return zeekConn
	}
	return zeekOther
}

// fill sets rec from the fields of an entry of log k. scratch has room for
// the protocol ("HTTP/" and the version) without growing.
func (f *zeekFields) fill(k zeekKind, rec *Record, scratch []byte) Reason {
	if k == zeekOther {
		return passed
	}
	ns, good := zeekTime(f.ts)
	if !good {
		return BadTime
	}
	rec.Time = time.Unix(0, ns).UTC()
	if len(f.origH) == 0 {
		return BadSource
	}
	rec.Source = f.origH
	port, good := digits(f.respP)
	if !good || port > 65535 || len(f.respP) > 5 {
		return BadPort
	}
	rec.DstPort = uint16(port)
	if k == zeekConn {
		switch string(f.proto) {
		case "tcp":
			rec.Transport = TCP
		case "udp":
			rec.Transport = UDP
		default:
			return passed // icmp: no ports; unknown_transport
		}
		if !isAttempt(rec.Transport, f.state, f.history) {
			return passed
		}
		rec.Attempt = true
		return ok
	}
	rec.Transport = TCP
	rec.Method, rec.Target, rec.UserAgent, rec.Referer = f.method, f.uri, f.ua, f.ref
	rec.splitTarget()
	if len(f.version) > 0 {
		p := append(scratch, "HTTP/"...)
		rec.Protocol = append(p, f.version...)
	}
	if f.status != nil {
		v, good := digits(f.status)
		if !good || v > 999 {
			return BadStatus
		}
		rec.Status = int(v)
	}
	if f.len != nil {
		v, good := digits(f.len)
		if !good || len(f.len) > 18 {
			return BadBytes
		}
		rec.Bytes = v
	}
	return ok
}

// isAttempt tells a conn.log connection that was attempted but not
// established: a connection attempt, as a network telescope counts them.
// Zeek's documentation of conn_state (base/protocols/conn/main.zeek,
// Conn::Info) names the states:
//
//	S0      Connection attempt seen, no reply.
//	REJ     Connection attempt rejected.
//	RSTOS0  Originator sent a SYN followed by a RST, we never saw a SYN-ACK from the responder.
//	SH      Originator sent a SYN followed by a FIN, we never saw a SYN ACK from the responder.
//
// and those are attempts; the others (S1, SF, S2, S3, RSTO, RSTR: the
// connection was established; RSTRH, SHR, OTH: no SYN from the originator
// was seen) are not. Without a conn_state, the history decides: it starts
// with S (the originator's SYN) and holds no h (the responder's SYN-ACK).
// For UDP, which has no handshake, S0 (no reply seen) is an attempt: a
// probe such as Slammer's into unused space.
func isAttempt(t Transport, state, history []byte) bool {
	switch string(state) {
	case "S0":
		return true
	case "REJ", "RSTOS0", "SH":
		return t == TCP
	case "":
		return t == TCP && len(history) > 0 && history[0] == 'S' && bytes.IndexByte(history, 'h') < 0
	}
	return false
}

// zeekTime reads a Zeek time: seconds since 1970 with a fraction
// ("1354328870.191989"), or ISO 8601 in UTC ("2020-06-05T14:39:59.430166Z",
// as LogAscii::json_timestamps writes it). It returns Unix ns.
func zeekTime(b []byte) (int64, bool) {
	if len(b) >= 20 && b[4] == '-' && b[10] == 'T' {
		return isoTime(b)
	}
	sec, frac, _ := bytes.Cut(b, []byte("."))
	s, good := digits(sec)
	if !good || len(sec) > 11 || len(frac) > 9 {
		return 0, false
	}
	var ns int64
	if len(frac) > 0 {
		v, good := digits(frac)
		if !good {
			return 0, false
		}
		for range 9 - len(frac) {
			v *= 10
		}
		ns = v
	}
	if y := time.Unix(s, 0).UTC().Year(); y < minYear || y > maxYear {
		return 0, false
	}
	return s*1e9 + ns, true
}

// isoTime reads "2020-06-05T14:39:59.430166Z" (or with "+00:00").
func isoTime(b []byte) (int64, bool) {
	day, good := parseW3CDate(b[:10])
	if !good {
		return 0, false
	}
	rest := b[11:]
	end := len(rest)
	off := int64(0)
	switch {
	case rest[end-1] == 'Z':
		end--
	case end >= 6 && (rest[end-6] == '+' || rest[end-6] == '-') && rest[end-3] == ':':
		h, ok1 := digits(rest[end-5 : end-3])
		m, ok2 := digits(rest[end-2:])
		if !ok1 || !ok2 || h > 23 || m > 59 {
			return 0, false
		}
		off = h*3600 + m*60
		if rest[end-6] == '-' {
			off = -off
		}
		end -= 6
	default:
		return 0, false
	}
	sec, ns, good := parseW3CTime(rest[:end])
	if !good {
		return 0, false
	}
	return (day*86400+sec-off)*1e9 + ns, true
}

// unescapeHex decodes Zeek's \xHH escapes of b, appending to dst; b
// without a backslash is returned as it is.
func unescapeHex(dst, b []byte) []byte {
	i := bytes.IndexByte(b, '\\')
	if i < 0 {
		return b
	}
	start := len(dst)
	dst = append(dst, b[:i]...)
	for ; i < len(b); i++ {
		c := b[i]
		if c == '\\' && i+3 < len(b) && b[i+1] == 'x' && isHex(b[i+2]) && isHex(b[i+3]) {
			dst = append(dst, unhex(b[i+2])<<4|unhex(b[i+3]))
			i += 3
			continue
		}
		dst = append(dst, c)
	}
	return dst[start:]
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// zeekTSV reads Zeek's TSV logs: the header directives, then data lines.
type zeekTSV struct {
	sep          []byte // #separator: a tab by default
	unset, empty []byte // #unset_field, #empty_field
	kind         zeekKind
	pathSeen     bool
	names        [][]byte // the #fields, copied
	ptr          []int    // per field: which of zeekFields it is, -1 none
	n            int      // fields per line; 0 before #fields
	f            zeekFields
	scratch      []byte
}

func newZeekTSV() *zeekTSV {
	return &zeekTSV{sep: []byte{'\t'}, unset: []byte("-"), empty: []byte("(empty)")}
}

// zeekHeader reports whether a line is one of the header lines that start a
// Zeek TSV log: #separator, or (in a log whose first lines were cut off)
// #fields or #path followed by a tab.
func zeekHeader(line []byte) bool {
	return bytes.HasPrefix(line, []byte("#separator ")) || bytes.HasPrefix(line, []byte("#fields\t")) || bytes.HasPrefix(line, []byte("#path\t"))
}

// directive reads a line starting with "#". It returns an error (without
// file and line, which the caller adds) for a header detect cannot read.
func (z *zeekTSV) directive(line []byte) error {
	if v, found := bytes.CutPrefix(line, []byte("#separator ")); found {
		sep := unescapeHex(nil, v)
		if len(sep) == 0 {
			return fmt.Errorf("the Zeek #separator header gives no separator")
		}
		z.sep = bytes.Clone(sep)
		return nil
	}
	name, val, _ := bytes.Cut(line[1:], z.sep)
	switch string(name) {
	case "unset_field":
		z.unset = bytes.Clone(val)
	case "empty_field":
		z.empty = bytes.Clone(val)
	case "path":
		z.kind, z.pathSeen = kindOf(val), true
	case "fields":
		z.names = z.names[:0]
		z.ptr = z.ptr[:0]
		seen := map[string]bool{}
		for _, nb := range bytes.Split(val, z.sep) {
			z.names = append(z.names, bytes.Clone(nb))
			seen[string(nb)] = true
		}
		if !z.pathSeen { // a log cut before its #path: its fields tell
			switch {
			case seen["conn_state"] || seen["history"]:
				z.kind = zeekConn
			case seen["method"] || seen["uri"] || seen["status_code"]:
				z.kind = zeekHTTP
			default:
				z.kind = zeekOther
			}
		}
		if z.kind != zeekOther {
			var missing []string
			for _, need := range []string{"ts", "id.orig_h", "id.resp_p"} {
				if !seen[need] {
					missing = append(missing, need)
				}
			}
			if z.kind == zeekConn && !seen["conn_state"] && !seen["history"] {
				missing = append(missing, "conn_state (or history)")
			}
			if z.kind == zeekConn && !seen["proto"] {
				missing = append(missing, "proto")
			}
			if z.kind == zeekHTTP && !seen["uri"] {
				missing = append(missing, "uri")
			}
			if len(missing) > 0 {
				z.n = 0
				return fmt.Errorf("the Zeek #fields header lacks %s", strings.Join(missing, ", "))
			}
		}
		z.index()
		z.n = len(z.names)
	}
	return nil
}

// index sets, for each of the #fields names, which of zeekFields it is.
func (z *zeekTSV) index() {
	z.ptr = z.ptr[:0]
	var f zeekFields
	base := &f
	for _, nb := range z.names {
		p := f.fieldPtr(nb)
		idx := -1
		if p != nil {
			idx = fieldIndex(base, p)
		}
		z.ptr = append(z.ptr, idx)
	}
}

// zeekFieldCount is the number of fields of zeekFields (the []byte ones).
const zeekFieldCount = 14

// fields returns zeekFields' []byte fields in a fixed order.
func (f *zeekFields) fields() [zeekFieldCount]*[]byte {
	return [zeekFieldCount]*[]byte{&f.path, &f.ts, &f.origH, &f.respP, &f.proto, &f.state, &f.history,
		&f.method, &f.uri, &f.version, &f.ua, &f.ref, &f.status, &f.len}
}

// fieldIndex returns the index of p among f.fields().
func fieldIndex(f *zeekFields, p *[]byte) int {
	for i, q := range f.fields() {
		if q == p {
			return i
		}
	}
	return -1
}

// parse reads one data line into rec.
func (z *zeekTSV) parse(line []byte, rec *Record) Reason {
	if z.n == 0 {
		return NoFieldsHeader
	}
	if z.kind == zeekOther {
		return passed
	}
	z.f = zeekFields{}
	ptrs := z.f.fields()
	if cap(z.scratch) < len(line)+16 {
		z.scratch = make([]byte, 0, len(line)+64)
	}
	scratch := z.scratch[:0]
	i := 0
	for rest := line; ; i++ {
		var v []byte
		j := bytes.Index(rest, z.sep)
		if j < 0 {
			v = rest
		} else {
			v = rest[:j]
		}
		if i >= z.n {
			return FieldCount
		}
		if k := z.ptr[i]; k >= 0 {
			switch {
			case bytes.Equal(v, z.unset):
				v = nil
			case bytes.Equal(v, z.empty):
				v = v[:0]
			default:
				if bytes.IndexByte(v, '\\') >= 0 {
					v = unescapeHex(scratch, v)
					scratch = v[len(v):]
				}
			}
			*ptrs[k] = v
		}
		if j < 0 {
			break
		}
		rest = rest[j+len(z.sep):]
	}
	if i+1 != z.n {
		return FieldCount
	}
	return z.f.fill(z.kind, rec, scratch)
}

// zeekJSON reads Zeek's JSON logs, one object a line.
type zeekJSON struct {
	f       zeekFields
	scratch []byte
}

// parse reads one line into rec.
func (z *zeekJSON) parse(line []byte, rec *Record) Reason {
	z.f = zeekFields{}
	if cap(z.scratch) < 2*len(line)+16 {
		z.scratch = make([]byte, 0, 2*len(line)+64)
	}
	scratch := z.scratch[:0]
	good := scanObject(line, func(key, val []byte, str bool) {
		p := z.f.fieldPtr(key)
		if p == nil {
			return
		}
		if str {
			if bytes.IndexByte(val, '\\') >= 0 {
				v := jsonUnquote(scratch, val)
				scratch = v[len(v):]
				if bytes.IndexByte(v, '\\') >= 0 {
					w := unescapeHex(scratch, v)
					scratch = w[len(w):]
					v = w
				}
				val = v
			}
			*p = val
			return
		}
		if string(val) != "null" {
			*p = val
		}
	})
	if !good {
		return BadJSON
	}
	k := kindOf(z.f.path)
	if z.f.path == nil {
		switch {
		case z.f.state != nil || z.f.history != nil:
			k = zeekConn
		case z.f.method != nil || z.f.uri != nil || z.f.status != nil:
			k = zeekHTTP
		}
	}
	return z.f.fill(k, rec, scratch)
}

// isZeekJSON reports whether a line is a JSON object holding a Zeek
// entry: with ts and id.orig_h.
func isZeekJSON(line []byte) bool {
	if len(line) == 0 || line[0] != '{' {
		return false
	}
	var ts, orig bool
	good := scanObject(line, func(key, _ []byte, _ bool) {
		switch string(key) {
		case "ts":
			ts = true
		case "id.orig_h":
			orig = true
		}
	})
	return good && ts && orig
}

// scanObject reads a JSON object on one line and calls fn with each of its
// top-level keys and values: a string's content still escaped (str true),
// or the text of a number, true, false, null, array or object. It reports
// whether the line is one well-formed object (with what follows it blank).
// Keys with escapes are passed as they are.
func scanObject(b []byte, fn func(key, val []byte, str bool)) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipSpace(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		end := stringEnd(b, i+1)
		if end < 0 {
			return false
		}
		key := b[i+1 : end]
		i = skipSpace(b, end+1)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return false
		}
		switch c := b[i]; {
		case c == '"':
			end := stringEnd(b, i+1)
			if end < 0 {
				return false
			}
			fn(key, b[i+1:end], true)
			i = end + 1
		case c == '{' || c == '[':
			end := valueEnd(b, i)
			if end < 0 {
				return false
			}
			fn(key, b[i:end], false)
			i = end
		default:
			j := i
			for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ' ' && b[j] != '\t' {
				j++
			}
			v := b[i:j]
			if !scalar(v) {
				return false
			}
			fn(key, v, false)
			i = j
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return false
		}
		if b[i] == '}' {
			return skipSpace(b, i+1) == len(b)
		}
		if b[i] != ',' {
			return false
		}
		i = skipSpace(b, i+1)
	}
}

// scalar reports whether v is a JSON number, true, false or null.
func scalar(v []byte) bool {
	switch string(v) {
	case "true", "false", "null":
		return true
	}
	if len(v) == 0 {
		return false
	}
	for k, c := range v {
		if !('0' <= c && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-' && (k == 0 || v[k-1] == 'e' || v[k-1] == 'E')) {
			return false
		}
	}
	return v[0] == '-' || '0' <= v[0] && v[0] <= '9'
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// stringEnd returns the index of the quote closing the string whose
// content starts at i, or -1.
func stringEnd(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case '"':
			return i
		case '\\':
			i += 2
			continue
		}
		i++
	}
	return -1
}

// valueEnd returns the index after the array or object starting at i, or
// -1.
func valueEnd(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			end := stringEnd(b, i+1)
			if end < 0 {
				return -1
			}
			i = end
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
		i++
	}
	return -1
}

// jsonUnquote decodes the escapes of a JSON string's content, appending
// to dst; content without a backslash is returned as it is. An invalid
// escape is kept as it is.
func jsonUnquote(dst, s []byte) []byte {
	i := bytes.IndexByte(s, '\\')
	if i < 0 {
		return s
	}
	start := len(dst)
	dst = append(dst, s[:i]...)
	for ; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			dst = append(dst, c)
			continue
		}
		i++
		switch e := s[i]; e {
		case '"', '\\', '/':
			dst = append(dst, e)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, n := jsonRune(s[i+1:])
			if n == 0 {
				dst = append(dst, '\\', 'u')
				continue
			}
			dst = utf8.AppendRune(dst, r)
			i += n
		default:
			dst = append(dst, '\\', e)
		}
	}
	return dst[start:]
}

// jsonRune reads the 4 hex digits after \u (and a low surrogate's \uXXXX
// after a high one); it returns the rune and the bytes read, 0 if invalid.
func jsonRune(s []byte) (rune, int) {
	hex4 := func(s []byte) (rune, bool) {
		if len(s) < 4 {
			return 0, false
		}
		var r rune
		for _, c := range s[:4] {
			if !isHex(c) {
				return 0, false
			}
			r = r<<4 | rune(unhex(c))
		}
		return r, true
	}
	r, good := hex4(s)
	if !good {
		return 0, 0
	}
	if r >= 0xd800 && r < 0xdc00 && len(s) >= 10 && s[4] == '\\' && s[5] == 'u' {
		if lo, good := hex4(s[6:]); good && lo >= 0xdc00 && lo < 0xe000 {
			return (r-0xd800)<<10 | (lo - 0xdc00) + 0x10000, 10
		}
	}
	return r, 4
}
