package serve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
	"wormwatch/csafsite"
	"wormwatch/taxii"

	"wormwatch/alert"
	"wormwatch/detect"
	"wormwatch/serve/metrics"
	"wormwatch/store"
)

// Options are what a program embedding the service gives besides the
// configuration.
type Options struct {
	// Logger receives the log lines; nil: one made from the
	// configuration (log_format, log_level) writing to Stderr.
	Logger *slog.Logger
	// Stderr is where the made logger writes; nil: os.Stderr.
	Stderr io.Writer
	// Hook is called with each batch before its commit, after the
	// service's own hook, which adds the alert outbox's deliveries (see
	// BatchHook).
	Hook BatchHook
	// Stdin is read by a pcap input "-"; nil: os.Stdin.
	Stdin io.Reader
	// Now is the wall clock (Settings.Clock); nil: time.Now.
	Now func() time.Time
}

// Service is the live service: the store, the ingest loop and the HTTP
// API. New restores it, Run runs it until its context is done, Reload
// applies a new configuration while it runs.
type Service struct {
	opt   Options
	log   *slog.Logger
	level *slog.LevelVar
	st    *store.Store
	l     *loop
	cfg   atomic.Pointer[Config]
	mux   *http.ServeMux
	hub   *hub
	ln    net.Listener
	ready atomic.Bool
	done  chan struct{} // closed when the loop has stopped
	start time.Time

	metrics *metrics.Metrics // GET /metrics; the loop observes its commits

	deliverer *alert.Deliverer // works the alert outbox off while Run runs
	retryMu   sync.Mutex       // one retry of a dead letter at a time

	taxii *taxii.Server  // [taxii], nil when not enabled (sharing.go)
	csaf  *csafsite.Site // [csaf], nil when not enabled

	notifyMu   sync.Mutex      // one notification at a time (notify.go)
	notifyCtx  context.Context // the runs' context, done when the service stops
	notifyWake chan struct{}   // a reload restarts the schedule
	stopNotify func(context.Context)
}

// New opens the store in the data folder (locking it against a second
// service), restores the state stored there (the watch from its snapshot,
// detect's analyzer from the stored batches, the inputs' positions and
// readers' states), listens on the configured address and makes the alert
// deliverer of the store's outbox. Nothing is read or delivered before
// Run. A configuration that does not fit the data folder (other signature
// families, another interval) is a *ConfigError.
func New(ctx context.Context, cfg *Config, opt Options) (*Service, error) {
	if opt.Stdin == nil {
		opt.Stdin = os.Stdin
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Service{opt: opt, level: new(slog.LevelVar), done: make(chan struct{}), start: opt.Now(), notifyWake: make(chan struct{}, 1)}
	s.log = opt.Logger
	if s.log == nil {
		s.log = newLogger(cfg, opt.Stderr, s.level)
	} else {
		s.level.Set(slog.LevelDebug)
	}
	s.setLevel(cfg)
	s.cfg.Store(cfg)
	fams, _, err := detect.LoadTable(cfg.Signatures)
	if err != nil {
		return nil, &ConfigError{File: cfg.File, Key: "signatures", Msg: err.Error()}
	}
	s.opt.Hook = s.alertHook(fams, opt.Hook)
	t0 := time.Now()
	st, err := store.Open(ctx, cfg.Service.Data)
	if err != nil {
		return nil, err
	}
	s.st = st
	if s.l, err = newLoop(ctx, s, cfg, st); err != nil {
		st.Close()
		return nil, err
	}
	if err := s.l.restoreRemotes(ctx); err != nil {
		s.l.a.Close()
		st.Close()
		return nil, fmt.Errorf("%s: restoring the remote sensors' series: %w", st.Dir(), err)
	}
	if err := s.l.restorePools(ctx); err != nil {
		s.l.a.Close()
		st.Close()
		var ce *ConfigError
		if errors.As(err, &ce) {
			return nil, err
		}
		return nil, fmt.Errorf("%s: restoring the pools: %w", st.Dir(), err)
	}
	s.hub = newHub(s.l.commits)
	if err := s.openSharing(cfg); err != nil {
		s.l.a.Close()
		st.Close()
		return nil, err
	}
	s.mux = s.routes()
	if s.ln, err = net.Listen("tcp", cfg.Service.Listen); err != nil {
		s.closeSharing()
		s.l.a.Close()
		st.Close()
		return nil, fmt.Errorf("listen on %s: %w", cfg.Service.Listen, err)
	}
	if err := s.newDeliverer(cfg); err != nil {
		s.ln.Close()
		s.closeSharing()
		s.l.a.Close()
		st.Close()
		return nil, err
	}
	s.log.Info("restored", "data", cfg.Service.Data, "commits", s.l.commits, "inputs", len(s.l.inputs), "series", len(s.l.marks), "took", time.Since(t0).Round(time.Millisecond))
	return s, nil
}

// newLogger makes the logger a configuration asks for.
func newLogger(cfg *Config, w io.Writer, level *slog.LevelVar) *slog.Logger {
	if w == nil {
		w = os.Stderr
	}
	opt := &slog.HandlerOptions{Level: level}
	if cfg.Service.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opt))
	}
	return slog.New(slog.NewTextHandler(w, opt))
}

