// Package reference holds the reference data of the built-in scenarios:
// the dates and published figures a replay is drawn around and checked
// against, each with its source, as TOML next to the scenarios
// (codered-2001.toml, embedded). Package chart draws the Code Red figures
// over its windows and package replay's validation table reads its
// figures, so that no date or published number is a Go literal.
package reference

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/pelletier/go-toml/v2"
)

//go:embed codered-2001.toml
var codeRedTOML []byte

// CodeRed is the reference data of Code Red in 2001 (codered-2001.toml):
// what the replay of the built-in scenario codered-2001 is checked
// against.
type CodeRed struct {
	// Scenario is the built-in scenario the data go with.
	Scenario string `toml:"scenario"`
	// Telescope is the scenario's sensor that stands for CAIDA's /8
	// network telescope.
	Telescope string `toml:"telescope"`
	// Sources are the citations, by key; every Source field below names
	// one, and Source returns its text.
	Sources map[string]string `toml:"sources"`
	Dates   Dates             `toml:"dates"`
	Figures struct {
		July19    Window `toml:"july19"`
		Restart   Window `toml:"restart"`
		Telescope Window `toml:"telescope"`
	} `toml:"figures"`
	Checks struct {
		Seen      Check   `toml:"seen"`
		Peak      Check   `toml:"peak"`
		FirstSeen Check   `toml:"first_seen"`
		Stop      Check   `toml:"stop"`
		Patched   []Check `toml:"patched"`
	} `toml:"checks"`
	Logistic Logistic `toml:"logistic"`
	Flood    Flood    `toml:"flood"`
}

// Dates are the moments of the outbreak of 19 July 2001 (UTC).
type Dates struct {
	// OutbreakDay is midnight UTC of the outbreak's day.
	OutbreakDay time.Time `toml:"outbreak_day"`
	// CRv2Appears is when Code Red v2 appeared (about 10:00 UTC).
	CRv2Appears time.Time `toml:"crv2_appears"`
	// SpreadEnds is when hosts with right clocks stop spreading (00:00
	// UTC on 20 July).
	SpreadEnds time.Time `toml:"spread_ends"`
	// Restart is when the dormant worm was due to wake: 00:00 UTC on 1
	// August (8 pm EDT on 31 July).
	Restart time.Time `toml:"restart"`
}

// Window is the time window of a figure of the replay report, with its
// title and the words its caption opens with.
type Window struct {
	From    time.Time `toml:"from"`
	To      time.Time `toml:"to"`
	Title   string    `toml:"title"`
	Caption string    `toml:"caption"`
}

// Check is a published figure the validation table puts beside the
// simulation. Which of the optional fields a check has depends on it (see
// codered-2001.toml).
type Check struct {
	Name string `toml:"name"`
	// NameWithoutTelescope names the check when the scenario has no
	// telescope and infections stand in for what it would have seen.
	NameWithoutTelescope string  `toml:"name_without_telescope,omitempty"`
	Source               string  `toml:"source"`
	Measured             float64 `toml:"measured"`
	Unit                 string  `toml:"unit"`
	Note                 string  `toml:"note"`
	// At is when the figure was measured.
	At time.Time `toml:"at,omitempty"`
	// Label marks the figure on a plot.
	Label string `toml:"label,omitempty"`
	// Tolerance is how far from Measured the median may be and still
	// agree.
	Tolerance float64 `toml:"tolerance,omitempty"`
	// NewSources per hour make the worm visible to the telescope, and
	// Latest is the latest hour of day that still agrees.
	NewSources float64 `toml:"new_sources,omitempty"`
	Latest     float64 `toml:"latest,omitempty"`
}

// Logistic is the published range of the random-constant-spread growth
// rate K, per hour.
type Logistic struct {
	Source string  `toml:"source"`
	KLow   float64 `toml:"k_low"`
	KHigh  float64 `toml:"k_high"`
}

// Flood names the flood traffic figures: what the worm sent to its
// hard-coded target, what reached the White House site before it moved,
// and what reached its new address, each with a note.
type Flood struct {
	Sent           string `toml:"sent"`
	SentNote       string `toml:"sent_note"`
	Reached        string `toml:"reached"`
	ReachedNote    string `toml:"reached_note"`
	NewAddress     string `toml:"new_address"`
	NewAddressNote string `toml:"new_address_note"`
}

