package sweep

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"wormwatch/internal/param"
	"wormwatch/internal/tomlfile"
)

// The designs of a sweep.
const (
	DesignGrid  = "grid"  // every combination of each factor's values
	DesignLHS   = "lhs"   // a Latin hypercube of Points points within the bounds
	DesignSobol = "sobol" // Saltelli's design: N × (d+2) points from a Sobol sequence
)

// Limits of a sweep file.
const (
	MaxFileBytes    = 1 << 20    // the largest sweep file read
	MaxFactors      = 16         // factors of a grid or a Latin hypercube
	MaxSobolFactors = MaxDim / 2 // Saltelli's design takes 2 dimensions per factor
	MaxRuns         = 200_000    // points × seeds
	MaxSeeds        = 10_000     // seeds per point
	MaxBootstrap    = 100_000    // bootstrap resamples of the Sobol indices
)

// Spec is a sweep file, decoded and checked. Field tags are the keys of the
// file; docs/sweep.md documents each.
type Spec struct {
	Base                // scenario, set (applied to every point first), engine
	Design     string   `toml:"design"`      // grid, lhs or sobol
	Seeds      int      `toml:"seeds"`       // seeds per point (default 1)
	FirstSeed  uint64   `toml:"first_seed"`  // the seeds are FirstSeed ... FirstSeed+Seeds-1 (default 1)
	Points     int      `toml:"points"`      // lhs: number of points
	N          int      `toml:"n"`           // sobol: base sample size
	SampleSeed uint64   `toml:"sample_seed"` // lhs: seed of the hypercube; sobol: of the bootstrap (default 1)
	Bootstrap  int      `toml:"bootstrap"`   // sobol: bootstrap resamples (default 1000)
	Outputs    []string `toml:"outputs"`     // outputs reported (default DefaultOutputs)
	Factors    []Factor `toml:"factor"`      // the keys varied, one [[factor]] table each

	// File is the sweep file's name as given to ParseFile (for messages).
	File string `toml:"-"`
	// lines maps "key" and "factor.I.key" (I from 0) to their line.
	lines map[string]int
}

// Factor is one scenario key varied by the sweep.
type Factor struct {
	Key    string `toml:"key"`    // as --set takes it: defense.patch.rate, defense.advisory.NAME.time
	Values []any  `toml:"values"` // grid: the values (numbers, date-times, strings, booleans)
	Min    any    `toml:"min"`    // lhs, sobol: lower bound (number, date-time or duration string)
	Max    any    `toml:"max"`    // lhs, sobol: upper bound, of the same kind
	Log    bool   `toml:"log"`    // lhs, sobol: sample the logarithm uniformly (numbers > 0 only)

	kind kind // of the bounds
	lo   float64
	hi   float64
}

// kind is the kind of a factor's bounds.
type kind int

const (
	kindFloat kind = iota
	kindInt
	kindTime     // seconds since 1970
	kindDuration // seconds
)

// Error is a problem with a sweep file: one line naming the file, the line
// and the field, like
//
//	sweep.toml:12: factor[2].max: 0.5 is below min 2
//
// It is the error of the project's strict TOML files (package tomlfile),
// shared with calibration files.
type Error = tomlfile.Error

// ReadFile reads and parses the sweep file at path (ParseFile).
func ReadFile(path string) (*Spec, error) {
	data, err := tomlfile.Read(path, "sweep file", MaxFileBytes)
	if err != nil {
		return nil, err
	}
	return ParseFile(path, data)
}

// DefaultOutputs are reported when a sweep file names none.
var DefaultOutputs = []string{"ever_infected", "final.infected", "peak_infected", "time_to_50_percent_infected_hours"}

// ParseFile decodes a sweep file strictly (an unknown key is an error) and
// checks every value that can be checked without the scenario: the design
// and what it needs, counts and their limits, the outputs, each factor's
// values or bounds. name is used in messages. The error, if any, is the
// first problem found, as an *Error. Whether each factor's key exists in
// the scenario and takes its values is checked by Plan.
func ParseFile(name string, data []byte) (*Spec, error) {
	s := &Spec{File: name}
	var err error
	if s.lines, err = tomlfile.Decode(name, data, s, fieldTags, allowedKeys, "factor"); err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}

