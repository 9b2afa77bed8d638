package scale

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"wormwatch/internal/atomicfile"
	"wormwatch/internal/shardset"
	"wormwatch/replay"
	"wormwatch/results"
	"wormwatch/sim"
)

// Files of a shard's folder (replay --shard i/n), beside its seed folders.
const (
	ShardFile       = "shard.json"    // the manifest (Shard), written last: a folder without it is unfinished
	ShardResultsDir = "shard-results" // each seed's result, seed-NNNN.gob.zst (a SeedResult without files)
)

// Shard is the manifest of a shard's folder: which part of which replay
// it holds.
type Shard struct {
	Index          int      `json:"index"` // 0 to Count-1
	Count          int      `json:"count"`
	Scenario       string   `json:"scenario"`
	ScenarioSHA256 string   `json:"scenario_sha256"` // of the resolved scenario (scenario.toml)
	Version        string   `json:"version"`
	Infections     bool     `json:"infections"`
	Seeds          []uint64 `json:"seeds"` // every seed of the replay, in order; the shard holds ShardSeeds(Seeds, Index, Count)
	// With replay --posterior: the calibration's posterior folder as the
	// report names it, the keys each seed drew, the posterior's SHA-256
	// (calibrate.Posterior.SHA256), and the replay's resolved scenario
	// before the draws (ScenarioSHA256 is its sum; each seed folder holds
	// its own scenario.toml, with its draws).
	Posterior       string   `json:"posterior,omitempty"`
	PosteriorKeys   []string `json:"posterior_keys,omitempty"`
	PosteriorSHA256 string   `json:"posterior_sha256,omitempty"`
	ScenarioTOML    string   `json:"scenario_toml,omitempty"`
}

// ParseShard reads "i/n": shard i (from 0) of n. Batch schedulers number
// their array tasks from 0 when asked (Slurm: --array=0-N; Kubernetes
// Indexed Jobs: JOB_COMPLETION_INDEX).
func ParseShard(s string) (i, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("--shard %s: want i/n with 0 <= i < n, like 0/4 (shard i from 0 of n)", s)
	}
	return i, n, nil
}

// ShardSeeds returns the seeds of shard i of n: every n-th seed from the
// i-th, so that shards of seeds of similar cost take similar times.
func ShardSeeds(seeds []uint64, i, n int) []uint64 {
	var out []uint64
	for k := i; k < len(seeds); k += n {
		out = append(out, seeds[k])
	}
	return out
}

// ScenarioSum is the SHA-256 (hex) of a resolved scenario.
func ScenarioSum(resolved []byte) string {
	h := sha256.Sum256(resolved)
	return hex.EncodeToString(h[:])
}

// ShardKeep returns a Keep hook (runner.Options.Keep) that writes each
// seed's result, without its infections, to dir/shard-results, and a
// function returning the first error it met.
func ShardKeep(dir string) (keep func(seed uint64, res *sim.Result), failed func() error) {
	var (
		mu       sync.Mutex
		firstErr error
	)
	keep = func(seed uint64, res *sim.Result) {
		r := *res
		r.Infections = nil
		data, err := encodeResult(&SeedResult{Seed: seed, Result: &r})
		if err == nil {
			err = os.MkdirAll(filepath.Join(dir, ShardResultsDir), 0o755)
		}
		if err == nil {
			err = atomicfile.Write(filepath.Join(dir, ShardResultsDir, results.SeedDirName(seed)+".gob.zst"), func(w io.Writer) error {
				_, err := w.Write(data)
				return err
			})
		}
		if err != nil {
			mu.Lock()
			if firstErr == nil {
				firstErr = fmt.Errorf("seed %d: %w", seed, err)
			}
			mu.Unlock()
		}
	}
	failed = func() error {
		mu.Lock()
		defer mu.Unlock()
		return firstErr
	}
	return keep, failed
}

// WriteShard writes the manifest of a finished shard's folder.
func WriteShard(dir string, s Shard) error {
	return atomicfile.Write(filepath.Join(dir, ShardFile), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	})
}

// ShardError is a set of shard folders that do not make one replay: one
// missing or given twice, of another replay, unfinished, damaged.
type ShardError = shardset.Error

// ReadShards reads the manifests of shard folders and checks that they are
// the n shards of one replay, each once. It returns their common manifest
// (Index 0) and the folder holding each seed.
func ReadShards(dirs []string) (Shard, map[uint64]string, error) {
	shards, _, err := shardset.Read(dirs, shardset.Spec[Shard]{
		File: ShardFile, Missing: "not a shard folder of replay --shard, or its shard did not finish",
		Index: func(s Shard, name string) (int, int, string) {
			if s.Count < 1 || s.Index < 0 || s.Index >= s.Count || len(s.Seeds) == 0 {
				return 0, 0, fmt.Sprintf("%s: shard %d of %d with %d seeds is not a shard", name, s.Index, s.Count, len(s.Seeds))
			}
			return s.Index, s.Count, ""
		},
		Same: func(f, s Shard) bool {
			return s.ScenarioSHA256 == f.ScenarioSHA256 && s.Version == f.Version && s.Infections == f.Infections &&
				slices.Equal(s.Seeds, f.Seeds) && s.Posterior == f.Posterior && s.PosteriorSHA256 == f.PosteriorSHA256
		},
		Differ: "replays (scenario, seeds, shard count, version, --infections or --posterior differ)",
	})
	if err != nil || len(shards) == 0 {
		return Shard{}, nil, err
	}
	where := map[uint64]string{}
	for k, s := range shards {
		for _, seed := range ShardSeeds(s.Seeds, s.Index, s.Count) {
			where[seed] = dirs[k]
		}
	}
	first := shards[0]
	first.Index = 0
	return first, where, nil
}

// MergeSeeds returns a replay.SeedsFunc that takes each seed from the
// shard folder holding it (where, from ReadShards): it copies the seed's
// folder under out, whole (atomicfile.WriteDir), and hands its stored
// result to the hooks, so that the replay of the merged shards equals the
// replay run in one go.
func MergeSeeds(where map[uint64]string, out string) replay.SeedsFunc {
	return func(ctx context.Context, seeds []uint64, h replay.Hooks) error {
		for _, seed := range seeds {
			if err := ctx.Err(); err != nil {
				return err
			}
			d, ok := where[seed]
			if !ok {
				return &ShardError{Msg: fmt.Sprintf("seed %d is in no shard folder", seed)}
			}
			name := results.SeedDirName(seed)
			files, err := readTree(filepath.Join(d, name))
			if err != nil {
				return &ShardError{Msg: fmt.Sprintf("%s: %v (the shard is incomplete)", filepath.Join(d, name), err)}
			}
			data, err := os.ReadFile(filepath.Join(d, ShardResultsDir, name+".gob.zst"))
			if err != nil {
				return &ShardError{Msg: fmt.Sprintf("%s: %v (the shard is incomplete)", filepath.Join(d, ShardResultsDir, name+".gob.zst"), err)}
			}
			r, err := decodeResult(data)
			if err != nil || r.Result == nil || r.Seed != seed {
				return &ShardError{Msg: fmt.Sprintf("%s: not seed %d's stored result (%v)", filepath.Join(d, ShardResultsDir, name+".gob.zst"), seed, err)}
			}
			if err := WriteSeedDir(filepath.Join(out, name), files); err != nil {
				return err
			}
			if h.Keep != nil {
				h.Keep(seed, r.Result)
			}
			if h.Done != nil {
				h.Done(seed)
			}
		}
		return nil
	}
}
