package detect

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// Fuzz targets of every reader of the package: the combined and common
// line parser (FuzzCLF), the IIS W3C one (FuzzW3C), Zeek's TSV and JSON
// ones (FuzzZeek, fuzz_live_test.go), the whole reader in each format
// (FuzzReader), the LineReader against it (FuzzLineReader), format
// sniffing (FuzzSniff), the gzip layer (FuzzGzip), the signature loader
// (FuzzSignatures) and the records of the temporary files
// (FuzzSpillRecord). The seed corpus runs with the ordinary tests; run each
// for a while with, for example,
//
//	go test ./detect -run XXX -fuzz FuzzCLF -fuzztime 30s

func FuzzCLF(f *testing.F) {
	for _, s := range []string{
		clf("1.2.3.4", "10/May/2004:13:18:06", "GET "+codeRed("X")+" HTTP/1.0", 404),
		`63.126.133.19 - - [01/Aug/2004:15:04:02 -0400] "-" 408 - "-" "-"`,
		`1.2.3.4 - - [13/May/2004:14:27:30 -0400] "GET /a\"b HTTP/1.1" 404 1 "-" "ua \"x\""`,
		`1.2.3.4 - - [13/May/2004:14:27:30 -0400] "GET /a"b" 404 1`,
		`h - - [29/Feb/2004:23:59:60 +1400] "x" 0 0 "" ""`,
		`\ [ ] "" " - - "`,
	} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, line []byte, needUA bool) {
		var rec Record
		rec.reset()
		var tc timeCache
		why := parseCLF(line, &rec, needUA, &tc)
		var rec2 Record
		rec2.reset()
		if why2 := parseCLF(line, &rec2, needUA, nil); why2 != why || (why == ok && !rec2.Time.Equal(rec.Time)) {
			t.Fatalf("with and without the time cache: %v %v, %v %v", why, rec.Time, why2, rec2.Time)
		}
		if why != ok {
			if why >= numReasons {
				t.Fatalf("reason %d", why)
			}
			return
		}
		checkRecord(t, line, &rec)
		if needUA && !rec.hasUA {
			t.Fatal("combined line accepted without its user agent")
		}
	})
}

// checkRecord checks what must hold of any record read from line.
func checkRecord(t *testing.T, line []byte, rec *Record) {
	t.Helper()
	if len(rec.Source) == 0 || rec.Status < 0 || rec.Status > 999 || rec.Bytes < -1 {
		t.Fatalf("record %+v", rec)
	}
	if y := rec.Time.Year(); y < minYear-1 || y > maxYear+1 {
		t.Fatalf("time %v", rec.Time)
	}
	if !bytes.Equal(rec.Target, append(append(bytes.Clone(rec.Path), "?"[:min(1, len(rec.Target)-len(rec.Path))]...), rec.Query...)) {
		t.Fatalf("target %q is not path %q ? query %q", rec.Target, rec.Path, rec.Query)
	}
	for _, f := range [][]byte{rec.Source, rec.Method, rec.Protocol, rec.UserAgent, rec.Referer} {
		if len(f) > len(line) {
			t.Fatalf("field %q longer than the line", f)
		}
	}
}

// FuzzReader reads arbitrary input in each format, plain and through its
// line cap, and checks the line counts add up.
func FuzzReader(f *testing.F) {
	f.Add([]byte(iisLog), uint8(0))
	f.Add([]byte(iisLog), uint8(3))
	f.Add([]byte(clf("1.2.3.4", "10/May/2004:13:18:06", "GET / HTTP/1.1", 400)+"\n\x00\xff\n"+strings.Repeat("a", 300)), uint8(1))
	f.Add([]byte(`1.2.3.4 - - [13/May/2004:14:27:30 -0400] "GET / HTTP/1.1" 200 5`+"\r\n"), uint8(2))
	f.Add(gzipped(f, []byte(clf("1.2.3.4", "10/May/2004:13:18:06", "GET / HTTP/1.1", 400)+"\n")), uint8(0))
	f.Add([]byte("#Fields: time c-ip cs-uri-stem\n#Date: 2001-08-04 00:00:00\n00:00:01 1.2.3.4 /x\n#Fields: date\n"), uint8(3))
	m, err := NewMatcher(Builtin()) // one per process: the fuzz function runs one input at a time
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, format uint8) {
		fm := Format(format % 6) // every format, Zeek's too
		rd, err := NewReader("fuzz", bytes.NewReader(data), ReaderOptions{Format: fm, MaxLine: MinMaxLine})
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || ie.Name != "fuzz" {
				t.Fatalf("error %v is not an *InputError", err)
			}
			return
		}
		defer rd.Close()
		for {
			rec, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				var ie *InputError
				if !errors.As(err, &ie) || ie.Line < 1 {
					t.Fatalf("error %v is not an *InputError with a line", err)
				}
				return
			}
			if rec.Time.IsZero() || len(rec.Source) == 0 {
				t.Fatalf("record %+v", rec)
			}
			m.Match(rec, nil)
		}
		c := rd.Counts()
		if c.Lines != c.Parsed+c.Directives+c.SkippedTotal() || c.Lines != rd.Line() {
			t.Fatalf("counts %+v, line %d", c, rd.Line())
		}
		if rd.Format() == Auto && c.Lines != c.Skipped[Empty] {
			t.Fatalf("format still auto after %+v", c)
		}
	})
}

