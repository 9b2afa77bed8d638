package calibrate

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/parquet-go/parquet-go"
	"gonum.org/v1/gonum/stat"

	"wormwatch/internal/atomicfile"
)

// The files of the posterior folder (docs/calibrate.md).
const (
	PosteriorFile   = "posterior.parquet" // the last generation's particles
	ParametersFile  = "parameters.csv"    // per parameter: prior, bounds, posterior quantiles
	GenerationsFile = "generations.csv"   // per generation: tolerance, simulations, acceptance, ESS
	PredictiveFile  = "predictive.csv"    // per target and point: observed and the predictive 5-50-95%
	ValidationFile  = "validation.csv"    // the validate targets against the posterior predictive
	ReportFile      = "report.html"       // all of it, self-contained
	ManifestFile    = "calibration.json"  // what was run, and the files
)

// UnitMetadata + a key is the key-value metadata of posterior.parquet that
// holds the unit of a duration key's column (Param.Unit).
const UnitMetadata = "wormwatch.unit."

// Quantiles returns the weighted quantiles ps of parameter m of the
// posterior.
func (g *Generation) Quantiles(m int, ps ...float64) []float64 {
	type xw struct{ x, w float64 }
	v := make([]xw, len(g.Particles))
	for i, pt := range g.Particles {
		v[i] = xw{pt.Theta[m], pt.Weight}
	}
	sort.SliceStable(v, func(a, b int) bool { return v[a].x < v[b].x })
	x, w := make([]float64, len(v)), make([]float64, len(v))
	for i := range v {
		x[i], w[i] = v[i].x, v[i].w
	}
	out := make([]float64, len(ps))
	for i, p := range ps {
		out[i] = stat.Quantile(p, stat.Empirical, x, w)
	}
	return out
}

// Mean returns the weighted posterior mean of parameter m.
func (g *Generation) Mean(m int) float64 {
	var s float64
	for _, pt := range g.Particles {
		s += pt.Weight * pt.Theta[m]
	}
	return s
}

// ESS is the effective sample size of the weights, 1 / Σ w².
func (g *Generation) ESS() float64 {
	var s float64
	for _, pt := range g.Particles {
		s += pt.Weight * pt.Weight
	}
	return 1 / s
}

// Band is the posterior predictive of one point of a target.
type Band struct {
	Target, Role  string
	Point         int     // from 0
	Seconds       float64 // after the start (series), or NaN
	Observed, SD  float64
	P05, P50, P95 float64 // of the simulated statistic
	// Of the simulated statistic plus the error model's noise (what an
	// observation would be): the 90% interval, and the tail probability
	// 2 min(P(Y ≤ observed), P(Y ≥ observed)).
	NoisyP05, NoisyP50, NoisyP95 float64
	Tail                         float64
	Draws                        int // draws with a value
}

