package forecast

import (
	"fmt"
	"time"

	"wormwatch/internal/param"
)

// Settings are the choices of an analysis as a person gives them (the
// forecast command's flags: the keys with dashes), each declared once here
// with the tags of package param: key, default, bounds and doc text. The
// flags and the table of docs/forecast.md (WriteSettingsDoc) are generated
// from them, Options turns them into Analyze's options, and the defaults
// of Options (and DefaultAlarm) are theirs. The rules the tags cannot say
// (a bound not included, as for a level between 0 and 1) are Validate's.
type Settings struct {
	Horizon param.Duration `toml:"horizon" default:"12h" min:"0s" max:"366d" doc:"how far past the end of the series to forecast (0: no forecast)"`
	Step    param.Duration `toml:"step" default:"1h" min:"1ns" max:"366d" doc:"step of the forecast table (at least the series' interval; at most 10,000 steps)"`
	Level   float64        `toml:"level" default:"0.95" doc:"confidence level of intervals and bands (between 0 and 1)"`
	Memory  param.Duration `toml:"memory" default:"6h" min:"1ns" max:"366d" doc:"fading memory of the filter's growth rate"`
	Rebase  param.Duration `toml:"rebase" default:"1d" max:"366d" doc:"restart the filter after this long without an outbreak under way (negative: never; not 0)"`

	AlarmZ          float64 `toml:"alarm_z" default:"3" doc:"alarm: K must exceed this many standard errors (more than 0)"`
	AlarmTolerance  float64 `toml:"alarm_tolerance" default:"0.3" doc:"alarm: K must stay within this relative band (between 0 and 1)"`
	AlarmGrowth     float64 `toml:"alarm_growth" default:"8" doc:"alarm: infected hosts must grow this many times at a settled K (more than 1)"`
	AlarmMinSources int64   `toml:"alarm_min_sources" default:"10" min:"1" doc:"alarm: sources the sensor must have seen"`
}

// DefaultSettings are the defaults the tags of Settings declare.
var DefaultSettings = defaultSettings()

func defaultSettings() Settings {
	var s Settings
	param.Defaults(&s)
	return s
}

// DefaultAlarm is the rule used when Options.Alarm is zero: that of
// DefaultSettings.
var DefaultAlarm = DefaultSettings.Alarm()

// Alarm returns the alarm rule the settings give.
func (s *Settings) Alarm() AlarmRule {
	return AlarmRule{Z: s.AlarmZ, Tolerance: s.AlarmTolerance, Growth: s.AlarmGrowth, MinSources: s.AlarmMinSources}
}

// Validate reports the first setting out of range as a *ParamError naming
// its key: a bound of its tags, or a rule the tags cannot say.
func (s *Settings) Validate() error {
	if errs := param.Validate(s); len(errs) > 0 {
		return &ParamError{Key: errs[0].Path, Msg: errs[0].Msg}
	}
	if pe := s.rules(); pe != nil {
		return pe
	}
	return nil
}

// rules checks the bounds not included (a level between 0 and 1, a
// growth of more than 1), a rebase period other than 0 and the forecast
// table's steps (at most MaxForecastSteps).
func (s *Settings) rules() *ParamError {
	switch {
	case !(s.Level > 0 && s.Level < 1):
		return &ParamError{Key: "level", Msg: fmt.Sprintf("%g out of range (allowed: between 0 and 1, like 0.95)", s.Level)}
	case !(s.AlarmZ > 0):
		return &ParamError{Key: "alarm_z", Msg: fmt.Sprintf("%g out of range (allowed: more than 0)", s.AlarmZ)}
	case !(s.AlarmTolerance > 0 && s.AlarmTolerance < 1):
		return &ParamError{Key: "alarm_tolerance", Msg: fmt.Sprintf("%g out of range (allowed: between 0 and 1)", s.AlarmTolerance)}
	case !(s.AlarmGrowth > 1):
		return &ParamError{Key: "alarm_growth", Msg: fmt.Sprintf("%g out of range (allowed: more than 1)", s.AlarmGrowth)}
	case s.Rebase == 0:
		return &ParamError{Key: "rebase", Msg: fmt.Sprintf("0s out of range (allowed: more than 0, at most %s, or negative for never)", spanText)}
	case s.Horizon/s.Step > MaxForecastSteps:
		return &ParamError{Key: "horizon", Also: "step", Msg: fmt.Sprintf("%s in steps of %s: %d steps, too many (allowed: at most %d)",
			s.Horizon.D(), s.Step.D(), int64(s.Horizon/s.Step), MaxForecastSteps)}
	}
	return nil
}

// LoadSettings returns DefaultSettings with the assignments "key=value"
// applied (package param's Loader.Set, as paramcli.Flags.Assignments
// gives them), checked: a value out of range is a *ParamError naming its
// key.
func LoadSettings(set []string) (Settings, error) {
	var s Settings
	l := param.NewLoader(&s)
	for _, a := range set {
		if err := l.Set(a); err != nil {
			return s, err
		}
	}
	return s, s.Validate()
}

// Options returns Analyze's options for a space of bits bits. A horizon of
// 0 asks for no forecast rows beyond the end itself.
func (s *Settings) Options(bits int) Options {
	opt := Options{SpaceBits: bits, Alarm: s.Alarm(), Memory: s.Memory.D(), Level: s.Level,
		Horizon: s.Horizon.D(), Step: s.Step.D(), Rebase: s.Rebase.D()}
	if opt.Horizon == 0 {
		opt.Horizon = -1
	}
	return opt
}

// defaultOptions are the defaults of Options that Settings declare.
func defaultOptions() (memory, horizon, step, rebase time.Duration, level float64) {
	d := DefaultSettings
	return d.Memory.D(), d.Horizon.D(), d.Step.D(), d.Rebase.D(), d.Level
}
