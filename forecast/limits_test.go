package forecast_test

// Hostile input (issue 7): every duration and date is bounded, every long
// loop stops on its context, and every input is capped.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"wormwatch/forecast"
	"wormwatch/internal/param"
)

// countdown is a context whose Err is nil for its first n calls and
// context.Canceled from then on: it cancels a computation at its n-th
// check of the context, without timing. calls counts the checks.
type countdown struct {
	context.Context
	n, calls int
}

func (c *countdown) Err() error {
	c.calls++
	if c.calls > c.n {
		return context.Canceled
	}
	return nil
}

func newCountdown(n int) *countdown { return &countdown{Context: context.Background(), n: n} }

// checkpoints returns 0, 1 and a spread of values below n, the calls at
// which a countdown cancels.
func checkpoints(n int) []int {
	ks := []int{0, 1}
	for i := 1; i <= 12; i++ {
		ks = append(ks, i*n/13)
	}
	return append(ks, n-1)
}

func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// alarmSeries is a short outbreak that raises the alarm, so that Analyze
// runs every loop: the filter, the logistic fit and the forecast.
func alarmSeries(t *testing.T) *forecast.Series {
	t.Helper()
	s, _ := outbreak{n: 360000, k: 1.5, mu: 68, size: 1 << 24, start: 0, interval: time.Minute, hours: 8}.generate(1)
	a, err := forecast.Analyze(t.Context(), s, forecast.Options{})
	if err != nil || a.Alarm == nil || a.Logistic == nil || len(a.Forecast) == 0 {
		t.Fatalf("the test series should raise the alarm and be fitted: %v", err)
	}
	return s
}

// TestAnalyzeCancel: Analyze returns context.Canceled whichever of its
// context checks (filter, trend regression, logistic fit, forecast draws)
// sees the cancellation first, and with a context cancelled before it
// starts.
func TestAnalyzeCancel(t *testing.T) {
	t.Parallel()
	s := alarmSeries(t)
	if _, err := forecast.Analyze(cancelled(), s, forecast.Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: error %v, want context.Canceled", err)
	}
	count := newCountdown(math.MaxInt)
	if _, err := forecast.Analyze(count, s, forecast.Options{}); err != nil {
		t.Fatal(err)
	}
	// The checks must be spread over the work: every row block, the fit's
	// evaluations and the forecast's steps (13 of them by default).
	if count.calls < 30 {
		t.Fatalf("Analyze checked its context %d times over %d rows, a fit and a forecast", count.calls, len(s.Rows))
	}
	for _, k := range checkpoints(count.calls) {
		if _, err := forecast.Analyze(newCountdown(k), s, forecast.Options{}); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled at check %d of %d: error %v, want context.Canceled", k+1, count.calls, err)
		}
	}
}

// TestReemergenceCancel: the integration and the bisection of --max-size
// stop on their context.
func TestReemergenceCancel(t *testing.T) {
	t.Parallel()
	p := forecast.DefaultReemergence
	p.Now = p.Restart.Add(-24 * time.Hour)
	p.Horizon = param.Duration(12 * time.Hour)
	p.MaxSize = 1000
	if _, err := forecast.RunReemergence(cancelled(), p); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: error %v, want context.Canceled", err)
	}
	count := newCountdown(math.MaxInt)
	f, err := forecast.RunReemergence(count, p)
	if err != nil || math.IsNaN(f.PatchNeeded) || f.PatchNeeded == 0 {
		t.Fatalf("the bisection should run: %v", err)
	}
	if count.calls < 62 { // two outcomes and 60 bisection steps
		t.Fatalf("RunReemergence checked its context %d times", count.calls)
	}
	for _, k := range checkpoints(count.calls) {
		if _, err := forecast.RunReemergence(newCountdown(k), p); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled at check %d of %d: error %v, want context.Canceled", k+1, count.calls, err)
		}
	}
}

// rowsCSV writes n rows of a valid series (one source a minute).
func rowsCSV(w io.Writer, n int) {
	io.WriteString(w, "time,probes,sources,new_sources,cumulative_sources,size\n")
	t := time.Date(2001, 7, 19, 0, 0, 0, 0, time.UTC)
	var b []byte
	for i := range n {
		b = t.Add(time.Duration(i)*time.Minute).AppendFormat(b[:0], time.RFC3339)
		b = append(b, ",1,1,1,"...)
		b = strconv.AppendInt(b, int64(i+1), 10)
		b = append(b, ",256\n"...)
		w.Write(b)
	}
}

// TestReadCancel: the readers stop on their context.
func TestReadCancel(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	rowsCSV(&b, 10000)
	if _, err := forecast.ReadSeries(newCountdown(1), strings.NewReader(b.String()), "s.csv"); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadSeries: error %v, want context.Canceled", err)
	}
	var ts strings.Builder
	ts.WriteString("time,susceptible,infected,ever_infected\n")
	for i := range 10000 {
		fmt.Fprintf(&ts, "%s,10,10,10\n", time.Date(2001, 7, 19, 0, i, 0, 0, time.UTC).Format(time.RFC3339))
	}
	if _, err := forecast.StateFromTimeseries(newCountdown(1), strings.NewReader(ts.String()), "timeseries.csv", time.Date(2001, 7, 20, 0, 0, 0, 0, time.UTC), forecast.DefaultReemergence); !errors.Is(err, context.Canceled) {
		t.Errorf("StateFromTimeseries: error %v, want context.Canceled", err)
	}
}

