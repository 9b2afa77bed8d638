package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"wormwatch/internal/outpath"
	"wormwatch/internal/version"
	"wormwatch/share"
)

type advisoryFlags struct {
	out       string
	tlp       string
	date      string
	publisher string
	namespace string
	force     bool
}

func newAdvisoryCmd() *cobra.Command {
	var f advisoryFlags
	c := &cobra.Command{
		Use:   "advisory RUN_OR_REPLAY_FOLDER",
		Short: "Write a CSAF 2.0 advisory and a page for people from a run or replay folder",
		Long: `Write a security advisory about the hole Code Red uses (CVE-2001-0500, Microsoft MS01-033)
with the outbreak's forecast from a results folder: a run folder (summary.json, timeseries.csv,
scenario.toml, sensors/) or a replay folder (validation.json, bands.csv). Three files are written
into --out, named after the advisory's tracking id: the CSAF 2.0 document (.json), an HTML page
and a Markdown page. The same folder always gives the same files: the release date is the end of
the data unless --date is given. See docs/share.md.`,
		Example: `  wormwatch advisory runs/cr --out advisory/
  wormwatch advisory runs/a --tlp green --date 2001-07-19T23:00:00Z`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAdvisory(cmd, args[0], f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.out, "out", "", "folder for the advisory files (default: FOLDER/advisory); created if needed")
	fl.BoolVar(&f.force, "force", false, "replace advisory files that exist in --out")
	fl.StringVar(&f.tlp, "tlp", "white", "distribution label: "+strings.Join(share.TLPLevels, ", "))
	fl.StringVar(&f.date, "date", "", "release date, RFC 3339 (default: the end of the data)")
	fl.StringVar(&f.publisher, "publisher", "wormwatch", "publisher's name")
	fl.StringVar(&f.namespace, "namespace", "https://wormwatch.invalid", "publisher's namespace: a URL the publisher controls")
	return c
}

func runAdvisory(cmd *cobra.Command, folder string, f advisoryFlags) error {
	opt := share.AdvisoryOptions{PublisherName: f.publisher, PublisherNamespace: f.namespace, Version: version.Version}
	tlp, err := share.ParseTLP(f.tlp, "white")
	if err != nil {
		return usagef("--tlp: %v", err)
	}
	opt.TLP = tlp
	if f.date != "" {
		if opt.Date, err = time.Parse(time.RFC3339, f.date); err != nil {
			return usagef("--date %q: not an RFC 3339 time such as 2001-07-29T20:00:00Z", f.date)
		}
	}
	if !strings.HasPrefix(f.namespace, "https://") && !strings.HasPrefix(f.namespace, "http://") {
		return usagef("--namespace %q: must be an http or https URL", f.namespace)
	}
	o, err := share.ReadFolder(folder)
	var fe *share.FolderError
	if errors.As(err, &fe) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	out := f.out
	if out == "" {
		out = filepath.Join(folder, "advisory")
	}
	var in outpath.Inputs
	in.Add(folder)
	paths, err := share.WriteAdvisoryFiles(out, o, opt, f.force, &in)
	if err != nil {
		return userWriteError(err)
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "advisory %s from %s %s\n", o.TrackingID(), o.Kind, o.Scenario)
	for _, p := range paths {
		fmt.Fprintf(w, "  %s\n", p)
	}
	return nil
}
