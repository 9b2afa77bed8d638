package runner

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"wormwatch/internal/thousands"
	"wormwatch/scenario"
)

// WriteSummary writes what a single run found, for people: the scenario,
// seed, engine and version, the simulated span, the hosts ever and finally
// infected, the peak, when half of the infections had happened, the probes
// simulated and the wall-clock time, and the results folder.
func WriteSummary(w io.Writer, sc *scenario.Scenario, o Outcome) {
	s := o.Summary
	fmt.Fprintf(w, "%s, seed %d, %s engine, version %s\n", s.Scenario, s.Seed, s.Engine, s.Version)
	fmt.Fprintf(w, "  simulated %s to %s UTC (%d bins of %s)\n", s.Start.Format("2006-01-02 15:04"), s.End.Format("2006-01-02 15:04"), s.Bins, sc.Bin)
	f := s.Final
	total := f.Susceptible + f.Infected + f.Patched + f.Removed
	fmt.Fprintf(w, "  hosts ever infected: %s of %s in the population; at the end %s infected (%s scanning, %s flooding, %s dormant), %s susceptible, %s patched\n",
		thousands.Int(s.EverInfected), thousands.Int(total), thousands.Int(f.Infected), thousands.Int(f.InfectedScanning), thousands.Int(f.InfectedFlooding), thousands.Int(f.InfectedDormant), thousands.Int(f.Susceptible), thousands.Int(f.Patched))
	if s.PeakNewInfectionsPerMinute != nil && s.PeakTime != nil {
		fmt.Fprintf(w, "  peak: %s new infections per minute at %s UTC\n", thousands.Int(int64(*s.PeakNewInfectionsPerMinute+0.5)), s.PeakTime.Format("2006-01-02 15:04"))
	}
	if s.TimeTo50PercentSeconds != nil {
		t50 := s.Start.Add(time.Duration(*s.TimeTo50PercentSeconds * float64(time.Second)))
		fmt.Fprintf(w, "  half of the hosts ever infected were infected by %s UTC\n", t50.Format("2006-01-02 15:04"))
	}
	rate := ""
	if s.ProbesPerWallSecond != nil {
		rate = fmt.Sprintf(" (%.3g probes per wall second)", *s.ProbesPerWallSecond)
	}
	fmt.Fprintf(w, "  probes: %.4g simulated in %.3f s%s\n", float64(s.SimulatedProbes), s.WallSeconds, rate)
	fmt.Fprintf(w, "  results: %s\n", o.Dir)
}

// WriteTable writes one line per run of many seeds, for people: the hosts
// ever infected, the peak and when, when half of the infections had
// happened, the probes simulated and the wall-clock time.
func WriteTable(w io.Writer, outcomes []Outcome) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "seed\tever infected\tpeak new/min\tpeak at (UTC)\thalf by (UTC)\tprobes\twall s\t")
	for _, o := range outcomes {
		s := o.Summary
		peak, at, half := "-", "-", "-"
		if s.PeakNewInfectionsPerMinute != nil && s.PeakTime != nil {
			peak, at = thousands.Int(int64(*s.PeakNewInfectionsPerMinute+0.5)), s.PeakTime.Format("01-02 15:04")
		}
		if s.TimeTo50PercentSeconds != nil {
			half = s.Start.Add(time.Duration(*s.TimeTo50PercentSeconds * float64(time.Second))).Format("01-02 15:04")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%.3g\t%.2f\t\n", s.Seed, thousands.Int(s.EverInfected), peak, at, half, float64(s.SimulatedProbes), s.WallSeconds)
	}
	tw.Flush()
}
