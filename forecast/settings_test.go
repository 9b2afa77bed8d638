package forecast_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"wormwatch/forecast"
	"wormwatch/internal/param"
)

// TestDefaultSettings: the defaults the tags declare are those the
// forecast command had (12h, 1h, 0.95, 6h, 24h; the rule 3, 0.3, 8, 10).
func TestDefaultSettings(t *testing.T) {
	t.Parallel()
	d := forecast.DefaultSettings
	if d.Horizon.D() != 12*time.Hour || d.Step.D() != time.Hour || d.Level != 0.95 || d.Memory.D() != 6*time.Hour || d.Rebase.D() != 24*time.Hour {
		t.Errorf("defaults %+v", d)
	}
	if want := (forecast.AlarmRule{Z: 3, Tolerance: 0.3, Growth: 8, MinSources: 10}); forecast.DefaultAlarm != want || d.Alarm() != want {
		t.Errorf("alarm %+v, want %+v", forecast.DefaultAlarm, want)
	}
	if err := d.Validate(); err != nil {
		t.Errorf("the defaults fail their checks: %v", err)
	}
	opt := d.Options(24)
	want := forecast.Options{SpaceBits: 24, Alarm: forecast.DefaultAlarm, Memory: 6 * time.Hour, Level: 0.95, Horizon: 12 * time.Hour, Step: time.Hour, Rebase: 24 * time.Hour}
	if opt != want {
		t.Errorf("options %+v, want %+v", opt, want)
	}
}

// TestSettingsRules: each bound, with the key named; a horizon of 0 asks
// for no forecast.
func TestSettingsRules(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		set  []string
		key  string
		want string
	}{
		{[]string{"level=1"}, "level", "between 0 and 1"},
		{[]string{"level=0"}, "level", "between 0 and 1"},
		{[]string{"alarm_z=0"}, "alarm_z", "more than 0"},
		{[]string{"alarm_tolerance=1"}, "alarm_tolerance", "between 0 and 1"},
		{[]string{"alarm_growth=1"}, "alarm_growth", "more than 1"},
		{[]string{"alarm_min_sources=0"}, "alarm_min_sources", "below the minimum 1"},
		{[]string{"rebase=0s"}, "rebase", "or negative for never"},
		{[]string{"rebase=367d"}, "rebase", "above the maximum 366d"},
		{[]string{"horizon=-1h"}, "horizon", "below the minimum 0s"},
		{[]string{"step=0s"}, "step", "below the minimum 1ns"},
		{[]string{"memory=400d"}, "memory", "above the maximum 366d"},
		{[]string{"horizon=200h", "step=1m"}, "horizon", "12000 steps, too many (allowed: at most 10000)"},
	} {
		_, err := forecast.LoadSettings(c.set)
		var pe *forecast.ParamError
		if !errors.As(err, &pe) || pe.Key != c.key || !strings.Contains(pe.Msg, c.want) {
			t.Errorf("%v: error %v, want one on %s with %q", c.set, err, c.key, c.want)
		}
	}
	s, err := forecast.LoadSettings([]string{"horizon=0s", "rebase=-1h", "step=1m", "level=0.9"})
	if err != nil {
		t.Fatal(err)
	}
	if opt := s.Options(32); opt.Horizon != -1 || opt.Rebase != -time.Hour || opt.Step != time.Minute || opt.Level != 0.9 {
		t.Errorf("options %+v", opt)
	}
	if s.Horizon != param.Duration(0) {
		t.Errorf("settings %+v", s)
	}
}
