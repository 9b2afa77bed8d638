// Package atomicfile writes files and folders so that they appear whole or
// not at all: under a hidden temporary name in the same folder, synced,
// then renamed. Every temporary path it creates, and every folder claimed
// with Claim, is tracked in one process-wide registry, so that Cleanup (run
// by the command line on every exit and on every catchable signal) removes
// whatever an interrupted or failed command left, even where the removal
// failed at the time (no file descriptors left, say).
//
// A folder is filled through an *os.Root opened on its temporary copy, so
// nothing written into it, whatever name it is given, can land outside it.
package atomicfile

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"unicode/utf8"
)

// CreateError is a failure to create the temporary file (a folder that does
// not exist or cannot be written): usually the user's to fix.
type CreateError struct{ Err error }

func (e *CreateError) Error() string { return e.Err.Error() }
func (e *CreateError) Unwrap() error { return e.Err }

// ErrStopped is returned by a write that would have renamed its result into
// place after Cleanup ran: the program is stopping and keeps nothing new.
var ErrStopped = errors.New("stopped: the program is exiting")

// PartialInfix marks a temporary name: ".<name>.partial-<random>". Readers
// of results never take a name holding it (or starting with '.') for one.
const PartialInfix = ".partial-"

// maxTempStem bounds the part of the final name kept in a temporary name,
// so that a final name near the file system's limit (255 bytes) still has
// room for the hidden prefix and the random suffix.
const maxTempStem = 200

// TempName returns the name of a temporary sibling of a file or folder
// called base: hidden (a leading '.'), marked with PartialInfix, with 16
// random hex digits, and at most 227 bytes long whatever base is.
func TempName(base string) string {
	stem := base
	if len(stem) > maxTempStem {
		stem = stem[:maxTempStem]
		for len(stem) > 0 && !utf8.ValidString(stem) {
			stem = stem[:len(stem)-1]
		}
	}
	var b [8]byte
	rand.Read(b[:])
	return "." + stem + PartialInfix + hex.EncodeToString(b[:])
}

// The registry of paths to remove when the program stops.
var reg = struct {
	sync.Mutex
	temps   map[string]bool // temporary files and folders: removed whole
	claims  map[string]bool // claimed folders: removed only while empty
	stopped bool
}{temps: map[string]bool{}, claims: map[string]bool{}}

// track records a temporary path; it fails once Cleanup has run.
func track(path string) error {
	reg.Lock()
	defer reg.Unlock()
	if reg.stopped {
		return ErrStopped
	}
	reg.temps[path] = true
	return nil
}

// untrack forgets a temporary path that was removed or renamed.
func untrack(path string) {
	reg.Lock()
	delete(reg.temps, path)
	reg.Unlock()
}

// commit renames tmp to final under the registry's lock, so that Cleanup
// cannot remove tmp halfway, and forgets tmp.
func commit(tmp, final string) error {
	reg.Lock()
	defer reg.Unlock()
	if reg.stopped {
		return ErrStopped
	}
	// A claimed folder is replaced whole: rename(2) replaces an empty
	// directory atomically (and refuses a non-empty one), where os.Rename
	// refuses any directory.
	rename := os.Rename
	if reg.claims[final] {
		rename = syscall.Rename
	}
	if err := rename(tmp, final); err != nil {
		return err
	}
	delete(reg.temps, tmp)
	return nil
}

// isStopped reports whether Cleanup has run.
func isStopped() bool {
	reg.Lock()
	defer reg.Unlock()
	return reg.stopped
}

// Cleanup removes every temporary path still tracked and every claimed
// folder that is still empty, and makes later commits fail with
// ErrStopped. It returns the paths it could not remove. It is safe to call
// more than once and from any goroutine.
func Cleanup() []string {
	reg.Lock()
	defer reg.Unlock()
	reg.stopped = true
	var left []string
	for p := range reg.temps {
		if err := os.RemoveAll(p); err != nil {
			left = append(left, p)
			continue
		}
		delete(reg.temps, p)
	}
	for p := range reg.claims {
		if err := os.Remove(p); err == nil || errors.Is(err, fs.ErrNotExist) {
			delete(reg.claims, p)
		}
	}
	return left
}

