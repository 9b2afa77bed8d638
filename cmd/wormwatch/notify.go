package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"wormwatch/detect"
	"wormwatch/ingest/packet"
	"wormwatch/internal/outpath"
	"wormwatch/internal/paramcli"
	"wormwatch/notify"
)

type notifyFlags struct {
	reports, stix, delegations, families, signatures []string
	owners, optOut, out, reporter                    string
	org, contact, advisory                           string
	listed                                           int
	send                                             bool
	smtp, smtpUser, smtpCA, from, state, ledger      string
	rate                                             float64
	window                                           time.Duration
}

func newNotifyCmd() *cobra.Command {
	var f notifyFlags
	c := &cobra.Command{
		Use:   "notify [flags] [LOG_OR_CAPTURE...]",
		Short: "Tell network owners which of their machines are infected: one notice per owner, written and e-mailed",
		Long: `Gather the infected addresses of detections (logs and captures read as 'wormwatch detect'
reads them, detect's JSON reports, alliance members' STIX bundles), find the owner of each
(--owners: a table of prefixes, owners and abuse contacts, the longest prefix first; then
--delegations: RIR delegation files, delegated-REGISTRY-extended), leave out what --opt-out
names, and write one notice per owner into the folder --out: NAME.txt for a person (what was
seen, when, from which addresses, what it means, how to clean and patch, with links) and
NAME.csv with a row per address in the columns of Shadowserver's Honeypot HTTP Scanner Events
report, with index.csv listing them. With --send each notice is e-mailed to its owner's abuse
contact over SMTP with STARTTLS, at most --rate a second, every address at most once per
--window (remembered in --state), every message recorded in --ledger. The SMTP password is
read from the environment variable WORMWATCH_SMTP_PASSWORD. See docs/share.md.`,
		Example: `  wormwatch notify --owners owners.csv --out notices/ /var/log/apache2/access.log*
  wormwatch notify --detect-json found.json --stix member-b=b.json --delegations delegated-ripencc-extended-latest --out notices/
  WORMWATCH_SMTP_PASSWORD=... wormwatch notify --owners owners.csv --opt-out optout.txt --detect-json found.json \
      --send --smtp mail.example.org:587 --smtp-user cert --from notices@cert.example.org \
      --state notify-state.db --ledger notify-ledger.jsonl --out notices-2001-08-05/`,
		RunE: func(cmd *cobra.Command, args []string) error { return runNotify(cmd.Context(), cmd, args, &f) },
	}
	fl := c.Flags()
	fl.StringArrayVar(&f.reports, "detect-json", nil, "a JSON report of wormwatch detect --format json (repeatable)")
	fl.StringArrayVar(&f.stix, "stix", nil, "a STIX 2.1 bundle of sightings, as [MEMBER=]FILE: MEMBER names who saw them (default: the bundle's identity) (repeatable)")
	fl.StringVar(&f.reporter, "reporter", "wormwatch", "who saw the detections of the logs, captures and JSON reports, in the notices")
	fl.StringArrayVar(&f.signatures, "signatures", nil, "for the logs: a TOML signatures file adding or replacing families (repeatable)")
	fl.StringArrayVar(&f.families, "family", nil, "tell only of this worm family (repeatable; default: every family detected)")
	fl.StringVar(&f.owners, "owners", "", "the owner table: CSV with the columns "+strings.Join(notify.TableColumns, ",")+" (asn optional)")
	fl.StringArrayVar(&f.delegations, "delegations", nil, "an RIR delegation file, delegated-REGISTRY-extended (repeatable); the owner table comes first")
	fl.StringVar(&f.optOut, "opt-out", "", "the opt-out list: lines 'prefix P', 'owner NAME' or 'contact ADDRESS'")
	fl.StringVar(&f.out, "out", "", "the folder of the notices (must not exist; written whole or not at all)")
	fl.StringVar(&f.org, "org", "wormwatch", "who writes the notices (the letter's signature)")
	fl.StringVar(&f.contact, "contact", "", "where owners answer and opt out, in the notices (default: reply to the message)")
	fl.StringVar(&f.advisory, "advisory", "", "a link to your advisory, put first among the notices' links")
	fl.IntVar(&f.listed, "listed", notify.DefaultListed, "addresses listed in a notice's text, at most (the CSV lists every one)")
	fl.BoolVar(&f.send, "send", false, "e-mail each notice with an abuse contact (needs --smtp, --from, --state and --ledger)")
	fl.StringVar(&f.smtp, "smtp", "", "the SMTP server, HOST:PORT (STARTTLS is required)")
	fl.StringVar(&f.smtpUser, "smtp-user", "", "the SMTP user for AUTH PLAIN (password: $WORMWATCH_SMTP_PASSWORD)")
	fl.StringVar(&f.smtpCA, "smtp-ca", "", "PEM certificates to trust for the SMTP server (default: the system's)")
	fl.StringVar(&f.from, "from", "", "the sender's e-mail address")
	fl.Float64Var(&f.rate, "rate", notify.DefaultRate, "messages a second, at most")
	paramcli.DurationVar(fl, &f.window, "window", notify.DefaultWindow, "an address is reported at most once in this window")
	fl.StringVar(&f.state, "state", "", "the SQLite file of the addresses reported and when (created if needed)")
	fl.StringVar(&f.ledger, "ledger", "", "the ledger: a JSON-lines file every notice sent, or not sent, is appended to")
	return c
}

