package forecast

// The outputs of an Analysis: the text for people, the JSON object and the
// filter's track (docs/forecast.md describes each).

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"
	"time"

	"wormwatch/internal/thousands"
)

// Format is an output format of the forecast commands.
type Format string

// The output formats.
const (
	Text Format = "text" // for people
	JSON Format = "json" // one JSON object (docs/forecast.md)
)

// Formats lists the output formats, for messages.
const Formats = "text, json"

// Known reports whether f is one of the output formats.
func (f Format) Known() bool { return f == Text || f == JSON }

// TrackColumns are the columns WriteTrack writes: per interval, its end,
// the sources seen since the filter's last restart, the bias-corrected
// count, the filter's infected hosts and growth rate with their standard
// errors, N with its interval, and whether the interval meets the rule's
// conditions on K (docs/forecast.md).
var TrackColumns = []string{"time", "seen", "observed", "infected", "infected_sd", "k_per_hour", "k_se", "n", "n_low", "n_high", "trend"}

// WriteTrack writes the filter's estimates for every interval as CSV
// (TrackColumns), an empty cell where nothing is estimated yet.
func (a *Analysis) WriteTrack(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(TrackColumns); err != nil {
		return err
	}
	num := func(x float64) string {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return ""
		}
		return strconv.FormatFloat(x, 'g', 8, 64)
	}
	for _, st := range a.Steps {
		rec := []string{st.Time.Format(time.RFC3339), strconv.FormatInt(st.Seen, 10), num(st.Observed), num(st.Infected), num(st.InfectedSD),
			num(st.K), num(st.KSE), num(st.N), num(st.NLow), num(st.NHigh), strconv.FormatBool(st.Trend)}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// countText formats a count with thousands separators, or "-" when
// unknown, "unbounded" when infinite.
func countText(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	if math.IsInf(x, 1) {
		return "unbounded"
	}
	return thousands.Round(x)
}

// rateText formats a rate with 3 significant digits, or "-" when unknown,
// "unbounded" when infinite.
func rateText(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	if math.IsInf(x, 0) {
		return "unbounded"
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}

// intervalText formats an estimate and its interval with f, or "-".
func intervalText(iv Interval, f func(float64) string) string {
	if math.IsNaN(iv.Value) {
		return "-"
	}
	return fmt.Sprintf("%s [%s, %s]", f(iv.Value), f(iv.Low), f(iv.High))
}

// WriteText writes the analysis for people: the series, the alarm, the
// scan rate, the estimates at the end, the forecast table and the notes.
func (a *Analysis) WriteText(w io.Writer) {
	path := a.Series
	pct := fmt.Sprintf("%g%%", 100*a.Options.Level)
	fmt.Fprintf(w, "series    %s: %d intervals of %s, %s to %s, sensor of %s addresses (%s of a 2^%d space)\n",
		path, len(a.Steps), a.Interval, a.Start.Format(time.RFC3339), a.End.Format(time.RFC3339), countText(float64(a.Size)),
		rateText(float64(a.Size)/math.Ldexp(1, a.Options.SpaceBits)), a.Options.SpaceBits)
	if len(a.Rebases) > 0 {
		fmt.Fprintf(w, "          the filter restarted %d times after quiet periods; the last time at %s\n", len(a.Rebases), a.Rebases[len(a.Rebases)-1].Format(time.RFC3339))
	}
	if a.Alarm != nil {
		al := a.Alarm
		fmt.Fprintf(w, "alarm     %s: a worm; infected hosts grew %gx at a settled growth rate K = %s/h since %s\n",
			al.Time.Format(time.RFC3339), a.Options.Alarm.Growth, rateText(al.K), al.Onset.Format(time.RFC3339))
		fmt.Fprintf(w, "          (then about %s infected hosts, %s sources seen)\n", countText(al.Infected), countText(float64(al.Seen)))
	} else {
		fmt.Fprintf(w, "alarm     none: no sustained exponential trend (the rule: growth %gx at a K within %g%%, %g standard errors above 0)\n",
			a.Options.Alarm.Growth, 100*a.Options.Alarm.Tolerance, a.Options.Alarm.Z)
	}
	fmt.Fprintf(w, "scan      a scanning host is seen within an interval with probability q = %s; it sends %s probes/s into the sensor, eta = %s probes/s over the space\n",
		intervalText(a.Scan.Q, rateText), rateText(a.Scan.PerHost.Value), intervalText(a.Scan.Eta, rateText))
	fmt.Fprintf(w, "\nestimates at %s (%s intervals)\n", a.End.Format(time.RFC3339), pct)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  alpha (infection rate per interval, Zou)\t%s\n", intervalText(a.Alpha, rateText))
	fmt.Fprintf(tw, "  K (growth rate per hour)\t%s\n", intervalText(a.K, rateText))
	fmt.Fprintf(tw, "  N (vulnerable hosts, filter: K / beta)\t%s\n", intervalText(a.N, countText))
	fmt.Fprintf(tw, "  infected hosts now (filter)\t%s\n", intervalText(a.Infected, countText))
	if l := a.Logistic; l != nil {
		fmt.Fprintf(tw, "  N (logistic fit)\t%s\n", intervalText(l.N, countText))
		fmt.Fprintf(tw, "  K (logistic fit, per hour)\t%s\n", intervalText(l.K, rateText))
		fmt.Fprintf(tw, "  T (logistic midpoint)\t%s (%s to %s)\n", l.Midpoint.Format(time.RFC3339),
			l.From.Add(time.Duration(l.T.Low*float64(time.Hour))).Format("15:04"), l.From.Add(time.Duration(l.T.High*float64(time.Hour))).Format("15:04"))
	}
	tw.Flush()
	if len(a.Forecast) > 0 {
		fmt.Fprintf(w, "\nforecast of infected hosts (median and %s band)\n", pct)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "  time\tmedian\tlow\thigh\t\n")
		for _, p := range a.Forecast {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t\n", p.Time.Format(time.RFC3339), countText(p.Infected.Value), countText(p.Infected.Low), countText(p.Infected.High))
		}
		tw.Flush()
	} else if a.Alarm == nil {
		fmt.Fprintln(w, "\nno forecast without an alarm (the estimates above describe whatever the sensor saw, not a worm)")
	}
	for _, n := range a.Notes {
		fmt.Fprintf(w, "\nnote: %s\n", n)
	}
}

// The JSON output (docs/forecast.md).
type (
	analysisJSON struct {
		Series    seriesJSON    `json:"series"`
		Options   optionsJSON   `json:"options"`
		Alarm     *alarmJSON    `json:"alarm"`
		Scan      scanJSON      `json:"scan"`
		Estimates estimatesJSON `json:"estimates"`
		Logistic  *logisticJSON `json:"logistic"`
		Forecast  []pointJSON   `json:"forecast"`
		Rebases   []time.Time   `json:"rebases"`
		Notes     []string      `json:"notes"`
	}
	seriesJSON struct {
		File            string    `json:"file"`
		Rows            int       `json:"rows"`
		IntervalSeconds float64   `json:"interval_seconds"`
		Start           time.Time `json:"start"`
		End             time.Time `json:"end"`
		Size            uint64    `json:"size"`
		SpaceBits       int       `json:"space_bits"`
	}
	optionsJSON struct {
		Level           float64 `json:"level"`
		MemorySeconds   float64 `json:"memory_seconds"`
		RebaseSeconds   float64 `json:"rebase_seconds"`
		AlarmZ          float64 `json:"alarm_z"`
		AlarmTolerance  float64 `json:"alarm_tolerance"`
		AlarmGrowth     float64 `json:"alarm_growth"`
		AlarmMinSources int64   `json:"alarm_min_sources"`
	}
	alarmJSON struct {
		Time      time.Time `json:"time"`
		Onset     time.Time `json:"onset"`
		Seen      int64     `json:"seen"`
		Infected  jsonFloat `json:"infected"`
		KPerHour  jsonFloat `json:"k_per_hour"`
		RowNumber int       `json:"row"`
	}
	scanJSON struct {
		Q                 Interval `json:"q"`
		PerHostIntoSensor Interval `json:"probes_per_second_into_sensor"`
		Eta               Interval `json:"eta"`
	}
	estimatesJSON struct {
		At       time.Time `json:"at"`
		Alpha    Interval  `json:"alpha"`
		KPerHour Interval  `json:"k_per_hour"`
		N        Interval  `json:"n"`
		Infected Interval  `json:"infected"`
	}
	logisticJSON struct {
		From       time.Time `json:"from"`
		To         time.Time `json:"to"`
		Points     int       `json:"points"`
		N          Interval  `json:"n"`
		KPerHour   Interval  `json:"k_per_hour"`
		TMidHours  Interval  `json:"midpoint_hours"`
		Midpoint   time.Time `json:"midpoint"`
		Dispersion jsonFloat `json:"dispersion"`
		Lag1       jsonFloat `json:"lag1"`
	}
	pointJSON struct {
		Time     time.Time `json:"time"`
		Infected Interval  `json:"infected"`
	}
)

// jsonFloat is a number that is null in JSON when not finite.
type jsonFloat float64

// MarshalJSON writes the number, or null when it is not finite.
func (x jsonFloat) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(x))
}

