package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"wormwatch/detect"
	"wormwatch/forecast"
	"wormwatch/ingest/packet"
	"wormwatch/internal/outpath"
	"wormwatch/internal/paramcli"
	"wormwatch/results"
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
	seriesOf   string
	interval   time.Duration
	sensorSize uint64
	stix       string
	tlp        string
	maxLine    int
	top        int
	memory     string
	tmpDir     string
	force      bool
	httpPorts  []uint
}

func newDetectCmd() *cobra.Command {
	var f detectFlags
	c := &cobra.Command{
		Use:   "detect [flags] PATH...",
		Short: "Find worms (Code Red, Nimda, ...) in web-server logs, Zeek logs and packet captures",
		Long: `Read web-server access logs (Apache and nginx combined or common, IIS W3C extended),
Zeek http.log and conn.log (TSV or JSON) and packet captures (pcap, pcapng; plain or
gzip; files, folders read recursively, or - for standard input), match every request
against the worm signatures and print per family the matched lines, distinct sources
and events, a per-source table and hourly counts; and the connection attempts (TCP
SYNs in captures, unanswered connections in conn.logs) per destination port.

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
  wormwatch detect --signatures mine.toml --log-format iis W3SVC1/
  wormwatch detect darknet.pcap zeek/conn.log
  tcpdump -w - 'tcp[tcpflags] & tcp-syn != 0' | wormwatch detect -
  wormwatch detect --series syn80.csv --series-of syn:80 --sensor-size 16777216 darknet/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDetect(cmd.Context(), cmd, args, &f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.format, "format", string(detect.TextOutput), "output format: text, csv or json")
	fl.StringVar(&f.table, "table", string(detect.TableFamilies), "with --format csv, the table to write: "+detect.Tables)
	fl.StringVarP(&f.out, "out", "o", "", "write the output to this file (written whole or not at all; - for standard output) instead of standard output")
	fl.StringVar(&f.logFormat, "log-format", "auto", "log format of every input: "+detect.FormatNames+" (auto: chosen per file from its first lines)")
	fl.StringArrayVar(&f.signatures, "signatures", nil, "a TOML signatures file adding or replacing families (repeatable)")
	fl.BoolVar(&f.list, "list-signatures", false, "list the signature families and exit")
	fl.BoolVar(&f.print, "print-signatures", false, "print the built-in signature table (TOML) and exit")
	fl.StringVar(&f.series, "series", "", "also write a sensor series CSV ("+strings.Join(results.SensorColumns, ",")+") of worm requests (or connection attempts, see --series-of) per interval")
	fl.StringVar(&f.seriesOf, "series-of", "auto", "what the --series rows count: "+detect.SeriesOfNames+" (auto: matched requests, or every connection attempt when no request matched)")
	paramcli.DurationVar(fl, &f.interval, "interval", time.Hour, "interval of the --series rows")
	fl.Uint64Var(&f.sensorSize, "sensor-size", 1, "size column of the --series file: addresses the logs cover (a single web server: 1)")
	fl.StringVar(&f.stix, "stix", "", "also write a STIX 2.1 bundle of the findings to this file")
	fl.StringVar(&f.tlp, "tlp", "amber", "TLP marking of the STIX bundle: "+strings.Join(share.TLPLevels, ", "))
	fl.IntVar(&f.maxLine, "max-line", detect.DefaultMaxLine, "lines longer than this many bytes are counted as too_long and skipped")
	fl.IntVar(&f.top, "top", 20, "with --format text, the sources to list (0: all)")
	fl.StringVar(&f.memory, "memory", fmt.Sprintf("%dMiB", detect.DefaultMemory>>20), "memory for the per-source tables (at least 16MiB); past it they are kept in temporary files and merged at the end, the counts exact")
	fl.StringVar(&f.tmpDir, "tmp-dir", "", "folder of the temporary files past --memory (default: $TMPDIR, or /tmp)")
	fl.BoolVar(&f.force, "force", false, "replace output files (--out, --series, --stix) that exist; never an input")
	fl.UintSliceVar(&f.httpPorts, "http-ports", portsOf(packet.DefaultHTTPPorts), "in captures, the TCP ports whose streams are reassembled and read as HTTP requests")
	return c
}

func runDetect(ctx context.Context, cmd *cobra.Command, args []string, f *detectFlags) error {
	fams, m, err := detect.LoadTable(f.signatures)
	if err != nil {
		return usageError{err}
	}
	w := cmd.OutOrStdout()
	if f.print {
		_, err := w.Write(detect.BuiltinTOML())
		return err
	}
	if f.list {
		return detect.WriteTableList(w, fams)
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
	if err := writeOut(1, func(w io.Writer) error { return r.Series.WriteCSV(w, f.sensorSize) }); err != nil {
		return err
	}
	writeSTIX := func(w io.Writer) error {
		notes, err := r.WriteSTIX(w, f.tlp)
		for _, n := range notes {
			fmt.Fprintln(cmd.ErrOrStderr(), "wormwatch:", n)
		}
		return err
	}
	if err := writeOut(2, writeSTIX); err != nil {
		return err
	}
	write := func(w io.Writer) error {
		return r.Write(w, detect.OutputFormat(f.format), detect.Table(f.table), f.top)
	}
	if f.out == "" {
		return write(stdout)
	}
	return writeOut(0, write)
}

// portsOf returns ports as the values of --http-ports.
func portsOf(ports []uint16) []uint {
	out := make([]uint, len(ports))
	for i, p := range ports {
		out[i] = uint(p)
	}
	return out
}

// detectOptions checks the flags (before any input is read, so that a
// mistake costs nothing) and returns the analyzer's options.
func detectOptions(cmd *cobra.Command, f *detectFlags, m *detect.Matcher) (detect.Options, error) {
	var opt detect.Options
	if !detect.OutputFormat(f.format).Known() {
		return opt, fmt.Errorf("--format %q: allowed: %s", f.format, detect.OutputFormats)
	}
	if !detect.Table(f.table).Known() {
		return opt, fmt.Errorf("--table %q: allowed: %s", f.table, detect.Tables)
	}
	if cmd.Flags().Changed("table") && detect.OutputFormat(f.format) != detect.CSVOutput {
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
		for _, name := range []string{"interval", "sensor-size", "series-of"} {
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
		if opt.SeriesOf, err = detect.ParseSeriesOf(f.seriesOf); err != nil {
			return opt, fmt.Errorf("--series-of %w", err)
		}
	}
	ports := make([]uint16, 0, len(f.httpPorts)) // none given: none read as HTTP
	for _, p := range f.httpPorts {
		if p > 65535 {
			return opt, fmt.Errorf("--http-ports %d: want ports from 0 to 65535", p)
		}
		ports = append(ports, uint16(p))
	}
	opt.Openers = []detect.Opener{packet.Opener(packet.Options{HTTPPorts: ports})}
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
