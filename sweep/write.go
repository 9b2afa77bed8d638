package sweep

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/stat"

	"wormwatch/internal/atomicfile"
	"wormwatch/results"
)

// The files of a sweep's output folder (docs/sweep.md).
const (
	PointsFile      = "points.csv"
	SummaryFile     = "summary.csv"
	SensitivityFile = "sensitivity.csv"
	ManifestFile    = "sweep.json"
	HeatMapPrefix   = "heatmap-" // heatmap-OUTPUT.png, for a grid of two factors
)

// Sensitivity is the Sobol indices of every factor for one output.
type Sensitivity struct {
	Output  string
	Indices []Indices // per factor
	Err     string    // why there are no indices (an output that does not vary), or ""
}

// Sensitivities computes Saltelli's indices of each output (Saltelli) from
// the mean over seeds at each point of a Sobol design; nil for another
// design. A point whose mean is NaN (a seed without a value) leaves the
// output without indices.
func (r *Result) Sensitivities() []Sensitivity {
	s := r.Plan.Spec
	if s.Design != DesignSobol {
		return nil
	}
	d, n := len(s.Factors), s.N
	var out []Sensitivity
	for o, name := range s.Outputs {
		y := make([]float64, len(r.Plan.Points))
		bad := false
		for k := range y {
			y[k] = r.mean(k, o)
			if math.IsNaN(y[k]) {
				bad = true
			}
		}
		sens := Sensitivity{Output: name}
		if bad {
			sens.Err = "some points have no value (no host infected at any seed)"
			out = append(out, sens)
			continue
		}
		yAB := make([][]float64, d)
		for i := range d {
			yAB[i] = y[(2+i)*n : (3+i)*n]
		}
		idx, err := Saltelli(y[:n], y[n:2*n], yAB, s.Bootstrap, s.SampleSeed)
		if err != nil {
			sens.Err = err.Error()
		}
		sens.Indices = idx
		out = append(out, sens)
	}
	return out
}

// mean is the mean of output o at point k over the seeds (NaN if a seed has
// no value).
func (r *Result) mean(k, o int) float64 {
	var sum float64
	for _, v := range r.Values[k] {
		sum += v[o]
	}
	return sum / float64(len(r.Values[k]))
}

// Write writes the sweep's folder dir whole or not at all
// (atomicfile.WriteDir; dir must not exist, or be claimed and empty):
// points.csv, summary.csv, sensitivity.csv (sobol), heat maps (a grid of
// two factors) and sweep.json. Its content depends only on the sweep file,
// the scenario and the program version, never on the workers or the clock.
func (r *Result) Write(dir string) error {
	sens := r.Sensitivities()
	figs, err := r.HeatMaps()
	if err != nil {
		return err
	}
	return atomicfile.WriteDir(dir, func(root *os.Root) error {
		files := []string{PointsFile, SummaryFile}
		if err := atomicfile.Create(root, PointsFile, r.writePoints); err != nil {
			return err
		}
		if err := atomicfile.Create(root, SummaryFile, r.writeSummary); err != nil {
			return err
		}
		if sens != nil {
			files = append(files, SensitivityFile)
			if err := atomicfile.Create(root, SensitivityFile, func(w io.Writer) error { return r.writeSensitivity(w, sens) }); err != nil {
				return err
			}
		}
		for _, f := range figs {
			name := f.Name + ".png"
			files = append(files, name)
			png := f.PNG
			if err := atomicfile.Create(root, name, func(w io.Writer) error { _, err := w.Write(png); return err }); err != nil {
				return err
			}
		}
		files = append(files, ManifestFile)
		return atomicfile.Create(root, ManifestFile, func(w io.Writer) error { return r.writeManifest(w, files, sens) })
	})
}

// num writes a value for a CSV: shortest form, empty for NaN.
func num(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// head returns the columns naming a point: point, block (sobol), factors.
func (r *Result) head() []string {
	h := []string{"point"}
	if r.Plan.Spec.Design == DesignSobol {
		h = append(h, "block")
	}
	for _, f := range r.Plan.Spec.Factors {
		h = append(h, f.Key)
	}
	return h
}

func (r *Result) pointCells(k int) []string {
	p := r.Plan.Points[k]
	c := []string{strconv.Itoa(k + 1)}
	if r.Plan.Spec.Design == DesignSobol {
		c = append(c, p.Block)
	}
	return append(c, p.Text...)
}

func (r *Result) writePoints(w io.Writer) error {
	cw := csv.NewWriter(w)
	h := append(r.head(), "seed")
	cw.Write(append(h, r.Plan.Spec.Outputs...))
	for k := range r.Plan.Points {
		for j, seed := range r.Plan.Seeds {
			row := append(r.pointCells(k), strconv.FormatUint(seed, 10))
			for _, v := range r.Values[k][j] {
				row = append(row, num(v))
			}
			cw.Write(row)
		}
	}
	cw.Flush()
	return cw.Error()
}

// summaryStats are the columns of summary.csv per output.
var summaryStats = []string{"mean", "sd", "p05", "p50", "p95", "n"}

func (r *Result) writeSummary(w io.Writer) error {
	cw := csv.NewWriter(w)
	h := r.head()
	for _, o := range r.Plan.Spec.Outputs {
		for _, st := range summaryStats {
			h = append(h, o+"_"+st)
		}
	}
	cw.Write(h)
	for k := range r.Plan.Points {
		row := r.pointCells(k)
		for o := range r.Plan.Spec.Outputs {
			var v []float64
			for _, vals := range r.Values[k] {
				if !math.IsNaN(vals[o]) {
					v = append(v, vals[o])
				}
			}
			mean, sd := math.NaN(), math.NaN()
			if len(v) > 0 {
				mean = stat.Mean(v, nil)
			}
			if len(v) > 1 {
				sd = stat.StdDev(v, nil)
			}
			p05, p50, p95 := results.Quantiles(v)
			row = append(row, num(mean), num(sd), num(p05), num(p50), num(p95), strconv.Itoa(len(v)))
		}
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

func (r *Result) writeSensitivity(w io.Writer, sens []Sensitivity) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"output", "factor", "S1", "S1_low", "S1_high", "S1_se", "ST", "ST_low", "ST_high", "ST_se"})
	for _, s := range sens {
		for i, f := range r.Plan.Spec.Factors {
			row := []string{s.Output, f.Key, "", "", "", "", "", "", "", ""}
			if i < len(s.Indices) {
				x := s.Indices[i]
				row = []string{s.Output, f.Key, num(x.S1), num(x.S1Low), num(x.S1High), num(x.S1Conf), num(x.ST), num(x.STLow), num(x.STHigh), num(x.STConf)}
			}
			cw.Write(row)
		}
	}
	cw.Flush()
	return cw.Error()
}

