// Command wormwatch simulates, detects and forecasts Internet worm
// outbreaks. Code Red (2001) is its reference case. It never sends a
// packet: the worm is a model.
//
//	wormwatch scenario list
//	wormwatch scenario show codered2-july19
//	wormwatch run codered2-july19 --seed 7 --out runs/a
//	wormwatch run my.toml --set worm.rate.threads=300 --seeds 1-20
//
// Exit status: 0 on success, 2 for a problem with the input (a scenario,
// a flag, an output path the rules refuse, an output folder that exists),
// 1 for an internal failure or a resource that ran out (memory, file
// descriptors, disk space: one line naming it and the flag that bounds it),
// 130 when stopped by a signal (SIGINT, SIGTERM, SIGHUP or SIGQUIT; serve
// handles SIGINT, SIGTERM and SIGHUP itself: see docs/serve.md).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"wormwatch/internal/atomicfile"
	"wormwatch/internal/outpath"
	"wormwatch/internal/version"
	"wormwatch/runner"
	"wormwatch/scenario"
)

// usageError marks a problem with what the user asked for: exit status 2.
type usageError struct{ err error }

// Error returns the problem's message.
func (e usageError) Error() string { return e.err.Error() }

// Unwrap returns the problem.
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// userWriteError makes a failure to create an output file (a folder that
// does not exist or cannot be written) a usage error.
func userWriteError(err error) error {
	var ce *atomicfile.CreateError
	if errors.As(err, &ce) && resourceOf(err) == "" {
		return usageError{err}
	}
	return err
}

// stopSignals are the signals that stop a command cleanly: the context is
// cancelled, the command keeps what is finished and removes the rest.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// ownSignals is set by a command that handles SIGINT, SIGTERM and SIGHUP
// itself (serve: a graceful shutdown, a reload); the watchdog then leaves
// them to it and acts on SIGQUIT only.
var ownSignals atomic.Bool

// stopGrace is how long a command has to stop by itself after a signal
// (a read blocked in the kernel, on a FIFO with no writer say, cannot see
// its context); then, or at a second signal, the program removes its
// temporary files and exits.
const stopGrace = 3 * time.Second

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, stopSignals...)
	// A reader of our output that went away (wormwatch ... | head) makes
	// writes fail with EPIPE instead of killing the program, so that it
	// still removes its temporary files; it then exits quietly (status 141).
	signal.Ignore(syscall.SIGPIPE)
	go watchdog(sigs, cancel, os.Stderr, os.Exit)
	root := newRoot()
	out := &stickyWriter{w: os.Stdout}
	root.SetOut(out)
	started := false
	root.PersistentPreRun = func(*cobra.Command, []string) { started = true }
	err := root.ExecuteContext(ctx)
	if err != nil && !started {
		// cobra refused the command line before any command ran (an unknown
		// command, a wrong number of arguments): the user's problem.
		err = usageError{err}
	}
	if err == nil && out.err != nil {
		err = fmt.Errorf("writing to standard output: %w", out.err)
	}
	atomicfile.Cleanup()
	os.Exit(exitCode(err, ctx))
}

// stickyWriter is standard output that remembers its first write error, so
// that output a command printed without checking each write (a table
// through tabwriter, say) still fails the command when it was lost.
type stickyWriter struct {
	w   io.Writer
	err error
}

// Write writes p unless an earlier write failed, and keeps the first error.
func (s *stickyWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(p)
	if err != nil {
		s.err = err
	}
	return n, err
}

// watchdog cancels the command at the first stop signal, and makes sure
// the program ends: at a second signal, or stopGrace after the first, it
// removes every temporary file and empty claimed folder and exits with
// status 130.
func watchdog(sigs <-chan os.Signal, cancel context.CancelFunc, stderr io.Writer, exit func(int)) {
	sig := <-sigs
	for ownSignals.Load() && sig != syscall.SIGQUIT {
		sig = <-sigs // the command handles it
	}
	cancel()
	select {
	case <-sigs:
	case <-time.After(stopGrace):
	}
	atomicfile.Cleanup()
	fmt.Fprintf(stderr, "wormwatch: interrupted (%v): stopped; temporary files removed, nothing half-written was kept\n", sig)
	exit(130)
}

func exitCode(err error, ctx context.Context) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, syscall.EPIPE) {
		return 128 + int(syscall.SIGPIPE) // the reader went away: nothing to say
	}
	if r := resourceOf(err); r != "" {
		fmt.Fprintln(os.Stderr, "wormwatch:", r)
		return 1
	}
	fmt.Fprintln(os.Stderr, "wormwatch:", err)
	var ue usageError
	var se *scenario.Error
	var re runner.SetupError
	var oe *outpath.Error
	var ee *atomicfile.ExistsError
	switch {
	case ctx.Err() != nil && errors.Is(err, context.Canceled), errors.Is(err, atomicfile.ErrStopped):
		return 130
	case errors.As(err, &ue), errors.As(err, &se), errors.As(err, &re), errors.As(err, &oe), errors.As(err, &ee):
		return 2
	}
	return 1
}

// resourceOf returns, for an error caused by a resource running out, one
// line saying which and what bounds it; "" for any other error.
func resourceOf(err error) string {
	switch {
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "too many open files: raise the limit (ulimit -n) or run fewer at once (--workers)"
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return fmt.Sprintf("no space left on the device (or over quota): %v; free some space or write elsewhere (--out; detect's temporary files: --tmp-dir)", err)
	case errors.Is(err, syscall.ENOMEM):
		return "out of memory: run fewer at once (--workers) or use smaller inputs"
	}
	return ""
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "wormwatch",
		Short:         "Simulate, detect and forecast Internet worm outbreaks (Code Red 2001 as reference)",
		Version:       version.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see %s --help)", err, c.CommandPath())}
	})
	root.AddCommand(newScenarioCmd(), newRunCmd(), newReplayCmd(), newDetectCmd(), newForecastCmd(), newAdvisoryCmd(), newBenchCmd(), newCompareCmd(), newServeCmd(), newPoolCmd(), newNotifyCmd(), newSweepCmd(), newCalibrateCmd(), newWorkerCmd(), newMergeCmd())
	return root
}
