package forecast_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"wormwatch/forecast"
)

// TestSizeTooSmall checks the error of a sensor size far too small for
// what the sensor saw: the simulated Code Red /16 telescope's day (watch's
// test data) declared as one address drives the filter's K to where its
// arithmetic overflows (the estimates were NaN from there on, silently).
// Analyze and Monitor.Analysis refuse it with a *SizeError at the first
// step whose estimates are not finite, which a Monitor fed the same rows
// (and going on) shows; with the size right, or a size 256 times too small
// (wrong estimates, but finite), there is no error.
func TestSizeTooSmall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := forecast.ReadSeriesFile(ctx, "../watch/testdata/codered2-ucsd-16.csv")
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []uint64{65536, 256} {
		s.Size = size
		if _, err := forecast.Analyze(ctx, s, forecast.Options{}); err != nil {
			t.Errorf("size %d: %v", size, err)
		}
	}
	s.Size = 1
	_, err = forecast.Analyze(ctx, s, forecast.Options{})
	var se *forecast.SizeError
	if !errors.As(err, &se) {
		t.Fatalf("size 1: want a *SizeError, got %v", err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "column size: 1 address is far too small") || strings.Contains(msg, "NaN") || strings.Contains(msg, "\n") {
		t.Errorf("the message: %s", msg)
	}
	m, err := forecast.NewMonitor(s.Name, 1, s.Interval, forecast.Options{})
	if err != nil {
		t.Fatal(err)
	}
	first := 0 // the first row whose step is not finite after the filter started
	for i, r := range s.Rows {
		st, err := m.Add(ctx, r)
		if err != nil {
			t.Fatalf("row %d: the Monitor refused it: %v", i+1, err)
		}
		if first == 0 && !math.IsNaN(st.Observed) && (math.IsNaN(st.Infected) || math.IsNaN(st.InfectedSD)) {
			first = i + 1
		}
		if (m.SizeError() != nil) != (first != 0) {
			t.Fatalf("row %d: SizeError %v, first step not finite %d", i+1, m.SizeError(), first)
		}
	}
	steps := m.Steps()
	if first == 0 || se.Row != first || *m.SizeError() != *se || !se.Time.Equal(steps[first-1].Time) || se.Seen != steps[first-1].Seen {
		t.Fatalf("the error's row %d at %s, %d seen; the Monitor's first step not finite: row %d (%+v)", se.Row, se.Time, se.Seen, first, m.SizeError())
	}
	if _, err := m.Analysis(ctx); !errors.As(err, new(*forecast.SizeError)) {
		t.Errorf("Monitor.Analysis: %v", err)
	}
	// The mechanism: the sources seen need K >= KMin, which is near the
	// overflow (K x interval about 354.9), and the last finite step's K
	// is there; from the next step on every estimate is NaN.
	last := steps[first-2]
	kd := last.K / 3600 * s.Interval.Seconds()
	if kmin := se.KMin / 3600 * s.Interval.Seconds(); kmin < 300 || kmin > 355 || kd < 300 || kd > 355 {
		t.Errorf("K x interval: %.1f needed, %.1f reached before the overflow (want both from 300 to 355)", kmin, kd)
	}
	for _, st := range steps[first:] {
		if !math.IsNaN(st.K) {
			t.Fatalf("a step after the overflow has K %v", st.K)
		}
	}
	t.Logf("%v", se)
}
