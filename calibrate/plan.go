package calibrate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"wormwatch/report"
	"wormwatch/scenario"
	"wormwatch/sim"
	"wormwatch/sweep"
)

// Plan is a calibration ready to run: its file checked against the
// scenario, the targets' times resolved.
type Plan struct {
	Spec     *Spec
	Scenario string // the scenario as loaded: a built-in's name or a path
	BaseDir  string // folder the scenario's relative paths are read from ("" for a built-in)
	Start    time.Time
	End      time.Time
	// Hash identifies the inputs (the calibration file, its CSV files and
	// the scenario file): a resumed calibration must have the same.
	Hash string
}

// NewPlan checks the calibration against its scenario: the scenario loads
// with the file's set, each parameter's key takes its bounds, and every
// target time falls within the scenario's span. Problems are *Errors
// naming the calibration file's line and field.
func NewPlan(s *Spec) (*Plan, error) {
	p := &Plan{Spec: s}
	sc, resolved, name, baseDir, err := s.Load(s.File, s.fail)
	if err != nil {
		return nil, err
	}
	p.Scenario, p.BaseDir = name, baseDir
	if s.Engine == sim.EngineProbe && sc.Space.Bits > sim.MaxProbeEngineBits {
		return nil, s.fail("engine", "the probe engine takes spaces of at most 2^%d addresses (set space.bits)", sim.MaxProbeEngineBits)
	}
	p.Start, p.End = sc.Start, sc.End
	for i, prm := range s.Params {
		if err := p.checkUnit(i); err != nil {
			return nil, err
		}
		for _, b := range []struct {
			field string
			v     float64
		}{{"min", *prm.Min}, {"max", *prm.Max}} {
			if _, _, err := scenario.Load(p.Scenario, append(append([]string(nil), s.Set...), prm.Key+"="+prm.text(b.v))); err != nil {
				field := b.field
				if sweep.KeyProblem(err) {
					field = "key"
				}
				return nil, s.failIn("param", i, field, "%v", err)
			}
		}
		// A value inside the bounds, not a whole number: refused by an
		// integer key unless integer = true.
		mid := *prm.Min + (*prm.Max-*prm.Min)*0.3719
		if _, _, err := scenario.Load(p.Scenario, append(append([]string(nil), s.Set...), prm.Key+"="+prm.text(mid))); err != nil {
			if !prm.Integer && strings.Contains(err.Error(), "want an integer") {
				return nil, s.failIn("param", i, "key", "%v: an integer key takes integer = true (each value is then rounded)", err)
			}
			return nil, s.failIn("param", i, "key", "%v", err)
		}
	}
	span := p.End.Sub(p.Start)
	h := sha256.New()
	h.Write(s.data)
	h.Write(resolved)
	for i := range s.Targets {
		t := &s.Targets[i]
		field := "at"
		if t.CSV != "" {
			field = "csv"
			h.Write(t.csvData)
		}
		t.offsets = make([]float64, len(t.times))
		for j, ref := range t.times {
			d := ref.offset
			if ref.isAbs {
				d = ref.abs.Sub(p.Start)
			}
			if d < 0 || d > span {
				return nil, s.failIn("target", i, field, "time %d is outside the scenario's span (%s to %s)", j+1, p.Start.Format(time.RFC3339), p.End.Format(time.RFC3339))
			}
			t.offsets[j] = d.Seconds()
		}
	}
	p.Hash = hex.EncodeToString(h.Sum(nil))
	return p, nil
}

// checkUnit checks param i's unit against its key's type, with a value
// inside the bounds: a unit on a key that takes a number, or none on a key
// that takes a duration, is an *Error at the param's unit. Anything else
// the scenario refuses is left to NewPlan's checks of the bounds.
func (p *Plan) checkUnit(i int) error {
	s := p.Spec
	prm := &s.Params[i]
	mid := *prm.Min + (*prm.Max-*prm.Min)*0.3719
	_, _, err := scenario.Load(p.Scenario, append(append([]string(nil), s.Set...), prm.Key+"="+prm.text(mid)))
	if err == nil || sweep.KeyProblem(err) {
		return nil
	}
	msg := err.Error()
	if prm.Unit != "" && (strings.Contains(msg, "want an integer") || strings.Contains(msg, "want a number, got")) {
		return s.failIn("param", i, "unit", "%q: %s takes a number, not a duration (remove unit): %v", prm.Unit, prm.Key, err)
	}
	if prm.Unit == "" && strings.Contains(msg, "want a number with a unit") {
		return s.failIn("param", i, "unit", "missing: %s is a duration: give unit = \"s\", \"m\", \"h\" or \"d\" (%v)", prm.Key, err)
	}
	return nil
}

// simulate runs the scenario with the parameters theta for one seed and
// returns every target's statistic (NaN: no value).
func (p *Plan) simulate(ctx context.Context, opt Options, theta []float64, seed uint64, tag string) ([][]float64, error) {
	s := p.Spec
	sets := append([]string(nil), s.Set...)
	for i, prm := range s.Params {
		sets = append(sets, prm.Key+"="+prm.text(theta[i]))
	}
	sc, resolved, err := scenario.Load(p.Scenario, sets)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", s.File, strings.Join(sets[len(s.Set):], " "), err)
	}
	var r run
	sum, err := opt.Run(ctx, sweep.Job{
		Scenario: sc, Resolved: resolved, Seed: seed, Engine: s.Engine, BaseDir: p.BaseDir,
		Keep: func(res *sim.Result) {
			r.start, r.bin, r.bins, r.home = res.Start, res.BinSeconds, res.Bins, res.HomeHosts
		},
	})
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %s, seed %d: %w", s.File, strings.Join(sets[len(s.Set):], " "), seed, err)
	}
	r.summary = sum
	out := make([][]float64, len(s.Targets))
	for i := range s.Targets {
		out[i] = s.Targets[i].values(&r)
	}
	return out, nil
}

// distance is the scaled Euclidean distance between the calibrate targets'
// simulated statistics and the observations, each difference divided by
// the observation's sd; +Inf when a statistic has no value.
func (s *Spec) distance(x [][]float64) float64 {
	var sum float64
	for i, t := range s.Targets {
		if t.Role != RoleCalibrate {
			continue
		}
		for j, o := range t.obs {
			v := x[i][j]
			if math.IsNaN(v) {
				return math.Inf(1)
			}
			d := (v - o) / t.sds[j]
			sum += d * d
		}
	}
	return math.Sqrt(sum)
}

// RunFunc runs one simulation: sweep's, so that `wormwatch calibrate` runs
// each simulation on the same path as `wormwatch sweep` and `run --seeds`
// (runner.Simulate), and this package does not depend on the runner.
type RunFunc = sweep.RunFunc

// Summary is a run's summary (report.Summary), as a RunFunc returns it.
type Summary = report.Summary
