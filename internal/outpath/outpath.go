// Package outpath is the one guard every output file of every command goes
// through. Before any work starts, Check decides whether each path given
// for an output may be written; Write then writes it whole or not at all.
//
// The rules (docs/output.md states them for users):
//   - "-" is standard output. At most one output of a command may go there.
//   - A path that is an input of the same command (the same file, through
//     any name, hard link or symbolic link) is refused.
//   - A path that is a folder, a device, a FIFO or a socket, or any path
//     under /dev or /proc, is refused: give "-" for standard output.
//   - An existing regular file is replaced only with --force, and then by a
//     temporary file in the same folder renamed over it; a symbolic link to
//     a regular file is followed (its target is replaced, the link stays).
//   - The folder of the path must exist.
//   - Two outputs of one command cannot name the same file.
package outpath

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"wormwatch/internal/atomicfile"
)

// Stdout is the path that means standard output.
const Stdout = "-"

// Error is an output path refused by the rules: the user's to fix (the
// command line exits with status 2).
type Error struct {
	Flag, Path string // the flag (like "--out") and the path given
	Why        string
}

func (e *Error) Error() string {
	if e.Flag == "" {
		return fmt.Sprintf("%s: %s", e.Path, e.Why)
	}
	return fmt.Sprintf("%s %s: %s", e.Flag, e.Path, e.Why)
}

// Output is one output of a command: the flag that names it (for
// messages) and the path given.
type Output struct {
	Flag string
	Path string
}

// Inputs are the files a command reads; no output may be one of them.
// The zero value holds none.
type Inputs struct {
	files []input
}

type input struct {
	name string
	fi   fs.FileInfo
}

// Add records an input path. "-" (standard input) and paths that cannot be
// read are ignored here: the reader reports those. A folder adds every
// regular file below it.
func (in *Inputs) Add(paths ...string) {
	for _, p := range paths {
		if p == Stdout || p == "" {
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if !fi.IsDir() {
			in.files = append(in.files, input{p, fi})
			continue
		}
		filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			if fi, err := os.Stat(q); err == nil && fi.Mode().IsRegular() {
				in.files = append(in.files, input{q, fi})
			}
			return nil
		})
	}
}

// of returns the input that is the same file as fi, or "".
func (in *Inputs) of(fi fs.FileInfo) string {
	if in == nil {
		return ""
	}
	for _, f := range in.files {
		if os.SameFile(f.fi, fi) {
			return f.name
		}
	}
	return ""
}

// Check applies the rules to every output with a non-empty path, before
// any work starts. stdoutTaken says that the command's main result already
// goes to standard output (so no other output may). force allows
// replacing existing regular files.
func Check(outs []Output, in *Inputs, stdoutTaken, force bool) error {
	seen := map[string]string{}
	toStdout := ""
	if stdoutTaken {
		toStdout = "the command's result"
	}
	for _, o := range outs {
		if o.Path == "" {
			continue
		}
		if o.Path == Stdout {
			if toStdout != "" {
				return &Error{o.Flag, o.Path, fmt.Sprintf("standard output already carries %s; give a file name for one of them", toStdout)}
			}
			toStdout = o.Flag
			continue
		}
		target, err := resolve(o, in, force)
		if err != nil {
			return err
		}
		if prev, dup := seen[target]; dup {
			return &Error{o.Flag, o.Path, fmt.Sprintf("names the same file as %s", prev)}
		}
		seen[target] = o.Flag
	}
	return nil
}

// resolve applies the rules to one path and returns the file to write (the
// absolute path, symbolic links followed).
func resolve(o Output, in *Inputs, force bool) (string, error) {
	abs, err := filepath.Abs(o.Path)
	if err != nil {
		return "", &Error{o.Flag, o.Path, err.Error()}
	}
	if special(abs) {
		return "", &Error{o.Flag, o.Path, "is a device or system path, not a file to write; give - for standard output"}
	}
	fi, err := os.Stat(abs) // follows symbolic links
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, lerr := os.Lstat(abs); lerr == nil {
			return "", &Error{o.Flag, o.Path, "is a symbolic link to nothing; give the file to write"}
		}
		parent := filepath.Dir(abs)
		st, perr := os.Stat(parent)
		if perr != nil || !st.IsDir() {
			return "", &Error{o.Flag, o.Path, fmt.Sprintf("the folder %s does not exist", filepath.Dir(o.Path))}
		}
		real, perr := filepath.EvalSymlinks(parent)
		if perr != nil {
			return "", &Error{o.Flag, o.Path, perr.Error()}
		}
		if special(real) {
			return "", &Error{o.Flag, o.Path, "is in a device or system folder; give - for standard output"}
		}
		return filepath.Join(real, filepath.Base(abs)), nil
	case err != nil:
		return "", &Error{o.Flag, o.Path, strings.TrimPrefix(err.Error(), "stat "+abs+": ")}
	}
	if name := in.of(fi); name != "" {
		return "", &Error{o.Flag, o.Path, fmt.Sprintf("is an input of this command (%s); writing it would destroy it", name)}
	}
	switch m := fi.Mode(); {
	case m.IsDir():
		return "", &Error{o.Flag, o.Path, "is a folder; give a file name"}
	case m&fs.ModeNamedPipe != 0:
		return "", &Error{o.Flag, o.Path, "is a FIFO, not a regular file; give - for standard output"}
	case m&fs.ModeSocket != 0:
		return "", &Error{o.Flag, o.Path, "is a socket, not a regular file"}
	case m&fs.ModeDevice != 0 || m&fs.ModeCharDevice != 0:
		return "", &Error{o.Flag, o.Path, "is a device, not a regular file; give - for standard output"}
	case !m.IsRegular():
		return "", &Error{o.Flag, o.Path, "is not a regular file"}
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", &Error{o.Flag, o.Path, err.Error()}
	}
	if special(real) {
		return "", &Error{o.Flag, o.Path, "leads to a device or system path; give - for standard output"}
	}
	if !force {
		return "", &Error{o.Flag, o.Path, "exists; give --force to replace it"}
	}
	return real, nil
}

// special reports whether an absolute path lies in /dev or /proc, whose
// entries stand for devices, processes and open files (/dev/stdout,
// /proc/self/fd/1), never for a file to replace.
func special(abs string) bool {
	for _, root := range []string{"/dev", "/proc"} {
		if abs == root || strings.HasPrefix(abs, root+"/") {
			return true
		}
	}
	return false
}

// Write writes one output through fn: to stdout for "-", otherwise whole
// or not at all (atomicfile.Write) to the file the rules allow, checking
// them again (the file system may have changed since Check).
func Write(o Output, in *Inputs, force bool, stdout io.Writer, fn func(io.Writer) error) error {
	if o.Path == Stdout {
		return fn(stdout)
	}
	target, err := resolve(o, in, force)
	if err != nil {
		return err
	}
	return atomicfile.Write(target, fn)
}