// Manifest is the content of sweep.json.
type Manifest struct {
	Version   string           `json:"version"`
	SweepFile string           `json:"sweep_file"`
	Scenario  string           `json:"scenario"`
	Set       []string         `json:"set"`
	Engine    string           `json:"engine"`
	Design    string           `json:"design"`
	Factors   []ManifestFactor `json:"factors"`
	Seeds     []uint64         `json:"seeds"`
	Outputs   []string         `json:"outputs"`
	Points    int              `json:"points"`
	Runs      int              `json:"runs"`
	N         int              `json:"n,omitempty"`         // sobol
	Bootstrap int              `json:"bootstrap,omitempty"` // sobol
	// MostInfluential names, per output, the factor with the largest total
	// Sobol index (sobol designs only).
	MostInfluential map[string]string `json:"most_influential,omitempty"`
	Files           []string          `json:"files"`
}

// ManifestFactor is one factor in sweep.json.
type ManifestFactor struct {
	Key    string   `json:"key"`
	Values []string `json:"values,omitempty"` // grid
	Min    string   `json:"min,omitempty"`    // lhs, sobol
	Max    string   `json:"max,omitempty"`
	Log    bool     `json:"log,omitempty"`
}

// Ranking returns, per output with indices, the factors by decreasing
// total index (Sobol designs only).
func Ranking(sens []Sensitivity) map[string][]int {
	out := map[string][]int{}
	for _, s := range sens {
		if len(s.Indices) == 0 || s.Err != "" {
			continue
		}
		order := make([]int, len(s.Indices))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int {
			x, y := s.Indices[a].ST, s.Indices[b].ST
			switch {
			case x > y:
				return -1
			case x < y:
				return 1
			}
			return 0
		})
		out[s.Output] = order
	}
	return out
}

func (r *Result) writeManifest(w io.Writer, files []string, sens []Sensitivity) error {
	s := r.Plan.Spec
	m := Manifest{
		Version: r.version, SweepFile: s.File, Scenario: s.Scenario, Set: append([]string{}, s.Set...), Engine: s.Engine,
		Design: s.Design, Seeds: r.Plan.Seeds, Outputs: s.Outputs, Points: len(r.Plan.Points), Runs: r.Plan.Runs(), Files: files,
	}
	if s.Design == DesignSobol {
		m.N, m.Bootstrap = s.N, s.Bootstrap
		m.MostInfluential = map[string]string{}
		for o, order := range Ranking(sens) {
			m.MostInfluential[o] = s.Factors[order[0]].Key
		}
	}
	for _, f := range s.Factors {
		mf := ManifestFactor{Key: f.Key, Log: f.Log}
		if s.Design == DesignGrid {
			for _, v := range f.Values {
				t, _ := valueText(v)
				mf.Values = append(mf.Values, t)
			}
		} else {
			mf.Min, mf.Max = boundText(f.Min), boundText(f.Max)
		}
		m.Factors = append(m.Factors, mf)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("sweep.json: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// fileStem makes an output name part of a file name: final.infected
// becomes final-infected.
func fileStem(output string) string { return strings.ReplaceAll(output, ".", "-") }

// MainEffects returns, for a grid, per output and factor, the range (max -
// min) of the output's mean over the factor's values, the mean taken over
// the seeds and every value of the other factors: how much the outcome
// moves, on average, when that factor alone moves across its values. nil
// for other designs, NaN where a value has no data.
func (r *Result) MainEffects() [][]float64 {
	s := r.Plan.Spec
	if s.Design != DesignGrid {
		return nil
	}
	d := len(s.Factors)
	stride := make([]int, d) // points between consecutive values of factor i
	st := 1
	for i := d - 1; i >= 0; i-- {
		stride[i] = st
		st *= len(s.Factors[i].Values)
	}
	out := make([][]float64, len(s.Outputs))
	for o := range s.Outputs {
		out[o] = make([]float64, d)
		for i, f := range s.Factors {
			sums := make([]float64, len(f.Values))
			counts := make([]int, len(f.Values))
			for k := range r.Plan.Points {
				v := (k / stride[i]) % len(f.Values)
				m := r.mean(k, o)
				if !math.IsNaN(m) {
					sums[v] += m
					counts[v]++
				}
			}
			lo, hi := math.Inf(1), math.Inf(-1)
			for v := range sums {
				if counts[v] == 0 {
					lo = math.NaN()
					break
				}
				m := sums[v] / float64(counts[v])
				lo, hi = math.Min(lo, m), math.Max(hi, m)
			}
			out[o][i] = hi - lo
		}
	}
	return out
}
