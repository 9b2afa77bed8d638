package forecast

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// StateKeys are the keys of a re-emergence state file, with what each
// holds; every key is optional (the defaults or the flags fill the rest).
var StateKeys = []struct{ Key, Doc string }{
	{"now", "when the state holds (RFC 3339 date-time, UTC)"},
	{"restart", "when the worm wakes on hosts whose clocks are right"},
	{"infected", "hosts infected in the last wave"},
	{"unpatched_share", "share of them still unpatched (0 to 1)"},
	{"carrier_share", "share of the unpatched infected hosts still holding the worm (0 to 1)"},
	{"other_vulnerable", "vulnerable hosts never infected, unpatched"},
	{"patch_rate", "patches per unpatched host per day, as now"},
	{"campaign_rate", "the same under an awareness campaign"},
	{"campaign_from", "when the campaign starts (default: now)"},
	{"k", "growth rate per hour of the last wave"},
	{"k_population", "susceptible hosts the last wave grew among (default: infected)"},
	{"wake_median", `median delay of the wake-up after the restart time, like "2h"`},
	{"wake_sigma", "sigma of the log of that delay"},
	{"wrong_clocks", "share of hosts whose clock is wrong (0 to 1)"},
	{"clock_min", `a wrong clock is off by a uniform amount from clock_min to clock_max (ahead: positive), like "-3d"`},
	{"clock_max", `upper end of that amount, like "3d"`},
	{"horizon", `how long after the restart to forecast, like "48h"`},
	{"visible", "new infections per hour that make the restart visible"},
	{"max_size", "restart size to stay under: how many hosts must be patched (0: do not compute)"},
}

// stateFile is the TOML form of Reemergence.
type stateFile struct {
	Now             *time.Time `toml:"now"`
	Restart         *time.Time `toml:"restart"`
	Infected        *float64   `toml:"infected"`
	UnpatchedShare  *float64   `toml:"unpatched_share"`
	CarrierShare    *float64   `toml:"carrier_share"`
	OtherVulnerable *float64   `toml:"other_vulnerable"`
	PatchRate       *float64   `toml:"patch_rate"`
	CampaignRate    *float64   `toml:"campaign_rate"`
	CampaignFrom    *time.Time `toml:"campaign_from"`
	K               *float64   `toml:"k"`
	KPopulation     *float64   `toml:"k_population"`
	WakeMedian      *string    `toml:"wake_median"`
	WakeSigma       *float64   `toml:"wake_sigma"`
	WrongClocks     *float64   `toml:"wrong_clocks"`
	ClockMin        *string    `toml:"clock_min"`
	ClockMax        *string    `toml:"clock_max"`
	Horizon         *string    `toml:"horizon"`
	Visible         *float64   `toml:"visible"`
	MaxSize         *float64   `toml:"max_size"`
}

// StateError is a problem in a state file: the file, the line (0 when
// unknown), the key, and what is wrong.
type StateError struct {
	File string
	Line int
	Key  string
	Msg  string
}

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

// ParseDuration reads a Go duration ("90m", "2h30m") or a number of days
// ("3d", "-1.5d").
func ParseDuration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(strings.TrimSpace(s), "d"); ok {
		x, err := strconv.ParseFloat(d, 64)
		if err != nil || math.IsNaN(x) || math.Abs(x) > 100*365 {
			return 0, fmt.Errorf("%q is not a duration (like 90m, 2h or 3d)", s)
		}
		return time.Duration(x * 24 * float64(time.Hour)), nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (like 90m, 2h or 3d)", s)
	}
	return d, nil
}

// ReadState reads a re-emergence state file (TOML, keys StateKeys) over
// base: the keys it sets replace base's values. Problems are *StateError
// naming the file, line and key, with the allowed values; the result is
// checked (Reemergence.Check). The file must be a regular file or a pipe
// (not a device or a folder) of at most MaxStateBytes; ctx ends the wait
// for a FIFO's writer.
func ReadState(ctx context.Context, path string, base Reemergence) (Reemergence, error) {
	r, closeFile, err := openInput(ctx, path, "state file")
	if err != nil {
		if ctx.Err() != nil {
			return base, ctx.Err()
		}
		return base, &StateError{File: path, Msg: openError(path, "cannot read the state file", err)}
	}
	defer closeFile()
	data, err := io.ReadAll(newInputReader(r, MaxStateBytes, 0))
	if err != nil {
		if ctx.Err() != nil {
			return base, ctx.Err()
		}
		var ce *capError
		if errors.As(err, &ce) {
			return base, &StateError{File: path, Line: ce.Line, Msg: ce.What + ", forecast's cap for a state file (is it the right file?)"}
		}
		return base, &StateError{File: path, Msg: "cannot read the state file: " + unwrapPath(err)}
	}
	return ParseState(path, data, base)
}