func quantiles(x []float64, ps ...float64) []float64 {
	out := make([]float64, len(ps))
	if len(x) == 0 {
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	for i, p := range ps {
		out[i] = stat.Quantile(p, stat.Empirical, s, nil)
	}
	return out
}

// Bands returns the posterior predictive of every point of every target.
func (r *Result) Bands() []Band {
	var out []Band
	for i, t := range r.Plan.Spec.Targets {
		for j, o := range t.obs {
			var sim, noisy []float64
			for k := range r.Predictive {
				if v := r.Predictive[k][i][j]; !math.IsNaN(v) {
					sim = append(sim, v)
					noisy = append(noisy, r.Noisy[k][i][j])
				}
			}
			b := Band{Target: t.Name, Role: t.Role, Point: j, Seconds: math.NaN(), Observed: o, SD: t.sds[j], Draws: len(sim)}
			if j < len(t.offsets) && stats[t.Stat].series {
				b.Seconds = t.offsets[j]
			}
			q := quantiles(sim, 0.05, 0.5, 0.95)
			b.P05, b.P50, b.P95 = q[0], q[1], q[2]
			q = quantiles(noisy, 0.05, 0.5, 0.95)
			b.NoisyP05, b.NoisyP50, b.NoisyP95 = q[0], q[1], q[2]
			b.Tail = math.NaN()
			if len(noisy) > 0 {
				var le, ge int
				for _, v := range noisy {
					if v <= o {
						le++
					}
					if v >= o {
						ge++
					}
				}
				n := float64(len(noisy))
				b.Tail = min(1, 2*min(float64(le)/n, float64(ge)/n))
			}
			out = append(out, b)
		}
	}
	return out
}

// Write writes the posterior folder dir/posterior whole or not at all
// (atomicfile.WriteDir): posterior.parquet, parameters.csv,
// generations.csv, predictive.csv, validation.csv, the figures (PNG),
// report.html and calibration.json. Its content depends only on the
// inputs, the calibration seed and the program version.
func (r *Result) Write(dir string) error {
	figs, err := r.Figures()
	if err != nil {
		return err
	}
	bands := r.Bands()
	html, err := r.html(figs, bands)
	if err != nil {
		return err
	}
	return atomicfile.WriteDir(filepath.Join(dir, PosteriorDir), func(root *os.Root) error {
		files := []string{}
		add := func(name string, fn func(io.Writer) error) error {
			files = append(files, name)
			return atomicfile.Create(root, name, fn)
		}
		if err := add(PosteriorFile, r.writeParquet); err != nil {
			return err
		}
		if err := add(ParametersFile, r.writeParameters); err != nil {
			return err
		}
		if err := add(GenerationsFile, r.writeGenerations); err != nil {
			return err
		}
		if err := add(PredictiveFile, func(w io.Writer) error { return r.writeBands(w, bands, false) }); err != nil {
			return err
		}
		if err := add(ValidationFile, func(w io.Writer) error { return r.writeBands(w, bands, true) }); err != nil {
			return err
		}
		for _, f := range figs {
			png := f.PNG
			if err := add(f.Name+".png", func(w io.Writer) error { _, err := w.Write(png); return err }); err != nil {
				return err
			}
		}
		if err := add(ReportFile, func(w io.Writer) error { _, err := w.Write(html); return err }); err != nil {
			return err
		}
		files = append(files, ManifestFile)
		return atomicfile.Create(root, ManifestFile, func(w io.Writer) error { return r.writeManifest(w, files) })
	})
}

func num(x float64) string {
	if math.IsNaN(x) {
		return ""
	}
	return strconv.FormatFloat(x, 'g', 6, 64)
}

// writeParquet writes the posterior particles: particle, weight, distance
// and one column per parameter, named by its key.
func (r *Result) writeParquet(w io.Writer) error {
	s := r.Plan.Spec
	group := parquet.Group{
		"particle": parquet.Leaf(parquet.Int64Type),
		"weight":   parquet.Leaf(parquet.DoubleType),
		"distance": parquet.Leaf(parquet.DoubleType),
	}
	for _, p := range s.Params {
		group[p.Key] = parquet.Leaf(parquet.DoubleType)
	}
	schema := parquet.NewSchema("posterior", group)
	col := map[string]int{}
	for i, path := range schema.Columns() {
		col[path[0]] = i
	}
	opts := []parquet.WriterOption{
		schema,
		&parquet.WriterConfig{CreatedBy: "wormwatch version " + r.version},
		parquet.KeyValueMetadata("wormwatch.calibration", filepath.Base(s.File)),
		parquet.KeyValueMetadata("wormwatch.scenario", s.Scenario),
		parquet.KeyValueMetadata("wormwatch.seed", strconv.FormatUint(s.Seed, 10)),
		parquet.KeyValueMetadata("wormwatch.generation", strconv.Itoa(r.Posterior().Index)),
	}
	for _, p := range s.Params {
		if p.Unit != "" {
			// A duration key's column holds θ in its unit.
			opts = append(opts, parquet.KeyValueMetadata(UnitMetadata+p.Key, p.Unit))
		}
	}
	pw := parquet.NewWriter(w, opts...)
	rows := make([]parquet.Row, 0, len(r.Posterior().Particles))
	for i, pt := range r.Posterior().Particles {
		row := make(parquet.Row, len(col))
		set := func(name string, v parquet.Value) { c := col[name]; row[c] = v.Level(0, 0, c) }
		set("particle", parquet.Int64Value(int64(i)))
		set("weight", parquet.DoubleValue(pt.Weight))
		set("distance", parquet.DoubleValue(pt.Distance))
		for m, p := range s.Params {
			set(p.Key, parquet.DoubleValue(pt.Theta[m]))
		}
		rows = append(rows, row)
	}
	if _, err := pw.WriteRows(rows); err != nil {
		return err
	}
	return pw.Close()
}

// ParamSummary is the posterior of one parameter.
type ParamSummary struct {
	Key   string  `json:"key"`
	Prior string  `json:"prior"`
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	Mean  float64 `json:"mean"`
	P05   float64 `json:"p05"`
	P50   float64 `json:"p50"`
	P95   float64 `json:"p95"`
	// Integer: the scenario receives the nearest integer (Param.Integer).
	Integer bool `json:"integer,omitempty"`
	// Unit: the key is a duration, θ in this unit (Param.Unit).
	Unit string `json:"unit,omitempty"`
}

// Parameters summarises the posterior of each parameter.
func (r *Result) Parameters() []ParamSummary {
	post := r.Posterior()
	var out []ParamSummary
	for m, p := range r.Plan.Spec.Params {
		q := post.Quantiles(m, 0.05, 0.5, 0.95)
		out = append(out, ParamSummary{Key: p.Key, Prior: p.Prior, Min: *p.Min, Max: *p.Max, Mean: post.Mean(m), P05: q[0], P50: q[1], P95: q[2], Integer: p.Integer, Unit: p.Unit})
	}
	return out
}

func (r *Result) writeParameters(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"key", "prior", "min", "max", "mean", "p05", "p50", "p95", "unit"})
	for _, p := range r.Parameters() {
		cw.Write([]string{p.Key, p.Prior, num(p.Min), num(p.Max), num(p.Mean), num(p.P05), num(p.P50), num(p.P95), p.Unit})
	}
	cw.Flush()
	return cw.Error()
}

