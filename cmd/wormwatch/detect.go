package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"wormwatch/detect"
	"wormwatch/forecast"
	"wormwatch/internal/outpath"
	"wormwatch/report"
	"wormwatch/share"
)

type detectFlags struct {
	format     string
	table      string
	out        string
	logFormat  string
	signatures []string
	list       bool
	print      bool
	series     string
	interval   time.Duration
	sensorSize uint64
	stix       string
	tlp        string
	maxLine    int
	top        int
	memory     string
	tmpDir     string
	force      bool
}

func newDetectCmd() *cobra.Command {
	var f detectFlags
	c := &cobra.Command{
		Use:   "detect [flags] PATH...",
		Short: "Find worms (Code Red, Nimda, ...) in web-server access logs",
		Long: `Read web-server access logs (Apache and nginx combined or common, IIS W3C extended;
plain or gzip; files, folders read recursively, or - for standard input), match every
line against the worm signatures and print per family the matched lines, distinct
sources and events, a per-source table and hourly counts.

The signatures are data: 'wormwatch detect --list-signatures' lists them,
--print-signatures prints the built-in table as TOML, and --signatures FILE adds
families or replaces those with the same name. Lines that cannot be read (too long,
binary junk, invalid UTF-8, a truncated last line, a field that does not parse) are
counted by reason and reported. The JSON layout is documented in docs/detect.md.`,
		Example: `  wormwatch detect /var/log/apache2/access.log*
  zcat access.log.*.gz | wormwatch detect -
  wormwatch detect --format json --out found.json logs/
  wormwatch detect --format csv --table sources logs/
  wormwatch detect --series sensor.csv --interval 1h logs/
  wormwatch detect --signatures mine.toml --log-format iis W3SVC1/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDetect(cmd.Context(), cmd, args, &f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.format, "format", "text", "output format: text, csv or json")
	fl.StringVar(&f.table, "table", "families", "with --format csv, the table to write: "+detect.Tables)
	fl.StringVarP(&f.out, "out", "o", "", "write the output to this file (written whole or not at all; - for standard output) instead of standard output")
	fl.StringVar(&f.logFormat, "log-format", "auto", "log format of every input: "+detect.FormatNames+" (auto: chosen per file from its first lines)")
	fl.StringArrayVar(&f.signatures, "signatures", nil, "a TOML signatures file adding or replacing families (repeatable)")
	fl.BoolVar(&f.list, "list-signatures", false, "list the signature families and exit")
	fl.BoolVar(&f.print, "print-signatures", false, "print the built-in signature table (TOML) and exit")
	fl.StringVar(&f.series, "series", "", "also write a sensor series CSV ("+strings.Join(report.SensorColumns, ",")+") of worm requests per interval")
	fl.DurationVar(&f.interval, "interval", time.Hour, "interval of the --series rows")
	fl.Uint64Var(&f.sensorSize, "sensor-size", 1, "size column of the --series file: addresses the logs cover (a single web server: 1)")
	fl.StringVar(&f.stix, "stix", "", "also write a STIX 2.1 bundle of the findings to this file")
	fl.StringVar(&f.tlp, "tlp", "amber", "TLP marking of the STIX bundle: "+strings.Join(share.TLPLevels, ", "))
	fl.IntVar(&f.maxLine, "max-line", detect.DefaultMaxLine, "lines longer than this many bytes are counted as too_long and skipped")
	fl.IntVar(&f.top, "top", 20, "with --format text, the sources to list (0: all)")
	fl.StringVar(&f.memory, "memory", fmt.Sprintf("%dMiB", detect.DefaultMemory>>20), "memory for the per-source tables (at least 16MiB); past it they are kept in temporary files and merged at the end, the counts exact")
	fl.StringVar(&f.tmpDir, "tmp-dir", "", "folder of the temporary files past --memory (default: $TMPDIR, or /tmp)")
	fl.BoolVar(&f.force, "force", false, "replace output files (--out, --series, --stix) that exist; never an input")
	return c
}

func runDetect(ctx context.Context, cmd *cobra.Command, args []string, f *detectFlags) error {
	fams, m, err := detectSignatures(f.signatures)
	if err != nil {
		return usageError{err}
	}
	w := cmd.OutOrStdout()
	if f.print {
		_, err := w.Write(detect.BuiltinTOML())
		return err
	}
	if f.list {
		return detectListSignatures(w, fams)
	}
	if len(args) == 0 {
		return usagef("give at least one log file, folder, or - for standard input (see %s --help)", cmd.CommandPath())
	}
	opt, err := detectOptions(cmd, f, m)
	if err != nil {
		return usageError{err}
	}
	outs := []outpath.Output{{Flag: "--out", Path: f.out}, {Flag: "--series", Path: f.series}, {Flag: "--stix", Path: f.stix}}
	var in outpath.Inputs
	in.Add(args...)
	in.Add(f.signatures...)
	if err := outpath.Check(outs, &in, f.out == "", f.force); err != nil {
		return err
	}
	r, err := detect.Analyze(ctx, args, opt)
	if errors.Is(err, context.Canceled) {
		return interruptedError{"interrupted: nothing was written"}
	}
	if err != nil {
		return usageError{err}
	}
	defer r.Close() // its temporary file, when the sources did not fit in --memory
	stdout := cmd.OutOrStdout()
	writeOut := func(i int, fn func(io.Writer) error) error {
		if outs[i].Path == "" {
			return nil
		}
		return userWriteError(outpath.Write(outs[i], &in, f.force, stdout, fn))
	}
	if err := writeOut(1, func(w io.Writer) error { return detectWriteSeries(w, r.Series, f.sensorSize) }); err != nil {
		return err
	}
	if err := writeOut(2, func(w io.Writer) error { return detectWriteSTIX(w, cmd.ErrOrStderr(), r, f.tlp) }); err != nil {
		return err
	}
	write := func(w io.Writer) error {
		switch f.format {
		case "json":
			return r.WriteJSON(w)
		case "csv":
			return r.WriteCSV(w, f.table)
		}
		return r.WriteText(w, f.top)
	}
	if f.out == "" {
		return write(stdout)
	}
	return writeOut(0, write)
}

// detectOptions checks the flags (before any input is read, so that a
// mistake costs nothing) and returns the analyzer's options.
func detectOptions(cmd *cobra.Command, f *detectFlags, m *detect.Matcher) (detect.Options, error) {
	var opt detect.Options
	switch f.format {
	case "text", "csv", "json":
	default:
		return opt, fmt.Errorf("--format %q: allowed: text, csv, json", f.format)
	}
	switch f.table {
	case "families", "sources", "hourly", "skipped":
	default:
		return opt, fmt.Errorf("--table %q: allowed: %s", f.table, detect.Tables)
	}
	if cmd.Flags().Changed("table") && f.format != "csv" {
		return opt, errors.New("--table applies only with --format csv (text and json hold every table)")
	}
	lf, err := detect.ParseFormat(f.logFormat)
	if err != nil {
		return opt, fmt.Errorf("--log-format: %w", err)
	}
	if err := detect.CheckMaxLine(f.maxLine); err != nil {
		return opt, fmt.Errorf("--max-line %d: want %d to %d bytes (64 MiB)", f.maxLine, detect.MinMaxLine, detect.MaxMaxLine)
	}
	if f.top < 0 {
		return opt, fmt.Errorf("--top %d: want 0 (all) or more", f.top)
	}
	mem, err := detect.ParseBytes(f.memory)
	if err != nil {
		return opt, fmt.Errorf("--memory: %w", err)
	}
	if mem < detect.MinMemory {
		return opt, fmt.Errorf("--memory %s: want at least %d MiB", f.memory, detect.MinMemory>>20)
	}
	if f.tmpDir != "" {
		if st, err := os.Stat(f.tmpDir); err != nil || !st.IsDir() {
			return opt, fmt.Errorf("--tmp-dir %s: not a folder", f.tmpDir)
		}
	}
	opt.Memory, opt.TempDir = mem, f.tmpDir
	if f.series == "" {
		for _, name := range []string{"interval", "sensor-size"} {
			if cmd.Flags().Changed(name) {
				return opt, fmt.Errorf("--%s applies only with --series", name)
			}
		}
	} else {
		// The series is for wormwatch forecast: refuse what it would
		// refuse to read, and stop reading the logs as soon as the series
		// would have more rows than it reads.
		switch {
		case f.interval < time.Second || f.interval > forecast.MaxSpan:
			return opt, fmt.Errorf("--interval %v: want 1s to %v (366 days, the longest interval forecast reads)", f.interval, forecast.MaxSpan)
		case f.interval%time.Second != 0:
			return opt, fmt.Errorf("--interval %v: want whole seconds (the series' times are written to the second)", f.interval)
		case f.sensorSize == 0 || f.sensorSize > forecast.MaxSensorSize:
			return opt, fmt.Errorf("--sensor-size %d: want 1 to %d addresses (forecast.MaxSensorSize, the largest size column forecast reads)", f.sensorSize, uint64(forecast.MaxSensorSize))
		}
		opt.SeriesInterval, opt.MaxSeriesRows = f.interval, forecast.MaxRows
	}
	if f.stix == "" && cmd.Flags().Changed("tlp") {
		return opt, errors.New("--tlp applies only with --stix")
	}
	if f.stix != "" {
		if _, err := share.ParseTLP(f.tlp, "amber"); err != nil {
			return opt, fmt.Errorf("--tlp: %w", err)
		}
	}
	opt.Format, opt.MaxLine, opt.Matcher, opt.Stdin = lf, f.maxLine, m, cmd.InOrStdin()
	return opt, nil
}

// detectSignatures returns the built-in table with the files' families
// merged in, in order, and the matcher compiled from it. Every key is
// checked once, as its file is read (errors name the file, line and key),
// before any log is; the matcher is the one the analyzer uses.
func detectSignatures(files []string) ([]detect.Family, *detect.Matcher, error) {
	fams := detect.Builtin()
	for _, path := range files {
		extra, err := detect.LoadSignatures(path)
		if err != nil {
			return nil, nil, err
		}
		fams = detect.Merge(fams, extra)
	}
	m, err := detect.NewMatcher(fams)
	if err != nil {
		return nil, nil, fmt.Errorf("signatures: %w", err)
	}
	return fams, m, nil
}

func detectListSignatures(w io.Writer, fams []detect.Family) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "family\tkind\tevent gap\treferences")
	for _, f := range fams {
		var refs []string
		for _, r := range f.References {
			refs = append(refs, r.Source+" "+r.ID)
		}
		name := f.Name
		if f.Disabled {
			name += " (disabled)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, f.Kind, f.EventGap, strings.Join(refs, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, f := range fams {
		if _, err := fmt.Fprintf(w, "\n%s: %s\n", f.Name, strings.Join(strings.Fields(f.Description), " ")); err != nil {
			return err
		}
	}
	return nil
}

// detectWriteSeries writes the sensor series in the schema of
// report.SensorColumns, the one every simulated sensor writes.
func detectWriteSeries(w io.Writer, s *detect.Series, size uint64) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(report.SensorColumns); err != nil {
		return err
	}
	sz := strconv.FormatUint(size, 10)
	i64 := func(n int64) string { return strconv.FormatInt(n, 10) }
	if s != nil {
		for r := range s.Rows() {
			rec := []string{r.Time.UTC().Format(time.RFC3339), i64(r.Probes), i64(r.Sources), i64(r.NewSources), i64(r.CumulativeSources), sz}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// detectWriteSTIX writes the STIX 2.1 bundle of the report with package
// share: per family an indicator (its pattern), and when it was seen a
// sighting with the event count and first and last seen, and the sources as
// observed data. Sources logged as host names, not addresses, cannot be
// STIX address objects and are left out (said on stderr).
// maxSTIXSources bounds the source addresses a STIX bundle lists per
// family (the most active ones), so that --stix on millions of sources
// stays small in memory and useful to the receiver; the sighting's count
// covers every source.
const maxSTIXSources = 10_000

func detectWriteSTIX(w io.Writer, stderr io.Writer, r *detect.Report, tlp string) error {
	type key struct {
		fam  string
		addr netip.Addr
	}
	bySrc := map[key]*share.Source{}
	byFam := map[string][]key{}
	left := map[string]int64{} // sources left out past maxSTIXSources, by family
	hosts := 0
	for s, err := range r.Sources.All() {
		if err != nil {
			return err
		}
		a, err := netip.ParseAddr(s.Source)
		if err != nil {
			hosts++
			continue
		}
		a = a.Unmap().WithZone("")
		for _, f := range s.Families {
			k := key{f.Name, a}
			if p := bySrc[k]; p != nil { // the same address logged in two forms
				p.Count += f.Lines
				p.FirstSeen, p.LastSeen = minTime(p.FirstSeen, f.FirstSeen), maxTime(p.LastSeen, f.LastSeen)
				continue
			}
			if len(byFam[f.Name]) >= maxSTIXSources {
				left[f.Name]++ // sources come most active first: the rest are left out
				continue
			}
			bySrc[k] = &share.Source{Addr: a, Count: f.Lines, FirstSeen: f.FirstSeen, LastSeen: f.LastSeen}
			byFam[f.Name] = append(byFam[f.Name], k)
		}
	}
	var findings []share.Finding
	for _, f := range r.Families {
		fd := share.Finding{
			Family:      f.Name,
			Name:        f.DisplayName(),
			Description: strings.Join(strings.Fields(f.Description), " "),
			Pattern:     f.Pattern(),
			Count:       f.Events,
			FirstSeen:   f.FirstSeen,
			LastSeen:    f.LastSeen,
		}
		for _, ref := range f.References {
			fd.References = append(fd.References, detectReference(ref))
		}
		for _, k := range byFam[f.Name] {
			fd.Sources = append(fd.Sources, *bySrc[k])
		}
		findings = append(findings, fd)
	}
	if hosts > 0 {
		fmt.Fprintf(stderr, "wormwatch: the STIX bundle leaves out %d sources logged as host names, not addresses\n", hosts)
	}
	for _, f := range r.Families {
		if n := left[f.Name]; n > 0 {
			fmt.Fprintf(stderr, "wormwatch: the STIX bundle lists the %d most active sources of %s and leaves out %d others (the sighting counts them all)\n", maxSTIXSources, f.Name, n)
		}
	}
	return share.WriteSTIX(w, findings, tlp)
}

// detectReference writes a signature reference the way share reads one: a
// CVE identifier, a URL, or words ("Snort sid 1243").
func detectReference(r detect.Reference) string {
	switch {
	case strings.EqualFold(r.Source, "cve"):
		return r.ID
	case r.URL != "":
		return r.URL
	}
	names := map[string]string{"snort": "Snort sid", "emerging-threats": "Emerging Threats sid", "cert": "CERT", "microsoft": "Microsoft"}
	if n, ok := names[strings.ToLower(r.Source)]; ok {
		return n + " " + r.ID
	}
	return r.Source + " " + r.ID
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
