package calibrate

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"gonum.org/v1/gonum/stat/distuv"

	"wormwatch/internal/param"
	"wormwatch/internal/tomlfile"
	"wormwatch/sweep"
)

// The priors of a free parameter (docs/calibrate.md).
const (
	PriorUniform    = "uniform"     // uniform on [min, max]
	PriorLogUniform = "log-uniform" // uniform in log on [min, max], min > 0
	PriorNormal     = "normal"      // normal(mean, sd) truncated to [min, max]
	PriorBeta       = "beta"        // beta(alpha, beta) scaled to [min, max]
)

// The roles of a target.
const (
	RoleCalibrate = "calibrate" // enters the distance
	RoleValidate  = "validate"  // held out: compared with the posterior predictive only
)

// The error models of a target.
const (
	ErrorRelative = "relative" // sd = sd × |observed| (at least sd_min)
	ErrorAbsolute = "absolute" // sd = sd
)

// Limits of a calibration file.
const (
	MaxFileBytes   = 1 << 20 // the largest calibration file read
	MaxParams      = 8       // free parameters
	MaxTargets     = 32      // targets
	MaxPoints      = 1000    // points of one series target
	MaxParticles   = 10_000  // particles per generation
	MaxGenerations = 100     // generations
	MaxPredictive  = 10_000  // posterior predictive draws
)

// Spec is a calibration file, decoded and checked. Field tags are the keys
// of the file; docs/calibrate.md documents each.
type Spec struct {
	sweep.Base              // scenario, set (applied before the parameters), engine
	Seed           uint64   `toml:"seed"`            // the calibration seed (default 1)
	Particles      int      `toml:"particles"`       // particles per generation (default 200)
	Quantile       float64  `toml:"quantile"`        // next tolerance: this quantile of the last distances (default 0.5)
	MinTolerance   float64  `toml:"min_tolerance"`   // stop once the tolerance is at or below (default 0)
	MaxGenerations int      `toml:"max_generations"` // stop after this many generations (default 10)
	MinAcceptance  float64  `toml:"min_acceptance"`  // stop when a generation accepts less (default 0.02)
	Predictive     int      `toml:"predictive"`      // posterior predictive draws (default 100)
	Params         []Param  `toml:"param"`           // the free parameters, one [[param]] table each
	Targets        []Target `toml:"target"`          // the observations, one [[target]] table each

	// File is the calibration file's name as given to ParseFile.
	File string `toml:"-"`
	// lines maps "key", "param.I.key" and "target.I.key" (I from 0) to
	// their line.
	lines map[string]int
	data  []byte // the file's content
}

// Param is one free parameter: a scenario key and its prior.
type Param struct {
	Key   string   `toml:"key"`   // as --set takes it: worm.rate.fixed, defense.patch.rate
	Prior string   `toml:"prior"` // uniform, log-uniform, normal, beta
	Min   *float64 `toml:"min"`   // lower bound (required)
	Max   *float64 `toml:"max"`   // upper bound (required)
	Mean  *float64 `toml:"mean"`  // normal: mean
	SD    *float64 `toml:"sd"`    // normal: standard deviation
	Alpha *float64 `toml:"alpha"` // beta: first shape
	Beta  *float64 `toml:"beta"`  // beta: second shape
	Label string   `toml:"label"` // a short name for plots (default: the key)
	// Integer: the scenario receives the nearest integer to each value
	// (for integer keys such as worm.NAME.rate.threads); the posterior
	// keeps the continuous values.
	Integer bool `toml:"integer"`
	// Unit makes the key a duration: the scenario receives θ followed by
	// this unit ("1.5h"); one of Units. Empty: a plain number.
	Unit string `toml:"unit"`
}

// Units are the units a duration parameter takes (Param.Unit), each as the
// scenario's durations write it.
var Units = []string{"s", "m", "h", "d"}