// TestReemergenceBounds: every date and duration of the re-emergence has
// a bound that keeps the integration finite, named in the error; the
// bounds themselves are accepted.
func TestReemergenceBounds(t *testing.T) {
	t.Parallel()
	year := forecast.MaxSpan
	for _, tc := range []struct {
		name string
		set  func(*forecast.Reemergence)
		key  string
		want string
	}{
		{"restart far ahead", func(p *forecast.Reemergence) { p.Restart = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC) }, "restart", "more than 366 days after now"},
		{"restart a year and a day ahead", func(p *forecast.Reemergence) { p.Restart = p.Now.Add(year + time.Hour) }, "restart", "allowed: from now to 366 days after it"},
		{"now far ahead", func(p *forecast.Reemergence) {
			p.Now = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
			p.Restart = p.Now.Add(time.Hour)
		}, "now", "above the maximum 8999-12-31T23:59:59.999999999Z"},
		{"now before 1970", func(p *forecast.Reemergence) {
			p.Now = time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC)
			p.Restart = p.Now.Add(time.Hour)
		}, "now", "below the minimum 1970-01-01T00:00:00Z"},
		{"horizon", func(p *forecast.Reemergence) { p.Horizon = param.Duration(year + time.Hour) }, "horizon", "above the maximum 366d (allowed 1ns to 366d)"},
		{"wake median", func(p *forecast.Reemergence) { p.WakeMedian = param.Duration(year + time.Hour) }, "wake_median", "above the maximum 366d (allowed 1ns to 366d)"},
		{"clock min", func(p *forecast.Reemergence) { p.ClockMin = param.Duration(-year - time.Hour) }, "clock_min", "below the minimum -366d (allowed -366d to 366d)"},
		{"clock max", func(p *forecast.Reemergence) { p.ClockMax = param.Duration(year + time.Hour) }, "clock_max", "above the maximum 366d (allowed -366d to 366d)"},
		{"campaign far ahead", func(p *forecast.Reemergence) { p.CampaignFrom = p.Now.Add(year + time.Hour) }, "campaign_from", "from now to 366 days after it"},
	} {
		p := forecast.DefaultReemergence
		tc.set(&p)
		err := p.Validate()
		var pe *forecast.ParamError
		if !errors.As(err, &pe) || pe.Key != tc.key || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one on %s with %q", tc.name, err, tc.key, tc.want)
		}
	}
	p := forecast.DefaultReemergence
	d := param.Duration(year)
	p.Restart, p.Horizon, p.WakeMedian, p.ClockMin, p.ClockMax, p.CampaignFrom = p.Now.Add(year), d, d, -d, d, p.Now.Add(year)
	if err := p.Validate(); err != nil {
		t.Errorf("the bounds themselves: %v", err)
	}
}

// TestAnalyzeBounds: the options and the series Analyze refuses, each
// with its bound.
func TestAnalyzeBounds(t *testing.T) {
	t.Parallel()
	s, _ := outbreak{n: 1000, k: 1, mu: 10, size: 256, start: 0, interval: time.Minute, hours: 1}.generate(1)
	with := func(f func(*forecast.Series)) *forecast.Series {
		c := *s
		f(&c)
		return &c
	}
	year := forecast.MaxSpan
	for _, tc := range []struct {
		name string
		s    *forecast.Series
		opt  forecast.Options
		want string
	}{
		{"horizon", s, forecast.Options{Horizon: year + time.Hour, Step: 24 * time.Hour}, "horizon 8785h0m0s out of range (allowed: at most 366 days)"},
		{"step", s, forecast.Options{Step: year + time.Hour}, "step 8785h0m0s out of range"},
		{"steps", s, forecast.Options{Horizon: 200 * time.Hour, Step: time.Minute}, "12000 steps, too many (allowed: at most 10000)"},
		{"memory", s, forecast.Options{Memory: year + time.Hour}, "memory 8785h0m0s out of range"},
		{"rebase", s, forecast.Options{Rebase: year + time.Hour}, "rebase period 8785h0m0s out of range"},
		{"interval", with(func(c *forecast.Series) { c.Interval = year + time.Hour }), forecast.Options{}, "interval 8785h0m0s out of range"},
		{"rows", with(func(c *forecast.Series) { c.Rows = make([]forecast.Row, forecast.MaxRows+1) }), forecast.Options{}, "1100001 rows, more than forecast's cap of 1100000"},
		{"size of the whole space", s, forecast.Options{SpaceBits: 8}, "column size: 256 addresses is not less than the 2^8 addresses"},
		{"size beyond the space", with(func(c *forecast.Series) { c.Size = 1<<24 + 1 }), forecast.Options{SpaceBits: 24}, "allowed: 1 to 2^24 - 1"},
		{"size beyond IPv4", with(func(c *forecast.Series) { c.Size = 1 << 32 }), forecast.Options{SpaceBits: 40}, "1 to 4294967295"},
	} {
		_, err := forecast.Analyze(t.Context(), tc.s, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one with %q", tc.name, err, tc.want)
		}
	}
	// 10000 steps is the cap itself; a sensor one address short of the
	// space is allowed.
	if _, err := forecast.Analyze(t.Context(), s, forecast.Options{Horizon: 10000 * time.Minute, Step: time.Minute}); err != nil {
		t.Errorf("10000 steps: %v", err)
	}
	if _, err := forecast.Analyze(t.Context(), with(func(c *forecast.Series) { c.Size = 255 }), forecast.Options{SpaceBits: 8}); err != nil {
		t.Errorf("size 255 in an 8-bit space: %v", err)
	}
}

