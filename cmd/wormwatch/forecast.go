package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"wormwatch/forecast"
	wwnames "wormwatch/internal/names"
	"wormwatch/internal/outpath"
	"wormwatch/internal/thousands"
	"wormwatch/results"
)

type forecastFlags struct {
	sensor    string
	format    string
	plot      string
	track     string
	spaceBits int
	horizon   time.Duration
	step      time.Duration
	level     float64
	memory    time.Duration
	rebase    time.Duration
	alarm     forecast.AlarmRule
	force     bool
}

func newForecastCmd() *cobra.Command {
	var f forecastFlags
	c := &cobra.Command{
		Use:   "forecast FILE | FOLDER --sensor NAME",
		Short: "Find a worm's trend in a sensor series, estimate it and forecast it",
		Long: `Read a sensor series (counts per interval: time, probes, sources, new_sources,
cumulative_sources, size; what every simulated telescope writes to
sensors/<name>.csv and what 'detect --series' writes from logs), run the
early-warning Kalman filter of Zou, Gao, Gong and Towsley (2003) on it, and
print when the alarm would have been raised, the estimates (infection rate
alpha, growth rate K, vulnerable population N, with intervals), a logistic
fit, and a forecast of infected hosts with a band.

FOLDER is a run or replay results folder: the series is
FOLDER/sensors/NAME.csv, or for a replay (or a run of many seeds) the first
seed's, FOLDER/seed-NNNN/sensors/NAME.csv. The method, the alarm rule and
the JSON output are described in docs/forecast.md.

'forecast reemergence' forecasts the restart of a dormant worm instead.`,
		Example: `  wormwatch forecast telescope.csv
  wormwatch forecast runs/cr --sensor ucsd-8 --plot cr.png
  wormwatch forecast runs/cr --sensor ucsd-8 --format json > forecast.json
  wormwatch forecast reemergence --infected 359104 --unpatched-share 0.33 --restart 2001-08-01T00:00:00Z`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runForecast(cmd, args[0], f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.sensor, "sensor", "", "sensor name when the argument is a results folder (its sensors/NAME.csv)")
	fl.StringVar(&f.format, "format", "text", "output: text or json")
	fl.StringVar(&f.plot, "plot", "", "write the picture to this file (.png or .svg)")
	fl.StringVar(&f.track, "track", "", "write the filter's estimates for every interval to this CSV file")
	fl.BoolVar(&f.force, "force", false, "replace output files (--plot, --track) that exist; never an input")
	fl.IntVar(&f.spaceBits, "space-bits", 0, "address space the worm scans, in bits (default: the run's space_bits for a folder, else 32); only the scan rate eta depends on it")
	fl.DurationVar(&f.horizon, "horizon", 12*time.Hour, "how far past the end of the series to forecast")
	fl.DurationVar(&f.step, "step", time.Hour, "step of the forecast table")
	fl.Float64Var(&f.level, "level", 0.95, "confidence level of intervals and bands")
	fl.DurationVar(&f.memory, "memory", 6*time.Hour, "fading memory of the filter's growth rate")
	fl.DurationVar(&f.rebase, "rebase", 24*time.Hour, "restart the filter after this long without an outbreak under way (negative: never)")
	fl.Float64Var(&f.alarm.Z, "alarm-z", forecast.DefaultAlarm.Z, "alarm: K must exceed this many standard errors")
	fl.Float64Var(&f.alarm.Tolerance, "alarm-tolerance", forecast.DefaultAlarm.Tolerance, "alarm: K must stay within this relative band")
	fl.Float64Var(&f.alarm.Growth, "alarm-growth", forecast.DefaultAlarm.Growth, "alarm: infected hosts must grow this many times at a settled K")
	fl.Int64Var(&f.alarm.MinSources, "alarm-min-sources", forecast.DefaultAlarm.MinSources, "alarm: sources the sensor must have seen")
	c.AddCommand(newReemergenceCmd())
	return c
}

// forecastInput finds the series file: the argument itself, or in a
// results folder sensors/NAME.csv, or the first seed folder's. It returns
// the file and the folder's space_bits (0 when unknown).
func forecastInput(arg, sensor string) (string, int, error) {
	fi, err := os.Stat(arg)
	if err != nil {
		why := err.Error()
		if errors.Is(err, fs.ErrNotExist) {
			why = "no such file or folder"
		}
		return "", 0, usagef("%s: cannot read: %s (want a series CSV, or a results folder with --sensor)", arg, why)
	}
	if !fi.IsDir() {
		if sensor != "" {
			return "", 0, usagef("--sensor %s: %s is a file, not a results folder (give the folder, or the CSV alone)", sensor, arg)
		}
		return arg, 0, nil
	}
	dir := arg
	if _, err := os.Stat(filepath.Join(dir, "sensors")); err != nil {
		seeds, _ := results.Seeds(dir) // complete seed folders, in seed order
		if len(seeds) == 0 {
			return "", 0, usagef("%s: neither a run folder (no sensors/ folder) nor a replay folder (no seed-NNNN/ folders)", dir)
		}
		dir = seeds[0].Path
	}
	names := sensorNames(filepath.Join(dir, "sensors"))
	if sensor == "" {
		if len(names) == 0 {
			return "", 0, usagef("%s: no sensor series in %s", arg, filepath.Join(dir, "sensors"))
		}
		return "", 0, usagef("%s is a results folder: choose a sensor with --sensor (allowed: %s)", arg, strings.Join(names, ", "))
	}
	path := filepath.Join(dir, "sensors", sensor+".csv")
	if wwnames.Check(sensor) != nil || !slices.Contains(names, sensor) {
		allowed := "none in this folder"
		if len(names) > 0 {
			allowed = strings.Join(names, ", ")
		}
		return "", 0, usagef("--sensor %s: no %s (allowed: %s)", sensor, path, allowed)
	}
	return path, summaryBits(dir), nil
}

// sensorNames lists the series in a sensors folder (results.Files: no
// hidden or temporary files).
func sensorNames(dir string) []string {
	files, _ := results.Files(dir, ".csv")
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(f, ".csv"))
	}
	return names
}

