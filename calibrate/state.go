package calibrate

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"wormwatch/internal/atomicfile"
)

// The files of a calibration's folder (docs/calibrate.md).
const (
	StateFile    = "state.json"   // the generations done, and why the calibration stopped
	PosteriorDir = "posterior"    // the outputs, written once the calibration is done
	genPattern   = "gen-%03d.csv" // one per complete generation
)

// GenFile names the file of generation t.
func GenFile(t int) string { return fmt.Sprintf(genPattern, t) }

// State is the content of state.json: what a resumed calibration needs
// besides the generations' files.
type State struct {
	Format      int        `json:"format"`
	File        string     `json:"file"` // the calibration file, absolute
	Hash        string     `json:"inputs_sha256"`
	Version     string     `json:"version"`
	Generations []genState `json:"generations"`
	Stop        string     `json:"stop,omitempty"`
	StopDetail  string     `json:"stop_detail,omitempty"`
	// MaxGenerations, when set, replaces the calibration file's
	// max_generations: a calibration extended with `--resume DIR
	// --max-generations N` (see Extend) keeps N when resumed again.
	MaxGenerations int `json:"max_generations,omitempty"`
}

type genState struct {
	Index      int     `json:"index"`
	File       string  `json:"file"`
	Tolerance  string  `json:"tolerance"` // a number, or "+Inf"
	Attempts   int     `json:"attempts"`
	Acceptance float64 `json:"acceptance"`
}

// ReadState reads the state.json of a calibration folder (for --resume).
func ReadState(dir string) (*State, error) {
	data, err := os.ReadFile(filepath.Join(dir, StateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no %s: not a calibration folder, or one whose first generation was never started", dir, StateFile)
	}
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil || st.Format != 1 {
		return nil, fmt.Errorf("%s: not a calibration state (format 1)", filepath.Join(dir, StateFile))
	}
	return &st, nil
}

// loadState reads the folder's state and generations, or starts a new
// state (written at once, so that a calibration stopped during its first
// generation can be resumed).
func loadState(dir string, p *Plan, version string) (*State, []Generation, error) {
	st, err := ReadState(dir)
	if err != nil {
		if _, serr := os.Stat(filepath.Join(dir, StateFile)); !errors.Is(serr, fs.ErrNotExist) {
			return nil, nil, err
		}
		abs, _ := filepath.Abs(p.Spec.File)
		st = &State{Format: 1, File: abs, Hash: p.Hash, Version: version}
		return st, nil, writeState(dir, st)
	}
	if st.Hash != p.Hash {
		return nil, nil, fmt.Errorf("%s: made from other inputs: the calibration file, a target's CSV file or the scenario changed since (start a new calibration)", dir)
	}
	if st.MaxGenerations > 0 {
		p.Spec.MaxGenerations = st.MaxGenerations
	}
	var gens []Generation
	for i, gs := range st.Generations {
		g, err := readGeneration(filepath.Join(dir, gs.File), p.Spec)
		if err != nil {
			return nil, nil, err
		}
		if g.Tolerance, err = strconv.ParseFloat(gs.Tolerance, 64); err != nil {
			return nil, nil, fmt.Errorf("%s: generation %d: tolerance %q", StateFile, i, gs.Tolerance)
		}
		g.Index, g.Attempts, g.Acceptance = i, gs.Attempts, gs.Acceptance
		gens = append(gens, *g)
	}
	return st, gens, nil
}

func writeState(dir string, st *State) error {
	return atomicfile.Write(filepath.Join(dir, StateFile), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	})
}

// storeGeneration writes the last generation's file (when added) and then
// the state, each atomically: a generation counts once state.json names it.
func storeGeneration(dir string, st *State, gens []Generation, added bool) error {
	if added {
		g := &gens[len(gens)-1]
		name := GenFile(g.Index)
		if err := atomicfile.Write(filepath.Join(dir, name), func(w io.Writer) error { return writeGeneration(w, g) }); err != nil {
			return err
		}
		st.Generations = append(st.Generations, genState{
			Index: g.Index, File: name, Tolerance: strconv.FormatFloat(g.Tolerance, 'g', -1, 64),
			Attempts: g.Attempts, Acceptance: g.Acceptance,
		})
	}
	return writeState(dir, st)
}

