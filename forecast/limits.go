package forecast

import (
	"context"
	"io"
	"io/fs"
	"math"
	"os"
	"strings"
	"time"

	"wormwatch/internal/ctxpoll"
	"wormwatch/internal/infile"
)

// The bounds of what forecast accepts. Each makes the work finite and the
// memory bounded; inputs past them are refused with an error that names
// the bound (the command exits 2).
const (
	// MaxSpan is the longest duration forecast accepts anywhere: a
	// series' interval; Options' Horizon, Step, Memory and Rebase; and the
	// re-emergence's horizon, wake_median, clock_min and clock_max (either
	// sign), and how far restart and campaign_from may lie after now. A
	// year (366 days) holds every case the model is meant for; the
	// re-emergence integration, in one-minute steps from now to the
	// horizon, then takes at most about a million steps.
	MaxSpan = 366 * 24 * time.Hour

	// MaxRows is the most intervals a series may have: two years of
	// 1-minute intervals (1,052,640) fit. A row costs about 160 bytes once
	// read and analysed (its Row and its Step), so a series at the cap
	// takes about 180 MB.
	MaxRows = 1_100_000

	// MaxForecastSteps is the most steps of a forecast table past the end
	// of a series (Options.Horizon / Options.Step).
	MaxForecastSteps = 10_000

	// MaxCSVBytes is the most bytes read from a series CSV, or from a
	// run's timeseries.csv (StateFromTimeseries): MaxRows rows of the
	// longest valid lines fit.
	MaxCSVBytes = 256 << 20

	// MaxLineBytes is the longest line of a series CSV or of a run's
	// timeseries.csv (a newline inside a quoted field does not end a
	// line); their valid lines are under 400 bytes.
	MaxLineBytes = 64 << 10

	// MaxStateBytes is the largest re-emergence state file (TOML); one
	// that sets every key is under 2 KB.
	MaxStateBytes = 1 << 20

	// MaxSensorSize is the largest size column of a series: the addresses
	// of the IPv4 space less one (2^32 - 1). Analyze also wants the size
	// below the 2^Options.SpaceBits addresses of the scanned space: a
	// sensor that watches the whole space sees every probe, and the
	// sighting probability no longer tells the scan rate.
	MaxSensorSize = 1<<32 - 1
)

// MinTime and MaxTime bound every date forecast reads: the times of a
// series and the re-emergence's now, restart and campaign_from are from
// MinTime (1970-01-01) and before MaxTime (9000-01-01), so that a forecast
// MaxSpan past them still has a four-digit year (JSON and RFC 3339 need
// one).
var (
	MinTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// spanText is MaxSpan for messages.
const spanText = "366 days"

// openInput opens path for reading through internal/infile, the one
// opener of the project's input files: a device (like /dev/zero, which
// never ends), a socket or a folder is refused before anything is read;
// regular files and FIFOs (a shell's process substitution gives one) are
// read. what names the input in errors ("series CSV"). Opening a FIFO
// waits for a writer, and reading it waits for data: ctx ends both waits,
// and the reads then fail with ctx's error. The caller caps the bytes
// (results.NewLimitReader: its errors give the line); close closes the
// file.
func openInput(ctx context.Context, path, what string) (r io.Reader, close func(), err error) {
	// infile's own cap is above the caller's, which is reached first.
	open := func() (io.ReadCloser, error) { return infile.Open(path, what, math.MaxInt64) }
	var f io.ReadCloser
	if fi, serr := os.Stat(path); serr == nil && fi.Mode()&fs.ModeNamedPipe != 0 {
		// open(2) on a FIFO blocks until a writer opens it.
		type opened struct {
			f   io.ReadCloser
			err error
		}
		ch := make(chan opened, 1)
		go func() {
			f, err := open()
			ch <- opened{f, err}
		}()
		select {
		case o := <-ch:
			f, err = o.f, o.err
		case <-ctx.Done():
			go func() {
				if o := <-ch; o.f != nil {
					o.f.Close()
				}
			}()
			return nil, nil, ctx.Err()
		}
	} else {
		f, err = open()
	}
	if err != nil {
		return nil, nil, err
	}
	// Closing a FIFO ends a read that waits for data.
	stop := context.AfterFunc(ctx, func() { f.Close() })
	return ctxpoll.Reader{Ctx: ctx, R: f}, func() { stop(); f.Close() }, nil
}

// openError is the message for an error of openInput: the cause (a file
// that does not exist) or infile's message without the path, which the
// caller's error names first.
func openError(path, doing string, err error) string {
	msg := unwrapPath(err)
	if rest, ok := strings.CutPrefix(msg, path+" "); ok {
		return rest
	}
	return doing + ": " + msg
}

// ctxCheckRows is how many rows a loop over rows goes between checks of its
// context.
const ctxCheckRows = 4096