// summaryBits reads space_bits from a results folder's summary.json (0
// when it cannot).
func summaryBits(dir string) int {
	data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		return 0
	}
	var s struct {
		SpaceBits int `json:"space_bits"`
	}
	if json.Unmarshal(data, &s) != nil {
		return 0
	}
	return s.SpaceBits
}

func runForecast(cmd *cobra.Command, arg string, f forecastFlags) error {
	if f.format != "text" && f.format != "json" {
		return usagef("--format %s: unknown format (allowed: text, json)", f.format)
	}
	plotFormat := ""
	if f.plot != "" {
		switch strings.ToLower(filepath.Ext(f.plot)) {
		case ".png":
			plotFormat = "png"
		case ".svg":
			plotFormat = "svg"
		default:
			return usagef("--plot %s: unknown picture type (allowed: a file ending in .png or .svg)", f.plot)
		}
	}
	path, bits, err := forecastInput(arg, f.sensor)
	if err != nil {
		return err
	}
	outs := []outpath.Output{{Flag: "--plot", Path: f.plot}, {Flag: "--track", Path: f.track}}
	var in outpath.Inputs
	in.Add(path)
	if err := outpath.Check(outs, &in, true, f.force); err != nil {
		return err
	}
	switch {
	case cmd.Flags().Changed("space-bits"):
		bits = f.spaceBits
	case bits == 0:
		bits = 32
	}
	// the bound of every duration (forecast.MaxSpan), for messages
	fcMaxSpan := fmt.Sprintf("%s (%d days)", forecast.MaxSpan, forecast.MaxSpan/(24*time.Hour))
	switch {
	case !(f.level > 0 && f.level < 1):
		return usagef("--level %g: out of range (allowed: between 0 and 1, like 0.95)", f.level)
	case !(f.alarm.Z > 0):
		return usagef("--alarm-z %g: out of range (allowed: more than 0)", f.alarm.Z)
	case !(f.alarm.Tolerance > 0 && f.alarm.Tolerance < 1):
		return usagef("--alarm-tolerance %g: out of range (allowed: between 0 and 1)", f.alarm.Tolerance)
	case !(f.alarm.Growth > 1):
		return usagef("--alarm-growth %g: out of range (allowed: more than 1)", f.alarm.Growth)
	case f.alarm.MinSources < 1:
		return usagef("--alarm-min-sources %d: out of range (allowed: 1 or more)", f.alarm.MinSources)
	case bits < 1 || bits > 64:
		return usagef("--space-bits %d: out of range (allowed: 1 to 64)", bits)
	case f.horizon < 0 || f.horizon > forecast.MaxSpan:
		return usagef("--horizon %s: out of range (allowed: 0 to %s)", f.horizon, fcMaxSpan)
	case f.step <= 0 || f.step > forecast.MaxSpan:
		return usagef("--step %s: out of range (allowed: more than 0, at most %s)", f.step, fcMaxSpan)
	case f.memory <= 0 || f.memory > forecast.MaxSpan:
		return usagef("--memory %s: out of range (allowed: more than 0, at most %s)", f.memory, fcMaxSpan)
	case f.rebase == 0 || f.rebase > forecast.MaxSpan:
		return usagef("--rebase %s: out of range (allowed: more than 0, at most %s, or negative for never)", f.rebase, fcMaxSpan)
	case f.horizon/f.step > forecast.MaxForecastSteps:
		return usagef("--horizon %s with --step %s: %d steps, too many (allowed: at most %d)", f.horizon, f.step, f.horizon/f.step, forecast.MaxForecastSteps)
	}
	s, err := forecast.ReadSeriesFile(cmd.Context(), path)
	if err != nil {
		return usageError{err}
	}
	opt := forecast.Options{SpaceBits: bits, Alarm: f.alarm, Memory: f.memory, Level: f.level, Horizon: f.horizon, Step: f.step, Rebase: f.rebase}
	if f.horizon == 0 {
		opt.Horizon = -1 // no forecast rows beyond the end itself
	}
	a, err := forecast.Analyze(cmd.Context(), s, opt)
	if err != nil {
		if cmd.Context().Err() != nil {
			return err
		}
		return usageError{fmt.Errorf("%s: %w", path, err)}
	}
	if f.plot != "" {
		img, err := forecast.Plot(a, plotFormat)
		if err != nil {
			return err
		}
		if err := forecastWriteFile(outs[0], &in, f.force, func(w io.Writer) error { _, err := w.Write(img); return err }); err != nil {
			return err
		}
	}
	if f.track != "" {
		if err := forecastWriteFile(outs[1], &in, f.force, func(w io.Writer) error { return writeTrack(w, a) }); err != nil {
			return err
		}
	}
	out := cmd.OutOrStdout()
	if f.format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(forecastJSON(a, path))
	}
	printForecast(out, a, path)
	return nil
}