// FuzzW3C feeds arbitrary lines to the IIS reader after a valid header.
func FuzzW3C(f *testing.F) {
	for _, l := range strings.Split(iisLog, "\r\n") {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line string) {
		w := newW3C()
		if err := w.setFields([]byte("date time c-ip cs-method cs-uri-stem cs-uri-query sc-status sc-bytes cs(User-Agent) cs(Referer) cs-version")); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "#") {
			_ = w.directive([]byte(line))
			return
		}
		var rec Record
		rec.reset()
		if why := w.parse([]byte(line), &rec); why == ok {
			checkRecord(t, []byte(line+"?"), &rec) // the target can be one byte longer than the line: stem?query
		} else if why >= numReasons {
			t.Fatalf("reason %d", why)
		}
	})
}

// FuzzSignatures reads arbitrary signature files: an error or a table the
// matcher compiles, never a panic.
func FuzzSignatures(f *testing.F) {
	// Each built-in family on its own: small seeds keep executions fast
	// and minimizing cheap (the whole table takes a minute to minimize).
	for i, part := range strings.Split(string(builtinTOML), "\n[[family]]\n") {
		if i > 0 {
			part = "[[family]]\n" + part
		}
		f.Add(part)
	}
	f.Add("[[family]]\nname = \"x\"\ndescription = \"d\"\n[[family.match]]\ntarget = { regexp = \"a+\", nocase = true, min_length = 3 }\n")
	f.Fuzz(func(t *testing.T, doc string) {
		fams, err := ParseSignatures("fuzz.toml", []byte(doc))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.toml: ") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		m, err := NewMatcher(fams)
		if err != nil {
			if !allDisabled(fams) {
				t.Fatalf("a checked table does not compile: %v", err)
			}
			return
		}
		// Every family loaded has a STIX pattern that parses, the one
		// given or the one derived (not checked at load: by construction).
		for _, f := range fams {
			if !f.Disabled {
				if err := checkSTIXPattern(f.Pattern()); err != nil {
					t.Fatalf("family %s: pattern %q: %v", f.Name, f.Pattern(), err)
				}
			}
		}
		var rec Record
		rec.reset()
		parseCLF([]byte(clf("1.2.3.4", "10/May/2004:13:18:06", "GET "+codeRed("X")+" HTTP/1.0", 404)), &rec, true, nil)
		m.Match(&rec, nil)
	})
}

func allDisabled(fams []Family) bool {
	for _, f := range fams {
		if !f.Disabled {
			return false
		}
	}
	return true
}

// FuzzSniff puts arbitrary lines before a log: the format is chosen from
// the lines that can be read, and when every line before the log cannot be
// a log line (blank, binary, not UTF-8, longer than the cap), the log is
// read whole as if they were not there.
func FuzzSniff(f *testing.F) {
	f.Add([]byte(strings.Repeat("x", 300)+"\n"), uint16(0))
	f.Add([]byte("\x00\x01\n\n\xff\xfe\n"+strings.Repeat("y", 2000)), uint16(1000))
	f.Add([]byte("#Fields: date time c-ip cs-uri-stem\n"), uint16(0))
	f.Add([]byte("notes\n"), uint16(5))
	log := clf("1.2.3.4", "10/May/2004:13:18:06", "GET / HTTP/1.1", 400) + "\n" +
		clf("5.6.7.8", "10/May/2004:13:18:07", "GET /scripts/root.exe?/c+dir HTTP/1.0", 404) + "\n" // under MinMaxLine
	f.Fuzz(func(t *testing.T, prefix []byte, maxLine uint16) {
		cap := MinMaxLine + int(maxLine)%4096
		data := append(append(bytes.Clone(prefix), '\n'), log...)
		rd, err := NewReader("fuzz", bytes.NewReader(data), ReaderOptions{MaxLine: cap})
		junk := true
		for l := range bytes.SplitSeq(append(bytes.Clone(prefix), '\n'), []byte("\n")) {
			if len(l) <= cap && lineJunk(bytes.TrimSuffix(l, []byte("\r"))) == ok { // fits in the buffer with its newline, and may be a log line
				junk = false
			}
		}
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || ie.Name != "fuzz" || junk {
				t.Fatalf("error %v (prefix all junk: %v)", err, junk)
			}
			return
		}
		defer rd.Close()
		n := 0
		for {
			_, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				var ie *InputError
				if !errors.As(err, &ie) || ie.Line < 1 {
					t.Fatalf("error %v", err)
				}
				return
			}
			n++
		}
		c := rd.Counts()
		if c.Lines != c.Parsed+c.Directives+c.SkippedTotal() || c.Lines != rd.Line() || c.Lines != int64(bytes.Count(data, []byte("\n"))) {
			t.Fatalf("counts %+v, line %d, %d newlines", c, rd.Line(), bytes.Count(data, []byte("\n")))
		}
		if junk && (rd.Format() != Combined || n < 2) {
			t.Fatalf("after junk only: format %v, %d records", rd.Format(), n)
		}
	})
}