// setLevel sets the log level of a configuration (when the logger was
// made from it).
func (s *Service) setLevel(cfg *Config) {
	if s.opt.Logger != nil {
		return
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(cfg.Service.LogLevel)); err == nil {
		s.level.Set(l)
	}
}

// Addr returns the address the service listens on (with the port chosen
// when the configuration gave port 0).
func (s *Service) Addr() net.Addr { return s.ln.Addr() }

// Handler returns the service's HTTP handler: the mux of the API, to
// which Mount adds more.
func (s *Service) Handler() http.Handler { return s.mux }

// Mount adds a handler to the service's mux (net/http patterns, Go 1.22:
// "GET /dashboard/"), before or while it serves. The handler gets none of
// the API's checks: it is the caller's to limit and authorise.
func (s *Service) Mount(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Store returns the service's store, for the parts of the service that
// read it (the dashboard, the alert deliverer).
func (s *Service) Store() *store.Store { return s.st }

// Subscribe returns the updates published after each commit (see
// Update), and a function that ends the subscription. The channel is
// closed when the subscriber lags too far behind (64 updates) or the
// service stops.
func (s *Service) Subscribe() (<-chan Update, func()) {
	ch, _, _, cancel := s.hub.subscribe(1<<62 - 1)
	return ch, cancel
}

// now is the wall clock.
func (s *Service) now() time.Time { return s.opt.Now() }

// Run reads the inputs, commits and serves the API until ctx is done,
// then stops reading, commits once more, closes the store and returns nil
// (or an error when the final commit and the requests in progress took
// longer than Settings.ShutdownGrace, or the analyzer failed).
func (s *Service) Run(ctx context.Context) error {
	cfg := s.cfg.Load()
	srcCtx, stopSources := context.WithCancel(context.Background())
	defer stopSources()
	s.l.ctx = srcCtx
	for _, in := range cfg.Inputs {
		if err := s.l.addSource(in); err != nil {
			s.shutdownEarly()
			return err
		}
	}
	stopDeliverer := s.runDeliverer()
	s.stopNotify = s.runNotifier()
	srv := s.server(cfg)
	served := make(chan error, 1)
	go func() { served <- s.serve(srv, cfg) }()
	loopCtx, stopLoop := context.WithCancel(context.Background())
	defer stopLoop()
	var loopErr error
	go func() {
		loopErr = s.l.run(loopCtx)
		close(s.done)
	}()
	s.ready.Store(true)
	s.log.Info("serving", "addr", s.ln.Addr().String(), "inputs", len(cfg.Inputs))
	select {
	case <-ctx.Done():
		s.log.Info("stopping: final commit")
	case <-s.done:
	case err := <-served:
		loopErr = err
	}
	s.ready.Store(false)
	return s.shutdown(srv, stopSources, stopLoop, stopDeliverer, loopErr)
}

// shutdown stops the sources, lets the loop commit a last time, stops the
// HTTP server and the alert deliverer (its tries in flight stay pending)
// and closes the store, all within the grace.
func (s *Service) shutdown(srv *http.Server, stopSources, stopLoop context.CancelFunc, stopDeliverer func(context.Context), loopErr error) error {
	grace := s.cfg.Load().Service.ShutdownGrace.D()
	deadline, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	stopSources()
	stopLoop()
	var err error
	select {
	case <-s.done:
	case <-deadline.Done():
		err = fmt.Errorf("the final commit took longer than the shutdown grace (%v): what came after the last commit is read again at the next start", grace)
	}
	s.hub.close()
	s.stopNotify(deadline) // a run in progress ends: its request is answered
	if e := srv.Shutdown(deadline); e != nil && err == nil {
		srv.Close()
		err = fmt.Errorf("requests still open after the shutdown grace (%v): closed", grace)
	}
	stopDeliverer(deadline) // before the store closes
	s.closeSharing()        // after the HTTP server
	if err == nil {
		err = loopErr
	}
	if err == nil {
		s.l.a.Close()
		err = s.st.Close()
		s.log.Info("stopped", "commits", s.l.commits)
	}
	return err
}

// shutdownEarly releases what New took when Run cannot start.
func (s *Service) shutdownEarly() {
	for _, src := range s.l.sources {
		s.l.stop(src)
	}
	s.ln.Close()
	s.closeSharing()
	s.l.a.Close()
	s.st.Close()
}

// server returns the HTTP server of the API, with its timeouts (the event
// stream lifts the write timeout for itself).
func (s *Service) server(cfg *Config) *http.Server {
	return &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		TLSConfig:         &tls.Config{ClientAuth: s.clientAuth()},
	}
}

