package detect

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// w3c reads the W3C extended log format as IIS writes it:
//
//	#Software: Microsoft Internet Information Services 5.0
//	#Version: 1.0
//	#Date: 2001-08-04 00:00:00
//	#Fields: date time c-ip cs-username s-ip s-port cs-method cs-uri-stem cs-uri-query sc-status cs(User-Agent)
//	2001-08-04 00:01:02 10.1.2.3 - 10.9.9.9 80 GET /default.ida XXXX...%u00=a 404 -
//
// The fields are named by the last #Fields directive, which may change
// mid-file (IIS writes a new header when it restarts or its settings
// change). Times are UTC. cs-uri-stem and cs-uri-query are separate fields:
// the Target of a Record joins them with "?" so that signatures see the
// same request target as in an Apache log.
type w3c struct {
	n int // fields per line; 0 before the first #Fields

	// Positions of the fields detect reads, -1 when absent.
	date, time, cip, method, stem, query, uri int
	status, bytes, ua, ref, ver               int

	defDay     int64 // day of the last #Date directive (days since 1970), for logs without a date field
	haveDefDay bool
	fields     [][]byte // scratch: the fields of the current line
	target     []byte   // scratch: stem?query
}

func newW3C() *w3c {
	w := &w3c{}
	w.clear()
	return w
}

func (w *w3c) clear() {
	w.n = 0
	w.date, w.time, w.cip, w.method, w.stem, w.query, w.uri, w.status, w.bytes, w.ua, w.ref, w.ver =
		-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1
}

// directive reads a line starting with "#". It returns an error (without
// file and line, which the caller adds) for a #Fields header that lacks
// what detect needs.
func (w *w3c) directive(line []byte) error {
	name, val, _ := bytes.Cut(line[1:], []byte(":"))
	val = bytes.TrimSpace(val)
	switch strings.ToLower(string(name)) {
	case "fields":
		return w.setFields(val)
	case "date":
		if len(val) >= 10 {
			if d, good := parseW3CDate(val[:10]); good {
				w.defDay, w.haveDefDay = d, true
			}
		}
	}
	return nil
}

func (w *w3c) setFields(val []byte) error {
	w.clear()
	names := bytes.Fields(val)
	for i, nb := range names {
		switch strings.ToLower(string(nb)) {
		case "date":
			w.date = i
		case "time":
			w.time = i
		case "c-ip":
			w.cip = i
		case "cs-method":
			w.method = i
		case "cs-uri-stem":
			w.stem = i
		case "cs-uri-query":
			w.query = i
		case "cs-uri":
			w.uri = i
		case "sc-status":
			w.status = i
		case "sc-bytes":
			w.bytes = i
		case "cs(user-agent)":
			w.ua = i
		case "cs(referer)":
			w.ref = i
		case "cs-version":
			w.ver = i
		}
	}
	var missing []string
	if w.time < 0 {
		missing = append(missing, "time")
	}
	if w.cip < 0 {
		missing = append(missing, "c-ip")
	}
	if w.stem < 0 && w.uri < 0 {
		missing = append(missing, "cs-uri-stem (or cs-uri)")
	}
	if len(missing) > 0 {
		w.clear()
		return fmt.Errorf("the IIS #Fields header lacks %s; detect needs date (or a #Date directive), time, c-ip and cs-uri-stem or cs-uri", strings.Join(missing, ", "))
	}
	w.n = len(names)
	return nil
}

// parse reads one data line into rec.
func (w *w3c) parse(line []byte, rec *Record) Reason {
	if w.n == 0 {
		return NoFieldsHeader
	}
	f := w.fields[:0]
	for len(line) > 0 {
		sp := bytes.IndexByte(line, ' ')
		if sp < 0 {
			f = append(f, line)
			break
		}
		f = append(f, line[:sp])
		line = line[sp+1:]
		if len(f) > w.n {
			break
		}
	}
	w.fields = f
	if len(f) != w.n {
		return FieldCount
	}
	var day int64
	switch {
	case w.date >= 0:
		d, good := parseW3CDate(f[w.date])
		if !good {
			return BadTime
		}
		day = d
	case w.haveDefDay:
		day = w.defDay
	default:
		return BadTime
	}
	sec, frac, good := parseW3CTime(f[w.time])
	if !good {
		return BadTime
	}
	rec.Time = time.Unix(day*86400+sec, frac).UTC()
	rec.Source = dash(f[w.cip])
	if len(rec.Source) == 0 {
		return BadSource
	}
	if w.method >= 0 {
		rec.Method = dash(f[w.method])
	}
	if w.ver >= 0 {
		rec.Protocol = dash(f[w.ver])
	}
	if w.stem >= 0 {
		stem := dash(f[w.stem])
		var query []byte
		if w.query >= 0 {
			query = dash(f[w.query])
		}
		if len(query) == 0 {
			rec.Target, rec.Path = stem, stem
		} else {
			t := append(w.target[:0], stem...)
			t = append(t, '?')
			t = append(t, query...)
			w.target = t
			rec.Target, rec.Path, rec.Query = t, t[:len(stem)], t[len(stem)+1:]
		}
	} else {
		rec.Target = dash(f[w.uri])
		rec.splitTarget()
	}
	if w.status >= 0 {
		if st := dash(f[w.status]); st != nil {
			v, good := digits(st)
			if !good || v > 999 {
				return BadStatus
			}
			rec.Status = int(v)
		}
	}
	if w.bytes >= 0 {
		if b := dash(f[w.bytes]); b != nil {
			v, good := digits(b)
			if !good || len(b) > 18 {
				return BadBytes
			}
			rec.Bytes = v
		}
	}
	if w.ua >= 0 {
		rec.UserAgent = dash(f[w.ua])
	}
	if w.ref >= 0 {
		rec.Referer = dash(f[w.ref])
	}
	return ok
}

// parseW3CDate reads "2001-08-04" and returns days since 1970-01-01.
func parseW3CDate(b []byte) (int64, bool) {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return 0, false
	}
	y, ok1 := digits(b[0:4])
	m, ok2 := digits(b[5:7])
	d, ok3 := digits(b[8:10])
	if !(ok1 && ok2 && ok3) {
		return 0, false
	}
	if _, good := civilSeconds(y, m, d, 0, 0, 0); !good {
		return 0, false
	}
	return daysFromCivil(y, m, d), true
}

// parseW3CTime reads "00:01:02" or "00:01:02.123" and returns the seconds
// of the day and the nanoseconds.
func parseW3CTime(b []byte) (int64, int64, bool) {
	if len(b) < 8 || b[2] != ':' || b[5] != ':' {
		return 0, 0, false
	}
	h, ok1 := digits(b[0:2])
	m, ok2 := digits(b[3:5])
	s, ok3 := digits(b[6:8])
	if !(ok1 && ok2 && ok3) || h > 23 || m > 59 || s > 60 {
		return 0, 0, false
	}
	if s == 60 {
		s = 59
	}
	var ns int64
	if len(b) > 8 {
		fr := b[9:]
		if b[8] != '.' || len(fr) == 0 || len(fr) > 9 {
			return 0, 0, false
		}
		v, good := digits(fr)
		if !good {
			return 0, 0, false
		}
		for range 9 - len(fr) {
			v *= 10
		}
		ns = v
	}
	return h*3600 + m*60 + s, ns, true
}