// forecastWriteFile writes an output file through the guard of every
// output (outpath): whole or not at all, never over an input.
func forecastWriteFile(o outpath.Output, in *outpath.Inputs, force bool, write func(io.Writer) error) error {
	return userWriteError(outpath.Write(o, in, force, nil, write))
}

// trackColumns are the columns of --track.
var trackColumns = []string{"time", "seen", "observed", "infected", "infected_sd", "k_per_hour", "k_se", "n", "n_low", "n_high", "trend"}

func writeTrack(w io.Writer, a *forecast.Analysis) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(trackColumns); err != nil {
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

// fcNum formats a count with thousands separators, or "-" when unknown.
func fcNum(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	if math.IsInf(x, 1) {
		return "unbounded"
	}
	return thousands.Round(x)
}

// fcVal formats a rate with 3 significant digits, or "-".
func fcVal(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	if math.IsInf(x, 0) {
		return "unbounded"
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}

func fcInterval(iv forecast.Interval, f func(float64) string) string {
	if math.IsNaN(iv.Value) {
		return "-"
	}
	return fmt.Sprintf("%s [%s, %s]", f(iv.Value), f(iv.Low), f(iv.High))
}

func printForecast(w io.Writer, a *forecast.Analysis, path string) {
	pct := fmt.Sprintf("%g%%", 100*a.Options.Level)
	fmt.Fprintf(w, "series    %s: %d intervals of %s, %s to %s, sensor of %s addresses (%s of a 2^%d space)\n",
		path, len(a.Steps), a.Interval, a.Start.Format(time.RFC3339), a.End.Format(time.RFC3339), fcNum(float64(a.Size)),
		fcVal(float64(a.Size)/math.Ldexp(1, a.Options.SpaceBits)), a.Options.SpaceBits)
	if len(a.Rebases) > 0 {
		fmt.Fprintf(w, "          the filter restarted %d times after quiet periods; the last time at %s\n", len(a.Rebases), a.Rebases[len(a.Rebases)-1].Format(time.RFC3339))
	}
	if a.Alarm != nil {
		al := a.Alarm
		fmt.Fprintf(w, "alarm     %s: a worm; infected hosts grew %gx at a settled growth rate K = %s/h since %s\n",
			al.Time.Format(time.RFC3339), a.Options.Alarm.Growth, fcVal(al.K), al.Onset.Format(time.RFC3339))
		fmt.Fprintf(w, "          (then about %s infected hosts, %s sources seen)\n", fcNum(al.Infected), fcNum(float64(al.Seen)))
	} else {
		fmt.Fprintf(w, "alarm     none: no sustained exponential trend (the rule: growth %gx at a K within %g%%, %g standard errors above 0)\n",
			a.Options.Alarm.Growth, 100*a.Options.Alarm.Tolerance, a.Options.Alarm.Z)
	}
	fmt.Fprintf(w, "scan      a scanning host is seen within an interval with probability q = %s; it sends %s probes/s into the sensor, eta = %s probes/s over the space\n",
		fcInterval(a.Scan.Q, fcVal), fcVal(a.Scan.PerHost.Value), fcInterval(a.Scan.Eta, fcVal))
	fmt.Fprintf(w, "\nestimates at %s (%s intervals)\n", a.End.Format(time.RFC3339), pct)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  alpha (infection rate per interval, Zou)\t%s\n", fcInterval(a.Alpha, fcVal))
	fmt.Fprintf(tw, "  K (growth rate per hour)\t%s\n", fcInterval(a.K, fcVal))
	fmt.Fprintf(tw, "  N (vulnerable hosts, filter: K / beta)\t%s\n", fcInterval(a.N, fcNum))
	fmt.Fprintf(tw, "  infected hosts now (filter)\t%s\n", fcInterval(a.Infected, fcNum))
	if l := a.Logistic; l != nil {
		fmt.Fprintf(tw, "  N (logistic fit)\t%s\n", fcInterval(l.N, fcNum))
		fmt.Fprintf(tw, "  K (logistic fit, per hour)\t%s\n", fcInterval(l.K, fcVal))
		fmt.Fprintf(tw, "  T (logistic midpoint)\t%s (%s to %s)\n", l.Midpoint.Format(time.RFC3339),
			l.From.Add(time.Duration(l.T.Low*float64(time.Hour))).Format("15:04"), l.From.Add(time.Duration(l.T.High*float64(time.Hour))).Format("15:04"))
	}
	tw.Flush()
	if len(a.Forecast) > 0 {
		fmt.Fprintf(w, "\nforecast of infected hosts (median and %s band)\n", pct)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "  time\tmedian\tlow\thigh\t\n")
		for _, p := range a.Forecast {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t\n", p.Time.Format(time.RFC3339), fcNum(p.Infected.Value), fcNum(p.Infected.Low), fcNum(p.Infected.High))
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
	fcJSON struct {
		Series    fcSeriesJSON    `json:"series"`
		Options   fcOptionsJSON   `json:"options"`
		Alarm     *fcAlarmJSON    `json:"alarm"`
		Scan      fcScanJSON      `json:"scan"`
		Estimates fcEstimatesJSON `json:"estimates"`
		Logistic  *fcLogisticJSON `json:"logistic"`
		Forecast  []fcPointJSON   `json:"forecast"`
		Rebases   []time.Time     `json:"rebases"`
		Notes     []string        `json:"notes"`
	}
	fcSeriesJSON struct {
		File            string    `json:"file"`
		Rows            int       `json:"rows"`
		IntervalSeconds float64   `json:"interval_seconds"`
		Start           time.Time `json:"start"`
		End             time.Time `json:"end"`
		Size            uint64    `json:"size"`
		SpaceBits       int       `json:"space_bits"`
	}
	fcOptionsJSON struct {
		Level           float64 `json:"level"`
		MemorySeconds   float64 `json:"memory_seconds"`
		RebaseSeconds   float64 `json:"rebase_seconds"`
		AlarmZ          float64 `json:"alarm_z"`
		AlarmTolerance  float64 `json:"alarm_tolerance"`
		AlarmGrowth     float64 `json:"alarm_growth"`
		AlarmMinSources int64   `json:"alarm_min_sources"`
	}
	fcAlarmJSON struct {
		Time      time.Time `json:"time"`
		Onset     time.Time `json:"onset"`
		Seen      int64     `json:"seen"`
		Infected  fcFloat   `json:"infected"`
		KPerHour  fcFloat   `json:"k_per_hour"`
		RowNumber int       `json:"row"`
	}
	fcScanJSON struct {
		Q                 forecast.Interval `json:"q"`
		PerHostIntoSensor forecast.Interval `json:"probes_per_second_into_sensor"`
		Eta               forecast.Interval `json:"eta"`
	}
	fcEstimatesJSON struct {
		At       time.Time         `json:"at"`
		Alpha    forecast.Interval `json:"alpha"`
		KPerHour forecast.Interval `json:"k_per_hour"`
		N        forecast.Interval `json:"n"`
		Infected forecast.Interval `json:"infected"`
	}
	fcLogisticJSON struct {
		From       time.Time         `json:"from"`
		To         time.Time         `json:"to"`
		Points     int               `json:"points"`
		N          forecast.Interval `json:"n"`
		KPerHour   forecast.Interval `json:"k_per_hour"`
		TMidHours  forecast.Interval `json:"midpoint_hours"`
		Midpoint   time.Time         `json:"midpoint"`
		Dispersion fcFloat           `json:"dispersion"`
		Lag1       fcFloat           `json:"lag1"`
	}
	fcPointJSON struct {
		Time     time.Time         `json:"time"`
		Infected forecast.Interval `json:"infected"`
	}
)

// fcFloat is a number that is null in JSON when not finite.
type fcFloat float64

func (x fcFloat) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(x))
}

func forecastJSON(a *forecast.Analysis, path string) fcJSON {
	o := a.Options
	j := fcJSON{
		Series: fcSeriesJSON{File: path, Rows: len(a.Steps), IntervalSeconds: a.Interval.Seconds(), Start: a.Start, End: a.End, Size: a.Size, SpaceBits: o.SpaceBits},
		Options: fcOptionsJSON{Level: o.Level, MemorySeconds: o.Memory.Seconds(), RebaseSeconds: o.Rebase.Seconds(),
			AlarmZ: o.Alarm.Z, AlarmTolerance: o.Alarm.Tolerance, AlarmGrowth: o.Alarm.Growth, AlarmMinSources: o.Alarm.MinSources},
		Scan:      fcScanJSON{Q: a.Scan.Q, PerHostIntoSensor: a.Scan.PerHost, Eta: a.Scan.Eta},
		Estimates: fcEstimatesJSON{At: a.End, Alpha: a.Alpha, KPerHour: a.K, N: a.N, Infected: a.Infected},
		Forecast:  []fcPointJSON{},
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
		j.Alarm = &fcAlarmJSON{Time: al.Time, Onset: al.Onset, Seen: al.Seen, Infected: fcFloat(al.Infected), KPerHour: fcFloat(al.K), RowNumber: al.Index + 1}
	}
	if l := a.Logistic; l != nil {
		j.Logistic = &fcLogisticJSON{From: l.From, To: l.To, Points: l.Points, N: l.N, KPerHour: l.K, TMidHours: l.T, Midpoint: l.Midpoint,
			Dispersion: fcFloat(l.Dispersion), Lag1: fcFloat(l.Lag1)}
	}
	for _, p := range a.Forecast {
		j.Forecast = append(j.Forecast, fcPointJSON{Time: p.Time, Infected: p.Infected})
	}
	return j
}

type reemergenceFlags struct {
	state, fromRun, at string
	now, restart, from string
	wakeMedian         string
	clockMin, clockMax string
	horizon            string
	format             string
	hours              int
	p                  forecast.Reemergence
}

func newReemergenceCmd() *cobra.Command {
	var f reemergenceFlags
	d := forecast.DefaultReemergence
	c := &cobra.Command{
		Use:   "reemergence",
		Short: "Forecast the restart of a dormant worm, as NIPC did on 29 July 2001",
		Long: `Forecast when a dormant worm wakes (early on hosts whose clocks are wrong) and
how many hosts it infects hour by hour after, under patching as now and under
an awareness campaign (a higher patch rate), and how many hosts must be
patched to keep the restart under a chosen size (--max-size).

The state at dormancy comes from the flags, from a state file (--state, TOML
with the keys of the flags, underscores for dashes), or from a run's results
folder at a time (--from-run DIR --at TIME); flags override the file or the
folder. Defaults are Code Red's on 29 July 2001; the model and its
assumptions are in docs/forecast.md.`,
		Example: `  wormwatch forecast reemergence
  wormwatch forecast reemergence --infected 359104 --unpatched-share 0.33 --patch-rate 0.04 --campaign-rate 0.4 --max-size 100000
  wormwatch forecast reemergence --state dormancy.toml --format json
  wormwatch forecast reemergence --from-run runs/summer --at 2001-07-29T00:00:00Z`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runReemergence(cmd, &f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.state, "state", "", "read the state from this TOML file (keys: the flags' names with underscores)")
	fl.StringVar(&f.fromRun, "from-run", "", "take the state from this run folder's timeseries.csv (with --at)")
	fl.StringVar(&f.at, "at", "", "with --from-run: the time of the state (RFC 3339)")
	fl.StringVar(&f.now, "now", d.Now.Format(time.RFC3339), "when the state holds (RFC 3339)")
	fl.StringVar(&f.restart, "restart", d.Restart.Format(time.RFC3339), "when the worm wakes on hosts whose clocks are right (RFC 3339)")
	fl.Float64Var(&f.p.Infected, "infected", d.Infected, "hosts infected in the last wave")
	fl.Float64Var(&f.p.UnpatchedShare, "unpatched-share", d.UnpatchedShare, "share of them still unpatched")
	fl.Float64Var(&f.p.CarrierShare, "carrier-share", d.CarrierShare, "share of the unpatched infected hosts still holding the worm (not rebooted); the others are susceptible again")
	fl.Float64Var(&f.p.OtherVulnerable, "other-vulnerable", d.OtherVulnerable, "vulnerable hosts never infected, unpatched")
	fl.Float64Var(&f.p.PatchRate, "patch-rate", d.PatchRate, "patches per unpatched host per day, as now")
	fl.Float64Var(&f.p.CampaignRate, "campaign-rate", d.CampaignRate, "patches per unpatched host per day under an awareness campaign")
	fl.StringVar(&f.from, "campaign-from", "", "when the campaign starts (RFC 3339; default: --now)")
	fl.Float64Var(&f.p.K, "k", d.K, "growth rate per hour of the last wave")
	fl.Float64Var(&f.p.KPopulation, "k-population", 0, "susceptible hosts the last wave grew among (default: --infected)")
	fl.StringVar(&f.wakeMedian, "wake-median", "2h", "median delay of the wake-up after the restart time (lognormal)")
	fl.Float64Var(&f.p.WakeSigma, "wake-sigma", d.WakeSigma, "sigma of the log of the wake-up delay")
	fl.Float64Var(&f.p.WrongClocks, "wrong-clocks", d.WrongClocks, "share of hosts whose clock is wrong")
	fl.StringVar(&f.clockMin, "clock-min", "-3d", "a wrong clock is off by a uniform amount from clock-min to clock-max (ahead: positive)")
	fl.StringVar(&f.clockMax, "clock-max", "3d", "upper end of that amount")
	fl.StringVar(&f.horizon, "horizon", "48h", "how long after the restart to forecast")
	fl.Float64Var(&f.p.Visible, "visible", d.Visible, "new infections per hour that make the restart visible")
	fl.Float64Var(&f.p.MaxSize, "max-size", 0, "restart size to stay under: how many hosts must be patched (0: do not compute)")
	fl.StringVar(&f.format, "format", "text", "output: text or json")
	fl.IntVar(&f.hours, "hours", 24, "hours of the table printed from the restart on (text output)")
	return c
}

// reemergenceState assembles the state: defaults, then the state file or
// the run folder, then the flags the user set.
func reemergenceState(cmd *cobra.Command, f *reemergenceFlags) (forecast.Reemergence, error) {
	p := forecast.DefaultReemergence
	changed := cmd.Flags().Changed
	if f.state != "" && f.fromRun != "" {
		return p, usagef("--state and --from-run: give one of them")
	}
	if (f.fromRun == "") != (f.at == "") {
		return p, usagef("--from-run and --at go together (the folder and the time of the state)")
	}
	if f.state != "" {
		var err error
		// The file's values are checked after the flags are applied, so
		// read it without the defaults' check getting in the way.
		if p, err = forecast.ReadState(cmd.Context(), f.state, p); err != nil {
			if cmd.Context().Err() != nil {
				return p, err
			}
			return p, usageError{err}
		}
	}
	if f.fromRun != "" {
		at, err := time.Parse(time.RFC3339, f.at)
		if err != nil {
			return p, usagef("--at %s: not an RFC 3339 time (like 2001-07-29T00:00:00Z)", f.at)
		}
		if at.Before(forecast.MinTime) || !at.Before(forecast.MaxTime) {
			return p, usagef("--at %s: out of range (allowed: from %s to before %s)", f.at, forecast.MinTime.Format(time.RFC3339), forecast.MaxTime.Format(time.RFC3339))
		}
		path := filepath.Join(f.fromRun, "timeseries.csv")
		if _, err := os.Stat(path); err != nil {
			// A replay folder (or run --seeds): the lowest seed's, among
			// the complete seed folders.
			path = ""
			seeds, _ := results.Seeds(f.fromRun)
			for _, s := range seeds {
				if _, err := os.Stat(filepath.Join(s.Path, "timeseries.csv")); err == nil {
					path = filepath.Join(s.Path, "timeseries.csv")
					break
				}
			}
			if path == "" {
				return p, usagef("--from-run %s: no timeseries.csv (want a run's results folder)", f.fromRun)
			}
		}
		if p, err = forecast.StateFromTimeseriesFile(cmd.Context(), path, at.UTC(), p); err != nil {
			if cmd.Context().Err() != nil {
				return p, err
			}
			return p, usageError{fmt.Errorf("--from-run: %w", err)}
		}
	}
	parseT := func(flag, v string, dst *time.Time) error {
		if !changed(flag) {
			return nil
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return usagef("--%s %s: not an RFC 3339 time (like 2001-08-01T00:00:00Z)", flag, v)
		}
		*dst = t.UTC()
		return nil
	}
	parseD := func(flag, v string, dst *time.Duration) error {
		if !changed(flag) {
			return nil
		}
		x, err := forecast.ParseDuration(v)
		if err != nil {
			return usagef("--%s: %v", flag, err)
		}
		*dst = x
		return nil
	}
	for _, e := range []error{
		parseT("now", f.now, &p.Now), parseT("restart", f.restart, &p.Restart), parseT("campaign-from", f.from, &p.CampaignFrom),
		parseD("wake-median", f.wakeMedian, &p.WakeMedian), parseD("clock-min", f.clockMin, &p.ClockMin),
		parseD("clock-max", f.clockMax, &p.ClockMax), parseD("horizon", f.horizon, &p.Horizon),
	} {
		if e != nil {
			return p, e
		}
	}
	for _, v := range []struct {
		flag string
		dst  *float64
		src  float64
	}{
		{"infected", &p.Infected, f.p.Infected}, {"unpatched-share", &p.UnpatchedShare, f.p.UnpatchedShare},
		{"carrier-share", &p.CarrierShare, f.p.CarrierShare}, {"other-vulnerable", &p.OtherVulnerable, f.p.OtherVulnerable},
		{"patch-rate", &p.PatchRate, f.p.PatchRate}, {"campaign-rate", &p.CampaignRate, f.p.CampaignRate},
		{"k", &p.K, f.p.K}, {"k-population", &p.KPopulation, f.p.KPopulation}, {"wake-sigma", &p.WakeSigma, f.p.WakeSigma},
		{"wrong-clocks", &p.WrongClocks, f.p.WrongClocks}, {"visible", &p.Visible, f.p.Visible}, {"max-size", &p.MaxSize, f.p.MaxSize},
	} {
		if changed(v.flag) {
			*v.dst = v.src
		}
	}
	if err := p.Check(); err != nil {
		var pe *forecast.ParamError
		if errors.As(err, &pe) {
			return p, usagef("--%s: %s", strings.ReplaceAll(pe.Key, "_", "-"), pe.Msg)
		}
		return p, usageError{err}
	}
	return p, nil
}

func runReemergence(cmd *cobra.Command, f *reemergenceFlags) error {
	if f.format != "text" && f.format != "json" {
		return usagef("--format %s: unknown format (allowed: text, json)", f.format)
	}
	if maxHours := int(forecast.MaxSpan / time.Hour); f.hours < 0 || f.hours > maxHours {
		return usagef("--hours %d: out of range (allowed: 0 to %d, the hours of the longest --horizon)", f.hours, maxHours)
	}
	p, err := reemergenceState(cmd, f)
	if err != nil {
		return err
	}
	r, err := forecast.RunReemergence(cmd.Context(), p)
	if err != nil {
		if cmd.Context().Err() != nil {
			return err
		}
		return usageError{err}
	}
	out := cmd.OutOrStdout()
	if f.format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(reemergenceJSON(r))
	}
	printReemergence(out, r, f.hours)
	return nil
}

func printReemergence(w io.Writer, r *forecast.ReemergenceForecast, hours int) {
	p := r.Params
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.Format("2006-01-02 15:04 UTC")
	}
	unpatched := p.Infected * p.UnpatchedShare
	fmt.Fprintf(w, "state at %s: %s hosts infected in the last wave, %s of them unpatched (%s holding the worm), %s other vulnerable hosts\n",
		ts(p.Now), fcNum(p.Infected), fcNum(unpatched), fcNum(unpatched*p.CarrierShare), fcNum(p.OtherVulnerable))
	fmt.Fprintf(w, "restart  %s on right clocks; wake-up delay lognormal, median %s; %g%% of clocks wrong by %s to %s\n",
		ts(p.Restart), p.WakeMedian, 100*p.WrongClocks, p.ClockMin, p.ClockMax)
	pop := p.KPopulation
	if pop == 0 {
		pop = p.Infected
	}
	fmt.Fprintf(w, "growth   K = %g/h among %s susceptible hosts in the last wave: %.3g infections per infected host per susceptible host per hour\n",
		p.K, fcNum(pop), r.Beta)
	fmt.Fprintf(w, "         the restart cannot grow with fewer than %s susceptible hosts as now (%s under the campaign)\n\n", fcNum(r.Threshold), fcNum(r.CampaignThreshold))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\tpatching as now (%g/day)\tawareness campaign (%g/day)\n", r.AsNow.PatchRate, r.Campaign.PatchRate)
	row := func(label string, f func(o forecast.Outcome) string) {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", label, f(r.AsNow), f(r.Campaign))
	}
	row("first carrier awake (wrong clock)", func(o forecast.Outcome) string { return ts(o.FirstWake) })
	row("carriers awake before the restart", func(o forecast.Outcome) string { return fcNum(o.EarlyWoken) })
	row("half of the carriers awake", func(o forecast.Outcome) string { return ts(o.MedianWake) })
	row("carriers that wake", func(o forecast.Outcome) string { return fcNum(o.Carriers) })
	row("susceptible at the restart", func(o forecast.Outcome) string { return fcNum(o.Susceptible) })
	row(fmt.Sprintf("visible (%s new infections/h)", fcNum(p.Visible)), func(o forecast.Outcome) string { return ts(o.VisibleAt) })
	row("peak hour of new infections", func(o forecast.Outcome) string {
		if o.PeakNew == 0 {
			return "none"
		}
		return fmt.Sprintf("%s (%s)", ts(o.PeakAt), fcNum(o.PeakNew))
	})
	row(fmt.Sprintf("restart size by %s", ts(p.Restart.Add(p.Horizon))), func(o forecast.Outcome) string { return fcNum(o.Size) })
	tw.Flush()
	if !math.IsNaN(r.PatchNeeded) {
		fmt.Fprintf(w, "\nto keep the restart at or under %s hosts (patching as now after): patch %s more hosts now, %.1f%% of the %s unpatched\n",
			fcNum(p.MaxSize), fcNum(r.PatchNeeded), 100*r.PatchNeededShare, fcNum(unpatched+p.OtherVulnerable))
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", h.Time.Format("01-02 15:04"), fcNum(h.New), fcNum(h.Active), fcNum(c.New), fcNum(c.Active))
		n++
	}
	tw.Flush()
}

