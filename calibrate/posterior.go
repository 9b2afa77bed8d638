package calibrate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/parquet-go/parquet-go"
)

// Posterior is a finished calibration's posterior as its folder holds it,
// for runs that draw their parameters from it (`replay --posterior`): the
// keys in the calibration's order (calibration.json), the particles and
// their weights (posterior.parquet).
type Posterior struct {
	Dir       string      // the posterior folder read
	Keys      []string    // scenario keys, as --set takes them
	Integer   []bool      // the key takes the nearest integer
	Units     []string    // a duration key's unit (Param.Unit), "" for a number
	Particles [][]float64 // [particle][key]
	Weights   []float64   // normalised to sum 1
	// SHA256 is the hex SHA-256 of calibration.json and posterior.parquet
	// (in that order): which posterior, whatever the folder's name
	// (replay --shard records it so that merge joins shards of one).
	SHA256 string
}

// ReadPosterior reads the posterior of the calibration folder dir (the
// folder `calibrate --out` names, or its posterior/ folder). A file that is
// missing, unreadable or does not match its manifest is an error naming it.
func ReadPosterior(dir string) (*Posterior, error) {
	if _, err := os.Stat(filepath.Join(dir, PosteriorDir, ManifestFile)); err == nil {
		dir = filepath.Join(dir, PosteriorDir)
	}
	return readPosterior(dir, func(name string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, name)) })
}

// ReadPosteriorFS reads a posterior folder's files (calibration.json and
// posterior.parquet) from the root of fsys, as ReadPosterior does from a
// folder; name stands for the folder in Dir and in errors (a posterior
// shipped inside the program, say).
func ReadPosteriorFS(fsys fs.FS, name string) (*Posterior, error) {
	return readPosterior(name, func(file string) ([]byte, error) { return fs.ReadFile(fsys, file) })
}

// readPosterior reads the posterior whose files read returns, by name
// inside the folder dir.
func readPosterior(dir string, read func(name string) ([]byte, error)) (*Posterior, error) {
	manifest := filepath.Join(dir, ManifestFile)
	data, err := read(ManifestFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (is %s a calibration folder, whole?)", manifest, err, dir)
	}
	var m struct {
		Parameters []ParamSummary `json:"parameters"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", manifest, err)
	}
	if len(m.Parameters) == 0 {
		return nil, fmt.Errorf("%s: no parameters", manifest)
	}
	p := &Posterior{Dir: dir}
	for _, prm := range m.Parameters {
		p.Keys = append(p.Keys, prm.Key)
		p.Integer = append(p.Integer, prm.Integer)
		if prm.Unit != "" && !contains(Units, prm.Unit) {
			return nil, fmt.Errorf("%s: %s: unit %q: want s, m, h or d", manifest, prm.Key, prm.Unit)
		}
		p.Units = append(p.Units, prm.Unit)
	}
	name := filepath.Join(dir, PosteriorFile)
	pq, err := read(PosteriorFile)
	if err != nil {
		return nil, err // it names the file
	}
	h := sha256.New()
	h.Write(data)
	h.Write(pq)
	p.SHA256 = hex.EncodeToString(h.Sum(nil))
	pf, err := parquet.OpenFile(bytes.NewReader(pq), int64(len(pq)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for j, k := range p.Keys {
		if u, _ := pf.Lookup(UnitMetadata + k); u != p.Units[j] {
			return nil, fmt.Errorf("%s: %s has unit %q, the manifest %s says %q", name, k, u, manifest, p.Units[j])
		}
	}
	col := map[string]int{}
	for i, path := range pf.Schema().Columns() {
		col[path[0]] = i
	}
	for _, k := range append([]string{"weight"}, p.Keys...) {
		if _, ok := col[k]; !ok {
			return nil, fmt.Errorf("%s: no column %q (the manifest %s names it)", name, k, manifest)
		}
	}
	n := pf.NumRows()
	if n == 0 || n > MaxParticles {
		return nil, fmt.Errorf("%s: %d particles (want 1 to %d)", name, n, MaxParticles)
	}
	rows := make([]parquet.Row, n)
	r := parquet.NewReader(pf)
	defer r.Close()
	got := 0
	for got < len(rows) {
		k, err := r.ReadRows(rows[got:])
		got += k
		if err != nil {
			break
		}
	}
	if got != len(rows) {
		return nil, fmt.Errorf("%s: read %d of %d particles", name, got, n)
	}
	total := 0.0
	width := len(pf.Schema().Columns())
	for i, row := range rows {
		// A flat schema: one value a column, in column order.
		val := func(c int) float64 {
			if len(row) != width || row[c].Column() != c || row[c].IsNull() {
				return math.NaN()
			}
			return row[c].Double()
		}
		w := val(col["weight"])
		if !(w >= 0) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("%s: particle %d: weight %v", name, i, w)
		}
		x := make([]float64, len(p.Keys))
		for j, k := range p.Keys {
			if x[j] = val(col[k]); math.IsNaN(x[j]) || math.IsInf(x[j], 0) {
				return nil, fmt.Errorf("%s: particle %d: %s = %v", name, i, k, x[j])
			}
		}
		p.Particles = append(p.Particles, x)
		p.Weights = append(p.Weights, w)
		total += w
	}
	if !(total > 0) || math.IsInf(total, 0) {
		return nil, fmt.Errorf("%s: the weights sum to %v", name, total)
	}
	for i := range p.Weights {
		p.Weights[i] /= total
	}
	return p, nil
}

// Draw returns the particle drawn for seed, in proportion to the weights,
// from a stream of the seed's own (the same seed draws the same particle
// whatever else runs), and its --set assignments: each value as the
// calibration's simulations received it (an integer key's nearest integer,
// a duration key's value with its unit).
func (p *Posterior) Draw(seed uint64) (int, []string) {
	h := fnv.New64a()
	h.Write([]byte("posterior draw"))
	u := rand.New(rand.NewPCG(seed, h.Sum64())).Float64()
	i := 0
	for acc := 0.0; i < len(p.Weights)-1; i++ {
		if acc += p.Weights[i]; u < acc {
			break
		}
	}
	sets := make([]string, len(p.Keys))
	for j, k := range p.Keys {
		sets[j] = k + "=" + valueText(p.Particles[i][j], p.Integer[j], p.Units[j])
	}
	return i, sets
}