// Target is one observation: a point or a series of a documented summary
// statistic, with its error model and role.
type Target struct {
	Name   string    `toml:"name"`   // a short file-safe name
	Stat   string    `toml:"stat"`   // the summary statistic (Stats)
	Role   string    `toml:"role"`   // calibrate or validate
	Source string    `toml:"source"` // where the observation comes from (shown in the report)
	Value  *float64  `toml:"value"`  // a point statistic's observed value
	At     []any     `toml:"at"`     // a series: the times (date-times, or durations after the start)
	Values []float64 `toml:"values"` // a series: the observed values at At
	CSV    string    `toml:"csv"`    // a series from a CSV file (columns at,value), relative to the calibration file
	Error  string    `toml:"error"`  // relative or absolute
	SD     float64   `toml:"sd"`     // the error model's sd (relative: a fraction of the observed value)
	SDMin  float64   `toml:"sd_min"` // relative: the smallest sd (default 0)

	// Set by ParseFile and NewPlan: the observed values, the times (series:
	// seconds after the scenario start, or absolute date-times to resolve),
	// and each value's sd.
	obs     []float64
	times   []timeRef
	offsets []float64 // seconds after the start (NewPlan)
	sds     []float64
	csvData []byte // the CSV file's content, recorded in the state
}

// timeRef is a time of a series: an absolute date-time, or an offset after
// the scenario's start.
type timeRef struct {
	abs    time.Time
	offset time.Duration
	isAbs  bool
}

// Error is a problem with a calibration file: one line naming the file,
// the line and the field (package tomlfile, as for sweep files), like
//
//	calib.toml:14: param[1].max: 0.5 is not above min 2
type Error = tomlfile.Error

// ReadFile reads and parses the calibration file at path (ParseFile), and
// the CSV files of its targets.
func ReadFile(path string) (*Spec, error) {
	data, err := tomlfile.Read(path, "calibration file", MaxFileBytes)
	if err != nil {
		return nil, err
	}
	s, err := ParseFile(path, data)
	if err != nil {
		return nil, err
	}
	if err := s.readCSVs(); err != nil {
		return nil, err
	}
	return s, nil
}

// fieldTags maps the Go fields of a calibration file to their TOML keys.
var fieldTags = map[string]string{
	"Spec.Scenario": "scenario", "Spec.Set": "set", "Spec.Engine": "engine", "Spec.Seed": "seed",
	"Spec.Particles": "particles", "Spec.Quantile": "quantile", "Spec.MinTolerance": "min_tolerance",
	"Spec.MaxGenerations": "max_generations", "Spec.MinAcceptance": "min_acceptance", "Spec.Predictive": "predictive",
	"Spec.Params": "param", "Spec.Targets": "target",
	"Param.Key": "key", "Param.Prior": "prior", "Param.Min": "min", "Param.Max": "max", "Param.Mean": "mean",
	"Param.SD": "sd", "Param.Alpha": "alpha", "Param.Beta": "beta", "Param.Label": "label", "Param.Integer": "integer", "Param.Unit": "unit",
	"Target.Name": "name", "Target.Stat": "stat", "Target.Role": "role", "Target.Source": "source",
	"Target.Value": "value", "Target.At": "at", "Target.Values": "values", "Target.CSV": "csv",
	"Target.Error": "error", "Target.SD": "sd", "Target.SDMin": "sd_min",
}

func allowedKeys(key []string) string {
	if len(key) > 1 && key[0] == "param" {
		return "key, prior, min, max, mean, sd, alpha, beta, label, integer, unit"
	}
	if len(key) > 1 && key[0] == "target" {
		return "name, stat, role, source, value, at, values, csv, error, sd, sd_min"
	}
	return "scenario, set, engine, seed, particles, quantile, min_tolerance, max_generations, min_acceptance, predictive, [[param]], [[target]]"
}

// ParseFile decodes a calibration file strictly (an unknown key is an
// error) and checks every value that can be checked without the scenario
// and the CSV files. name is used in messages. The error, if any, is the
// first problem found, as an *Error. NewPlan checks the keys against the
// scenario.
func ParseFile(name string, data []byte) (*Spec, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	s := &Spec{File: name, data: data}
	var err error
	if s.lines, err = tomlfile.Decode(name, data, s, fieldTags, allowedKeys, "param", "target"); err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Spec) has(key string) bool { _, ok := s.lines[key]; return ok }