// The JSON output of forecast reemergence (docs/forecast.md).
type (
	reJSON struct {
		State             reStateJSON `json:"state"`
		Beta              fcFloat     `json:"beta_per_hour"`
		Threshold         fcFloat     `json:"threshold_susceptible"`
		CampaignThreshold fcFloat     `json:"threshold_susceptible_campaign"`
		AsNow             reOutJSON   `json:"as_now"`
		Campaign          reOutJSON   `json:"campaign"`
		PatchNeeded       fcFloat     `json:"patch_needed"`
		PatchNeededShare  fcFloat     `json:"patch_needed_share"`
	}
	reStateJSON struct {
		Now             time.Time  `json:"now"`
		Restart         time.Time  `json:"restart"`
		Infected        float64    `json:"infected"`
		UnpatchedShare  float64    `json:"unpatched_share"`
		CarrierShare    float64    `json:"carrier_share"`
		OtherVulnerable float64    `json:"other_vulnerable"`
		PatchRate       float64    `json:"patch_rate"`
		CampaignRate    float64    `json:"campaign_rate"`
		CampaignFrom    *time.Time `json:"campaign_from"`
		K               float64    `json:"k"`
		KPopulation     float64    `json:"k_population"`
		WakeMedianSec   float64    `json:"wake_median_seconds"`
		WakeSigma       float64    `json:"wake_sigma"`
		WrongClocks     float64    `json:"wrong_clocks"`
		ClockMinSec     float64    `json:"clock_min_seconds"`
		ClockMaxSec     float64    `json:"clock_max_seconds"`
		HorizonSec      float64    `json:"horizon_seconds"`
		Visible         float64    `json:"visible"`
		MaxSize         float64    `json:"max_size"`
	}
	reOutJSON struct {
		PatchRate   float64      `json:"patch_rate"`
		Carriers    fcFloat      `json:"carriers_waking"`
		Susceptible fcFloat      `json:"susceptible_at_restart"`
		FirstWake   *time.Time   `json:"first_wake"`
		EarlyWoken  fcFloat      `json:"woken_before_restart"`
		MedianWake  *time.Time   `json:"median_wake"`
		VisibleAt   *time.Time   `json:"visible_at"`
		PeakAt      *time.Time   `json:"peak_at"`
		PeakNew     fcFloat      `json:"peak_new_per_hour"`
		Size        fcFloat      `json:"size"`
		Hours       []reHourJSON `json:"hours"`
	}
	reHourJSON struct {
		Time       time.Time `json:"time"`
		New        fcFloat   `json:"new"`
		Woken      fcFloat   `json:"woken"`
		Active     fcFloat   `json:"active"`
		Cumulative fcFloat   `json:"cumulative"`
	}
)