// f64 writes a float so that it reads back the same.
func f64(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// writeGeneration writes a generation as CSV: particle, weight, distance,
// attempts, then each parameter's value and its transformed value (full
// precision, so that a resumed calibration continues from the same
// numbers).
func writeGeneration(w io.Writer, g *Generation) error {
	cw := csv.NewWriter(w)
	d := len(g.Particles[0].Theta)
	head := []string{"particle", "weight", "distance", "attempts"}
	for m := range d {
		head = append(head, fmt.Sprintf("theta_%d", m+1))
	}
	for m := range d {
		head = append(head, fmt.Sprintf("z_%d", m+1))
	}
	cw.Write(head)
	for i, pt := range g.Particles {
		row := []string{strconv.Itoa(i), f64(pt.Weight), f64(pt.Distance), strconv.Itoa(pt.Attempts)}
		for _, v := range pt.Theta {
			row = append(row, f64(v))
		}
		for _, v := range pt.Z {
			row = append(row, f64(v))
		}
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

func readGeneration(path string, s *Spec) (*Generation, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d := len(s.Params)
	r := csv.NewReader(f)
	r.FieldsPerRecord = 4 + 2*d
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(recs)-1 != s.Particles {
		return nil, fmt.Errorf("%s: %d particles, the calibration file says %d", path, len(recs)-1, s.Particles)
	}
	g := &Generation{}
	for k, rec := range recs[1:] {
		var pt Particle
		vals := make([]float64, 2+2*d)
		for c, i := range []int{1, 2} {
			if vals[c], err = strconv.ParseFloat(rec[i], 64); err != nil {
				return nil, fmt.Errorf("%s: row %d: %v", path, k+2, err)
			}
		}
		for c := range 2 * d {
			if vals[2+c], err = strconv.ParseFloat(rec[4+c], 64); err != nil || math.IsNaN(vals[2+c]) {
				return nil, fmt.Errorf("%s: row %d: bad value %q", path, k+2, rec[4+c])
			}
		}
		if pt.Attempts, err = strconv.Atoi(rec[3]); err != nil {
			return nil, fmt.Errorf("%s: row %d: %v", path, k+2, err)
		}
		pt.Weight, pt.Distance = vals[0], vals[1]
		pt.Theta = vals[2 : 2+d]
		pt.Z = vals[2+d:]
		g.Particles = append(g.Particles, pt)
	}
	return g, nil
}

// Extend raises the number of generations of the calibration stored in dir
// to n, beyond its file's max_generations: state.json records n (so later
// resumes keep it), and a calibration that had stopped at max_generations
// is open again (its posterior/ folder is removed: Run writes it anew at
// the end). The generations are those a calibration whose file said
// max_generations = n computes, bit for bit: the stopping rule does not
// enter any generation before it stops. n must exceed the stored
// generations, and a calibration stopped by another rule (min_tolerance,
// min_acceptance) cannot be extended, nor one whose inputs (p's) changed.
func Extend(dir string, p *Plan, n int) error {
	st, err := ReadState(dir)
	if err != nil {
		return err
	}
	if st.Hash != p.Hash {
		return fmt.Errorf("%s: made from other inputs: the calibration file, a target's CSV file or the scenario changed since (start a new calibration)", dir)
	}
	if n <= len(st.Generations) {
		return fmt.Errorf("--max-generations %d: %s holds %d generations already (want more)", n, dir, len(st.Generations))
	}
	if st.Stop != "" && st.Stop != StopMaxGenerations {
		return fmt.Errorf("%s stopped by %s (%s): more generations would not run", dir, st.Stop, st.StopDetail)
	}
	st.MaxGenerations = n
	st.Stop, st.StopDetail = "", ""
	if err := writeState(dir, st); err != nil {
		return err
	}
	return os.RemoveAll(filepath.Join(dir, PosteriorDir))
}