// fail returns an *Error at the line of the top-level key.
func (s *Spec) fail(key, format string, a ...any) error {
	line, ok := s.lines[key]
	if !ok && (key == "param" || key == "target") {
		line = s.lines[key+".0"] // the first table of the array
	}
	return &Error{File: s.File, Line: line, Field: key, Msg: fmt.Sprintf(format, a...)}
}

// failIn returns an *Error at the line of a key of the i-th (from 0) table
// of the array table (param or target), or of its header.
func (s *Spec) failIn(table string, i int, key, format string, a ...any) error {
	return tomlfile.ErrorIn(s.File, s.lines, table, i, key, format, a...)
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// check sets defaults and checks what can be checked without the scenario.
func (s *Spec) check() error {
	if err := s.Base.Check(s.fail); err != nil {
		return err
	}
	if !s.has("seed") {
		s.Seed = 1
	}
	if !s.has("particles") {
		s.Particles = 200
	}
	if s.Particles < 4 || s.Particles > MaxParticles {
		return s.fail("particles", "%d: want 4 to %d", s.Particles, MaxParticles)
	}
	if !s.has("quantile") {
		s.Quantile = 0.5
	}
	if !(s.Quantile > 0 && s.Quantile < 1) {
		return s.fail("quantile", "%v: want a number between 0 and 1 (0.5 halves the accepted distances each generation)", s.Quantile)
	}
	if !finite(s.MinTolerance) || s.MinTolerance < 0 {
		return s.fail("min_tolerance", "%v: want 0 or more", s.MinTolerance)
	}
	if !s.has("max_generations") {
		s.MaxGenerations = 10
	}
	if s.MaxGenerations < 1 || s.MaxGenerations > MaxGenerations {
		return s.fail("max_generations", "%d: want 1 to %d", s.MaxGenerations, MaxGenerations)
	}
	if !s.has("min_acceptance") {
		s.MinAcceptance = 0.02
	}
	if !(s.MinAcceptance > 0 && s.MinAcceptance <= 1) {
		return s.fail("min_acceptance", "%v: want above 0, at most 1", s.MinAcceptance)
	}
	if !s.has("predictive") {
		s.Predictive = 100
	}
	if s.Predictive < 2 || s.Predictive > MaxPredictive {
		return s.fail("predictive", "%d: want 2 to %d", s.Predictive, MaxPredictive)
	}
	if len(s.Params) == 0 {
		return s.fail("param", "no [[param]] table: name at least one scenario key to calibrate")
	}
	if len(s.Params) > MaxParams {
		return s.fail("param", "%d free parameters: at most %d", len(s.Params), MaxParams)
	}
	keys := map[string]int{}
	for i := range s.Params {
		if err := s.checkParam(i); err != nil {
			return err
		}
		if j, ok := keys[s.Params[i].Key]; ok {
			return s.failIn("param", i, "key", "%q is param[%d] already", s.Params[i].Key, j+1)
		}
		keys[s.Params[i].Key] = i
	}
	if len(s.Targets) == 0 {
		return s.fail("target", "no [[target]] table: give at least one observation with role = \"calibrate\"")
	}
	if len(s.Targets) > MaxTargets {
		return s.fail("target", "%d targets: at most %d", len(s.Targets), MaxTargets)
	}
	names := map[string]int{}
	calib := 0
	for i := range s.Targets {
		if err := s.checkTarget(i); err != nil {
			return err
		}
		t := &s.Targets[i]
		if j, ok := names[t.Name]; ok {
			return s.failIn("target", i, "name", "%q is target[%d]'s name already", t.Name, j+1)
		}
		names[t.Name] = i
		if t.Role == RoleCalibrate {
			calib++
		}
	}
	if calib == 0 {
		return s.fail("target", "no target has role = \"calibrate\": the distance needs at least one")
	}
	return nil
}

func (s *Spec) checkParam(i int) error {
	p := &s.Params[i]
	f := func(key, format string, a ...any) error { return s.failIn("param", i, key, format, a...) }
	if p.Key == "" {
		return f("key", "missing: give key = \"dotted.key\" as --set takes it (worm.rate.fixed)")
	}
	if p.Unit != "" && !contains(Units, p.Unit) {
		return f("unit", "%q: want s, m, h or d (the key is then a duration: seconds, minutes, hours or days)", p.Unit)
	}
	if p.Label == "" {
		p.Label = p.Key
	}
	if p.Min == nil {
		return f("min", "missing: every free parameter takes bounds min and max")
	}
	if p.Max == nil {
		return f("max", "missing: every free parameter takes bounds min and max")
	}
	lo, hi := *p.Min, *p.Max
	if !finite(lo) {
		return f("min", "%v: want a finite number", lo)
	}
	if !finite(hi) {
		return f("max", "%v: want a finite number", hi)
	}
	if !(hi > lo) {
		return f("max", "%v is not above min %v", hi, lo)
	}
	extra := func(allowed ...string) error {
		for _, k := range []string{"mean", "sd", "alpha", "beta"} {
			if s.has(fmt.Sprintf("param.%d.%s", i, k)) && !contains(allowed, k) {
				return f(k, "not used by prior = %q (remove it)", p.Prior)
			}
		}
		return nil
	}
	switch p.Prior {
	case "":
		return f("prior", "missing: want uniform, log-uniform, normal or beta")
	case PriorUniform:
		return extra()
	case PriorLogUniform:
		if lo <= 0 {
			return f("min", "%v: prior = \"log-uniform\" needs min above 0", lo)
		}
		return extra()
	case PriorNormal:
		if p.Mean == nil || !finite(*p.Mean) {
			return f("mean", "missing or not finite: prior = \"normal\" takes mean and sd")
		}
		if p.SD == nil || !finite(*p.SD) || *p.SD <= 0 {
			return f("sd", "missing or not above 0: prior = \"normal\" takes mean and sd > 0")
		}
		if n := (distuv.Normal{Mu: *p.Mean, Sigma: *p.SD}); n.CDF(hi)-n.CDF(lo) < 1e-9 {
			return f("mean", "%v: the normal prior has almost no mass within [min, max] (mean and sd put it elsewhere)", *p.Mean)
		}
		return extra("mean", "sd")
	case PriorBeta:
		if p.Alpha == nil || !finite(*p.Alpha) || *p.Alpha <= 0 {
			return f("alpha", "missing or not above 0: prior = \"beta\" takes alpha and beta > 0")
		}
		if p.Beta == nil || !finite(*p.Beta) || *p.Beta <= 0 {
			return f("beta", "missing or not above 0: prior = \"beta\" takes alpha and beta > 0")
		}
		return extra("alpha", "beta")
	}
	return f("prior", "%q: want uniform, log-uniform, normal or beta", p.Prior)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *Spec) checkTarget(i int) error {
	t := &s.Targets[i]
	f := func(key, format string, a ...any) error { return s.failIn("target", i, key, format, a...) }
	if t.Name == "" {
		return f("name", "missing: give each target a short name (letters, digits, - and _)")
	}
	for _, r := range t.Name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') || len(t.Name) > 64 {
			return f("name", "%q: want at most 64 letters, digits, - and _", t.Name)
		}
	}
	st, ok := stats[t.Stat]
	if !ok {
		return f("stat", "%q: want one of %s", t.Stat, strings.Join(StatNames(), ", "))
	}
	switch t.Role {
	case RoleCalibrate, RoleValidate:
	case "":
		return f("role", "missing: want calibrate or validate")
	default:
		return f("role", "%q: want calibrate or validate", t.Role)
	}
	if strings.ContainsAny(t.Source, "\r\n") {
		return f("source", "want one line")
	}
	if st.series {
		if t.Value != nil {
			return f("value", "stat %q is a series: give at and values, or csv", t.Stat)
		}
		hasInline := s.has(fmt.Sprintf("target.%d.at", i)) || s.has(fmt.Sprintf("target.%d.values", i))
		switch {
		case t.CSV != "" && hasInline:
			return f("csv", "give either csv or at and values, not both")
		case t.CSV == "":
			if len(t.At) == 0 {
				return f("at", "missing or empty: a series takes at = [...] and values = [...], or csv")
			}
			if len(t.At) != len(t.Values) {
				return f("values", "%d values for %d times in at", len(t.Values), len(t.At))
			}
			if len(t.At) > MaxPoints {
				return f("at", "%d points: at most %d", len(t.At), MaxPoints)
			}
			for j, a := range t.At {
				ref, err := parseTime(a)
				if err != nil {
					return f("at", "element %d: %v", j+1, err)
				}
				t.times = append(t.times, ref)
			}
			for j, v := range t.Values {
				if !finite(v) {
					return f("values", "element %d: %v is not finite", j+1, v)
				}
			}
			t.obs = append([]float64(nil), t.Values...)
		}
	} else {
		for _, k := range []string{"at", "values", "csv"} {
			if s.has(fmt.Sprintf("target.%d.%s", i, k)) {
				return f(k, "stat %q is a point: give value", t.Stat)
			}
		}
		if t.Value == nil {
			return f("value", "missing: stat %q takes one observed value", t.Stat)
		}
		if !finite(*t.Value) {
			return f("value", "%v is not finite", *t.Value)
		}
		t.obs = []float64{*t.Value}
	}
	switch t.Error {
	case ErrorRelative, ErrorAbsolute:
	case "":
		return f("error", "missing: want relative or absolute")
	default:
		return f("error", "%q: want relative or absolute", t.Error)
	}
	if !finite(t.SD) || t.SD <= 0 {
		return f("sd", "%v: want a number above 0 (relative: a fraction of the observed value, 0.1 for 10%%)", t.SD)
	}
	if !finite(t.SDMin) || t.SDMin < 0 {
		return f("sd_min", "%v: want 0 or more", t.SDMin)
	}
	if t.Error == ErrorAbsolute && s.has(fmt.Sprintf("target.%d.sd_min", i)) {
		return f("sd_min", "only for error = \"relative\"")
	}
	if t.CSV == "" {
		return s.setSDs(i)
	}
	return nil
}

