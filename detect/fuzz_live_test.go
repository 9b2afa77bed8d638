package detect

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// FuzzZeek reads a line after the header of a Zeek http.log or conn.log
// in TSV, or as a JSON line: whatever the line, a reason or a record whose
// fields hold together.
func FuzzZeek(f *testing.F) {
	for _, name := range []string{"http.log", "conn.log", "http.json", "conn.json"} {
		for l := range strings.SplitSeq(string(zeekSample(f, name)), "\n") {
			if l != "" && l[0] != '#' {
				f.Add([]byte(l), uint8(strings.Index("hcHC", name[:1])+len(name)%2*2))
			}
		}
	}
	f.Add([]byte(`{"ts":"2020-06-05T14:39:59.430166Z","id.orig_h":"1.2.3.4","id.resp_p":80,"uri":"/a\u0000\ud83d\ude00\x41","method":null}`), uint8(2))
	f.Add([]byte("1.5\t\\x2d\t\\x\t(empty)"), uint8(0))
	head := map[uint8]string{}
	for i, name := range []string{"http.log", "conn.log"} {
		var h []string
		for l := range strings.SplitSeq(string(zeekSample(f, name)), "\n") {
			if strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "#close") {
				h = append(h, l)
			}
		}
		head[uint8(i)] = strings.Join(h, "\n") + "\n"
	}
	f.Fuzz(func(t *testing.T, line []byte, kind uint8) {
		var rec Record
		rec.reset()
		var why Reason
		if kind%4 < 2 {
			z := newZeekTSV()
			for l := range strings.SplitSeq(strings.TrimSuffix(head[kind%2], "\n"), "\n") {
				if err := z.directive([]byte(l)); err != nil {
					t.Fatal(err)
				}
			}
			if len(line) > 0 && line[0] == '#' {
				_ = z.directive(line)
				return
			}
			why = z.parse(line, &rec)
		} else {
			var z zeekJSON
			why = z.parse(line, &rec)
		}
		switch {
		case why == passed:
			return
		case why != ok:
			if why >= numReasons {
				t.Fatalf("reason %d", why)
			}
			return
		}
		if len(rec.Source) == 0 || rec.Transport == NoTransport || rec.Bytes < -1 || rec.Status < 0 || rec.Status > 999 {
			t.Fatalf("record %+v", rec)
		}
		if y := rec.Time.Year(); y < minYear || y > maxYear+1 {
			t.Fatalf("time %v", rec.Time)
		}
		if rec.Attempt && (rec.Method != nil || rec.Target != nil) {
			t.Fatalf("an attempt with a request: %+v", rec)
		}
		if !bytes.Equal(rec.Target, append(append(bytes.Clone(rec.Path), "?"[:min(1, len(rec.Target)-len(rec.Path))]...), rec.Query...)) {
			t.Fatalf("target %q is not path %q ? query %q", rec.Target, rec.Path, rec.Query)
		}
	})
}

// FuzzLineReader feeds an input to a LineReader in chunks of whole lines
// (their sizes drawn from seed), settling at random, and checks that it
// gives the records, counts and errors of the batch Reader on the same
// bytes.
func FuzzLineReader(f *testing.F) {
	f.Add(zeekSample(f, "http.log"), uint64(1))
	f.Add(append(zeekSample(f, "conn.json"), zeekSample(f, "http.json")...), uint64(2))
	f.Add([]byte(iisLog), uint64(3))
	f.Add([]byte("\n\n\x00\n"+strings.Repeat("z", 300)+"\n"+clf("1.2.3.4", "10/May/2004:13:18:06", "GET / HTTP/1.1", 400)+"\n"), uint64(4))
	f.Add([]byte("notes\nmore notes"), uint64(5))
	type out struct {
		recs   []string
		counts Counts
		err    string
	}
	show := func(r *Record) string {
		return strings.Join([]string{itoa(int(r.Pos)), r.Time.String(), string(r.Source), string(r.Method), string(r.Target), string(r.Protocol),
			string(r.UserAgent), itoa(r.Status), r.Transport.String(), itoa(int(r.DstPort)), map[bool]string{true: "attempt"}[r.Attempt]}, "|")
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
			return // gzip: the batch reader unpacks it, lines are given plain
		}
		opt := ReaderOptions{MaxLine: MinMaxLine}
		var want out
		rd, err := NewReader("in", bytes.NewReader(data), opt)
		if err == nil {
			for {
				r, err2 := rd.Next()
				if err2 == io.EOF {
					break
				}
				if err2 != nil {
					err = err2
					break
				}
				want.recs = append(want.recs, show(r))
			}
			want.counts = rd.Counts()
		}
		if err != nil {
			want.err = err.Error()
		}
		var got out
		lr, err := NewLineReader("in", opt)
		if err != nil {
			t.Fatal(err)
		}
		emit := func(r *Record) error { got.recs = append(got.recs, show(r)); return nil }
		rng := rand.New(rand.NewPCG(seed, 9))
		for rest := data; len(rest) > 0 && err == nil; {
			n := 0
			for range 1 + rng.IntN(5) {
				i := bytes.IndexByte(rest[n:], '\n')
				if i < 0 {
					n = len(rest)
					break
				}
				n += i + 1
			}
			err = lr.Feed(bytes.Clone(rest[:n]), emit)
			rest = rest[n:]
			if err == nil && rng.IntN(3) == 0 {
				err = lr.Settle(emit)
			}
		}
		if err == nil {
			err = lr.End(emit)
		}
		if err != nil {
			got.err = err.Error()
		}
		got.counts = lr.Input().Counts
		if want.err != "" || got.err != "" {
			// A LineReader that settled on fewer lines may choose where
			// the batch reader, with more, fails (or the reverse): only
			// errors of reading the same way must be the same.
			var ie *InputError
			if want.err != "" && got.err != "" && !errors.As(err, &ie) {
				t.Fatalf("live error %v is not an *InputError", err)
			}
			return
		}
		if strings.Join(got.recs, "\n") != strings.Join(want.recs, "\n") || got.counts != want.counts {
			t.Fatalf("live:\n%s\n%+v\nbatch:\n%s\n%+v", strings.Join(got.recs, "\n"), got.counts, strings.Join(want.recs, "\n"), want.counts)
		}
	})
}