func (r *Result) writeGenerations(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"generation", "tolerance", "simulations", "acceptance", "ess"})
	for _, g := range r.Generations {
		tol := num(g.Tolerance)
		if math.IsInf(g.Tolerance, 1) {
			tol = "inf"
		}
		cw.Write([]string{strconv.Itoa(g.Index), tol, strconv.Itoa(g.Attempts), num(g.Acceptance), num(g.ESS())})
	}
	cw.Flush()
	return cw.Error()
}

// atText writes a band's time as a UTC date-time, or "" for a point.
func (r *Result) atText(b Band) string {
	if math.IsNaN(b.Seconds) {
		return ""
	}
	return r.Plan.Start.Add(time.Duration(b.Seconds * float64(time.Second))).UTC().Format(time.RFC3339)
}

// writeBands writes predictive.csv (every target) or validation.csv (the
// validate targets, with the noisy predictive and its tail probability).
func (r *Result) writeBands(w io.Writer, bands []Band, validation bool) error {
	cw := csv.NewWriter(w)
	if validation {
		cw.Write([]string{"target", "point", "at", "observed", "sd", "predictive_p05", "predictive_p50", "predictive_p95", "tail_probability", "draws"})
	} else {
		cw.Write([]string{"target", "role", "point", "at", "observed", "sd", "p05", "p50", "p95", "draws"})
	}
	for _, b := range bands {
		pt := strconv.Itoa(b.Point + 1)
		if validation {
			if b.Role != RoleValidate {
				continue
			}
			cw.Write([]string{b.Target, pt, r.atText(b), num(b.Observed), num(b.SD), num(b.NoisyP05), num(b.NoisyP50), num(b.NoisyP95), num(b.Tail), strconv.Itoa(b.Draws)})
			continue
		}
		cw.Write([]string{b.Target, b.Role, pt, r.atText(b), num(b.Observed), num(b.SD), num(b.P05), num(b.P50), num(b.P95), strconv.Itoa(b.Draws)})
	}
	cw.Flush()
	return cw.Error()
}

func (r *Result) writeManifest(w io.Writer, files []string) error {
	s := r.Plan.Spec
	type gen struct {
		Index       int      `json:"index"`
		Tolerance   *float64 `json:"tolerance"` // null for +Inf
		Simulations int      `json:"simulations"`
		Acceptance  float64  `json:"acceptance"`
		ESS         float64  `json:"ess"`
	}
	var gens []gen
	for _, g := range r.Generations {
		x := gen{Index: g.Index, Simulations: g.Attempts, Acceptance: g.Acceptance, ESS: g.ESS()}
		if !math.IsInf(g.Tolerance, 1) {
			tol := g.Tolerance
			x.Tolerance = &tol
		}
		gens = append(gens, x)
	}
	m := map[string]any{
		"calibration": filepath.Base(s.File),
		"scenario":    s.Scenario,
		"set":         s.Set,
		"engine":      s.Engine,
		"seed":        s.Seed,
		"particles":   s.Particles,
		"quantile":    s.Quantile,
		"predictive":  s.Predictive,
		"stop":        r.Stop,
		"stop_detail": r.StopDetail,
		"generations": gens,
		"parameters":  r.Parameters(),
		"version":     r.version,
		"files":       files,
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(m)
}
