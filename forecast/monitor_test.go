package forecast_test

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"wormwatch/forecast"
)

// sameFloat reports whether x and y are the same float64, bit for bit.
func sameFloat(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) }

// sameStep reports whether two steps are identical, bit for bit.
func sameStep(x, y forecast.Step) bool {
	return x.Time.Equal(y.Time) && x.Seen == y.Seen && x.Trend == y.Trend &&
		sameFloat(x.Observed, y.Observed) && sameFloat(x.Infected, y.Infected) && sameFloat(x.InfectedSD, y.InfectedSD) &&
		sameFloat(x.K, y.K) && sameFloat(x.KSE, y.KSE) && sameFloat(x.N, y.N) && sameFloat(x.NLow, y.NLow) && sameFloat(x.NHigh, y.NHigh)
}

func sameAlarm(x, y *forecast.Alarm) bool {
	if x == nil || y == nil {
		return x == y
	}
	return x.Time.Equal(y.Time) && x.Index == y.Index && x.Onset.Equal(y.Onset) && x.Seen == y.Seen &&
		sameFloat(x.Infected, y.Infected) && sameFloat(x.K, y.K)
}

// monitorSeries are the series the Monitor is checked on: synthetic
// outbreaks on a /8 and a /16, background alone (hourly rows with a
// burst; minute rows with a daily cycle), a worm over two days of
// background (the filter rebases on the first day) and a short series.
func monitorSeries() map[string]*forecast.Series {
	slash8, _ := outbreak{n: 360000, k: 1.47, mu: 68, size: 1 << 24, start: time.Hour, interval: time.Minute, hours: 8}.generate(1)
	slash16, _ := outbreak{n: 360000, k: 1.47, mu: 0.2676, size: 1 << 16, start: time.Hour, interval: time.Minute, hours: 10}.generate(2)
	hourly := noise{size: 1 << 24, days: 30, interval: time.Hour, persist: 200, arrivals: 30, life: 3 * time.Hour, rate: 2, spread: 1, amplitude: 0.9,
		burstAt: 10 * 24 * time.Hour, burstN: 3000, burstLife: 6 * time.Hour}.generate(3)
	daily := noise{size: 1 << 24, days: 2, interval: time.Minute, persist: 300, arrivals: 100, life: 2 * time.Hour, rate: 6, spread: 1, amplitude: 0.5}.generate(4)
	w, _ := outbreak{n: 360000, k: 1.47, mu: 68, size: 1 << 24, start: 40 * time.Hour, interval: time.Minute, hours: 48}.generate(5)
	bg := noise{size: 1 << 24, days: 2, interval: time.Minute, persist: 100, arrivals: 20, life: 2 * time.Hour, rate: 6, spread: 1, amplitude: 0.5}.generate(5)
	short := &forecast.Series{Name: "short", Size: slash16.Size, Interval: slash16.Interval, Rows: slash16.Rows[:5]}
	return map[string]*forecast.Series{"slash8": slash8, "slash16": slash16, "hourly-burst": hourly, "daily-cycle": daily, "rebase": add(w, bg), "short": short}
}

// TestMonitorEqualsAnalyze feeds the rows of each series one by one to a
// Monitor and checks, after every row, that its steps and alarm are
// Analyze's on the rows so far (on every prefix for the shorter series,
// on every 37th and the last for the longer), and at the end that its
// Analysis is Analyze's on the whole series (the JSON and the track, which
// hold every estimate and every step, byte for byte).
func TestMonitorEqualsAnalyze(t *testing.T) {
	t.Parallel()
	for name, s := range monitorSeries() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			full, err := forecast.Analyze(ctx, s, forecast.Options{})
			if err != nil {
				t.Fatal(err)
			}
			m, err := forecast.NewMonitor(s.Name, s.Size, s.Interval, forecast.Options{})
			if err != nil {
				t.Fatal(err)
			}
			every := 1
			if len(s.Rows) > 700 {
				every = 37
			}
			for k, r := range s.Rows {
				st, err := m.Add(ctx, r)
				if err != nil {
					t.Fatalf("row %d: %v", k, err)
				}
				if !sameStep(st, full.Steps[k]) {
					t.Fatalf("row %d: step %+v, Analyze's %+v", k, st, full.Steps[k])
				}
				n := k + 1
				if n < forecast.MinRows || (n%every != 0 && n != len(s.Rows)) {
					continue
				}
				a, err := forecast.Analyze(ctx, &forecast.Series{Name: s.Name, Size: s.Size, Interval: s.Interval, Rows: s.Rows[:n]}, forecast.Options{})
				if err != nil {
					t.Fatal(err)
				}
				steps := m.Steps()
				if len(steps) != n {
					t.Fatalf("%d steps after %d rows", len(steps), n)
				}
				for i := range steps {
					if !sameStep(steps[i], a.Steps[i]) {
						t.Fatalf("prefix of %d rows, step %d: monitor %+v, Analyze %+v", n, i, steps[i], a.Steps[i])
					}
				}
				if !sameAlarm(m.Alarm(), a.Alarm) {
					t.Fatalf("prefix of %d rows: monitor's alarm %+v, Analyze's %+v", n, m.Alarm(), a.Alarm)
				}
			}
			if !sameAlarm(m.Alarm(), full.Alarm) {
				t.Errorf("alarm %+v, Analyze's %+v", m.Alarm(), full.Alarm)
			}
			if len(s.Rows) < forecast.MinRows {
				return
			}
			got, err := m.Analysis(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range []func(*forecast.Analysis, *bytes.Buffer) error{
				func(a *forecast.Analysis, b *bytes.Buffer) error { return a.WriteJSON(b) },
				func(a *forecast.Analysis, b *bytes.Buffer) error { return a.WriteTrack(b) },
			} {
				var x, y bytes.Buffer
				if err := w(got, &x); err != nil {
					t.Fatal(err)
				}
				if err := w(full, &y); err != nil {
					t.Fatal(err)
				}
				if x.String() != y.String() {
					t.Errorf("the monitor's analysis differs from Analyze's:\n%s\nAnalyze:\n%s", clipText(x.String()), clipText(y.String()))
				}
			}
		})
	}
}