func runNotify(ctx context.Context, cmd *cobra.Command, args []string, f *notifyFlags) error {
	if err := checkNotify(cmd, args, f); err != nil {
		return usageError{err}
	}
	job, err := notify.NewJob(notifyOptions(f))
	if err != nil {
		return usageError{err}
	}
	d, err := notifyInputs(ctx, cmd, args, f)
	if err != nil {
		return err
	}
	sum, err := job.Run(ctx, d, f.out, f.send)
	if err != nil {
		if sum != nil && sum.Sent != nil {
			sum.WriteText(cmd.OutOrStdout())
		}
		return notifyRunError(err, f)
	}
	return sum.WriteText(cmd.OutOrStdout())
}

// notifyOptions are the job the flags ask for.
func notifyOptions(f *notifyFlags) notify.Options {
	o := notify.Options{Owners: f.owners, Delegations: f.delegations, OptOut: f.optOut, Families: f.families,
		Org: f.org, Contact: f.contact, Advisory: f.advisory, Listed: f.listed, Window: f.window, State: f.state, Ledger: f.ledger}
	if f.send {
		o.Mail = &notify.MailOptions{SMTP: f.smtp, User: f.smtpUser, Password: os.Getenv("WORMWATCH_SMTP_PASSWORD"),
			CA: f.smtpCA, From: f.from, Rate: f.rate}
	}
	return o
}

// notifyRunError gives a run's error its exit status: a file of the
// flags that cannot be read or opened is a usage error, as is a folder
// that cannot be made; an interruption has the usual message.
func notifyRunError(err error, f *notifyFlags) error {
	var oe *notify.OptionError
	var we *notify.WriteError
	switch {
	case errors.As(err, &oe) && oe.Option == "smtp_ca":
		return usagef("--smtp-ca %s: %v", f.smtpCA, oe.Err)
	case errors.As(err, &oe) && oe.Option == "ledger":
		return usagef("--ledger: %v", oe.Err)
	case errors.As(err, &oe):
		return usageError{oe.Err}
	case errors.As(err, &we):
		return notifyWriteError(we.Err)
	}
	return err
}

