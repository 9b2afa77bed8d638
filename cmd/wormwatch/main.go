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
// a flag, an output folder that exists), 1 for an internal failure, 130
// when interrupted.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"wormwatch/internal/atomicfile"
	"wormwatch/internal/version"
	"wormwatch/runner"
	"wormwatch/scenario"
)

// usageError marks a problem with what the user asked for: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// userWriteError makes a failure to create an output file (a folder that
// does not exist or cannot be written) a usage error.
func userWriteError(err error) error {
	var ce *atomicfile.CreateError
	if errors.As(err, &ce) {
		return usageError{err}
	}
	return err
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot()
	started := false
	root.PersistentPreRun = func(*cobra.Command, []string) { started = true }
	err := root.ExecuteContext(ctx)
	if err != nil && !started {
		// cobra refused the command line before any command ran (an unknown
		// command, a wrong number of arguments): the user's problem.
		err = usageError{err}
	}
	os.Exit(exitCode(err, ctx))
}

func exitCode(err error, ctx context.Context) int {
	if err == nil {
		return 0
	}
	fmt.Fprintln(os.Stderr, "wormwatch:", err)
	var ue usageError
	var se *scenario.Error
	var re runner.SetupError
	switch {
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return 130
	case errors.As(err, &ue), errors.As(err, &se), errors.As(err, &re):
		return 2
	}
	return 1
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
	root.AddCommand(newScenarioCmd(), newRunCmd(), newReplayCmd(), newDetectCmd(), newForecastCmd(), newAdvisoryCmd(), newBenchCmd(), newCompareCmd())
	return root
}
