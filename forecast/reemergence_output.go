package forecast

// The outputs of a ReemergenceForecast: the text for people and the JSON
// object (docs/forecast.md).

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"

	"wormwatch/internal/paramcli"
)

// WriteText writes the forecast for people: the state, the restart, the
// growth and its threshold, the two outcomes side by side, the patching
// needed (with MaxSize), and hours rows of the hourly table from the
// restart on (none when hours is 0).
func (r *ReemergenceForecast) WriteText(w io.Writer, hours int) {
	p := r.Params
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.Format("2006-01-02 15:04 UTC")
	}
	unpatched := p.Infected * p.UnpatchedShare
	fmt.Fprintf(w, "state at %s: %s hosts infected in the last wave, %s of them unpatched (%s holding the worm), %s other vulnerable hosts\n",
		ts(p.Now), countText(p.Infected), countText(unpatched), countText(unpatched*p.CarrierShare), countText(p.OtherVulnerable))
	fmt.Fprintf(w, "restart  %s on right clocks; wake-up delay lognormal, median %s; %g%% of clocks wrong by %s to %s\n",
		ts(p.Restart), p.WakeMedian.D(), 100*p.WrongClocks, p.ClockMin.D(), p.ClockMax.D())
	pop := p.KPopulation
	if pop == 0 {
		pop = p.Infected
	}
	fmt.Fprintf(w, "growth   K = %g/h among %s susceptible hosts in the last wave: %.3g infections per infected host per susceptible host per hour\n",
		p.K, countText(pop), r.Beta)
	fmt.Fprintf(w, "         the restart cannot grow with fewer than %s susceptible hosts as now (%s under the campaign)\n\n", countText(r.Threshold), countText(r.CampaignThreshold))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\tpatching as now (%g/day)\tawareness campaign (%g/day)\n", r.AsNow.PatchRate, r.Campaign.PatchRate)
	row := func(label string, f func(o Outcome) string) {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", label, f(r.AsNow), f(r.Campaign))
	}
	row("first carrier awake (wrong clock)", func(o Outcome) string { return ts(o.FirstWake) })
	row("carriers awake before the restart", func(o Outcome) string { return countText(o.EarlyWoken) })
	row("half of the carriers awake", func(o Outcome) string { return ts(o.MedianWake) })
	row("carriers that wake", func(o Outcome) string { return countText(o.Carriers) })
	row("susceptible at the restart", func(o Outcome) string { return countText(o.Susceptible) })
	row(fmt.Sprintf("visible (%s new infections/h)", countText(p.Visible)), func(o Outcome) string { return ts(o.VisibleAt) })
	row("peak hour of new infections", func(o Outcome) string {
		if o.PeakNew == 0 {
			return "none"
		}
		return fmt.Sprintf("%s (%s)", ts(o.PeakAt), countText(o.PeakNew))
	})
	row(fmt.Sprintf("restart size by %s", ts(p.Restart.Add(p.Horizon.D()))), func(o Outcome) string { return countText(o.Size) })
	tw.Flush()
	if !math.IsNaN(r.PatchNeeded) {
		fmt.Fprintf(w, "\nto keep the restart at or under %s hosts (patching as now after): patch %s more hosts now, %.1f%% of the %s unpatched\n",
			countText(p.MaxSize), countText(r.PatchNeeded), 100*r.PatchNeededShare, countText(unpatched+p.OtherVulnerable))
	}
	if hours == 0 {
		return
	}
	fmt.Fprintf(w, "\nhour by hour from the restart (new infections; active infected hosts at the end of the hour)\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "hour (UTC)\tnew, as now\tactive, as now\tnew, campaign\tactive, campaign\t\n")
	n := 0
	for i, h := range r.AsNow.Hours {
		if h.Time.Before(p.Restart) {
			continue
		}
		if n >= hours {
			break
		}
		c := r.Campaign.Hours[i]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", h.Time.Format("01-02 15:04"), countText(h.New), countText(h.Active), countText(c.New), countText(c.Active))
		n++
	}
	tw.Flush()
}

// The JSON output of a re-emergence forecast (docs/forecast.md).
type (
	reJSON struct {
		State             stateJSON `json:"state"`
		Beta              jsonFloat `json:"beta_per_hour"`
		Threshold         jsonFloat `json:"threshold_susceptible"`
		CampaignThreshold jsonFloat `json:"threshold_susceptible_campaign"`
		AsNow             reOutJSON `json:"as_now"`
		Campaign          reOutJSON `json:"campaign"`
		PatchNeeded       jsonFloat `json:"patch_needed"`
		PatchNeededShare  jsonFloat `json:"patch_needed_share"`
	}
	reOutJSON struct {
		PatchRate   float64      `json:"patch_rate"`
		Carriers    jsonFloat    `json:"carriers_waking"`
		Susceptible jsonFloat    `json:"susceptible_at_restart"`
		FirstWake   *time.Time   `json:"first_wake"`
		EarlyWoken  jsonFloat    `json:"woken_before_restart"`
		MedianWake  *time.Time   `json:"median_wake"`
		VisibleAt   *time.Time   `json:"visible_at"`
		PeakAt      *time.Time   `json:"peak_at"`
		PeakNew     jsonFloat    `json:"peak_new_per_hour"`
		Size        jsonFloat    `json:"size"`
		Hours       []reHourJSON `json:"hours"`
	}
	reHourJSON struct {
		Time       time.Time `json:"time"`
		New        jsonFloat `json:"new"`
		Woken      jsonFloat `json:"woken"`
		Active     jsonFloat `json:"active"`
		Cumulative jsonFloat `json:"cumulative"`
	}
)

// stateJSON is the state in the JSON output: every key of Reemergence,
// durations in seconds (paramcli.MarshalJSON).
type stateJSON Reemergence

// MarshalJSON writes the state's keys in their order.
func (s stateJSON) MarshalJSON() ([]byte, error) {
	r := Reemergence(s)
	return paramcli.MarshalJSON(&r)
}

// WriteJSON writes the forecast as one indented JSON object, in the layout
// docs/forecast.md documents.
func (r *ReemergenceForecast) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r.jsonOutput())
}

// jsonOutput is the forecast in the layout of the JSON output.
func (r *ReemergenceForecast) jsonOutput() reJSON {
	p := r.Params
	tp := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	out := func(o Outcome) reOutJSON {
		j := reOutJSON{PatchRate: o.PatchRate, Carriers: jsonFloat(o.Carriers), Susceptible: jsonFloat(o.Susceptible), FirstWake: tp(o.FirstWake), EarlyWoken: jsonFloat(o.EarlyWoken),
			MedianWake: tp(o.MedianWake), VisibleAt: tp(o.VisibleAt), PeakAt: tp(o.PeakAt), PeakNew: jsonFloat(o.PeakNew), Size: jsonFloat(o.Size), Hours: []reHourJSON{}}
		for _, h := range o.Hours {
			j.Hours = append(j.Hours, reHourJSON{Time: h.Time, New: jsonFloat(h.New), Woken: jsonFloat(h.Woken), Active: jsonFloat(h.Active), Cumulative: jsonFloat(h.Cumulative)})
		}
		return j
	}
	return reJSON{
		State: stateJSON(p),
		Beta:  jsonFloat(r.Beta), Threshold: jsonFloat(r.Threshold), CampaignThreshold: jsonFloat(r.CampaignThreshold),
		AsNow: out(r.AsNow), Campaign: out(r.Campaign), PatchNeeded: jsonFloat(r.PatchNeeded), PatchNeededShare: jsonFloat(r.PatchNeededShare),
	}
}
