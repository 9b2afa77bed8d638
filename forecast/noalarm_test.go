package forecast_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"wormwatch/forecast"
)

// noiseCases are background-only series: no worm, so no alarm may fire.
var noiseCases = []struct {
	name string
	n    noise
}{
	{"slash8-steady", noise{size: 1 << 24, days: 7, interval: time.Minute, persist: 2000, arrivals: 300, life: 2 * time.Hour, rate: 6, spread: 1, amplitude: 0.5}},
	{"slash16-steady", noise{size: 1 << 16, days: 7, interval: time.Minute, persist: 300, arrivals: 40, life: 3 * time.Hour, rate: 0.5, spread: 1, amplitude: 0.5}},
	{"slash8-strong-cycle", noise{size: 1 << 24, days: 7, interval: time.Minute, persist: 200, arrivals: 300, life: 2 * time.Hour, rate: 6, spread: 1, amplitude: 0.95}},
	{"slash16-strong-cycle", noise{size: 1 << 16, days: 7, interval: time.Minute, persist: 50, arrivals: 60, life: 4 * time.Hour, rate: 1, spread: 1, amplitude: 0.95}},
	{"slash8-burst", noise{size: 1 << 24, days: 3, interval: time.Minute, persist: 500, arrivals: 100, life: 2 * time.Hour, rate: 6, spread: 1, amplitude: 0.3, burstAt: 30 * time.Hour, burstN: 5000, burstLife: 6 * time.Hour}},
	{"slash16-burst", noise{size: 1 << 16, days: 3, interval: time.Minute, persist: 100, arrivals: 20, life: 2 * time.Hour, rate: 0.5, spread: 1, amplitude: 0.3, burstAt: 30 * time.Hour, burstN: 3000, burstLife: 12 * time.Hour}},
	{"slash8-ramp", noise{size: 1 << 24, days: 7, interval: time.Minute, persist: 200, arrivals: 50, life: 2 * time.Hour, rate: 6, spread: 1, amplitude: 0.5, ramp: 20}},
	{"slash16-hourly", noise{size: 1 << 16, days: 60, interval: time.Hour, persist: 300, arrivals: 40, life: 3 * time.Hour, rate: 0.5, spread: 1, amplitude: 0.5}},
	{"slash16-slow-discovery", noise{size: 1 << 16, days: 7, interval: time.Minute, persist: 5000, rate: 0.02, spread: 1.5}},
}

func TestNoAlarmOnBackground(t *testing.T) {
	t.Parallel()
	for _, c := range noiseCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for seed := uint64(1); seed <= 5; seed++ {
				s := c.n.generate(seed)
				a, err := forecast.Analyze(t.Context(), s, forecast.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if os.Getenv("NOISEINFO") != "" {
					g, at := maxSettledGrowth(a.Steps, forecast.DefaultAlarm.Tolerance)
					fmt.Printf("%s seed %d: rows %d cum %d q=%.4f alarm=%v K=%.3f maxgrowth %.2f at %d\n", c.name, seed, len(s.Rows), s.Rows[len(s.Rows)-1].CumulativeSources, a.Scan.Q.Value, a.Alarm != nil, a.K.Value, g, at)
				}
				if a.Alarm != nil {
					t.Errorf("seed %d: alarm at %s (infected estimate %.0f, K %.2f/h, onset %s) on background noise", seed, a.Alarm.Time.Format(time.RFC3339), a.Alarm.Infected, a.Alarm.K, a.Alarm.Onset.Format(time.RFC3339))
				}
			}
		})
	}
}

// maxSettledGrowth returns the largest growth of the infected estimate
// over a stretch of Trend steps whose K stays within tol of the stretch's
// last K: how close the series came to the alarm.
func maxSettledGrowth(steps []forecast.Step, tol float64) (float64, int) {
	best, at := 1.0, -1
	for t := range steps {
		if !steps[t].Trend {
			continue
		}
		lo, hi := steps[t].K*(1-tol), steps[t].K*(1+tol)
		for u := t; u >= 0 && steps[u].Trend && steps[u].K >= lo && steps[u].K <= hi; u-- {
			if g := steps[t].Infected / steps[u].Infected; g > best {
				best, at = g, t
			}
		}
	}
	return best, at
}
