package forecast

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"wormwatch/internal/param"
	"wormwatch/results"
)

// StateError is a problem in a state file: the file, the line (0 when
// unknown), the key, and what is wrong.
type StateError struct {
	File string
	Line int
	Key  string
	Msg  string
}

// Error returns the message: the file, the line and the key where they
// are known, and what is wrong.
func (e *StateError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, ": key %s", e.Key)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// ReadState reads a re-emergence state file (TOML, the keys of Reemergence)
// over base: the keys it sets replace base's values. Problems are
// *StateError naming the file, line and key, with the allowed values; the
// result is checked (Reemergence.Validate). The file must be a regular
// file or a pipe (not a device or a folder) of at most MaxStateBytes; ctx
// ends the wait for a FIFO's writer.
func ReadState(ctx context.Context, path string, base Reemergence) (Reemergence, error) {
	data, err := readStateFile(ctx, path)
	if err != nil {
		return base, err
	}
	return ParseState(path, data, base)
}

// readStateFile returns the contents of a state file (see ReadState).
func readStateFile(ctx context.Context, path string) ([]byte, error) {
	r, closeFile, err := openInput(ctx, path, "state file")
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &StateError{File: path, Msg: openError(path, "cannot read the state file", err)}
	}
	defer closeFile()
	data, err := io.ReadAll(results.NewLimitReader(r, MaxStateBytes, 0))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ce *results.CapError
		if errors.As(err, &ce) {
			return nil, &StateError{File: path, Line: ce.Line, Msg: ce.What + ", forecast's cap for a state file (is it the right file?)"}
		}
		return nil, &StateError{File: path, Msg: "cannot read the state file: " + unwrapPath(err)}
	}
	return data, nil
}

// ParseState is ReadState on the file's contents, read by package param's
// Loader over base.
func ParseState(path string, data []byte, base Reemergence) (Reemergence, error) {
	var r Reemergence
	l := param.NewLoader(&r)
	r = base
	if err := decodeState(l, &r, path, data); err != nil {
		return base, err
	}
	return r, nil
}

// decodeState decodes a state file's contents over r, the struct l fills,
// and checks the result: a problem is a *StateError naming the file, and
// the line and key that gave the value at fault (for a rule between two
// keys, the line of the one the file gave).
func decodeState(l *param.Loader, r *Reemergence, path string, data []byte) error {
	if err := l.Decode(data); err != nil {
		var fe *param.FieldError
		if errors.As(err, &fe) {
			return &StateError{File: path, Line: fe.Line, Key: fe.Path, Msg: fe.Msg}
		}
		return &StateError{File: path, Msg: err.Error()}
	}
	if errs := l.Validate(); len(errs) > 0 {
		fe := errs[0]
		return &StateError{File: path, Line: fe.Line, Key: fe.Path, Msg: fe.Msg}
	}
	if pe := r.relations(); pe != nil {
		o := l.Locate(pe.Key)
		if o.Line == 0 && pe.Also != "" {
			o = l.Locate(pe.Also) // the file set the other one
		}
		return &StateError{File: path, Line: o.Line, Key: pe.Key, Msg: pe.Msg}
	}
	return nil
}

// StateSource says where a re-emergence state comes from, in layers over
// DefaultReemergence: a state file or a run's time series, then
// assignments (the command's flags), which win.
type StateSource struct {
	// File is a state file (ReadState), checked on its own first.
	File string
	// FromRun is a run's results folder, or a folder of seed folders
	// (RunTimeseries), whose timeseries.csv gives the state at At
	// (StateFromTimeseries).
	FromRun string
	At      time.Time
	// Set are assignments "key=value" (package param's Loader.Set, as
	// paramcli.Flags.Assignments gives them), applied last.
	Set []string
}

// LoadState assembles the state from src and checks it. A problem of the
// file is a *StateError; of the time series an *Error prefixed by
// "--from-run: "; and of the state assembled a *ParamError naming the key.
// ctx ends the reading of a file or a FIFO, and LoadState then returns
// ctx's error.
func LoadState(ctx context.Context, src StateSource) (Reemergence, error) {
	var r Reemergence
	l := param.NewLoader(&r)
	if src.File != "" {
		data, err := readStateFile(ctx, src.File)
		if err != nil {
			return r, err
		}
		if err := decodeState(l, &r, src.File, data); err != nil {
			return r, err
		}
	}
	if src.FromRun != "" {
		path, err := RunTimeseries(src.FromRun)
		if err != nil {
			return r, err
		}
		if r, err = StateFromTimeseriesFile(ctx, path, src.At, r); err != nil {
			if ctx.Err() != nil {
				return r, err
			}
			return r, fmt.Errorf("--from-run: %w", err)
		}
	}
	for _, a := range src.Set {
		if err := l.Set(a); err != nil {
			return r, err
		}
	}
	return r, r.Validate()
}