// fieldTags maps the Go fields of a sweep file to their TOML keys.
var fieldTags = map[string]string{
	"Spec.Scenario": "scenario", "Spec.Set": "set", "Spec.Engine": "engine", "Spec.Design": "design",
	"Spec.Seeds": "seeds", "Spec.FirstSeed": "first_seed", "Spec.Points": "points", "Spec.N": "n",
	"Spec.SampleSeed": "sample_seed", "Spec.Bootstrap": "bootstrap", "Spec.Outputs": "outputs", "Spec.Factors": "factor",
	"Factor.Key": "key", "Factor.Values": "values", "Factor.Min": "min", "Factor.Max": "max", "Factor.Log": "log",
}

// allowedKeys lists the keys allowed next to an unknown key.
func allowedKeys(key []string) string {
	if len(key) > 1 && key[0] == "factor" {
		return "key, values, min, max, log"
	}
	return "scenario, set, engine, design, seeds, first_seed, points, n, sample_seed, bootstrap, outputs, [[factor]]"
}

// fail returns an *Error at the line of the top-level key.
func (s *Spec) fail(key, format string, a ...any) error {
	return &Error{File: s.File, Line: s.lines[key], Field: key, Msg: fmt.Sprintf(format, a...)}
}

// failFactor returns an *Error at the line of a key of factor i (from 0),
// or of its table when the key is not written.
func (s *Spec) failFactor(i int, key, format string, a ...any) error {
	return tomlfile.ErrorIn(s.File, s.lines, "factor", i, key, format, a...)
}

// Has reports whether the sweep file wrote the top-level key.
func (s *Spec) has(key string) bool { _, ok := s.lines[key]; return ok }

// check sets defaults and checks what can be checked without the scenario.
func (s *Spec) check() error {
	if err := s.Base.Check(s.fail); err != nil {
		return err
	}
	if !s.has("seeds") {
		s.Seeds = 1
	}
	if s.Seeds < 1 || s.Seeds > MaxSeeds {
		return s.fail("seeds", "%d: want 1 to %d", s.Seeds, MaxSeeds)
	}
	if !s.has("first_seed") {
		s.FirstSeed = 1
	}
	if s.FirstSeed > math.MaxUint64-uint64(s.Seeds) {
		return s.fail("first_seed", "%d: the seeds would pass the largest seed", s.FirstSeed)
	}
	if !s.has("sample_seed") {
		s.SampleSeed = 1
	}
	if !s.has("bootstrap") {
		s.Bootstrap = 1000
	}
	if len(s.Outputs) == 0 {
		if s.has("outputs") {
			return s.fail("outputs", "empty: name at least one of %s", strings.Join(OutputNames(), ", "))
		}
		s.Outputs = append([]string(nil), DefaultOutputs...)
	}
	seen := map[string]bool{}
	for _, o := range s.Outputs {
		if _, ok := outputs[o]; !ok {
			return s.fail("outputs", "%q is not an output (want %s)", o, strings.Join(OutputNames(), ", "))
		}
		if seen[o] {
			return s.fail("outputs", "%q is named twice", o)
		}
		seen[o] = true
	}
	if len(s.Factors) == 0 {
		return s.fail("factor", "no [[factor]] table: name at least one scenario key to vary")
	}
	keys := map[string]int{}
	for i := range s.Factors {
		f := &s.Factors[i]
		if f.Key == "" {
			return s.failFactor(i, "key", "missing: give key = \"dotted.key\" as --set takes it (defense.patch.rate)")
		}
		if j, ok := keys[f.Key]; ok {
			return s.failFactor(i, "key", "%q is varied by factor[%d] already", f.Key, j+1)
		}
		keys[f.Key] = i
	}
	switch s.Design {
	case "":
		return s.fail("design", "missing: want grid, lhs or sobol")
	case DesignGrid:
		return s.checkGrid()
	case DesignLHS, DesignSobol:
		return s.checkBounds()
	}
	return s.fail("design", "%q: want grid, lhs or sobol", s.Design)
}

