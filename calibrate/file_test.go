package calibrate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseFileErrors: each bad calibration file gives one *Error naming
// the file, the line and the field.
func TestParseFileErrors(t *testing.T) {
	t.Parallel()
	r := strings.Replace
	cases := []struct {
		name, doc, want string
	}{
		{"unknown key", r(small, "particles =", "particle =", 1), "bad.toml:5: particle: unknown key"},
		{"unknown param key", r(small, "prior = \"log-uniform\"", "priors = \"log-uniform\"", 1), "bad.toml:11: param.priors: unknown key (allowed: key, prior"},
		{"wrong type", r(small, "particles = 40", "particles = \"40\"", 1), "bad.toml:5: particles:"},
		{"bad prior", r(small, "\"log-uniform\"", "\"lognormal\"", 1), "bad.toml:11: param[1].prior: \"lognormal\": want uniform, log-uniform, normal or beta"},
		{"bounds", r(small, "max = 5.0", "max = 0.1", 1), "bad.toml:13: param[1].max: 0.1 is not above min 0.2"},
		{"log-uniform at 0", r(small, "min = 0.2", "min = 0.0", 1), "bad.toml:12: param[1].min: 0: prior = \"log-uniform\" needs min above 0"},
		{"normal without sd", r(small, "prior = \"log-uniform\"", "prior = \"normal\"\nmean = 1.0", 1), "bad.toml:9: param[1].sd: missing or not above 0"},
		{"beta field on uniform", r(small, "max = 5.0", "max = 5.0\nalpha = 2.0", 1), "bad.toml:14: param[1].alpha: not used by prior = \"log-uniform\""},
		{"bad stat", r(small, "\"infected_at\"", "\"infected_by\"", 1), "bad.toml:17: target[1].stat: \"infected_by\": want one of"},
		{"bad role", r(small, "role = \"validate\"", "role = \"check\"", 1), "bad.toml:29: target[2].role: \"check\": want calibrate or validate"},
		{"series lengths", r(small, "[30.0, 90.0, 160.0]", "[30.0, 90.0]", 1), "bad.toml:21: target[1].values: 2 values for 3 times in at"},
		{"bad time", r(small, "\"40m\"", "\"forty\"", 1), "bad.toml:20: target[1].at: element 3: \"forty\""},
		{"point with at", r(small, "value = 200.0", "at = [\"1h\"]", 1), "bad.toml:30: target[2].at: stat \"ever_infected\" is a point: give value"},
		{"no calibrate target", r(small, "role = \"calibrate\"", "role = \"validate\"", 1), "bad.toml:15: target: no target has role = \"calibrate\""},
		{"duplicate name", r(small, "name = \"ever\"", "name = \"infected\"", 1), "bad.toml:27: target[2].name: \"infected\" is target[1]'s name already"},
		{"zero sd", r(small, "sd = 5.0", "sd = 0.0", 1), "bad.toml:32: target[2].sd: 0: want a number above 0"},
		{"relative sd at 0", r(r(small, "value = 200.0", "value = 0.0", 1), "error = \"absolute\"", "error = \"relative\"", 1), "bad.toml:26: target[2].sd_min: observed value 1 is 0"},
		{"quantile", r(small, "seed = 7", "seed = 7\nquantile = 1.5", 1), "bad.toml:5: quantile: 1.5: want a number between 0 and 1"},
		{"syntax", r(small, "particles = 40", "particles = = 40", 1), "bad.toml:5:"},
		{"unknown unit", r(small, "max = 5.0", "max = 5.0\nunit = \"w\"", 1), "bad.toml:14: param[1].unit: \"w\": want s, m, h or d"},
		{"unit not a string", r(small, "max = 5.0", "max = 5.0\nunit = 3", 1), "bad.toml:14: param.unit: toml: cannot decode TOML integer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseFile("bad.toml", []byte(c.doc))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want an *Error", err, err)
			}
			if !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error\n  %q\nwant one line starting with\n  %q", err, c.want)
			}
		})
	}
}