// StateFromTimeseries takes the state at time at from a run's
// timeseries.csv (docs/output.md): every infected host is a carrier (on
// Code Red's dormant days they all sleep), the susceptible hosts are the
// other vulnerable ones, the patch rate is that of the day before at
// (from the unpatched hosts, susceptible plus infected), and the last
// wave's population is the hosts ever infected by then. The other fields
// come from base. name is used in error messages.
//
// It reads at most MaxCSVBytes, in lines of at most MaxLineBytes, and
// returns ctx's error once ctx is done.
func StateFromTimeseries(ctx context.Context, r io.Reader, name string, at time.Time, base Reemergence) (Reemergence, error) {
	cr := csv.NewReader(results.NewLimitReader(r, MaxCSVBytes, MaxLineBytes))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if err == io.EOF {
			return base, &StateError{File: name, Msg: "empty time series: no header"}
		}
		return base, csvError(ctx, name, err)
	}
	need := []string{results.TimeColumn, results.Susceptible, results.Infected, results.EverInfected}
	idx := map[string]int{}
	for i, h := range header {
		idx[strings.TrimSpace(h)] = i
	}
	for _, n := range need {
		if _, ok := idx[n]; !ok {
			return base, &StateError{File: name, Line: 1, Key: n, Msg: "missing column (a run's timeseries.csv has time, susceptible, infected, ..., ever_infected)"}
		}
	}
	type row struct {
		t              time.Time
		sus, inf, ever float64
	}
	var prev, cur, dayBefore *row
	var first time.Time
	for n := 0; ; n++ {
		if n%ctxCheckRows == 0 {
			if err := ctx.Err(); err != nil {
				return base, err
			}
		}
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return base, csvError(ctx, name, err)
		}
		line, _ := cr.FieldPos(0)
		t, err := time.Parse(time.RFC3339Nano, rec[idx[results.TimeColumn]])
		if err != nil {
			return base, &StateError{File: name, Line: line, Key: results.TimeColumn, Msg: fmt.Sprintf("%q is not an RFC 3339 time", clip(rec[idx[results.TimeColumn]]))}
		}
		vals := [3]float64{}
		for i, n := range need[1:] {
			x, err := strconv.ParseInt(rec[idx[n]], 10, 64)
			if err != nil || x < 0 {
				return base, &StateError{File: name, Line: line, Key: n, Msg: fmt.Sprintf("%q is not a count (want a whole number, 0 or more)", clip(rec[idx[n]]))}
			}
			vals[i] = float64(x)
		}
		if first.IsZero() {
			first = t
		}
		x := &row{t: t, sus: vals[0], inf: vals[1], ever: vals[2]}
		if !t.After(at) {
			cur = x
		}
		if !t.After(at.Add(-24 * time.Hour)) {
			dayBefore = x
		}
		prev = x
	}
	if cur == nil {
		if prev == nil {
			return base, &StateError{File: name, Msg: "no rows"}
		}
		return base, &StateError{File: name, Msg: fmt.Sprintf("--at %s is before the first row (%s)", at.Format(time.RFC3339), first.Format(time.RFC3339))}
	}
	s := base
	s.Now = at
	s.Infected = cur.inf
	s.UnpatchedShare = 1
	s.CarrierShare = 1
	s.OtherVulnerable = cur.sus
	s.KPopulation = math.Max(cur.ever, 1)
	if dayBefore != nil && dayBefore != cur {
		u0, u1 := dayBefore.sus+dayBefore.inf, cur.sus+cur.inf
		days := cur.t.Sub(dayBefore.t).Hours() / 24
		if u0 > 0 && u1 > 0 && u1 < u0 && days > 0 {
			s.PatchRate = math.Log(u0/u1) / days
		} else {
			s.PatchRate = 0
		}
	}
	if s.Infected == 0 {
		return base, &StateError{File: name, Key: "infected", Msg: fmt.Sprintf("no infected host at %s: nothing to wake", at.Format(time.RFC3339))}
	}
	return s, nil
}

// StateFromTimeseriesFile is StateFromTimeseries on the file at path,
// which must be a regular file or a pipe (see ReadSeriesFile).
func StateFromTimeseriesFile(ctx context.Context, path string, at time.Time, base Reemergence) (Reemergence, error) {
	r, closeFile, err := openInput(ctx, path, "run's timeseries.csv")
	if err != nil {
		if ctx.Err() != nil {
			return base, ctx.Err()
		}
		return base, &StateError{File: path, Msg: openError(path, "cannot read the time series", err)}
	}
	defer closeFile()
	return StateFromTimeseries(ctx, r, path, at, base)
}
