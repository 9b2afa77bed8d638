package sweep

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseFile: whatever the bytes, ParseFile returns a *Error on one
// line naming the file, or a spec whose design can be built with the
// number of points it declares.
func FuzzParseFile(f *testing.F) {
	f.Add([]byte(goodGrid))
	f.Add([]byte("scenario = \"x\"\ndesign = \"lhs\"\npoints = 3\n[[factor]]\nkey = \"a\"\nmin = 1\nmax = 5\nlog = true\n"))
	f.Add([]byte("scenario = \"x\"\ndesign = \"sobol\"\nn = 4\n[[factor]]\nkey = \"a\"\nmin = 2001-07-19T00:00:00Z\nmax = 2001-07-20T00:00:00Z\n[[factor]]\nkey = \"b\"\nmin = \"1h\"\nmax = \"2d\"\n"))
	f.Add([]byte("scenario = 1\n[[factor]]\nkey = [1]\nvalues = [{a = 1}]\n"))
	f.Add([]byte("\xef\xbb\xbfdesign = \"grid\"\n[factor]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseFile("fuzz.toml", data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "fuzz.toml") || strings.ContainsAny(msg, "\n\r") {
				t.Fatalf("error %q: not one line starting with the file", msg)
			}
			return
		}
		want := 0
		switch s.Design {
		case DesignGrid:
			want = 1
			for _, f := range s.Factors {
				want *= len(f.Values)
			}
		case DesignLHS:
			want = s.Points
		case DesignSobol:
			want = s.N * (len(s.Factors) + 2)
		}
		if want*s.Seeds > MaxRuns || want > 2000 {
			return // valid, but too long to build in a fuzz step
		}
		pts, err := s.DesignPoints()
		if err != nil {
			t.Fatalf("DesignPoints: %v", err)
		}
		if len(pts) != want {
			t.Fatalf("%d points, want %d", len(pts), want)
		}
		for _, p := range pts {
			for i, txt := range p.Text {
				if txt == "" || strings.ContainsAny(txt, "\n\r") {
					t.Fatalf("factor %d: value %q", i+1, txt)
				}
			}
		}
	})
}