// checkNotify checks the flags before anything is read.
func checkNotify(cmd *cobra.Command, args []string, f *notifyFlags) error {
	switch {
	case len(args) == 0 && len(f.reports) == 0 && len(f.stix) == 0:
		return fmt.Errorf("give logs or captures, --detect-json or --stix (see %s --help)", cmd.CommandPath())
	case f.owners == "" && len(f.delegations) == 0:
		return errors.New("give --owners or --delegations: who holds the addresses")
	case f.out == "" && !f.send:
		return errors.New("give --out (the folder of the notices), --send, or both")
	case f.listed < 1:
		return fmt.Errorf("--listed %d: want 1 or more", f.listed)
	case f.rate <= 0 || f.rate > 1000:
		return fmt.Errorf("--rate %v: want more than 0 and at most 1000 messages a second", f.rate)
	case f.window <= 0:
		return fmt.Errorf("--window %v: want a positive duration", f.window)
	}
	if f.contact != "" && !strings.Contains(f.contact, "@") && !strings.HasPrefix(f.contact, "https://") {
		return fmt.Errorf("--contact %q: want an e-mail address or an https URL", f.contact)
	}
	if f.out != "" {
		if _, err := os.Lstat(f.out); err == nil {
			return fmt.Errorf("--out %s: exists; give a new folder (notices are never overwritten)", f.out)
		}
		if st, err := os.Stat(filepath.Dir(filepath.Clean(f.out))); err != nil || !st.IsDir() {
			return fmt.Errorf("--out %s: the folder %s does not exist", f.out, filepath.Dir(filepath.Clean(f.out)))
		}
	}
	if err := notifyFilesCheck(args, f); err != nil {
		return err
	}
	if !f.send {
		for _, name := range []string{"smtp", "smtp-user", "smtp-ca", "from", "rate", "ledger"} {
			if cmd.Flags().Changed(name) {
				return fmt.Errorf("--%s applies only with --send", name)
			}
		}
		return nil
	}
	for flag, v := range map[string]string{"--smtp": f.smtp, "--from": f.from, "--state": f.state, "--ledger": f.ledger} {
		if v == "" {
			return fmt.Errorf("--send needs %s", flag)
		}
	}
	if c, err := notify.ParseContact(f.from); err != nil {
		return fmt.Errorf("--from: %w", err)
	} else if c == "" {
		return errors.New("--from: empty")
	}
	return nil
}

// notifyFilesCheck refuses a --ledger or --state that is an input, a
// folder or a device: they are appended to and updated in place.
func notifyFilesCheck(args []string, f *notifyFlags) error {
	var in outpath.Inputs
	in.Add(args...)
	in.Add(f.reports...)
	in.Add(f.delegations...)
	in.Add(f.signatures...)
	in.Add(f.owners, f.optOut, f.smtpCA)
	for _, s := range f.stix {
		_, path, ok := strings.Cut(s, "=")
		if !ok {
			path = s
		}
		in.Add(path)
	}
	outs := []outpath.Output{{Flag: "--ledger", Path: f.ledger}, {Flag: "--state", Path: f.state}}
	return outpath.Check(outs, &in, false, true) // existing files are kept and added to, never replaced
}

// notifyInputs reads the detections: the logs and captures through
// detect, the JSON reports and the STIX bundles.
func notifyInputs(ctx context.Context, cmd *cobra.Command, args []string, f *notifyFlags) (*notify.Detections, error) {
	d := &notify.Detections{}
	if len(args) > 0 {
		_, m, err := detect.LoadTable(f.signatures)
		if err != nil {
			return nil, usageError{err}
		}
		opt := detect.Options{Matcher: m, Stdin: cmd.InOrStdin(), Openers: []detect.Opener{packet.Opener(packet.Options{})}}
		r, err := detect.Analyze(ctx, args, opt)
		if errors.Is(err, context.Canceled) {
			return nil, interruptedError{"interrupted: nothing was written"}
		}
		if err != nil {
			return nil, usageError{err}
		}
		defer r.Close()
		got, err := notify.FromReport(r, f.reporter)
		if err != nil {
			return nil, err
		}
		d.Add(got)
	}
	for _, p := range f.reports {
		got, err := notify.LoadReport(p, f.reporter)
		if err != nil {
			return nil, usageError{err}
		}
		d.Add(got)
	}
	for _, s := range f.stix {
		member, path, ok := strings.Cut(s, "=")
		if !ok {
			member, path = "", s
		}
		got, err := notify.LoadSTIX(path, member)
		if err != nil {
			return nil, usageError{err}
		}
		d.Add(got)
	}
	return d, nil
}

// notifyWriteError makes a folder that exists, or cannot be made, a usage
// error, and an interruption the usual message.
func notifyWriteError(err error) error {
	if errors.Is(err, context.Canceled) {
		return interruptedError{"interrupted: nothing was written"}
	}
	return userWriteError(err)
}
