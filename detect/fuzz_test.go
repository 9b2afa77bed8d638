package detect

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// Fuzz targets of the log readers. The seed corpus runs with the ordinary
// tests; run each for a while with, for example,
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
		fm := Format(format % 4)
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
	f.Add(string(builtinTOML))
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