func reemergenceJSON(r *forecast.ReemergenceForecast) reJSON {
	p := r.Params
	tp := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	out := func(o forecast.Outcome) reOutJSON {
		j := reOutJSON{PatchRate: o.PatchRate, Carriers: fcFloat(o.Carriers), Susceptible: fcFloat(o.Susceptible), FirstWake: tp(o.FirstWake), EarlyWoken: fcFloat(o.EarlyWoken),
			MedianWake: tp(o.MedianWake), VisibleAt: tp(o.VisibleAt), PeakAt: tp(o.PeakAt), PeakNew: fcFloat(o.PeakNew), Size: fcFloat(o.Size), Hours: []reHourJSON{}}
		for _, h := range o.Hours {
			j.Hours = append(j.Hours, reHourJSON{Time: h.Time, New: fcFloat(h.New), Woken: fcFloat(h.Woken), Active: fcFloat(h.Active), Cumulative: fcFloat(h.Cumulative)})
		}
		return j
	}
	return reJSON{
		State: reStateJSON{Now: p.Now, Restart: p.Restart, Infected: p.Infected, UnpatchedShare: p.UnpatchedShare, CarrierShare: p.CarrierShare,
			OtherVulnerable: p.OtherVulnerable, PatchRate: p.PatchRate, CampaignRate: p.CampaignRate, CampaignFrom: tp(p.CampaignFrom), K: p.K,
			KPopulation: p.KPopulation, WakeMedianSec: p.WakeMedian.Seconds(), WakeSigma: p.WakeSigma, WrongClocks: p.WrongClocks,
			ClockMinSec: p.ClockMin.Seconds(), ClockMaxSec: p.ClockMax.Seconds(), HorizonSec: p.Horizon.Seconds(), Visible: p.Visible, MaxSize: p.MaxSize},
		Beta: fcFloat(r.Beta), Threshold: fcFloat(r.Threshold), CampaignThreshold: fcFloat(r.CampaignThreshold),
		AsNow: out(r.AsNow), Campaign: out(r.Campaign), PatchNeeded: fcFloat(r.PatchNeeded), PatchNeededShare: fcFloat(r.PatchNeededShare),
	}
}