func (s *Spec) checkGrid() error {
	if len(s.Factors) > MaxFactors {
		return s.fail("factor", "%d factors: a grid takes at most %d", len(s.Factors), MaxFactors)
	}
	for _, k := range []string{"points", "n", "bootstrap"} {
		if s.has(k) {
			return s.fail(k, "not used by design = \"grid\" (remove it)")
		}
	}
	points := 1
	for i, f := range s.Factors {
		for _, k := range []string{"min", "max", "log"} {
			if s.has(fmt.Sprintf("factor.%d.%s", i, k)) {
				return s.failFactor(i, k, "not used by design = \"grid\", which takes values = [...]")
			}
		}
		if len(f.Values) == 0 {
			return s.failFactor(i, "values", "missing or empty: a grid takes values = [...] for each factor")
		}
		seen := map[string]bool{}
		for j, v := range f.Values {
			t, err := valueText(v)
			if err != nil {
				return s.failFactor(i, "values", "element %d: %v", j+1, err)
			}
			if seen[t] {
				return s.failFactor(i, "values", "%s is given twice", t)
			}
			seen[t] = true
		}
		points *= len(f.Values)
		if points*s.Seeds > MaxRuns {
			return s.failFactor(i, "values", "the grid has more than %d runs (points × seeds)", MaxRuns)
		}
	}
	return nil
}

func (s *Spec) checkBounds() error {
	d := len(s.Factors)
	runs := 0
	switch s.Design {
	case DesignLHS:
		if s.has("n") || s.has("bootstrap") {
			k := "n"
			if !s.has("n") {
				k = "bootstrap"
			}
			return s.fail(k, "not used by design = \"lhs\" (remove it; lhs takes points)")
		}
		if d > MaxFactors {
			return s.fail("factor", "%d factors: a Latin hypercube takes at most %d", d, MaxFactors)
		}
		if s.Points < 2 {
			return s.fail("points", "%d: design = \"lhs\" takes points = 2 or more", s.Points)
		}
		runs = s.Points
	case DesignSobol:
		if s.has("points") {
			return s.fail("points", "not used by design = \"sobol\" (remove it; sobol takes n, the base sample size)")
		}
		if d > MaxSobolFactors {
			return s.fail("factor", "%d factors: the Sobol design takes at most %d (two Sobol dimensions per factor, %d dimensions in all)", d, MaxSobolFactors, MaxDim)
		}
		if s.N < 2 {
			return s.fail("n", "%d: design = \"sobol\" takes n = 2 or more (the base sample size; a power of 2 such as 64 is best)", s.N)
		}
		if s.Bootstrap < 0 || s.Bootstrap > MaxBootstrap {
			return s.fail("bootstrap", "%d: want 0 (no intervals) to %d", s.Bootstrap, MaxBootstrap)
		}
		if s.N > MaxRuns {
			return s.fail("n", "%d: more than %d runs", s.N, MaxRuns)
		}
		runs = s.N * (d + 2)
	}
	if runs > MaxRuns/s.Seeds {
		k := "points"
		if s.Design == DesignSobol {
			k = "n"
		}
		return s.fail(k, "%d points × %d seeds: more than %d runs", runs, s.Seeds, MaxRuns)
	}
	for i := range s.Factors {
		f := &s.Factors[i]
		if s.has(fmt.Sprintf("factor.%d.values", i)) {
			return s.failFactor(i, "values", "not used by design = %q, which takes min and max", s.Design)
		}
		if f.Min == nil {
			return s.failFactor(i, "min", "missing: design = %q takes min and max for each factor", s.Design)
		}
		if f.Max == nil {
			return s.failFactor(i, "max", "missing: design = %q takes min and max for each factor", s.Design)
		}
		klo, lo, err := bound(f.Min)
		if err != nil {
			return s.failFactor(i, "min", "%v", err)
		}
		khi, hi, err := bound(f.Max)
		if err != nil {
			return s.failFactor(i, "max", "%v", err)
		}
		if klo != khi && !(isNumber(klo) && isNumber(khi)) {
			return s.failFactor(i, "max", "not of the same kind as min (%s and %s)", klo, khi)
		}
		if isNumber(klo) && klo != khi {
			klo = kindFloat // an integer and a float: a float
		}
		if !(hi > lo) {
			return s.failFactor(i, "max", "%s is not above min %s", boundText(f.Max), boundText(f.Min))
		}
		if f.Log {
			if !isNumber(klo) {
				return s.failFactor(i, "log", "log scale needs numbers, not %ss", klo)
			}
			if lo <= 0 {
				return s.failFactor(i, "min", "%s: log = true needs min above 0", boundText(f.Min))
			}
		}
		f.kind, f.lo, f.hi = klo, lo, hi
	}
	return nil
}