// TestMemoryLongerThanRebase: a filter memory longer than the rebase
// period used to slice before the first row (a panic) at the first rebase.
func TestMemoryLongerThanRebase(t *testing.T) {
	t.Parallel()
	s := noise{size: 1 << 16, days: 3, interval: time.Minute, persist: 20, arrivals: 5, life: time.Hour, rate: 6, spread: 1, amplitude: 0.5}.generate(1)
	a, err := forecast.Analyze(t.Context(), s, forecast.Options{Memory: 48 * time.Hour, Rebase: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Rebases) == 0 {
		t.Errorf("no rebase in %d quiet rows with a rebase period of a day", len(s.Rows))
	}
}

// endless yields its line forever: a series that never ends.
type endless struct {
	line string
	off  int
}

func (e *endless) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], e.line[e.off:])
		n += c
		e.off = (e.off + c) % len(e.line)
	}
	return n, nil
}

// TestReadSeriesCaps: the row cap and the line cap, each named with the
// file and the line (the size cap is tested on the reader that enforces
// it, TestInputReader: 256 MiB of empty lines take seconds to read).
func TestReadSeriesCaps(t *testing.T) {
	t.Parallel()
	// MaxRows + 1 valid rows, made as they are read.
	pr, pw := io.Pipe()
	go func() {
		w := bufio.NewWriterSize(pw, 1<<16)
		rowsCSV(w, forecast.MaxRows+1)
		w.Flush()
		pw.Close()
	}()
	_, err := forecast.ReadSeries(t.Context(), pr, "long.csv")
	pr.Close()
	if want := fmt.Sprintf("long.csv: line %d: more than 1100000 rows", forecast.MaxRows+2); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("rows past the cap: error %v, want %q", err, want)
	}
	for _, tc := range []struct {
		name string
		r    io.Reader
		want string
	}{
		{"long line", strings.NewReader(goodCSV + strings.Repeat("9", forecast.MaxLineBytes+1) + "\n"), "s.csv: line 6: line longer than 64 KiB"},
		{"one endless line", &endless{line: "x"}, "s.csv: line 1: line longer than 64 KiB"},
		{"endless quoted field", io.MultiReader(strings.NewReader(goodCSV+`"`), &endless{line: "x\n"}), "line longer than 64 KiB"},
	} {
		_, err := forecast.ReadSeries(t.Context(), tc.r, "s.csv")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestReadDevice: a device is refused before it is read (/dev/zero would
// never end); so is a folder.
func TestReadDevice(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(os.DevNull); err != nil {
		t.Skip(err)
	}
	_, err := forecast.ReadSeriesFile(t.Context(), os.DevNull)
	if err == nil || !strings.Contains(err.Error(), os.DevNull+": is a device, not a series CSV (want a regular file)") {
		t.Errorf("series: error %v", err)
	}
	_, err = forecast.ReadState(t.Context(), os.DevNull, forecast.DefaultReemergence)
	if err == nil || !strings.Contains(err.Error(), os.DevNull+": is a device, not a state file") {
		t.Errorf("state: error %v", err)
	}
	_, err = forecast.StateFromTimeseriesFile(t.Context(), os.DevNull, forecast.DefaultReemergence.Now, forecast.DefaultReemergence)
	if err == nil || !strings.Contains(err.Error(), os.DevNull+": is a device, not a run's timeseries.csv") {
		t.Errorf("time series: error %v", err)
	}
	dir := t.TempDir()
	if _, err := forecast.ReadSeriesFile(t.Context(), dir); err == nil || !strings.Contains(err.Error(), dir+": is a folder, not a series CSV") {
		t.Errorf("folder: error %v", err)
	}
}

// TestReadStateCap: a state file past MaxStateBytes is refused, naming
// the file and the cap.
func TestReadStateCap(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "big.toml")
	data := goodState + strings.Repeat("# padding\n", forecast.MaxStateBytes/10)
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := forecast.ReadState(t.Context(), path, forecast.DefaultReemergence)
	if err == nil || !strings.HasPrefix(err.Error(), path+": line ") || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Errorf("error %v, want the file, its line and the cap", err)
	}
}
