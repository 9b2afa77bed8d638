package forecast_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wormwatch/forecast"
	"wormwatch/internal/param"
)

const goodState = `# state on 29 July 2001
now = 2001-07-29T00:00:00Z
restart = 2001-08-01T00:00:00Z
infected = 359104
unpatched_share = 0.33
carrier_share = 0.5
other_vulnerable = 1000
patch_rate = 0.04
campaign_rate = 0.4
campaign_from = 2001-07-30T12:00:00Z
k = 1.8
k_population = 360000
wake_median = "90m"
wake_sigma = 0.5
wrong_clocks = 0.02
clock_min = "-2d"
clock_max = "1.5d"
horizon = "72h"
visible = 500
max_size = 100000
`

func TestParseState(t *testing.T) {
	t.Parallel()
	p, err := forecast.ParseState("s.toml", []byte(goodState), forecast.DefaultReemergence)
	if err != nil {
		t.Fatal(err)
	}
	want := forecast.Reemergence{
		Now: time.Date(2001, 7, 29, 0, 0, 0, 0, time.UTC), Restart: time.Date(2001, 8, 1, 0, 0, 0, 0, time.UTC),
		Infected: 359104, UnpatchedShare: 0.33, CarrierShare: 0.5, OtherVulnerable: 1000, PatchRate: 0.04, CampaignRate: 0.4,
		CampaignFrom: time.Date(2001, 7, 30, 12, 0, 0, 0, time.UTC), K: 1.8, KPopulation: 360000,
		WakeMedian: param.Duration(90 * time.Minute), WakeSigma: 0.5, WrongClocks: 0.02, ClockMin: param.Duration(-48 * time.Hour), ClockMax: param.Duration(36 * time.Hour),
		Horizon: param.Duration(72 * time.Hour), Visible: 500, MaxSize: 100000,
	}
	if p != want {
		t.Errorf("got  %+v\nwant %+v", p, want)
	}
	// Keys not in the file keep the base's values.
	p, err = forecast.ParseState("s.toml", []byte("infected = 1000\n"), forecast.DefaultReemergence)
	if err != nil || p.Infected != 1000 || p.Restart != forecast.DefaultReemergence.Restart || p.K != forecast.DefaultReemergence.K {
		t.Errorf("partial file: %+v, %v", p, err)
	}
}

var badStates = []struct {
	name string
	in   string
	want []string
}{
	{"unknown key", "infected = 5\npatch_rates = 0.1\n", []string{"s.toml: line 2", "key patch_rates", "unknown key", "did you mean patch_rate?"}},
	{"wrong type", "infected = \"many\"\n", []string{"line 1", "key infected"}},
	{"not a time", "now = \"yesterday\"\n", []string{"line 1", "key now"}},
	{"out of range", "# a comment\nunpatched_share = 1.5\n", []string{"line 2", "key unpatched_share", "1.5 is above the maximum 1 (allowed 0 to 1)"}},
	{"bad duration", "wake_median = \"two hours\"\n", []string{"line 1", "key wake_median", "want a number with a unit"}},
	{"restart before now", "now = 2001-08-02T00:00:00Z\n", []string{"line 1", "key restart", "before now"}},
	{"syntax", "infected = = 3\n", []string{"s.toml: line 1"}},
	{"clock order", "clock_min = \"2d\"\nclock_max = \"1d\"\n", []string{"line 2", "key clock_max", "below clock_min"}},
}

func TestParseStateErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range badStates {
		_, err := forecast.ParseState("s.toml", []byte(tc.in), forecast.DefaultReemergence)
		var se *forecast.StateError
		if !errors.As(err, &se) {
			t.Errorf("%s: error %v (%T), want a *StateError", tc.name, err, err)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error on more than one line: %q", tc.name, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tc.name, err, w)
			}
		}
	}
	if _, err := forecast.ReadState(t.Context(), filepath.Join(t.TempDir(), "none.toml"), forecast.DefaultReemergence); err == nil || !strings.Contains(err.Error(), "none.toml") {
		t.Errorf("missing file: %v", err)
	}
}

// goodTimeseries is a run's time series around 29 July (see
// TestStateFromTimeseries).
const goodTimeseries = `time,susceptible,infected,infected_scanning,infected_flooding,infected_dormant,patched,removed,new_infections,ever_infected
2001-07-27T23:00:00Z,3400,1200,0,0,1200,0,0,0,5000
2001-07-28T00:00:00Z,3300,1200,0,0,1200,100,0,0,5000
2001-07-28T12:00:00Z,3200,1100,0,0,1100,300,0,0,5000
2001-07-29T00:00:00Z,3000,1000,0,0,1000,600,0,0,5000
2001-07-29T01:00:00Z,2990,990,0,0,990,620,0,0,5000
`