// TestPlanErrors: a key the scenario does not have, a bound it refuses, a
// time outside its span and a missing CSV file are *Errors at their field.
func TestPlanErrors(t *testing.T) {
	t.Parallel()
	r := strings.Replace
	cases := []struct {
		name, doc, want string
	}{
		{"unknown key", r(small, "worm.rate.fixed", "worm.rate.fixd", 1), "bad.toml:10: param[1].key: --set worm.rate.fixd=0.2: worm.rate.fixd: unknown key"},
		{"refused bound", r(r(small, "prior = \"log-uniform\"", "prior = \"uniform\"", 1), "min = 0.2", "min = -1.0", 1), "bad.toml:12: param[1].min: --set worm.rate.fixed=-1.0"},
		{"unknown scenario", r(small, "fast-uniform", "fast-uniforme", 1), "bad.toml:2: scenario:"},
		{"time outside", r(small, "\"40m\"", "\"3h\"", 1), "bad.toml:20: target[1].at: time 3 is outside the scenario's span"},
		{"unit on a number key", r(small, "max = 5.0", "max = 5.0\nunit = \"h\"", 1), "bad.toml:14: param[1].unit: \"h\": worm.rate.fixed takes a number, not a duration (remove unit)"},
		{"unit on an integer key", r(r(small, "worm.rate.fixed", "population.hosts", 1), "max = 5.0", "max = 5.0\ninteger = true\nunit = \"d\"", 1), "bad.toml:15: param[1].unit: \"d\": population.hosts takes a number, not a duration"},
		{"duration without unit", r(small, "worm.rate.fixed", "defense.reboot.mean_interval", 1), "bad.toml:9: param[1].unit: missing: defense.reboot.mean_interval is a duration: give unit = \"s\", \"m\", \"h\" or \"d\""},
		{"duration out of range", r(r(r(small, "worm.rate.fixed", "defense.reboot.mean_interval", 1), "max = 5.0", "max = 5.0\nunit = \"s\"", 1), "min = 0.2", "min = 1.0", 1), "bad.toml:12: param[1].min: --set defense.reboot.mean_interval=1s:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, err := ParseFile("bad.toml", []byte(c.doc))
			if err != nil {
				t.Fatal(err)
			}
			_, err = NewPlan(s)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want an *Error", err, err)
			}
			if !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error\n  %q\nwant one line starting with\n  %q", err, c.want)
			}
		})
	}
	// A series from a CSV file, relative to the calibration file: read;
	// a missing one and a bad row are errors at the target's csv.
	dir := t.TempDir()
	doc := r(small, "at = [\"20m\", \"30m\", \"40m\"]\nvalues = [30.0, 90.0, 160.0]", "csv = \"obs.csv\"", 1)
	os.WriteFile(filepath.Join(dir, "c.toml"), []byte(doc), 0o644)
	if _, err := ReadFile(filepath.Join(dir, "c.toml")); err == nil || !strings.Contains(err.Error(), "target[1].csv:") || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing CSV: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "obs.csv"), []byte("at,value\n20m,30\n2001-07-19T10:30:00Z,90\n40m,x\n"), 0o644)
	if _, err := ReadFile(filepath.Join(dir, "c.toml")); err == nil || !strings.Contains(err.Error(), "line 4: value \"x\"") {
		t.Errorf("bad CSV row: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "obs.csv"), []byte("at,value\n20m,30\n2001-07-19T10:30:00Z,90\n40m,160\n"), 0o644)
	s, err := ReadFile(filepath.Join(dir, "c.toml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlan(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Spec.Targets[0].offsets; len(got) != 3 || got[0] != 1200 || got[1] != 1800 || got[2] != 2400 {
		t.Errorf("CSV times: %v seconds, want 1200, 1800, 2400", got)
	}
}
