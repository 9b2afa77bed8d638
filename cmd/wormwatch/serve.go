package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"wormwatch/demo"
	"wormwatch/ingest/packet"
	"wormwatch/internal/paramcli"
	"wormwatch/serve"
	"wormwatch/store"
)

type serveFlags struct {
	config     string
	follow     []string
	zeek       []string
	pcap       []string
	signatures []string
	httpPorts  []uint
	sets       []*paramcli.Flags // of serve.FlagSets, in order
	demo       bool
	demoSpeed  float64
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	c := &cobra.Command{
		Use:   "serve [flags]",
		Short: "Run the live service: follow logs and captures, raise alarms, answer an HTTP API",
		Long: `Follow web-server logs (tail -F, through rotations), Zeek logs and packet captures
(files, folders, or - for standard input) as they grow, count what 'detect' counts
and run the early-warning filter of 'forecast' per sensor and family as each interval
closes, with an alarm state per series. Results are committed to a store in the
data folder (--data) together with the inputs' positions, so that a restart, even
after kill -9, neither loses nor counts twice a line. An HTTP API on --listen
(loopback by default) answers what 'detect --format json' and 'forecast --format
json' print for the same inputs, the series, the alarms and a stream of updates.

Every option is a key of a TOML configuration file (--config; see docs/serve.md,
'wormwatch serve check FILE' checks one); flags override the file. SIGTERM or SIGINT:
stop reading, commit, exit 0. SIGHUP: read --config again (inputs added or removed).

--demo shows it at work with no data of one's own: a simulated Code Red honeynet
(a /16) whose log is written live in accelerated time and followed; open the page
(http://127.0.0.1:8080): the alarm comes about a minute after the start. Its log and
its store go under DATA/demo, the store made afresh at each start.`,
		Example: `  wormwatch serve --demo
  wormwatch serve --follow /var/log/apache2/access.log
  wormwatch serve --follow access.log,name=web1 --pcap /data/darknet/,size=65536 --data /var/lib/wormwatch
  tcpdump -w - 'tcp[tcpflags] & tcp-syn != 0' | wormwatch serve --pcap -,name=dark,size=65536
  wormwatch serve --config /etc/wormwatch/serve.toml
  wormwatch serve check /etc/wormwatch/serve.toml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd, &f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.config, "config", "", "read the configuration from this TOML file; flags override it; SIGHUP reads it again")
	fl.StringArrayVar(&f.follow, "follow", nil, "follow a web-server log: PATH[,name=N][,sensor=S][,size=N][,format=F] (repeatable)")
	fl.StringArrayVar(&f.zeek, "zeek", nil, "follow a Zeek http.log or conn.log (TSV or JSON): PATH[,name=N][,sensor=S][,size=N] (repeatable)")
	fl.StringArrayVar(&f.pcap, "pcap", nil, "read captures: a file, a folder (and the files that appear in it) or - for standard input: PATH[,name=N][,sensor=S][,size=N] (repeatable)")
	fl.StringArrayVar(&f.signatures, "signatures", nil, "a TOML signatures file adding or replacing families (repeatable)")
	fl.UintSliceVar(&f.httpPorts, "http-ports", portsOf(packet.DefaultHTTPPorts), "in captures, the TCP ports whose streams are reassembled and read as HTTP requests")
	fl.BoolVar(&f.demo, "demo", false, "follow a simulated Code Red honeynet fed live in accelerated time (no data of your own needed); its files and store go under DATA/demo")
	fl.Float64Var(&f.demoSpeed, "demo-speed", demo.DefaultSpeed, "with --demo, simulated seconds per second of wall time (the alarm comes after about 15350/speed seconds)")
	for _, fs := range serve.FlagSets {
		f.sets = append(f.sets, paramcli.Register(fl, fs.New()))
	}
	c.AddCommand(newServeCheckCmd())
	return c
}

func newServeCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check FILE",
		Short: "Check a serve configuration file and print what it would run",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := serve.Load(args[0], serve.Overrides{})
			if err != nil {
				return usageError{err}
			}
			return cfg.Describe(cmd.OutOrStdout())
		},
	}
}

// overrides returns what the flags give over the configuration file.
func (f *serveFlags) overrides(cmd *cobra.Command) (serve.Overrides, error) {
	var o serve.Overrides
	for i, fs := range f.sets {
		for _, a := range fs.Assignments() {
			o.Sets = append(o.Sets, serve.FlagSets[i].Table+"."+a)
		}
	}
	for _, k := range []struct {
		kind  serve.InputKind
		paths []string
	}{{serve.KindLog, f.follow}, {serve.KindZeek, f.zeek}, {serve.KindPcap, f.pcap}} {
		for _, p := range k.paths {
			in, err := serve.ParseInputFlag(k.kind, p)
			if err != nil {
				return o, err
			}
			o.Inputs = append(o.Inputs, in)
		}
	}
	o.Signatures = f.signatures
	if cmd.Flags().Changed("http-ports") {
		o.HTTPPorts = []int{}
		for _, p := range f.httpPorts {
			o.HTTPPorts = append(o.HTTPPorts, int(min(p, 1<<20)))
		}
	}
	return o, nil
}

func runServe(cmd *cobra.Command, f *serveFlags) error {
	o, err := f.overrides(cmd)
	if err != nil {
		return usageError{err}
	}
	cfg, err := serve.Load(f.config, o)
	if err != nil {
		return usageError{err}
	}
	var demoLog *demo.Log
	switch {
	case f.demo:
		if demoLog, err = setUpDemo(cmd.Context(), cfg, f.demoSpeed); err != nil {
			return err
		}
	case cmd.Flags().Changed("demo-speed"):
		return usagef("--demo-speed is for --demo")
	}
	if len(cfg.Inputs) == 0 && len(cfg.Remotes) == 0 && !cfg.TAXII.Enabled && !cfg.CSAF.Enabled() {
		return usagef("nothing to do: give an input (--follow, --zeek, --pcap, or [[input]] in --config), a [[remote]] sensor, or a sharing site ([taxii], [csaf]) (see %s --help)", cmd.CommandPath())
	}
	// This command handles SIGINT, SIGTERM and SIGHUP itself: a graceful
	// stop with a final commit, a reload.
	ownSignals.Store(true)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	svc, err := serve.New(context.Background(), cfg, serve.Options{Stderr: cmd.ErrOrStderr()})
	var ce *serve.ConfigError
	if errors.As(err, &ce) || errors.Is(err, store.ErrLocked) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	if demoLog != nil {
		go runDemoFeed(ctx, svc.Logger(), demoLog, pageURL(cfg, svc), f.demoSpeed)
	}
	for {
		select {
		case err := <-done:
			if errors.As(err, &ce) {
				return usageError{err}
			}
			return err
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				reload(svc, f.config, o)
				continue
			}
			svc.Logger().Info("signal: stopping", "signal", sig.String())
			stop()
			return awaitStop(done, sigs, cfg.Service.ShutdownGrace.D())
		}
	}
}

// pageURL is the address of the service's page.
func pageURL(cfg *serve.Config, svc *serve.Service) string {
	if cfg.Service.TLSCert != "" {
		return "https://" + svc.Addr().String() + "/"
	}
	return "http://" + svc.Addr().String() + "/"
}

// reload reads the configuration file again and applies it; a file that
// does not load is logged and the service goes on as it was.
func reload(svc *serve.Service, file string, o serve.Overrides) {
	log := svc.Logger()
	if file == "" {
		log.Warn("SIGHUP: no --config to read again; nothing changed")
		return
	}
	cfg, err := serve.Load(file, o)
	if err == nil {
		err = svc.Reload(context.Background(), cfg)
	}
	if err != nil {
		log.Error("SIGHUP: the configuration was refused; the service goes on as it was", "error", err)
	}
}

// awaitStop waits for the service to stop after a signal: until its Run
// returns, a second signal, or the grace and a little more.
func awaitStop(done <-chan error, sigs <-chan os.Signal, grace time.Duration) error {
	select {
	case err := <-done:
		return err
	case sig := <-sigs:
		return fmt.Errorf("second signal (%v): stopped without waiting for the final commit; what came after the last commit is read again at the next start", sig)
	case <-time.After(grace + 5*time.Second):
		return fmt.Errorf("the service did not stop within the shutdown grace (%v): stopped; what came after the last commit is read again at the next start", grace)
	}
}