// TestStateFromTimeseries takes the state from a run's time series,
// computed here by hand: 1000 infected and 3000 susceptible at 29 July;
// a day before, 1200 and 3300 (4500 unpatched, now 4000: a patch rate of
// ln(4500/4000) a day).
func TestStateFromTimeseries(t *testing.T) {
	t.Parallel()
	ts := goodTimeseries
	at := time.Date(2001, 7, 29, 0, 30, 0, 0, time.UTC)
	p, err := forecast.StateFromTimeseries(t.Context(), strings.NewReader(ts), "timeseries.csv", at, forecast.DefaultReemergence)
	if err != nil {
		t.Fatal(err)
	}
	if p.Infected != 1000 || p.OtherVulnerable != 3000 || p.UnpatchedShare != 1 || p.CarrierShare != 1 || p.KPopulation != 5000 || !p.Now.Equal(at) {
		t.Errorf("state %+v", p)
	}
	if want := math.Log(4500.0 / 4000); math.Abs(p.PatchRate-want) > 1e-12 {
		t.Errorf("patch rate %g, want %g", p.PatchRate, want)
	}
	for _, c := range []struct{ in, want string }{
		{"time,susceptible,infected\n", "missing column"},
		{strings.Replace(ts, "1000,0,0,1000", "x,0,0,1000", 1), "line 5"},
		{ts, "before the first row"},
	} {
		when := at
		if c.want == "before the first row" {
			when = at.Add(-30 * 24 * time.Hour)
		}
		_, err := forecast.StateFromTimeseries(t.Context(), strings.NewReader(c.in), "timeseries.csv", when, forecast.DefaultReemergence)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "timeseries.csv") {
			t.Errorf("error %v, want one naming the file with %q", err, c.want)
		}
	}
}

// FuzzParseState: the state reader must not panic, and what it accepts
// must pass the checks.
func FuzzParseState(f *testing.F) {
	f.Add([]byte(goodState))
	for _, b := range badStates {
		f.Add([]byte(b.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := forecast.ParseState("fuzz.toml", data, forecast.DefaultReemergence)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.toml") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted a state that fails its check: %v", err)
		}
		// The integration runs in minutes from now to the horizon past
		// the restart: at most 2 MaxSpan of them.
		if span := p.Restart.Add(p.Horizon.D()).Sub(p.Now); span <= 0 || span > 2*forecast.MaxSpan {
			t.Fatalf("accepted a state whose forecast spans %s", span)
		}
	})
}

// FuzzStateFromTimeseries: the reader of a run's timeseries.csv must not
// panic; its errors name the file; what it accepts passes the checks.
func FuzzStateFromTimeseries(f *testing.F) {
	f.Add([]byte(goodTimeseries), int64(0))
	f.Add([]byte("time,susceptible,infected,ever_infected\n2001-07-29T00:00:00Z,5,0,3\n"), int64(3600))
	f.Add([]byte("time,susceptible,infected\n"), int64(0))
	f.Add([]byte("time,susceptible,infected,ever_infected\n\"2001-07-29T00:00:00Z\",9223372036854775807,1,1\n"), int64(-86400))
	f.Fuzz(func(t *testing.T, data []byte, offset int64) {
		at := time.Date(2001, 7, 29, 0, 0, 0, 0, time.UTC).Add(time.Duration(offset) * time.Second)
		p, err := forecast.StateFromTimeseries(t.Context(), strings.NewReader(string(data)), "timeseries.csv", at, forecast.DefaultReemergence)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "timeseries.csv") || strings.Contains(err.Error(), "\n") {
				t.Errorf("error does not name the file on one line: %q", err)
			}
			return
		}
		if !p.Now.Equal(at) || !(p.Infected > 0) || !(p.PatchRate >= 0) || math.IsInf(p.PatchRate, 0) || math.IsNaN(p.PatchRate) {
			t.Fatalf("state %+v", p)
		}
	})
}

func TestReadStateFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "s.toml")
	if err := os.WriteFile(path, []byte(goodState), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := forecast.ReadState(t.Context(), path, forecast.DefaultReemergence)
	if err != nil || p.MaxSize != 100000 {
		t.Errorf("ReadState: %+v, %v", p, err)
	}
}