// WriteJSON writes the analysis as one indented JSON object, in the layout
// docs/forecast.md documents.
func (a *Analysis) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(a.jsonOutput())
}

// jsonOutput is the analysis in the layout of the JSON output.
func (a *Analysis) jsonOutput() analysisJSON {
	path := a.Series
	o := a.Options
	j := analysisJSON{
		Series: seriesJSON{File: path, Rows: len(a.Steps), IntervalSeconds: a.Interval.Seconds(), Start: a.Start, End: a.End, Size: a.Size, SpaceBits: o.SpaceBits},
		Options: optionsJSON{Level: o.Level, MemorySeconds: o.Memory.Seconds(), RebaseSeconds: o.Rebase.Seconds(),
			AlarmZ: o.Alarm.Z, AlarmTolerance: o.Alarm.Tolerance, AlarmGrowth: o.Alarm.Growth, AlarmMinSources: o.Alarm.MinSources},
		Scan:      scanJSON{Q: a.Scan.Q, PerHostIntoSensor: a.Scan.PerHost, Eta: a.Scan.Eta},
		Estimates: estimatesJSON{At: a.End, Alpha: a.Alpha, KPerHour: a.K, N: a.N, Infected: a.Infected},
		Forecast:  []pointJSON{},
		Rebases:   a.Rebases,
		Notes:     a.Notes,
	}
	if j.Rebases == nil {
		j.Rebases = []time.Time{}
	}
	if j.Notes == nil {
		j.Notes = []string{}
	}
	if al := a.Alarm; al != nil {
		j.Alarm = &alarmJSON{Time: al.Time, Onset: al.Onset, Seen: al.Seen, Infected: jsonFloat(al.Infected), KPerHour: jsonFloat(al.K), RowNumber: al.Index + 1}
	}
	if l := a.Logistic; l != nil {
		j.Logistic = &logisticJSON{From: l.From, To: l.To, Points: l.Points, N: l.N, KPerHour: l.K, TMidHours: l.T, Midpoint: l.Midpoint,
			Dispersion: jsonFloat(l.Dispersion), Lag1: jsonFloat(l.Lag1)}
	}
	for _, p := range a.Forecast {
		j.Forecast = append(j.Forecast, pointJSON(p))
	}
	return j
}