// serve serves on the listener, over TLS when the configuration has a
// certificate; it returns nil once the server is shut down.
func (s *Service) serve(srv *http.Server, cfg *Config) error {
	var err error
	if cfg.Service.TLSCert != "" {
		err = srv.ServeTLS(s.ln, cfg.Service.TLSCert, cfg.Service.TLSKey)
	} else {
		err = srv.Serve(s.ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Reload applies a new configuration while the service runs: inputs
// added are started, inputs removed stopped (their counts stay in
// reports), inputs changed restarted; the log level, the tokens, the
// remote sensors, the clock, the commit interval, the [alert] table
// (webhooks, their URLs and secrets, retries, artifacts) and the [notify]
// table (its files read again; its schedule starts again) change at once. Keys
// that cannot change while the service runs (the address, the data
// folder, TLS, the signatures, the watch's and forecast's settings, the
// line cap, the HTTP ports, the [taxii] and [csaf] tables) keep their
// values: each is logged, and applies at the next start.
func (s *Service) Reload(ctx context.Context, next *Config) error {
	cur := s.cfg.Load()
	merged := *next
	merged.Service = cur.Service
	live := &merged.Service
	live.CommitInterval, live.Clock, live.ClockDelay, live.ClockWindow = next.Service.CommitInterval, next.Service.Clock, next.Service.ClockDelay, next.Service.ClockWindow
	live.LogLevel, live.TokenFile, live.Poll, live.MaxPushBytes, live.ShutdownGrace = next.Service.LogLevel, next.Service.TokenFile, next.Service.Poll, next.Service.MaxPushBytes, next.Service.ShutdownGrace
	for _, k := range fixedChanges(cur, next) {
		s.log.Warn("configuration key changed: applies at the next start", "key", k)
	}
	merged.Signatures, merged.HTTPPorts, merged.Watch, merged.Forecast = cur.Signatures, cur.HTTPPorts, cur.Watch, cur.Forecast
	if !reflect.DeepEqual(cur.TAXII, next.TAXII) || !reflect.DeepEqual(cur.CSAF, next.CSAF) {
		s.log.Warn("configuration tables changed: [taxii] and [csaf] apply at the next start")
	}
	merged.TAXII, merged.CSAF = cur.TAXII, cur.CSAF
	if !reflect.DeepEqual(cur.Pools, next.Pools) {
		s.log.Warn("configuration key changed: applies at the next start", "key", "pool")
	}
	merged.Pools = cur.Pools
	merged.Remotes = fixedSources(s.log, cur.Remotes, next.Remotes)
	if err := s.reloadAlerts(&merged); err != nil {
		return err // nothing changed
	}
	var err error
	if e := s.l.do(ctx, s.done, func() { err = s.l.reload(&merged) }); e != nil {
		err = e
	}
	if err != nil {
		if e := s.reloadAlerts(cur); e != nil {
			s.log.Error("alerts: the previous configuration could not be restored", "error", e)
		}
		return err
	}
	logAlertChanges(s.log, cur.Alert, merged.Alert)
	s.cfg.Store(&merged)
	s.setLevel(&merged)
	select {
	case s.notifyWake <- struct{}{}: // [notify] every starts again
	default:
	}
	s.log.Info("configuration reloaded", "inputs", len(merged.Inputs), "remotes", len(merged.Remotes))
	return nil
}

// fixedChanges lists the keys that changed between two configurations
// and cannot change while the service runs.
func fixedChanges(a, b *Config) []string {
	var out []string
	as, bs := a.Service, b.Service
	for _, f := range []struct {
		key  string
		x, y any
	}{
		{"service.listen", as.Listen, bs.Listen}, {"service.data", as.Data, bs.Data}, {"service.tls_cert", as.TLSCert, bs.TLSCert},
		{"service.tls_key", as.TLSKey, bs.TLSKey}, {"service.log_format", as.LogFormat, bs.LogFormat}, {"service.space_bits", as.SpaceBits, bs.SpaceBits},
		{"service.max_line", as.MaxLine, bs.MaxLine}, {"signatures", a.Signatures, b.Signatures}, {"http_ports", a.HTTPPorts, b.HTTPPorts},
		{"watch", a.Watch, b.Watch}, {"forecast", a.Forecast, b.Forecast},
	} {
		if !reflect.DeepEqual(f.x, f.y) {
			out = append(out, f.key)
		}
	}
	return out
}

// reload applies a configuration's inputs and live settings on the loop.
func (l *loop) reload(cfg *Config) error {
	want := map[string]Input{}
	for _, in := range cfg.Inputs {
		want[in.key()] = in
		if s := l.w.Sensor(in.Sensor); s >= 0 && l.sizes[in.Sensor] != in.Size {
			return fmt.Errorf("input %s: sensor %s has size %d, not %d: a sensor's size cannot change (a new sensor name can)", in.Name, in.Sensor, l.sizes[in.Sensor], in.Size)
		}
	}
	for key, src := range l.sources {
		if in, ok := want[key]; !ok || !reflect.DeepEqual(in, src.cfg) {
			l.log.Info("input stopped", "input", src.cfg.Name, "path", src.cfg.Path)
			l.stop(src)
		}
	}
	old := l.cfg
	l.cfg = cfg
	for _, in := range cfg.Inputs {
		if l.sources[in.key()] != nil {
			continue
		}
		if err := l.addSource(in); err != nil {
			l.cfg = old // a refused reload plans with the table the deliverer goes back to
			return err
		}
		l.log.Info("input started", "input", in.Name, "path", in.Path)
	}
	return nil
}

// Logger returns the service's logger.
func (s *Service) Logger() *slog.Logger { return s.log }
