package calibrate

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseFile: whatever the bytes, ParseFile returns a *Error on one line
// naming the file, or a Spec whose every value was checked: bounds in
// order, a calibrate target, an sd above 0 for each observed value.
func FuzzParseFile(f *testing.F) {
	f.Add([]byte(small))
	f.Add([]byte(strings.Replace(small, "log-uniform", "beta\nalpha = 2.0\nbeta = 3.0", 1)))
	f.Add([]byte(strings.Replace(small, "log-uniform", "normal\nmean = 1.0\nsd = 0.5", 1)))
	f.Add([]byte("scenario = \"x\"\n[[param]]\nkey = \"a\"\n[[target]]\n"))
	f.Add([]byte("[[target]]\nat = [2001-07-19T10:00:00Z, \"1h\", 3]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseFile("f.toml", data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "f.toml") || strings.Contains(msg, "\n") {
				t.Fatalf("error %q: want one line starting with the file name", msg)
			}
			return
		}
		calib := false
		for _, p := range s.Params {
			if !(*p.Max > *p.Min) {
				t.Fatalf("param %s: bounds %v, %v", p.Key, *p.Min, *p.Max)
			}
			for _, u := range []float64{0, 0.3, 0.999} {
				if x := p.priorDraw(u); !(x >= *p.Min && x <= *p.Max) {
					t.Fatalf("param %s: prior draw %v outside its bounds", p.Key, x)
				}
			}
		}
		for _, tg := range s.Targets {
			calib = calib || tg.Role == RoleCalibrate
			if tg.CSV != "" {
				continue
			}
			if len(tg.sds) != len(tg.obs) || len(tg.obs) == 0 {
				t.Fatalf("target %s: %d sds for %d values", tg.Name, len(tg.sds), len(tg.obs))
			}
			for _, sd := range tg.sds {
				if !(sd > 0) {
					t.Fatalf("target %s: sd %v", tg.Name, sd)
				}
			}
		}
		if !calib {
			t.Fatal("no calibrate target")
		}
	})
}