// Write writes path through fn: into a hidden temporary file in the same
// folder, flushed and synced, then renamed to path. On any error the
// temporary file is removed and path is left as it was. Write replaces an
// existing file at path: deciding whether it may is the caller's job
// (package outpath).
func Write(path string, fn func(io.Writer) error) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmpPath := filepath.Join(dir, TempName(base))
	if err := track(tmpPath); err != nil {
		return err
	}
	tmp, err := os.OpenFile(tmpPath, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		untrack(tmpPath)
		return &CreateError{fmt.Errorf("cannot write %s: %w", path, pathless(err))}
	}
	err = fill(tmp, fn)
	if err == nil {
		err = os.Chmod(tmpPath, 0o644)
	}
	if err == nil {
		err = commit(tmpPath, path)
	}
	if err != nil {
		os.Remove(tmpPath)
		untrack(tmpPath)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// fill writes f through fn with a buffer, flushes, syncs and closes it,
// returning the first error.
func fill(f *os.File, fn func(io.Writer) error) error {
	bw := bufio.NewWriterSize(f, 1<<18)
	err := fn(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// pathless drops the path from an *fs.PathError (the caller names it).
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ExistsError is a folder that exists where a new one must be made.
type ExistsError struct{ Path string }

func (e *ExistsError) Error() string {
	return fmt.Sprintf("%s already exists; choose a new folder (results are never overwritten)", e.Path)
}

// Claim creates the folder dir, which must not exist (an *ExistsError
// otherwise), creating its parents if needed. The claim is atomic (mkdir),
// so of two commands given the same folder the second fails at once and
// touches nothing. A claimed folder is removed by Release, or by Cleanup,
// as long as it is empty; once it holds results it stays.
func Claim(dir string) error {
	dir = filepath.Clean(dir)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return &CreateError{fmt.Errorf("cannot create the folder of %s: %w", dir, pathless(err))}
	}
	reg.Lock()
	defer reg.Unlock()
	if reg.stopped {
		return ErrStopped
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return &ExistsError{dir}
		}
		return &CreateError{fmt.Errorf("cannot create %s: %w", dir, pathless(err))}
	}
	reg.claims[dir] = true
	return nil
}

// ClaimNew claims the first of base, base-2, base-3, ... that does not
// exist, for folders whose name the program chose (two commands started in
// the same second get different folders). It returns the folder claimed.
func ClaimNew(base string) (string, error) {
	for i := 1; i <= 1000; i++ {
		dir := base
		if i > 1 {
			dir = fmt.Sprintf("%s-%d", base, i)
		}
		err := Claim(dir)
		var ee *ExistsError
		if errors.As(err, &ee) {
			continue
		}
		return filepath.Clean(dir), err
	}
	return "", &ExistsError{base + "-1000"}
}

// Release ends the claim of dir: the folder is removed if it is still empty
// (a command that failed or was stopped before writing anything leaves
// nothing that would block running it again) and kept otherwise.
func Release(dir string) {
	dir = filepath.Clean(dir)
	reg.Lock()
	defer reg.Unlock()
	if reg.claims[dir] {
		os.Remove(dir) // fails, harmlessly, when the folder holds results
		delete(reg.claims, dir)
	}
}

// WriteDir writes the folder dir whole or not at all. fn fills a hidden
// temporary sibling folder through root, an *os.Root on it (use Create and
// MkdirAll below), and the folder is then synced and renamed to dir. If dir
// was claimed with Claim (and is still empty), the rename replaces the
// claimed folder; otherwise dir must not exist (an *ExistsError). On error
// the temporary folder is removed and dir is left as it was. The parent of
// dir is created if needed.
func WriteDir(dir string, fn func(root *os.Root) error) (err error) {
	dir = filepath.Clean(dir)
	parent, base := filepath.Split(dir)
	if parent == "" {
		parent = "."
	}
	reg.Lock()
	claimed := reg.claims[dir]
	reg.Unlock()
	if !claimed {
		if _, err := os.Lstat(dir); err == nil {
			return &ExistsError{dir}
		}
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return &CreateError{fmt.Errorf("cannot create the folder of %s: %w", dir, pathless(err))}
	}
	tmp := filepath.Join(parent, TempName(base))
	if err := track(tmp); err != nil {
		return err
	}
	if err := os.Mkdir(tmp, 0o755); err != nil {
		untrack(tmp)
		return &CreateError{fmt.Errorf("cannot write %s: %w", dir, pathless(err))}
	}
	defer func() {
		// Also runs while a panic unwinds, so no half folder stays behind.
		if err != nil {
			if rmErr := os.RemoveAll(tmp); rmErr == nil {
				untrack(tmp) // else Cleanup tries again at exit
			}
		}
	}()
	root, err := os.OpenRoot(tmp)
	if err != nil {
		return err
	}
	err = fn(root)
	if cerr := root.Close(); err == nil {
		err = cerr
	}
	if isStopped() {
		return ErrStopped // Cleanup removed the temporary folder
	}
	if err != nil {
		return err
	}
	if err := syncTree(tmp); err != nil {
		return fmt.Errorf("syncing %s: %w", tmp, err)
	}
	if !claimed {
		// Check again just before the rename: rename(2) refuses to replace
		// a non-empty directory but would replace an empty one that
		// appeared meanwhile.
		if _, err := os.Lstat(dir); err == nil {
			return &ExistsError{dir}
		}
	}
	if err := commit(tmp, dir); err != nil {
		if errors.Is(err, ErrStopped) {
			return err
		}
		return fmt.Errorf("renaming %s to %s: %w", tmp, dir, pathless(err))
	}
	if claimed {
		reg.Lock()
		delete(reg.claims, dir) // it holds results now
		reg.Unlock()
	}
	if err := syncDir(parent); err != nil {
		// The folder is complete and in place; only the rename's durability
		// across a power cut is in doubt. Report it without undoing anything.
		return fmt.Errorf("%s: written, but syncing %s failed: %w", dir, parent, err)
	}
	return nil
}

// Create writes the file name under root through fn (buffered, then
// flushed, synced and closed). The file must not exist. name may hold
// slashes (a file in a sub-folder); it cannot leave root.
func Create(root *os.Root, name string, fn func(io.Writer) error) error {
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %w", name, pathless(err))
	}
	if err := fill(f, fn); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// MkdirAll creates the folder name, and its parents, under root.
func MkdirAll(root *os.Root, name string) error {
	if err := root.MkdirAll(name, 0o755); err != nil {
		return fmt.Errorf("%s: %w", name, pathless(err))
	}
	return nil
}

// syncTree syncs every folder of the tree at dir (files are synced as they
// are written), so that the rename publishes entries that are on disk.
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return syncDir(p)
		}
		return nil
	})
}

// syncDir flushes a directory's entries to disk. Windows cannot sync a
// directory handle and needs no such step for renames to be durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
