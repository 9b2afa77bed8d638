package eval_test

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"wormwatch/forecast"
	"wormwatch/scenario"
	"wormwatch/sensor"
	"wormwatch/sim"
)

// telescopes are the monitors added to the scenario: UCSD's /8 (CAIDA's
// telescope watched 44.0.0.0/8) and a /16 inside it.
var telescopes = []sensor.Params{
	{Name: "slash8", Kind: "telescope", Prefix: "44.0.0.0/8"},
	{Name: "slash16", Kind: "telescope", Prefix: "44.1.0.0/16"},
}

// outcome is what one seed gave on one telescope.
type outcome struct {
	seed          uint64
	alarmShare    float64 // share of the vulnerable hosts infected when the alarm fired (NaN: none)
	alarmTime     time.Time
	alarmBefore5  bool
	nAt10, nErr   float64 // N estimated with the data up to 10% infected, and its relative error
	nLow, nHigh   float64
	logisticNErr  float64 // the logistic fit's N error with the same data (NaN: no fit)
	kAt10, kSE    float64
	time5, time10 time.Time
}

func seeds(t *testing.T) int {
	if s := os.Getenv("EVAL_SEEDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("EVAL_SEEDS=%s: want a positive number", s)
		}
		return n
	}
	if testing.Short() {
		return 5
	}
	return 20
}

func toSeries(ss sim.SensorSeries, interval time.Duration) *forecast.Series {
	s := &forecast.Series{Name: ss.Name, Size: ss.Size, Interval: interval}
	for _, r := range ss.Rows {
		s.Rows = append(s.Rows, forecast.Row{Time: r.Time, Probes: r.Probes, Sources: r.Sources, NewSources: r.NewSources, CumulativeSources: r.CumulativeSources})
	}
	return s
}

func TestCodeRedTelescopes(t *testing.T) {
	t.Parallel()
	sc, _, err := scenario.Load("codered2-july19", nil)
	if err != nil {
		t.Fatal(err)
	}
	sc.Sensors = append(sc.Sensors, telescopes...)
	vulnerable := float64(sc.Population.Hosts)
	n := seeds(t)
	results := map[string][]outcome{}
	for seed := uint64(1); seed <= uint64(n); seed++ {
		res, err := sim.Run(t.Context(), sc, seed, sim.Options{})
		if err != nil {
			t.Fatal(err)
		}
		// The first bins whose end has 5% and 10% of the vulnerable hosts
		// infected (ever infected: the criterion counts infections).
		i5, i10 := -1, -1
		for i, b := range res.Bins {
			if i5 < 0 && float64(b.EverInfected) >= 0.05*vulnerable {
				i5 = i
			}
			if i10 < 0 && float64(b.EverInfected) >= 0.10*vulnerable {
				i10 = i
			}
		}
		if i5 < 0 || i10 < 0 {
			t.Fatalf("seed %d: the outbreak never reached 10%% of %g hosts", seed, vulnerable)
		}
		bin := time.Duration(res.BinSeconds * float64(time.Second))
		for _, ss := range res.Sensors {
			s := toSeries(ss, bin)
			// What a monitor running the tool at the end of the 10% bin
			// would have: the series up to that bin only.
			prefix := &forecast.Series{Name: s.Name, Size: s.Size, Interval: s.Interval, Rows: s.Rows[:i10+1]}
			a, err := forecast.Analyze(t.Context(), prefix, forecast.Options{})
			if err != nil {
				t.Fatalf("seed %d %s: %v", seed, s.Name, err)
			}
			o := outcome{seed: seed, alarmShare: math.NaN(), nAt10: a.N.Value, nLow: a.N.Low, nHigh: a.N.High,
				kAt10: a.K.Value, kSE: (a.K.High - a.K.Low) / 2, logisticNErr: math.NaN(),
				time5: res.Bins[i5].Time.Add(bin), time10: res.Bins[i10].Time.Add(bin)}
			o.nErr = o.nAt10/vulnerable - 1
			if a.Alarm != nil {
				o.alarmTime = a.Alarm.Time
				o.alarmShare = float64(res.Bins[a.Alarm.Index].EverInfected) / vulnerable
				o.alarmBefore5 = a.Alarm.Index < i5
			}
			if a.Logistic != nil {
				o.logisticNErr = a.Logistic.N.Value/vulnerable - 1
			}
			results[s.Name] = append(results[s.Name], o)
		}
	}
	for _, tel := range telescopes {
		rs := results[tel.Name]
		if len(rs) != n {
			t.Fatalf("%s: %d results for %d seeds", tel.Name, len(rs), n)
		}
		for _, o := range rs {
			if !o.alarmBefore5 {
				t.Errorf("%s seed %d: alarm at %s with %.2f%% infected, not before 5%% (%s)", tel.Name, o.seed, o.alarmTime.Format("15:04"), 100*o.alarmShare, o.time5.Format("15:04"))
			}
			if !(math.Abs(o.nErr) <= 0.2) {
				t.Errorf("%s seed %d: N = %.0f at 10%% infected (%s), %+.1f%% off %g", tel.Name, o.seed, o.nAt10, o.time10.Format("15:04"), 100*o.nErr, vulnerable)
			}
		}
		t.Log(summary(tel.Name, rs, vulnerable))
	}
}

// summary prints the figures over seeds, for BENCHMARKS.md.
func summary(name string, rs []outcome, vulnerable float64) string {
	var share, nErr, lead, lErr []float64
	cover := 0
	for _, o := range rs {
		share = append(share, 100*o.alarmShare)
		nErr = append(nErr, 100*o.nErr)
		lead = append(lead, o.time5.Sub(o.alarmTime).Minutes())
		if !math.IsNaN(o.logisticNErr) {
			lErr = append(lErr, 100*o.logisticNErr)
		}
		if o.nLow <= vulnerable && vulnerable <= o.nHigh {
			cover++
		}
	}
	q := func(x []float64, p float64) float64 {
		if len(x) == 0 {
			return math.NaN()
		}
		y := slices.Clone(x)
		slices.Sort(y)
		return y[int(math.Round(p*float64(len(y)-1)))]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s over %d seeds:\n", name, len(rs))
	fmt.Fprintf(&b, "  infected when the alarm fired: median %.2f%%, 90th percentile %.2f%%, max %.2f%%\n", q(share, 0.5), q(share, 0.9), q(share, 1))
	fmt.Fprintf(&b, "  alarm ahead of 5%% infected: median %.0f min, min %.0f min\n", q(lead, 0.5), q(lead, 0))
	fmt.Fprintf(&b, "  N error at 10%% infected (filter): median %+.1f%%, min %+.1f%%, max %+.1f%%; 95%% interval covers N in %d of %d\n", q(nErr, 0.5), q(nErr, 0), q(nErr, 1), cover, len(rs))
	within := 0
	for _, e := range lErr {
		if math.Abs(e) <= 20 {
			within++
		}
	}
	fmt.Fprintf(&b, "  N error at 10%% infected (logistic fit, for comparison): median %+.1f%%, within 20%% in %d of %d fits", q(lErr, 0.5), within, len(lErr))
	return b.String()
}