// Source returns the citation of a source key, as the validation table
// prints it.
func (c *CodeRed) Source(key string) string { return c.Sources[key] }

var codeRed = sync.OnceValues(func() (*CodeRed, error) { return parseCodeRed(codeRedTOML) })

// CodeRed2001 returns the reference data of Code Red in 2001, read once
// from the embedded codered-2001.toml.
func CodeRed2001() (*CodeRed, error) { return codeRed() }

// parseCodeRed decodes and checks codered-2001.toml: no unknown key, and
// every required one set, with each source key defined.
func parseCodeRed(data []byte) (*CodeRed, error) {
	var c CodeRed
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		var se *toml.StrictMissingError
		if errors.As(err, &se) && len(se.Errors) > 0 {
			row, _ := se.Errors[0].Position()
			return nil, fmt.Errorf("reference: codered-2001.toml: line %d: unknown key %s", row, strings.Join(se.Errors[0].Key(), "."))
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, _ := de.Position()
			return nil, fmt.Errorf("reference: codered-2001.toml: line %d: %v", row, de)
		}
		return nil, fmt.Errorf("reference: codered-2001.toml: %w", err)
	}
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("reference: codered-2001.toml: %w", err)
	}
	return &c, nil
}

// check reports a required key left unset, a window that ends before it
// starts, or a source key not defined.
func (c *CodeRed) check() error {
	if err := required(reflect.ValueOf(*c), ""); err != nil {
		return err
	}
	ch := &c.Checks
	if len(ch.Patched) == 0 {
		return errors.New("no [[checks.patched]]")
	}
	// The keys that only some checks have.
	type key struct {
		set  bool
		name string
	}
	keys := []key{
		{!ch.Seen.At.IsZero(), "checks.seen.at"}, {ch.Seen.Label != "", "checks.seen.label"},
		{ch.Peak.NameWithoutTelescope != "", "checks.peak.name_without_telescope"},
		{ch.FirstSeen.NewSources > 0, "checks.first_seen.new_sources"}, {ch.FirstSeen.Latest > 0, "checks.first_seen.latest"},
	}
	sources := []string{ch.Seen.Source, ch.Peak.Source, ch.FirstSeen.Source, ch.Stop.Source, c.Logistic.Source}
	for i, p := range ch.Patched {
		k := fmt.Sprintf("checks.patched[%d].", i)
		keys = append(keys, key{!p.At.IsZero(), k + "at"}, key{p.Tolerance > 0, k + "tolerance"}, key{p.Label != "", k + "label"})
		sources = append(sources, p.Source)
	}
	for _, k := range keys {
		if !k.set {
			return fmt.Errorf("key %s is missing", k.name)
		}
	}
	for _, w := range []struct {
		name string
		w    Window
	}{{"july19", c.Figures.July19}, {"restart", c.Figures.Restart}, {"telescope", c.Figures.Telescope}} {
		if !w.w.From.Before(w.w.To) {
			return fmt.Errorf("figures.%s: from %s is not before to %s", w.name, w.w.From.Format(time.RFC3339), w.w.To.Format(time.RFC3339))
		}
	}
	for _, s := range sources {
		if c.Sources[s] == "" {
			return fmt.Errorf("source %q is not in [sources]", s)
		}
	}
	return nil
}

// required reports the first field without omitempty in its tag that
// holds its zero value, by its dotted TOML key (a measured value of 0 is
// allowed: a published zero).
func required(v reflect.Value, prefix string) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("toml")
		name, opts, _ := strings.Cut(tag, ",")
		key := prefix + name
		fv := v.Field(i)
		switch {
		case fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeFor[time.Time]():
			if err := required(fv, key+"."); err != nil {
				return err
			}
		case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.Struct:
			for j := range fv.Len() {
				if err := required(fv.Index(j), fmt.Sprintf("%s[%d].", key, j)); err != nil {
					return err
				}
			}
		case opts == "omitempty" || name == "measured":
		case fv.IsZero():
			return fmt.Errorf("key %s is missing", key)
		}
	}
	return nil
}