// ParseState is ReadState on the file's contents.
func ParseState(path string, data []byte, base Reemergence) (Reemergence, error) {
	var sf stateFile
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sf); err != nil {
		var sm *toml.StrictMissingError
		var de *toml.DecodeError
		keys := make([]string, len(StateKeys))
		for i, k := range StateKeys {
			keys[i] = k.Key
		}
		switch {
		case errors.As(err, &sm) && len(sm.Errors) > 0:
			e := sm.Errors[0]
			row, _ := e.Position()
			return base, &StateError{File: path, Line: row, Key: strings.Join(e.Key(), "."), Msg: "unknown key (allowed: " + strings.Join(keys, ", ") + ")"}
		case errors.As(err, &de):
			row, _ := de.Position()
			key := strings.Join(de.Key(), ".")
			msg := de.Error()
			if key != "" {
				msg += " (" + stateDoc(key) + ")"
			}
			return base, &StateError{File: path, Line: row, Key: key, Msg: msg}
		}
		return base, &StateError{File: path, Msg: err.Error()}
	}
	r := base
	setT := func(dst *time.Time, v *time.Time) {
		if v != nil {
			*dst = v.UTC()
		}
	}
	setF := func(dst *float64, v *float64) {
		if v != nil {
			*dst = *v
		}
	}
	setT(&r.Now, sf.Now)
	setT(&r.Restart, sf.Restart)
	setT(&r.CampaignFrom, sf.CampaignFrom)
	setF(&r.Infected, sf.Infected)
	setF(&r.UnpatchedShare, sf.UnpatchedShare)
	setF(&r.CarrierShare, sf.CarrierShare)
	setF(&r.OtherVulnerable, sf.OtherVulnerable)
	setF(&r.PatchRate, sf.PatchRate)
	setF(&r.CampaignRate, sf.CampaignRate)
	setF(&r.K, sf.K)
	setF(&r.KPopulation, sf.KPopulation)
	setF(&r.WakeSigma, sf.WakeSigma)
	setF(&r.WrongClocks, sf.WrongClocks)
	setF(&r.Visible, sf.Visible)
	setF(&r.MaxSize, sf.MaxSize)
	for _, d := range []struct {
		key string
		v   *string
		dst *time.Duration
	}{
		{"wake_median", sf.WakeMedian, &r.WakeMedian},
		{"clock_min", sf.ClockMin, &r.ClockMin},
		{"clock_max", sf.ClockMax, &r.ClockMax},
		{"horizon", sf.Horizon, &r.Horizon},
	} {
		if d.v == nil {
			continue
		}
		x, err := ParseDuration(*d.v)
		if err != nil {
			return base, &StateError{File: path, Line: keyLine(data, d.key), Key: d.key, Msg: err.Error()}
		}
		*d.dst = x
	}
	if err := r.Check(); err != nil {
		var pe *ParamError
		if errors.As(err, &pe) {
			line := keyLine(data, pe.Key)
			if line == 0 && pe.Also != "" {
				line = keyLine(data, pe.Also) // the file set the other one
			}
			return base, &StateError{File: path, Line: line, Key: pe.Key, Msg: pe.Msg}
		}
		return base, &StateError{File: path, Msg: err.Error()}
	}
	return r, nil
}

func stateDoc(key string) string {
	for _, k := range StateKeys {
		if k.Key == key {
			return key + ": " + k.Doc
		}
	}
	return key
}

// keyLine finds the line that sets key in a flat TOML file (0 if none: the
// value then came from the defaults or the flags).
func keyLine(data []byte, key string) int {
	re := regexp.MustCompile(`^\s*"?` + regexp.QuoteMeta(key) + `"?\s*=`)
	for i, l := range bytes.Split(data, []byte("\n")) {
		if re.Match(l) {
			return i + 1
		}
	}
	return 0
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
	cr := csv.NewReader(newInputReader(r, MaxCSVBytes, MaxLineBytes))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if err == io.EOF {
			return base, &StateError{File: name, Msg: "empty time series: no header"}
		}
		return base, csvError(ctx, name, err)
	}
	need := []string{"time", "susceptible", "infected", "ever_infected"}
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
		t, err := time.Parse(time.RFC3339Nano, rec[idx["time"]])
		if err != nil {
			return base, &StateError{File: name, Line: line, Key: "time", Msg: fmt.Sprintf("%q is not an RFC 3339 time", clip(rec[idx["time"]]))}
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