func clipText(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "..."
	}
	return s
}

// TestMonitorSeries checks that the series the equivalence is shown on
// exercise what it must: alarms on the outbreaks, none on background, and
// a rebase before the worm of the long one.
func TestMonitorSeries(t *testing.T) {
	t.Parallel()
	for name, s := range monitorSeries() {
		if len(s.Rows) < forecast.MinRows {
			continue
		}
		a, err := forecast.Analyze(t.Context(), s, forecast.Options{})
		if err != nil {
			t.Fatal(err)
		}
		wantAlarm := name == "slash8" || name == "slash16" || name == "rebase"
		if (a.Alarm != nil) != wantAlarm {
			t.Errorf("%s: alarm %+v, want one: %v", name, a.Alarm, wantAlarm)
		}
		if name == "rebase" && (len(a.Rebases) == 0 || a.Alarm == nil || !a.Rebases[0].Before(a.Alarm.Time)) {
			t.Errorf("%s: rebases %v, alarm %+v: want a rebase before the alarm", name, a.Rebases, a.Alarm)
		}
	}
}

// TestMonitorRefuses checks the rows a Monitor refuses, which leave it as
// it was, and that an error of the context at the filter's start does too.
func TestMonitorRefuses(t *testing.T) {
	t.Parallel()
	s := monitorSeries()["slash16"]
	m, err := forecast.NewMonitor(s.Name, s.Size, s.Interval, forecast.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Analysis(t.Context()); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Errorf("analysis of no rows: %v", err)
	}
	ctx := t.Context()
	add := func(r forecast.Row) error { _, err := m.Add(ctx, r); return err }
	if err := add(s.Rows[0]); err != nil {
		t.Fatal(err)
	}
	r1 := s.Rows[1]
	bad := []struct {
		r    forecast.Row
		want string
	}{
		{forecast.Row{Time: r1.Time.Add(time.Second), Probes: r1.Probes, Sources: r1.Sources, NewSources: r1.NewSources, CumulativeSources: r1.CumulativeSources}, "not one interval"},
		{forecast.Row{Time: r1.Time, Probes: 1, Sources: 2, NewSources: 0, CumulativeSources: s.Rows[0].CumulativeSources}, "<= probes"},
		{forecast.Row{Time: r1.Time, Probes: 3, Sources: 2, NewSources: 1, CumulativeSources: s.Rows[0].CumulativeSources + 2}, "cumulative sources"},
		{forecast.Row{Time: r1.Time, Probes: -1}, "negative"},
	}
	for _, b := range bad {
		if err := add(b.r); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("row %+v: %v, want an error with %q", b.r, err, b.want)
		}
	}
	if m.Len() != 1 {
		t.Fatalf("%d rows after refusals, want 1", m.Len())
	}
	// A cancelled context stops the filter's start: find the row that
	// starts it, and check that the Monitor is as before and goes on
	// as if nothing happened.
	full, err := forecast.Analyze(ctx, s, forecast.Options{})
	if err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	refused := false
	for k := 1; k < len(s.Rows); k++ {
		st, err := m.Add(done, s.Rows[k])
		if err != nil {
			if err != context.Canceled || m.Len() != k {
				t.Fatalf("row %d: %v, %d rows after it", k, err, m.Len())
			}
			refused = true
			if st, err = m.Add(ctx, s.Rows[k]); err != nil {
				t.Fatal(err)
			}
		}
		if !sameStep(st, full.Steps[k]) {
			t.Fatalf("row %d: %+v, want %+v", k, st, full.Steps[k])
		}
	}
	if !refused {
		t.Fatal("no row was refused for the cancelled context: the filter never started?")
	}
	if _, err := forecast.NewMonitor("x", 1<<32, time.Minute, forecast.Options{}); err == nil {
		t.Error("a sensor of the whole space was accepted")
	}
}
