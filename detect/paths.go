package detect

// Inputs by path: a user's paths expanded to files (folders walked, "-"
// for standard input), each file opened and read by an Analyzer, and a
// file in a folder whose format cannot be told checked before it is
// passed over. The Analyzer itself only aggregates records.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"wormwatch/internal/ctxpoll"
)

// Path is an input to read: a file, or "-" for standard input.
type Path struct {
	Name    string
	FromDir bool // found by walking a folder given on the command line
}

// Expand turns the paths a user gave into the inputs to read: a file is
// itself, a folder all the regular files below it (recursively, in lexical
// order), "-" standard input. A path that does not exist or cannot be read
// is an *InputError.
func Expand(paths []string) ([]Path, error) {
	var out []Path
	for _, p := range paths {
		if p == "-" {
			out = append(out, Path{Name: p})
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, &InputError{Name: p, Err: pathErr(err)}
		}
		if !st.IsDir() {
			out = append(out, Path{Name: p})
			continue
		}
		err = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				return &InputError{Name: q, Err: pathErr(err)}
			}
			if d.IsDir() {
				return nil
			}
			if d.Type()&fs.ModeSymlink != 0 {
				st, err := os.Stat(q)
				if err != nil || !st.Mode().IsRegular() {
					return nil // a dangling link or a link to a folder: not followed
				}
			} else if !d.Type().IsRegular() {
				return nil
			}
			out = append(out, Path{Name: q, FromDir: true})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// pathErr drops the path from an *fs.PathError, which InputError names.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// ErrPassedOverMatches is wrapped by the *InputError of a file found in a
// folder whose format cannot be told from its first lines, although some
// of its lines match signatures: passing it over would miss them.
var ErrPassedOverMatches = errors.New("lines that match worm signatures would be missed")

// Analyze reads every input of paths (see Expand) and returns the report,
// which the caller must Close. A file found in a folder whose format cannot
// be told is passed over and listed in Report.Ignored, after a check that
// no line of it, read as a combined, common or IIS line, matches a
// signature (else it is an error wrapping ErrPassedOverMatches); any other
// problem with an input is an *InputError, and so is an input with no log
// line at all.
func Analyze(ctx context.Context, paths []string, opt Options) (*Report, error) {
	a, err := NewAnalyzer(opt)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	in, err := Expand(paths)
	if err != nil {
		return nil, err
	}
	if len(in) == 0 {
		return nil, &InputError{Name: strings.Join(paths, ", "), Err: errors.New("no files to read (empty folder)")}
	}
	for _, p := range in {
		err := a.ReadPath(ctx, p.Name)
		if p.FromDir && errors.Is(err, ErrUnknownFormat) {
			var ie *InputError
			errors.As(err, &ie)
			if err := a.probe(ctx, p.Name, ie); err != nil {
				return nil, err
			}
			a.ignored = append(a.ignored, Ignored{Name: p.Name, Reason: ie.Err.Error()})
			continue
		}
		if err != nil {
			return nil, err
		}
	}
	if len(a.inputs) == 0 && len(a.ignored) > 0 {
		return nil, &InputError{Name: a.ignored[0].Name, Err: fmt.Errorf("%s (and no other file found was a log either)", a.ignored[0].Reason)}
	}
	return a.Report(ctx)
}

// probe reads a file whose format could not be told (why), each line as a
// combined, common or IIS line, and fails if any matches a signature.
func (a *Analyzer) probe(ctx context.Context, path string, why *InputError) error {
	f, err := os.Open(path)
	if err != nil {
		return &InputError{Name: path, Err: pathErr(err)}
	}
	defer f.Close()
	rd, err := NewReader(path, ctxpoll.Reader{Ctx: ctx, R: f}, ReaderOptions{MaxLine: a.opt.MaxLine, probe: true})
	if err != nil {
		return unwrapCancel(err)
	}
	defer rd.Close()
	var n, first int64
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return unwrapCancel(err)
		}
		if a.dst = a.m.Match(rec, a.dst[:0]); len(a.dst) > 0 {
			if n++; first == 0 {
				first = rd.Line()
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	return &InputError{Name: path, Line: first, Err: &passedOver{fmt.Sprintf(
		"the log format cannot be told from its first lines (from line %d), yet %s of it match worm signatures when read as combined, common or IIS lines, the first here: passing it over would miss them; cut off the lines before the log, or move the file out of the folder",
		why.Line, plural(n, "line"))}}
}

// passedOver is the error of a file passed over that holds lines that match.
type passedOver struct{ msg string }

// Error returns the message.
func (e *passedOver) Error() string { return e.msg }

// Is makes the error match ErrPassedOverMatches.
func (e *passedOver) Is(target error) bool { return target == ErrPassedOverMatches }

// ReadPath reads one file, or standard input for "-".
func (a *Analyzer) ReadPath(ctx context.Context, path string) error {
	if path == "-" {
		in := a.opt.Stdin
		if in == nil {
			in = os.Stdin
		}
		return a.Read(ctx, "stdin", in)
	}
	f, err := os.Open(path)
	if err != nil {
		return &InputError{Name: path, Err: pathErr(err)}
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return &InputError{Name: path, Err: errors.New("is a folder; give it to Analyze or Expand")}
	}
	return a.Read(ctx, path, f)
}
