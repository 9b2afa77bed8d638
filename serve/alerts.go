package serve

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"

	"wormwatch/alert"
	"wormwatch/detect"
	"wormwatch/store"
)

// The wiring of package alert into the service: the [alert] table's
// checks, the batch hook that plans the deliveries of each commit's
// transitions (in its transaction), and the Deliverer that works the
// outbox off beside the ingest loop.

// checkAlert reads each webhook's secret (so that a missing or short one
// is a configuration error naming its key, at start, at a reload and in
// serve check) and notes whether alert.base_url was given.
func (c *checker) checkAlert() error {
	c.cfg.BaseURLGiven = c.l.Explicit("alert.base_url")
	for i := range c.cfg.Alert.Webhooks {
		w := &c.cfg.Alert.Webhooks[i]
		if _, err := w.Secret(); err != nil {
			key := "secret_file"
			if w.SecretFile == "" {
				key = "secret_env"
			}
			return c.at(fmt.Sprintf("alert.webhook.%d.%s", i, key), "%v", err)
		}
	}
	return nil
}

// alertConfig is the alert configuration the service runs with: cfg's
// [alert] table, with the links naming the address the service listens
// on when alert.base_url was not given and that address is loopback.
func (s *Service) alertConfig(cfg *Config) alert.Config {
	a := cfg.Alert
	if cfg.BaseURLGiven || s.ln == nil {
		return a
	}
	if host, _, err := net.SplitHostPort(cfg.Service.Listen); err == nil && Loopback(host) {
		scheme := "http"
		if cfg.Service.TLSCert != "" {
			scheme = "https"
		}
		a.BaseURL = scheme + "://" + s.ln.Addr().String()
	}
	return a
}

// alertHook returns the batch hook of the service: alert's (the
// deliveries of the batch's new transitions), then the embedder's, if any.
// The hook runs on the ingest loop and plans each batch with the [alert]
// table of the loop's own configuration, read once per batch: a reload is
// applied on the loop between two commits (loop.reload), together with
// the inputs it adds, so a batch is planned whole with one table, the old
// one up to the reload and the new one from the first batch after it,
// which is before Reload returns. (The service's s.cfg, which the API
// reads, is stored only after the loop has applied the reload: planning
// with it let the batches committed in between, new inputs' records and
// all, go out with the old table.)
func (s *Service) alertHook(fams []detect.Family, next BatchHook) BatchHook {
	plan := alert.Hook(func() alert.Config { return s.alertConfig(s.l.cfg) }, fams, s.log)
	return func(tr []store.Transition, b *store.Batch) {
		plan(tr, b)
		if next != nil {
			next(tr, b)
		}
	}
}

// newDeliverer makes the Deliverer of the store's outbox.
func (s *Service) newDeliverer(cfg *Config) error {
	d, err := alert.NewDeliverer(s.st, s.alertConfig(cfg), alert.Options{Logger: s.log, Senders: map[string]alert.Sender{alert.ChannelTAXII: s.shareBundle}})
	if err != nil {
		return &ConfigError{File: cfg.File, Key: "alert", Msg: err.Error()}
	}
	s.deliverer = d
	if n := len(cfg.Alert.Webhooks); n > 0 {
		a := s.alertConfig(cfg)
		s.log.Info("alerts", "webhooks", n, "stix", a.STIX, "csaf", a.CSAF, "base_url", a.BaseURL)
	}
	return nil
}

// runDeliverer runs the Deliverer until the returned function is called,
// which stops it and waits for it (the tries in flight are cancelled and
// stay pending), at most until ctx is done. The Deliverer is woken after
// each commit that made transitions (the only commits that add
// deliveries).
func (s *Service) runDeliverer() (stop func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		if err := s.deliverer.Run(ctx); err != nil {
			s.log.Error("alert deliverer stopped", "error", err)
		}
	}()
	woke := make(chan struct{})
	go func() {
		defer close(woke)
		s.wakeOnCommits(ctx)
	}()
	return func(wait context.Context) {
		cancel()
		for _, ch := range []chan struct{}{ran, woke} {
			select {
			case <-ch:
			case <-wait.Done():
				s.log.Warn("alert deliverer: not stopped within the shutdown grace")
				return
			}
		}
	}
}

// wakeOnCommits wakes the Deliverer after each commit with transitions,
// until ctx is done or the service's updates end.
func (s *Service) wakeOnCommits(ctx context.Context) {
	for ctx.Err() == nil {
		ch, cancel := s.Subscribe()
		got := 0
	read:
		for {
			select {
			case <-ctx.Done():
				cancel()
				return
			case u, ok := <-ch:
				if !ok {
					break read
				}
				got++
				if len(u.Transitions) > 0 {
					s.deliverer.Wake()
				}
			}
		}
		cancel()
		if got == 0 {
			return // the updates have ended: the service stops
		}
		s.deliverer.Wake() // dropped for lagging: look at the outbox anyway
	}
}

// reloadAlerts gives the Deliverer the alert configuration of cfg.
func (s *Service) reloadAlerts(cfg *Config) error {
	if err := s.deliverer.SetConfig(s.alertConfig(cfg)); err != nil {
		return fmt.Errorf("alert: %w", err)
	}
	return nil
}

// urlHost returns a URL's scheme and host, with "/..." when it has more:
// a webhook's path or query may hold a token.
func urlHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(a URL that does not parse)"
	}
	out := u.Scheme + "://" + u.Host
	if strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
		out += "/..."
	}
	return out
}

// logAlertChanges logs the webhooks a reload added and removed (names
// only: never a URL's query or a secret).
func logAlertChanges(log *slog.Logger, cur, next alert.Config) {
	had := map[string]bool{}
	for _, w := range cur.Webhooks {
		had[w.Name] = true
	}
	for _, w := range next.Webhooks {
		if !had[w.Name] {
			log.Info("webhook added", "webhook", w.Name)
		}
		delete(had, w.Name)
	}
	for name := range had {
		log.Info("webhook removed: its pending deliveries die at their next try", "webhook", name)
	}
}