func isNumber(k kind) bool { return k == kindFloat || k == kindInt }

// String names a kind in messages.
func (k kind) String() string {
	switch k {
	case kindInt:
		return "integer"
	case kindTime:
		return "date-time"
	case kindDuration:
		return "duration"
	}
	return "number"
}

// maxExact is the largest integer a float64 holds exactly (2^53).
const maxExact = 1 << 53

// bound reads a bound: a number, an offset date-time, or a duration string
// ("90m", "2d").
func bound(v any) (kind, float64, error) {
	switch b := v.(type) {
	case int64:
		if b > maxExact || b < -maxExact {
			return 0, 0, fmt.Errorf("%d: an integer bound is at most 2^53 in size", b)
		}
		return kindInt, float64(b), nil
	case float64:
		if math.IsNaN(b) || math.IsInf(b, 0) {
			return 0, 0, fmt.Errorf("%v: want a finite number", b)
		}
		return kindFloat, b, nil
	case time.Time:
		return kindTime, float64(b.Unix()), nil
	case string:
		d, err := param.ParseDuration(b)
		if err != nil {
			return 0, 0, fmt.Errorf("%q: want a number, a date-time (2001-07-19T18:00:00Z) or a duration (\"36h\", \"2d\")", b)
		}
		return kindDuration, d.Seconds(), nil
	}
	return 0, 0, fmt.Errorf("%s: want a number, a date-time (2001-07-19T18:00:00Z) or a duration (\"36h\", \"2d\")", describe(v))
}

// boundText writes a bound as the file did.
func boundText(v any) string {
	t, err := valueText(v)
	if err != nil {
		return describe(v)
	}
	return t
}

// describe names a TOML value that has no place here.
func describe(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case toml.LocalDate, toml.LocalDateTime, toml.LocalTime:
		return "a date-time without offset"
	}
	return fmt.Sprintf("%v", v)
}

// valueText writes a grid value as --set takes it.
func valueText(v any) (string, error) {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", fmt.Errorf("%v: want a finite number", x)
		}
		return formatFloat(x), nil
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), nil
	case string:
		if x == "" || strings.ContainsAny(x, "\r\n") {
			return "", fmt.Errorf("%q: want a non-empty one-line string", x)
		}
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case toml.LocalDate, toml.LocalDateTime, toml.LocalTime:
		return "", fmt.Errorf("%v: a date-time needs an offset (2001-07-19T18:00:00Z)", x)
	}
	return "", fmt.Errorf("%s: want a number, a date-time, a string or a boolean", describe(v))
}

// formatFloat writes a float the shortest way that reads back the same,
// always as a TOML float (with a '.' or an exponent) so that a float key
// reads it as one.
func formatFloat(x float64) string {
	t := strconv.FormatFloat(x, 'g', -1, 64)
	if !strings.ContainsAny(t, ".eE") {
		t += ".0"
	}
	return t
}

// OutputNames lists the outputs a sweep file may name, sorted.
func OutputNames() []string {
	var out []string
	for k := range outputs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
