package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"wormwatch/compare"
	"wormwatch/internal/atomicfile"
	"wormwatch/internal/version"
)

type compareFlags struct {
	out    string
	labels string
}

func newCompareCmd() *cobra.Command {
	var f compareFlags
	c := &cobra.Command{
		Use:   "compare FOLDER FOLDER...",
		Short: "Overlay result folders (replays or runs) and tabulate their differences",
		Long: `Overlay two or more result folders on the same time axes and tabulate their
differences: a replay folder (bands.csv and its seed folders) shows its median and
5-95% band over seeds, a run folder its single series. The table gives, for each
folder, hosts ever infected, the most infected at once, the peak new infections per
minute and its time, the time by which half of the hosts ever infected were infected,
and total probes, each measured seed by seed (median and 5%-95% over seeds), with the
difference to the first folder. It also lists what each folder's scenario changes
from the first's.

Writes --out: compare.html (one self-contained page), plots/ (PNG and SVG),
compare.csv and compare.json; prints the table. The folders must share their bin
width; they may cover different spans (they are aligned on time). See docs/whatif.md.`,
		Example: `  wormwatch compare runs/base runs/early --out runs/cmp
  wormwatch compare runs/base runs/early runs/no-crv2 --labels baseline,early,no-crv2 --out runs/cmp2`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCompare(cmd, args, f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.out, "out", "", "comparison folder (default: a new folder under ./runs); must not exist")
	fl.StringVar(&f.labels, "labels", "", "labels of the folders, in order, separated by commas (default: the folders' names)")
	return c
}

func runCompare(cmd *cobra.Command, args []string, f compareFlags) error {
	if len(args) < 2 {
		return usagef("compare needs at least two folders (got %s); see wormwatch compare --help", args[0])
	}
	out, err := claimOut(f.out, "compare")
	if err != nil {
		return err
	}
	defer atomicfile.Release(out) // removed if nothing was written
	var labels []string
	if cmd.Flags().Changed("labels") {
		labels = strings.Split(f.labels, ",")
	}
	c, err := compare.Load(args, labels)
	if err != nil {
		return userError(err)
	}
	figs, err := c.Figures()
	if err != nil {
		return err
	}
	if err := compare.Write(out, c, figs, version.Version); err != nil {
		return userWriteError(userError(err))
	}
	w := cmd.OutOrStdout()
	if err := c.WriteText(w); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nComparison: %s\n", filepath.Join(out, compare.HTMLFile))
	return nil
}

// userError marks compare's input errors as the user's (exit status 2).
func userError(err error) error {
	var ce *compare.Error
	if errors.As(err, &ce) {
		return usageError{err}
	}
	return err
}
