package detect

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// stored is what a service keeps of a record to rebuild an analyzer: the
// families it matched, or the attempt, with its time and source.
type stored struct {
	rec  Record
	fams []int
}

// TestResumeEqualsBatch reads each input live in chunks of random sizes
// and, at random moments between chunks, "restarts": the LineReader is
// resumed from its MarshalState in a new reader, and a new Analyzer is
// rebuilt from the records kept so far with AddMatched (requests that
// matched families, attempts, and the span of the others). The last
// report is the batch report of the whole input, byte for byte.
func TestResumeEqualsBatch(t *testing.T) {
	t.Parallel()
	for name, data := range liveInputs(t) {
		if name == "no newline" {
			continue // the input ends: nothing to resume after
		}
		opt := Options{MaxLine: 1024, TempDir: t.TempDir()}
		rng := rand.New(rand.NewPCG(uint64(len(data)), 7))
		m, err := NewMatcher(Builtin())
		if err != nil {
			t.Fatal(err)
		}
		opt.Matcher = m
		var kept []stored
		var spanLo, spanHi time.Time
		var a *Analyzer
		var lr *LineReader
		restart := func(state []byte) {
			if a != nil {
				a.Close()
			}
			if a, err = NewAnalyzer(opt); err != nil {
				t.Fatal(err)
			}
			if state == nil {
				lr, err = NewLineReader("in", ReaderOptions{MaxLine: opt.MaxLine})
			} else {
				lr, err = ResumeLineReader("in", ReaderOptions{MaxLine: opt.MaxLine}, state)
			}
			if err != nil {
				t.Fatal(err)
			}
			a.Track(lr)
			for _, s := range kept {
				if err := a.AddMatched(&s.rec, s.fams); err != nil {
					t.Fatal(err)
				}
			}
			for _, at := range []time.Time{spanLo, spanHi} {
				if !at.IsZero() {
					if err := a.AddMatched(&Record{Time: at}, nil); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		restart(nil)
		var dst []int
		emit := func(r *Record) error {
			dst = m.Match(r, dst[:0])
			if r.Attempt || len(dst) > 0 {
				kept = append(kept, stored{rec: Record{Time: r.Time, Source: bytes.Clone(r.Source), Attempt: r.Attempt, Transport: r.Transport, DstPort: r.DstPort},
					fams: append([]int(nil), dst...)})
			} else {
				if spanLo.IsZero() || r.Time.Before(spanLo) {
					spanLo = r.Time
				}
				if r.Time.After(spanHi) {
					spanHi = r.Time
				}
			}
			return a.AddMatched(r, dst)
		}
		restarts := 0
		for rest := data; len(rest) > 0; {
			n := 0
			for range 1 + rng.IntN(12) {
				i := bytes.IndexByte(rest[n:], '\n')
				if i < 0 {
					n = len(rest)
					break
				}
				n += i + 1
			}
			if err := lr.Feed(bytes.Clone(rest[:n]), emit); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			rest = rest[n:]
			if rng.IntN(3) == 0 {
				if err := lr.Settle(emit); err != nil {
					t.Fatal(err)
				}
			}
			if lr.Pending() > 0 || rng.IntN(3) > 0 {
				if _, err := lr.MarshalState(); err == nil && lr.Pending() > 0 {
					t.Fatalf("%s: a state while lines are held", name)
				}
				continue
			}
			state, err := lr.MarshalState()
			if err != nil {
				t.Fatal(err)
			}
			restart(state)
			restarts++
		}
		if err := lr.End(emit); err != nil {
			t.Fatal(err)
		}
		r, err := a.Report(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got := reportBytes(t, r)
		r.Close()
		a.Close()
		if want := batch(t, data, opt); got != want {
			t.Fatalf("%s after %d restarts: the report differs from the batch report:\n%s", name, restarts, firstDiff(got, want))
		}
		if restarts == 0 && bytes.Count(data, []byte("\n")) > 10 {
			t.Errorf("%s: never restarted", name)
		}
	}
}

// TestResumeRefusesDamage checks that a damaged or foreign state is an
// error naming the input, and AddMatched's checks of its families.
func TestResumeRefusesDamage(t *testing.T) {
	t.Parallel()
	for _, st := range []string{"", "{", `{"v":2}`, `{"v":1,"format":9}`, `{"v":1,"line":-1}`, `{"v":1,"format":3,"w3c":{"pos":[1]}}`, `{"v":1,"format":4,"zeek":{"n":1}}`} {
		if _, err := ResumeLineReader("x.log", ReaderOptions{}, []byte(st)); err == nil || !strings.HasPrefix(err.Error(), "x.log: ") {
			t.Errorf("state %q: %v", st, err)
		}
	}
	a, err := NewAnalyzer(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	rec := &Record{Time: time.Unix(1e9, 0), Source: []byte("1.2.3.4")}
	for _, fams := range [][]int{{1, 1}, {2, 1}, {-1}, {1 << 20}} {
		if err := a.AddMatched(rec, fams); err == nil {
			t.Errorf("families %v: no error", fams)
		}
	}
	rec.Attempt = true
	if err := a.AddMatched(rec, []int{0}); err == nil {
		t.Error("an attempt with families: no error")
	}
}
