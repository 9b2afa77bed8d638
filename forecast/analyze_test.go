package forecast_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"wormwatch/forecast"
)

// firstAbove returns the first row whose true infected count reaches x.
func firstAbove(tr truth, x float64) int {
	for i, v := range tr {
		if v >= x {
			return i
		}
	}
	return -1
}

// TestSyntheticOutbreaks runs the estimator on synthetic worms (see
// outbreak) seen by a /8 and a /16, with one-minute and five-minute rows:
// the alarm before 5% infected, N within 20% and K within 10% of the truth
// with the data up to 10% infected. The parameters obey the uniform-scan
// relation K = mu N / size (a host's probes into the sensor and its
// infections both come from the same uniform scanning).
func TestSyntheticOutbreaks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		o    outbreak
	}{
		{"slash8", outbreak{n: 360000, k: 1.47, mu: 68, size: 1 << 24, start: time.Hour, interval: time.Minute, hours: 14}},
		{"slash16", outbreak{n: 360000, k: 1.47, mu: 0.2676, size: 1 << 16, start: time.Hour, interval: time.Minute, hours: 14}},
		{"slash8-slow-5min", outbreak{n: 1e6, k: 0.3, mu: 5.033, size: 1 << 24, start: time.Hour, interval: 5 * time.Minute, hours: 60}},
		{"slash12-hourly", outbreak{n: 1e6, k: 0.3, mu: 0.3146, size: 1 << 20, start: time.Hour, interval: time.Hour, hours: 80}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for seed := uint64(1); seed <= 8; seed++ {
				s, tr := tc.o.generate(seed)
				i5, i10 := firstAbove(tr, 0.05*tc.o.n), firstAbove(tr, 0.1*tc.o.n)
				if i10 < 0 {
					t.Fatalf("seed %d: the outbreak never reached 10%%", seed)
				}
				a, err := forecast.Analyze(t.Context(), &forecast.Series{Name: s.Name, Size: s.Size, Interval: s.Interval, Rows: s.Rows[:i10+1]}, forecast.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if a.Alarm == nil || a.Alarm.Index >= i5 {
					t.Errorf("seed %d: alarm %+v, want one before row %d (5%% infected)", seed, a.Alarm, i5)
				}
				if e := a.N.Value/tc.o.n - 1; !(math.Abs(e) <= 0.2) {
					t.Errorf("seed %d: N %.0f, %+.1f%% off %g", seed, a.N.Value, 100*e, tc.o.n)
				}
				if e := a.K.Value/tc.o.k - 1; !(math.Abs(e) <= 0.1) {
					t.Errorf("seed %d: K %.3f/h, want %g", seed, a.K.Value, tc.o.k)
				}
				if e := a.Scan.PerHost.Value*3600/tc.o.mu - 1; !(math.Abs(e) <= 0.1) {
					t.Errorf("seed %d: %.4g probes/h per host into the sensor, want %g", seed, a.Scan.PerHost.Value*3600, tc.o.mu)
				}
			}
		})
	}
}