// FuzzGzip reads a gzip member followed by arbitrary bytes: zero bytes are
// padding (the log is read whole), another member is read on, anything
// else is an error naming the offset of the first byte that is neither.
func FuzzGzip(f *testing.F) {
	log := []byte(clf("1.2.3.4", "10/May/2004:13:18:06", "GET "+codeRed("X")+" HTTP/1.0", 404) + "\n")
	member := gzipped(f, log)
	f.Add([]byte{}, false)
	f.Add(make([]byte, 100), false)
	f.Add([]byte("junk"), false)
	f.Add(append(make([]byte, 7), 1), false)
	f.Add([]byte{0x1f}, false)
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, false)
	f.Add(member, false)
	f.Add(member[:len(member)-3], true)
	f.Fuzz(func(t *testing.T, tail []byte, alone bool) {
		data := append(bytes.Clone(member), tail...)
		if alone {
			data = tail // the whole stream arbitrary
		}
		recs, _, err := readAll(t, data, ReaderOptions{})
		if alone {
			if err != nil {
				var ie *InputError
				if !errors.As(err, &ie) || ie.Name != "test" || strings.Contains(err.Error(), "gzip: gzip:") {
					t.Fatalf("error %v", err)
				}
			}
			return
		}
		first := bytes.IndexFunc(tail, func(r rune) bool { return r != 0 })
		if first < 0 {
			if err != nil || len(recs) != 1 {
				t.Fatalf("zero padding of %d bytes: %d records, %v", len(tail), len(recs), err)
			}
			return
		}
		var tg *TrailingGarbageError
		if first == 0 && bytes.HasPrefix(tail, []byte{0x1f, 0x8b}) {
			if err == nil && len(recs) < 1 {
				t.Fatalf("a second member: %d records", len(recs))
			}
			return
		}
		if !errors.As(err, &tg) || tg.Offset != int64(len(member)+first) || len(recs) != 1 {
			t.Fatalf("tail %q: %d records, %v; want an error at offset %d", tail, len(recs), err, len(member)+first)
		}
	})
}

// FuzzSpillRecord writes records to the temporary file's encoding and
// reads them back, and reads arbitrary bytes as records: the same record,
// or an error, never a panic.
func FuzzSpillRecord(f *testing.F) {
	f.Add([]byte("1.2.3.4"), int64(3), int64(1_090_000_000_000_000_000), uint8(2), uint64(7), []byte{})
	f.Add([]byte(""), int64(0), int64(-5), uint8(0), uint64(0), []byte{0, 1, 2})
	f.Add([]byte("2001:db8::1"), int64(1<<40), int64(0), uint8(9), uint64(1<<63), []byte{8, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, key []byte, lines, t0 int64, nparts uint8, seed uint64, junk []byte) {
		lines &= 1<<62 - 1
		t0 %= 1 << 62
		r := srcRec{hash: seed, key: key, lines: lines}
		for i := range int(nparts % 10) {
			d := int64(seed>>i&0xffff) * 1e9
			r.parts = append(r.parts, famPart{fam: uint32(i), lines: lines, events: int64(i), first: t0, latest: t0 + d, firstRead: t0 + d/2, lastRead: t0 + d/3})
			r.ivs = append(r.ivs, (t0+d)/3600e9, t0/3600e9)
		}
		b := appendRec(nil, &r)
		var back srcRec
		if err := readRec(bufio.NewReader(bytes.NewReader(b)), &back, 10); err != nil {
			t.Fatalf("read back: %v", err)
		}
		if back.hash != r.hash || !bytes.Equal(back.key, r.key) || back.lines != r.lines || !slices.Equal(back.parts, r.parts) || !slices.Equal(back.ivs, r.ivs) {
			t.Fatalf("read back %+v, wrote %+v", back, r)
		}
		parts := slices.Clone(r.parts)
		o := appendOut(nil, key, lines, t0, t0+int64(seed&0xffff), parts)
		var or outRec
		if err := or.read(bytes.NewReader(o), 10); err != nil || !bytes.Equal(or.key, key) || or.lines != lines || or.first != t0 || len(or.fams) != len(parts) {
			t.Fatalf("final record read back: %v %+v", err, or)
		}
		// Arbitrary bytes: an error or a record, no panic.
		br := bufio.NewReader(bytes.NewReader(junk))
		for readRec(br, &back, 10) == nil {
		}
		jr := bytes.NewReader(junk)
		for or.read(jr, 10) == nil {
		}
	})
}
