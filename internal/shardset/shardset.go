// Package shardset reads the manifests of shard folders (replay --shard,
// sweep --shard) and checks that they are the n shards of one job, each
// once: what `wormwatch merge` needs before it joins them. The manifest's
// type and what makes two shards belong together are the caller's.
package shardset

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Error is a set of shard folders that do not make one job: one missing or
// given twice, of another job, unfinished, damaged. Callers wrap its
// message in their own error type.
type Error struct{ Msg string }

// Error says what is wrong.
func (e *Error) Error() string { return e.Msg }

// Spec says how to read one kind of shard manifest.
type Spec[T any] struct {
	File string // the manifest's name in a shard folder
	// Missing completes "DIR: no FILE: " for a folder without one.
	Missing string
	// Index returns the shard's index and count, and "" or why the
	// manifest (named name) is not a shard's.
	Index func(s T, name string) (i, n int, bad string)
	// Same reports whether s is of the same job as first.
	Same func(first, s T) bool
	// Differ completes "DIR0 and DIR are shards of different ...".
	Differ string
}

// Read reads the manifest of each folder of dirs and checks that they are
// the n shards of one job, each once. It returns them in the order of
// dirs, with each one's index. A file that cannot be read for another
// reason than its absence is returned as is; every other problem is an
// *Error.
func Read[T any](dirs []string, sp Spec[T]) ([]T, []int, error) {
	var shards []T
	var index []int
	seen := map[int]string{}
	n := 0
	for k, d := range dirs {
		name := filepath.Join(d, sp.File)
		b, err := os.ReadFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, &Error{fmt.Sprintf("%s: no %s: %s", d, sp.File, sp.Missing)}
		}
		if err != nil {
			return nil, nil, err
		}
		var s T
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, nil, &Error{fmt.Sprintf("%s: %v", name, err)}
		}
		i, c, bad := sp.Index(s, name)
		if bad != "" {
			return nil, nil, &Error{bad}
		}
		if k == 0 {
			n = c
		} else if c != n || !sp.Same(shards[0], s) {
			return nil, nil, &Error{fmt.Sprintf("%s and %s are shards of different %s", dirs[0], d, sp.Differ)}
		}
		if o, ok := seen[i]; ok {
			return nil, nil, &Error{fmt.Sprintf("%s and %s are both shard %d/%d", o, d, i, c)}
		}
		seen[i] = d
		shards = append(shards, s)
		index = append(index, i)
	}
	for i := range n {
		if _, ok := seen[i]; !ok {
			return nil, nil, &Error{fmt.Sprintf("shard %d/%d is missing (%d of %d shard folders given)", i, n, len(seen), n)}
		}
	}
	return shards, index, nil
}