// setSDs sets the sd of each observed value of target i from its error
// model.
func (s *Spec) setSDs(i int) error {
	t := &s.Targets[i]
	t.sds = make([]float64, len(t.obs))
	for j, o := range t.obs {
		sd := t.SD
		if t.Error == ErrorRelative {
			sd = max(t.SD*math.Abs(o), t.SDMin)
		}
		if !(sd > 0) {
			return s.failIn("target", i, "sd_min", "observed value %d is 0, so its relative sd is 0: give sd_min above 0", j+1)
		}
		t.sds[j] = sd
	}
	return nil
}

// parseTime reads a time of a series: an offset date-time, or a duration
// after the scenario's start ("6h", "1d").
func parseTime(v any) (timeRef, error) {
	switch x := v.(type) {
	case time.Time:
		return timeRef{abs: x.UTC(), isAbs: true}, nil
	case string:
		if t, err := time.Parse(time.RFC3339, x); err == nil {
			return timeRef{abs: t.UTC(), isAbs: true}, nil
		}
		d, err := param.ParseDuration(x)
		if err != nil || d.D() < 0 {
			return timeRef{}, fmt.Errorf("%q: want a date-time (2001-07-19T18:00:00Z) or a duration after the start (\"6h\")", x)
		}
		return timeRef{offset: d.D()}, nil
	case toml.LocalDate, toml.LocalDateTime, toml.LocalTime:
		return timeRef{}, fmt.Errorf("%v: a date-time needs an offset (2001-07-19T18:00:00Z)", x)
	}
	return timeRef{}, fmt.Errorf("%v: want a date-time (2001-07-19T18:00:00Z) or a duration after the start (\"6h\")", v)
}

// StatNames lists the summary statistics a target may name, sorted.
func StatNames() []string {
	var out []string
	for k := range stats {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
