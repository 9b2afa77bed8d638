package sweep

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"wormwatch/internal/atomicfile"
	"wormwatch/internal/shardset"
)

// ShardFile is the manifest of a sweep shard's folder (sweep --shard i/n),
// which holds nothing else: the outputs of the shard's runs.
const ShardFile = "sweep-shard.json"

// Shard is what a shard of a sweep found: which shard of which sweep, and
// the outputs of each of its runs.
type Shard struct {
	Index int `json:"index"` // 0 to Count-1
	Count int `json:"count"`
	// SweepFile is the sweep file as the command line named it (sweep.json's
	// sweep_file), SweepPath its absolute path (merge reads it there), and
	// InputsSHA256 the SHA-256 of the sweep file and, if the scenario is a
	// file, of the scenario file: merge checks them against the file it
	// reads.
	SweepFile    string     `json:"sweep_file"`
	SweepPath    string     `json:"sweep_path"`
	InputsSHA256 string     `json:"inputs_sha256"`
	Version      string     `json:"version"`
	Runs         []ShardRun `json:"runs"`
}

// ShardRun is one run's outputs, in the order of the sweep file's outputs;
// each written with strconv's shortest exact form ("NaN": no value), so
// that the merged sweep holds the bits the unsharded one does.
type ShardRun struct {
	Point  int      `json:"point"` // index into Plan.Points
	Seed   int      `json:"seed"`  // index into Plan.Seeds
	Values []string `json:"values"`
}

// InShard reports whether the run of point k and seed index j belongs to
// shard i of n: runs are numbered point by point, seed by seed, and shard
// i takes every n-th from the i-th, so shards of a design whose points
// cost differently still take similar times.
func (p *Plan) InShard(k, j, i, n int) bool { return (k*len(p.Seeds)+j)%n == i }

// ShardRuns returns the outputs of the runs of shard i of n (Options.Only
// ran them).
func (r *Result) ShardRuns(i, n int) []ShardRun {
	var out []ShardRun
	for k := range r.Values {
		for j, v := range r.Values[k] {
			if !r.Plan.InShard(k, j, i, n) {
				continue
			}
			sr := ShardRun{Point: k, Seed: j}
			for _, x := range v {
				sr.Values = append(sr.Values, strconv.FormatFloat(x, 'g', -1, 64))
			}
			out = append(out, sr)
		}
	}
	return out
}

// WriteShard writes the manifest of a finished shard into dir, whole or not
// at all.
func WriteShard(dir string, s Shard) error {
	return atomicfile.Write(filepath.Join(dir, ShardFile), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	})
}

// IsShard reports whether dir holds a sweep shard's manifest.
func IsShard(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ShardFile))
	return err == nil
}

// ShardError is a set of shard folders that do not make one sweep: one
// missing or given twice, of another sweep, unfinished, damaged.
type ShardError = shardset.Error

// ReadShards reads the manifests of the shard folders dirs and checks that
// they are the n shards of one sweep, each once. It returns them in the
// order of their index.
func ReadShards(dirs []string) ([]Shard, error) {
	shards, index, err := shardset.Read(dirs, shardset.Spec[Shard]{
		File: ShardFile, Missing: "not a shard folder of sweep --shard, or its shard did not finish",
		Index: func(s Shard, name string) (int, int, string) {
			if s.Count < 1 || s.Index < 0 || s.Index >= s.Count {
				return 0, 0, fmt.Sprintf("%s: shard %d of %d is not a shard", name, s.Index, s.Count)
			}
			return s.Index, s.Count, ""
		},
		Same: func(f, s Shard) bool {
			return s.InputsSHA256 == f.InputsSHA256 && s.Version == f.Version && s.SweepFile == f.SweepFile && s.SweepPath == f.SweepPath
		},
		Differ: "sweeps (sweep file, its content, shard count or version differ)",
	})
	if err != nil {
		return nil, err
	}
	ordered := make([]Shard, len(shards))
	for k, s := range shards {
		ordered[index[k]] = s
	}
	return ordered, nil
}

// JoinShards makes the sweep's Result from its shards (ReadShards): every
// run of the plan must be in the shard it belongs to, once.
func JoinShards(p *Plan, shards []Shard, version string) (*Result, error) {
	values := make([][][]float64, len(p.Points))
	for k := range values {
		values[k] = make([][]float64, len(p.Seeds))
	}
	for _, s := range shards {
		for _, sr := range s.Runs {
			if sr.Point < 0 || sr.Point >= len(p.Points) || sr.Seed < 0 || sr.Seed >= len(p.Seeds) ||
				!p.InShard(sr.Point, sr.Seed, s.Index, s.Count) || values[sr.Point][sr.Seed] != nil {
				return nil, &ShardError{Msg: fmt.Sprintf("shard %d/%d: point %d, seed index %d is not one of its runs, or is there twice", s.Index, s.Count, sr.Point+1, sr.Seed)}
			}
			v := make([]float64, len(sr.Values))
			for o, t := range sr.Values {
				x, err := strconv.ParseFloat(t, 64)
				if err != nil {
					return nil, &ShardError{Msg: fmt.Sprintf("shard %d/%d: point %d: value %q: %v", s.Index, s.Count, sr.Point+1, t, err)}
				}
				v[o] = x
			}
			values[sr.Point][sr.Seed] = v
		}
	}
	r, err := Join(p, values, version)
	if err != nil {
		return nil, &ShardError{Msg: fmt.Sprintf("the shards do not hold every run of the sweep: %v", err)}
	}
	return r, nil
}