// TestOutbreakOverBackground puts a worm on a /8 that has seen background
// scanning for two days. Zou's counts are cumulative, so the background
// sources seen since the filter's last restart dilute the worm's growth,
// and the filter's growth rate, which fits one exponential to the sum,
// lags: the alarm comes only once the worm's sources far outnumber the
// background's, much later than on a clean sensor (docs/forecast.md). The
// test holds what the method gives: no alarm before the worm, an alarm
// while it spreads, and N within 20% once a third of the hosts are
// infected.
func TestOutbreakOverBackground(t *testing.T) {
	t.Parallel()
	const days = 3
	o := outbreak{n: 360000, k: 1.47, mu: 68, size: 1 << 24, start: 52 * time.Hour, interval: time.Minute, hours: days * 24}
	bg := noise{size: 1 << 24, days: days, interval: time.Minute, persist: 300, arrivals: 100, life: 2 * time.Hour, rate: 6, spread: 1, amplitude: 0.5}
	for seed := uint64(1); seed <= 4; seed++ {
		w, tr := o.generate(seed)
		s := add(w, bg.generate(seed))
		i33 := firstAbove(tr, o.n/3)
		a, err := forecast.Analyze(t.Context(), &forecast.Series{Name: s.Name, Size: s.Size, Interval: s.Interval, Rows: s.Rows[:i33+1]}, forecast.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if a.Alarm == nil || a.Alarm.Time.Before(s.Rows[0].Time.Add(o.start)) {
			t.Errorf("seed %d: alarm %+v, want one after the worm's start, before a third are infected", seed, a.Alarm)
		} else {
			t.Logf("seed %d: alarm with %.1f%% infected", seed, 100*tr[a.Alarm.Index]/o.n)
		}
		if e := a.N.Value/o.n - 1; !(math.Abs(e) <= 0.2) {
			t.Errorf("seed %d: N %.0f, %+.1f%% off %g", seed, a.N.Value, 100*e, o.n)
		}
	}
}

// TestCausal checks that a step's estimates use nothing after its row:
// the analysis of a prefix gives the same steps as the whole series.
func TestCausal(t *testing.T) {
	t.Parallel()
	s, _ := outbreak{n: 360000, k: 1.47, mu: 0.2676, size: 1 << 16, start: time.Hour, interval: time.Minute, hours: 10}.generate(3)
	full, err := forecast.Analyze(t.Context(), s, forecast.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{3, 200, 330, 400, 599} {
		a, err := forecast.Analyze(t.Context(), &forecast.Series{Name: s.Name, Size: s.Size, Interval: s.Interval, Rows: s.Rows[:n]}, forecast.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			x, y := a.Steps[i], full.Steps[i]
			same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
			if x.Time != y.Time || x.Seen != y.Seen || x.Trend != y.Trend || !same(x.K, y.K) || !same(x.Infected, y.Infected) || !same(x.N, y.N) {
				t.Fatalf("prefix of %d rows, step %d: %+v, whole series: %+v", n, i, x, y)
			}
		}
		if (a.Alarm == nil) != (full.Alarm == nil || full.Alarm.Index >= n) {
			t.Errorf("prefix of %d rows: alarm %+v, whole series %+v", n, a.Alarm, full.Alarm)
		}
	}
}

// TestWormAfterLongBackground puts an outbreak after 20 days of background
// scanning: the filter restarts on quiet days, so the sources seen in the
// weeks before do not hide it.
func TestWormAfterLongBackground(t *testing.T) {
	t.Parallel()
	days := 21.0
	bg := noise{size: 1 << 24, days: days, interval: time.Minute, persist: 100, arrivals: 20, life: 2 * time.Hour, rate: 6, spread: 1, amplitude: 0.5}.generate(1)
	o := outbreak{n: 360000, k: 1.47, mu: 68, size: 1 << 24, start: 20 * 24 * time.Hour, interval: time.Minute, hours: days * 24}
	w, tr := o.generate(1)
	a, err := forecast.Analyze(t.Context(), add(w, bg), forecast.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Rebases) < 15 {
		t.Errorf("%d restarts in 20 quiet days, want one a day or so", len(a.Rebases))
	}
	i5 := firstAbove(tr, 0.05*o.n)
	if a.Alarm == nil || a.Alarm.Index >= i5 || a.Alarm.Time.Before(w.Rows[0].Time.Add(o.start)) {
		t.Fatalf("alarm %+v, want one after the outbreak's start (day 20) and before row %d (5%% infected)", a.Alarm, i5)
	}
	if math.Abs(a.K.Value/o.k-1) > 0.05 || math.Abs(a.N.Value/o.n-1) > 0.1 {
		t.Errorf("K %.3f (want %g), N %.0f (want %g)", a.K.Value, o.k, a.N.Value, o.n)
	}
}

// TestForecast checks the forecast against what the synthetic worm did
// next, from the data up to 5% infected: the median must be within 5% of
// the truth at every horizon up to 4 hours (through the bend to
// saturation), and the band must contain the median and be narrower than
// the population. The band holds the estimates' uncertainty only, not the
// model's error, so it is not required to contain the truth: on these
// series it does at about two thirds of the times (docs/forecast.md).
func TestForecast(t *testing.T) {
	t.Parallel()
	o := outbreak{n: 360000, k: 1.47, mu: 68, size: 1 << 24, start: time.Hour, interval: time.Minute, hours: 14}
	for seed := uint64(1); seed <= 10; seed++ {
		s, tr := o.generate(seed)
		i5 := firstAbove(tr, 0.05*o.n)
		a, err := forecast.Analyze(t.Context(), &forecast.Series{Name: s.Name, Size: s.Size, Interval: s.Interval, Rows: s.Rows[:i5+1]}, forecast.Options{Horizon: 4 * time.Hour, Step: 30 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Forecast) != 9 || a.Forecast[0].Time != a.End {
			t.Fatalf("%d forecast points from %v, want 9 (0 to 4 hours by 30 minutes) from %v", len(a.Forecast), a.Forecast[0].Time, a.End)
		}
		for _, p := range a.Forecast[1:] {
			// the true count at the forecast time: the end of the row before it
			j := int(p.Time.Sub(s.Rows[0].Time)/s.Interval) - 1
			if e := p.Infected.Value/tr[j] - 1; !(math.Abs(e) <= 0.05) {
				t.Errorf("seed %d %s: forecast %.0f, truth %.0f (%+.1f%%)", seed, p.Time.Format("15:04"), p.Infected.Value, tr[j], 100*e)
			}
			if !(p.Infected.Low <= p.Infected.Value && p.Infected.Value <= p.Infected.High) || p.Infected.High-p.Infected.Low > o.n {
				t.Errorf("seed %d %s: band %.0f to %.0f around %.0f", seed, p.Time.Format("15:04"), p.Infected.Low, p.Infected.High, p.Infected.Value)
			}
		}
	}
}

func TestAnalyzeErrors(t *testing.T) {
	t.Parallel()
	s, _ := outbreak{n: 1000, k: 1, mu: 10, size: 256, start: 0, interval: time.Minute, hours: 1}.generate(1)
	tests := []struct {
		name string
		s    *forecast.Series
		opt  forecast.Options
		want string
	}{
		{"nil", nil, forecast.Options{}, "too short"},
		{"two rows", &forecast.Series{Name: "x", Size: 1, Interval: time.Minute, Rows: s.Rows[:2]}, forecast.Options{}, "2 rows, at least 3"},
		{"no interval", &forecast.Series{Name: "x", Size: 1, Rows: s.Rows}, forecast.Options{}, "interval 0s out of range"},
		{"level", s, forecast.Options{Level: 1.5}, "confidence level 1.5 out of range"},
		{"tolerance", s, forecast.Options{Alarm: forecast.AlarmRule{Z: 3, Tolerance: 2, Growth: 8, MinSources: 1}}, "tolerance 2 out of range"},
		{"growth", s, forecast.Options{Alarm: forecast.AlarmRule{Z: 3, Tolerance: 0.2, Growth: 1, MinSources: 1}}, "growth 1 out of range"},
		{"draws", s, forecast.Options{Draws: 5}, "draws 5 out of range"},
		{"bits", s, forecast.Options{SpaceBits: 65}, "space bits 65"},
	}
	for _, tc := range tests {
		_, err := forecast.Analyze(t.Context(), tc.s, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one with %q", tc.name, err, tc.want)
		}
	}
}

// TestIntervalJSON checks that numbers that are not finite are null.
func TestIntervalJSON(t *testing.T) {
	t.Parallel()
	b, err := forecast.Interval{Value: 2.5, Low: math.NaN(), High: math.Inf(1)}.MarshalJSON()
	if err != nil || string(b) != `{"value":2.5,"low":null,"high":null}` {
		t.Errorf("got %s, %v", b, err)
	}
}
