package sweep

import (
	"errors"
	"strings"
	"testing"
)

const goodGrid = `scenario = "fast-uniform"
set = ["space.bits=16", "population.hosts=100", "end=2001-07-19T10:30:00Z"]
design = "grid"
seeds = 2

[[factor]]
key = "worm.rate.fixed"
values = [50.0, 100.0]

[[factor]]
key = "population.patched"
values = [0.0, 0.25, 0.5]
`

func TestParseFileGood(t *testing.T) {
	s, err := ParseFile("good.toml", []byte(goodGrid))
	if err != nil {
		t.Fatal(err)
	}
	if s.Engine != "fast" || s.FirstSeed != 1 || s.Seeds != 2 || len(s.Outputs) != len(DefaultOutputs) {
		t.Errorf("defaults: %+v", s)
	}
	pts, err := s.DesignPoints()
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 6 || strings.Join(pts[1].Sets(s.Factors), " ") != "worm.rate.fixed=50.0 population.patched=0.25" {
		t.Errorf("%d points, the second %v", len(pts), pts[1].Sets(s.Factors))
	}
}

// TestParseFileErrors: each bad sweep file gives one *Error naming the
// file, the line and the field.
func TestParseFileErrors(t *testing.T) {
	lhs := "scenario = \"fast-uniform\"\ndesign = \"lhs\"\npoints = 10\n\n[[factor]]\nkey = \"defense.patch.rate\"\n"
	cases := []struct {
		name, doc string
		want      string // the whole message starts with it
	}{
		{"unknown top-level key", strings.Replace(goodGrid, "seeds = 2", "seedz = 2", 1), "bad.toml:4: seedz: unknown key"},
		{"unknown factor key", strings.Replace(goodGrid, "values = [50.0, 100.0]", "valeus = [50.0, 100.0]", 1), "bad.toml:8: factor.valeus: unknown key"},
		{"wrong type", strings.Replace(goodGrid, "seeds = 2", "seeds = \"two\"", 1), "bad.toml:4: seeds:"},
		{"max below min", lhs + "min = 2.0\nmax = 0.5\n", "bad.toml:8: factor[1].max: 0.5 is not above min 2.0"},
		{"max equal to min", lhs + "min = 1\nmax = 1\n", "bad.toml:8: factor[1].max: 1 is not above min 1"},
		{"log from 0", lhs + "min = 0.0\nmax = 1.0\nlog = true\n", "bad.toml:7: factor[1].min: 0.0: log = true needs min above 0"},
		{"missing max", lhs + "min = 0.0\n", "bad.toml:5: factor[1].max: missing"},
		{"kinds differ", lhs + "min = 0.0\nmax = 2001-07-19T00:00:00Z\n", "bad.toml:8: factor[1].max: not of the same kind"},
		{"bad duration", lhs + "min = \"1h\"\nmax = \"soon\"\n", "bad.toml:8: factor[1].max: \"soon\""},
		{"values in lhs", lhs + "min = 0.0\nmax = 1.0\nvalues = [1.0]\n", "bad.toml:9: factor[1].values: not used"},
		{"bounds in grid", strings.Replace(goodGrid, "values = [50.0, 100.0]", "min = 1.0", 1), "bad.toml:8: factor[1].min: not used"},
		{"no design", strings.Replace(goodGrid, "design = \"grid\"", "", 1), "bad.toml: design: missing"},
		{"unknown design", strings.Replace(goodGrid, "design = \"grid\"", "design = \"random\"", 1), "bad.toml:3: design: \"random\""},
		{"unknown output", goodGrid + "\n", ""}, // replaced below
		{"value twice", strings.Replace(goodGrid, "[0.0, 0.25, 0.5]", "[0.0, 0.25, 0.25]", 1), "bad.toml:12: factor[2].values: 0.25 is given twice"},
		{"key twice", strings.Replace(goodGrid, "population.patched", "worm.rate.fixed", 1), "bad.toml:11: factor[2].key: \"worm.rate.fixed\" is varied by factor[1] already"},
		{"no factor", "scenario = \"fast-uniform\"\ndesign = \"grid\"\n", "bad.toml: factor: no [[factor]] table"},
		{"zero seeds", strings.Replace(goodGrid, "seeds = 2", "seeds = 0", 1), "bad.toml:4: seeds: 0: want 1 to"},
		{"sobol n", "scenario = \"x\"\ndesign = \"sobol\"\nn = 1\n[[factor]]\nkey = \"a\"\nmin = 0\nmax = 1\n", "bad.toml:3: n: 1:"},
		{"syntax", "scenario = \n", "bad.toml:1:"},
		{"set without =", strings.Replace(goodGrid, "\"space.bits=16\"", "\"space.bits\"", 1), "bad.toml:2: set: element 1"},
		{"local date-time", strings.Replace(goodGrid, "[50.0, 100.0]", "[2001-07-19T00:00:00]", 1), "bad.toml:8: factor[1].values: element 1"},
	}
	cases[13].doc = strings.Replace(goodGrid, "seeds = 2", "seeds = 2\noutputs = [\"ever_infected\", \"infected\"]", 1)
	cases[13].want = "bad.toml:5: outputs: \"infected\" is not an output"
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseFile("bad.toml", []byte(c.doc))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want an *Error", err, err)
			}
			if !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error\n  %s\nwant it to start with\n  %s", err, c.want)
			}
		})
	}
}

// TestNewPlanScenarioErrors: a key the scenario does not take, in a factor
// or in set, is reported at its line in the sweep file.
func TestNewPlanScenarioErrors(t *testing.T) {
	cases := []struct {
		name, doc, want string
	}{
		{"unknown factor key", strings.Replace(goodGrid, "population.patched", "population.pached", 1),
			"bad.toml:11: factor[2].key: --set population.pached=0.0: population.pached: unknown key"},
		{"value out of range", strings.Replace(goodGrid, "[0.0, 0.25, 0.5]", "[0.0, 0.25, 1.5]", 1),
			"bad.toml:12: factor[2].values: --set population.patched=1.5"},
		{"unknown set key", strings.Replace(goodGrid, "space.bits=16", "space.bitz=16", 1),
			"bad.toml:2: set: --set space.bitz=16"},
		{"unknown scenario", strings.Replace(goodGrid, "fast-uniform", "nosuch", 1),
			"bad.toml:1: scenario: nosuch"},
		{"bound out of range", "scenario = \"fast-uniform\"\ndesign = \"lhs\"\npoints = 4\n[[factor]]\nkey = \"population.patched\"\nmin = 0.0\nmax = 1.5\n",
			"bad.toml:7: factor[1].max: --set population.patched=1.5"},
		{"float bounds of an integer key", "scenario = \"fast-uniform\"\ndesign = \"lhs\"\npoints = 4\n[[factor]]\nkey = \"population.hosts\"\nmin = 100.0\nmax = 200.0\n",
			"bad.toml:5: factor[1].key: point 1: --set population.hosts=152.78: population.hosts: want an integer"},
		{"advisory that is not there", strings.Replace(goodGrid, "population.patched", "defense.advisory.cert.time", 1),
			"bad.toml:11: factor[2].key: --set defense.advisory.cert.time=0.0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
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
				t.Errorf("error\n  %s\nwant it to start with\n  %s", err, c.want)
			}
		})
	}
}
