package alert

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"wormwatch/internal/param"
	"wormwatch/internal/version"
	"wormwatch/store"
)

// Options are a Deliverer's parts that are not configuration.
type Options struct {
	// Logger gets a record per try; nil: slog.Default().
	Logger *slog.Logger
	// Client sends the requests; nil: a client like http.DefaultClient's
	// that follows no redirect (a 3xx is a permanent failure: the signed
	// body is not sent on to another address).
	Client *http.Client
	// Now is the clock of the outbox (Due, and the times of retries);
	// nil: time.Now. Tests drive it.
	Now func() time.Time
	// Seed seeds the generator of the backoff's jitter; 0: a seed from
	// crypto/rand. The jitter must differ between services (so that many,
	// after a receiver's outage, do not retry in step), not be secret:
	// one seed from the system's source and a fast generator (ChaCha8)
	// do that, and a fixed seed makes the waits of a test reproducible.
	Seed uint64
	// Senders deliver the channels other than webhooks (ChannelTAXII:
	// the embedding service's TAXII server), by channel. A Sender's error
	// is retried with backoff like a webhook's, unless it wraps
	// ErrPermanent.
	Senders map[string]Sender
}

// Sender delivers one entry of the outbox of a channel that is not a
// webhook; ctx bounds the try (Config.Timeout).
type Sender func(ctx context.Context, d store.Delivery) error

// ErrPermanent marks a Sender's failure that trying again will not mend
// (the delivery dies at once).
var ErrPermanent = errors.New("permanent")

// Deliverer works off the outbox: it POSTs the webhook deliveries that
// are due, records each try with store.Settle, retries failures with
// exponential backoff and leaves as dead letters those that fail
// MaxAttempts times (or fail permanently). See Run.
type Deliverer struct {
	st      *store.Store
	log     *slog.Logger
	now     func() time.Time
	client  *http.Client
	senders map[string]Sender
	wake    chan struct{}

	mu      sync.Mutex // guards cfg, secrets and rng
	cfg     Config
	secrets map[string][]byte
	rng     *rand.Rand
}

// NewDeliverer returns a Deliverer of the store's outbox with the
// configuration cfg (validated; the secrets are read now).
func NewDeliverer(st *store.Store, cfg Config, opt Options) (*Deliverer, error) {
	d := &Deliverer{st: st, log: opt.Logger, now: opt.Now, client: opt.Client, senders: opt.Senders, wake: make(chan struct{}, 1)}
	if d.log == nil {
		d.log = slog.Default()
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.client == nil {
		d.client = &http.Client{
			Transport:     http.DefaultTransport.(*http.Transport).Clone(), // its own connections, closed when Run ends
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	seed := opt.Seed
	if seed == 0 {
		var b [8]byte
		if _, err := crand.Read(b[:]); err != nil {
			return nil, err
		}
		seed = binary.LittleEndian.Uint64(b[:])
	}
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	d.rng = rand.New(rand.NewChaCha8(key))
	if err := d.SetConfig(cfg); err != nil {
		return nil, err
	}
	return d, nil
}

// SetConfig replaces the configuration (a reload): it is validated and the
// secrets are read first, and on an error the old one stays. Deliveries
// name their webhook, so pending ones go to the webhook's new URL with its
// new secret; those of a webhook no longer configured die at their next
// try.
func (d *Deliverer) SetConfig(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	secrets := map[string][]byte{}
	for _, w := range cfg.Webhooks {
		s, err := w.Secret()
		if err != nil {
			return err
		}
		secrets[w.Name] = s
	}
	d.mu.Lock()
	d.cfg, d.secrets = cfg, secrets
	d.mu.Unlock()
	d.Wake()
	return nil
}

// config returns the current configuration.
func (d *Deliverer) config() Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg
}

// Wake tells the Deliverer that deliveries were added (a commit with
// Deliveries): it looks at the outbox at once rather than at the next
// poll. It never blocks.
func (d *Deliverer) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run works off the outbox until ctx is done: at each poll (Config.Poll),
// at each Wake and whenever a try ends, it starts the tries of the
// deliveries due (store.Due), at most Config.Concurrency at once, each
// delivery in one try at a time. When ctx is done it waits for the tries
// in flight, which are cancelled and left pending without counting a
// failure, closes its idle connections and returns nil.
func (d *Deliverer) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	done := make(chan int64)
	inflight := map[int64]bool{}
	poll := d.config().Poll.D()
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	for {
		d.start(ctx, inflight, done, &wg)
		if p := d.config().Poll.D(); p != poll {
			poll = p
			ticker.Reset(poll)
		}
		select {
		case <-ctx.Done():
			go func() { wg.Wait(); close(done) }()
			for range done { // let the tries in flight end
			}
			d.client.CloseIdleConnections()
			return nil
		case id := <-done:
			delete(inflight, id)
		case <-d.wake:
		case <-ticker.C:
		}
	}
}

// start starts the tries of due deliveries that are not in flight, as many
// as Concurrency allows; each sends its id on done when it has ended.
func (d *Deliverer) start(ctx context.Context, inflight map[int64]bool, done chan<- int64, wg *sync.WaitGroup) {
	free := d.config().Concurrency - len(inflight)
	if free <= 0 || ctx.Err() != nil {
		return
	}
	due, err := d.st.Due(ctx, d.now(), free+len(inflight))
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error("alert: reading the outbox", "err", err)
		}
		return
	}
	for _, dl := range due {
		if inflight[dl.ID] || free == 0 {
			continue
		}
		inflight[dl.ID] = true
		free--
		wg.Add(1)
		go func() {
			d.try(ctx, dl)
			done <- dl.ID
			wg.Done()
		}()
	}
}

// round tries every delivery due now, Concurrency at a time, and returns
// when they have ended: Run's work without its loop, for tests that drive
// the clock.
func (d *Deliverer) round(ctx context.Context) (int, error) {
	due, err := d.st.Due(ctx, d.now(), 0)
	if err != nil {
		return 0, err
	}
	sem := make(chan struct{}, d.config().Concurrency)
	var wg sync.WaitGroup
	for _, dl := range due {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			d.try(ctx, dl)
		}()
	}
	wg.Wait()
	return len(due), nil
}

// outcome is how a try went.
type outcome struct {
	status     int           // the response's status; 0 without one
	err        string        // "" when delivered
	permanent  bool          // the failure will not go away by trying again
	retryAfter time.Duration // the receiver's Retry-After
	aborted    bool          // ctx was done: not a try
}

// try makes one try of a delivery and records it.
func (d *Deliverer) try(ctx context.Context, dl store.Delivery) {
	cfg := d.config()
	o := d.send(ctx, cfg, dl)
	if o.aborted {
		return
	}
	// Record the try even if ctx ends now: a delivery made must not be
	// made again after a restart.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	attempt := dl.Attempts + 1
	log := d.log.With("delivery", dl.ID, "channel", dl.Channel, "target", dl.Target, "attempt", attempt)
	if o.err == "" {
		if err := d.st.Settle(sctx, dl.ID, "", time.Time{}, cfg.MaxAttempts); err != nil {
			log.Error("alert: recording a delivery", "err", err)
			return
		}
		log.Info("alert delivered", "status", o.status)
		return
	}
	maxAttempts := cfg.MaxAttempts
	if o.permanent {
		maxAttempts = 1 // Settle: dead once attempts reach it
	}
	next := d.now().Add(max(d.backoff(cfg, attempt), o.retryAfter))
	if err := d.st.Settle(sctx, dl.ID, o.err, next, maxAttempts); err != nil {
		log.Error("alert: recording a failed try", "err", err, "failure", o.err)
		return
	}
	if attempt >= maxAttempts {
		log.Error("alert delivery dead", "err", o.err, "permanent", o.permanent)
		return
	}
	log.Warn("alert delivery failed", "err", o.err, "next", next)
}

// backoff is the wait after the n-th failure: d = min(cap, base * 2^(n-1)),
// then a uniform draw from d/2 to d ("equal jitter": never less than half,
// so the schedule stays predictable).
func (d *Deliverer) backoff(cfg Config, n int) time.Duration {
	w := cfg.BackoffBase.D()
	for i := 1; i < n && w < cfg.BackoffCap.D(); i++ {
		w *= 2
	}
	w = min(w, cfg.BackoffCap.D())
	half := w / 2
	d.mu.Lock()
	defer d.mu.Unlock()
	return half + time.Duration(d.rng.Int64N(int64(w-half)+1))
}

// maxRetryAfter bounds the wait a receiver's Retry-After may ask for.
const maxRetryAfter = 24 * time.Hour

// send makes one try: a webhook delivery is POSTed, another goes to its
// channel's Sender (none: it fails permanently).
func (d *Deliverer) send(ctx context.Context, cfg Config, dl store.Delivery) outcome {
	if dl.Channel != ChannelWebhook {
		return d.sendOther(ctx, cfg, dl)
	}
	var hook *Webhook
	for i := range cfg.Webhooks {
		if cfg.Webhooks[i].Name == dl.Target {
			hook = &cfg.Webhooks[i]
		}
	}
	d.mu.Lock()
	secret := d.secrets[dl.Target]
	d.mu.Unlock()
	if hook == nil || secret == nil {
		return outcome{err: "permanent: webhook " + strconv.Quote(dl.Target) + " is not in the configuration", permanent: true}
	}
	body := Complete(dl, cfg.BaseURL)
	rctx, cancel := context.WithTimeout(ctx, cfg.Timeout.D())
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, hook.URL, bytes.NewReader(body))
	if err != nil {
		return outcome{err: "permanent: the webhook's url cannot be used: " + unwrapURL(err).Error(), permanent: true}
	}
	ts := strconv.FormatInt(d.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "wormwatch/"+version.Version)
	req.Header.Set(HeaderDelivery, strconv.FormatInt(dl.ID, 10))
	req.Header.Set(HeaderEvent, eventOfPayload(dl.Payload))
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(secret, ts, body))
	resp, err := d.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return outcome{aborted: true}
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return outcome{err: fmt.Sprintf("no answer within %s", cfg.Timeout)}
		}
		return outcome{err: "POST to " + req.URL.Host + ": " + unwrapURL(err).Error()}
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return judge(resp, snippet, d.now())
}

// unwrapURL returns the error inside a *url.Error, whose text names the
// whole URL: a webhook's URL may hold a secret (a token in its path or
// query), and errors are logged and listed with the dead letters.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// judge classifies a response: 2xx is delivered; 408, 425, 429 and 5xx
// are failures worth another try (with the Retry-After of a 429 or 503
// honoured); a 3xx (not followed) or another 4xx is permanent: the
// receiver refused this request, and the same bytes would be refused
// again.
func judge(resp *http.Response, snippet []byte, now time.Time) outcome {
	o := outcome{status: resp.StatusCode}
	c := resp.StatusCode
	if c >= 200 && c < 300 {
		return o
	}
	o.err = resp.Status
	if s := strings.TrimSpace(param.OneLine(string(snippet))); s != "" {
		o.err += ": " + s
	}
	switch {
	case c == http.StatusTooManyRequests || c == http.StatusServiceUnavailable:
		o.retryAfter = retryAfter(resp.Header.Get("Retry-After"), now)
	case c >= 300 && c < 400:
		o.err = "permanent: " + resp.Status + ": redirect to " + strconv.Quote(resp.Header.Get("Location")) + " not followed (give the final URL)"
		o.permanent = true
	case c >= 400 && c < 500 && c != http.StatusRequestTimeout && c != http.StatusTooEarly:
		o.err = "permanent: " + o.err
		o.permanent = true
	}
	return o
}

// retryAfter reads a Retry-After header (seconds or an HTTP date), bounded
// by maxRetryAfter; 0 when absent or unreadable.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.ParseInt(strings.TrimSpace(h), 10, 64); err == nil {
		d = time.Duration(min(max(s, 0), int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// eventOfPayload reads the event of a webhook payload, "" when it has
// none.
func eventOfPayload(b []byte) string {
	var ev struct {
		Event string `json:"event"`
	}
	_ = json.Unmarshal(b, &ev)
	return ev.Event
}

// Redeliver enqueues dead letters again, as new deliveries with no tries
// (the dead ones stay in the list, for the record): what an operator does
// once the receiver's problem is fixed. Wake the Deliverer after it.
func Redeliver(ctx context.Context, st *store.Store, dead []store.Delivery) error {
	ds := make([]store.Delivery, len(dead))
	for i, d := range dead {
		ds[i] = store.Delivery{TransitionID: d.TransitionID, Channel: d.Channel, Target: d.Target, Payload: d.Payload}
	}
	return st.Enqueue(ctx, ds)
}

// sendOther makes one try of a delivery of a channel that is not a
// webhook, through its Sender.
func (d *Deliverer) sendOther(ctx context.Context, cfg Config, dl store.Delivery) outcome {
	send := d.senders[dl.Channel]
	if send == nil {
		return outcome{err: "permanent: no deliverer for channel " + strconv.Quote(dl.Channel), permanent: true}
	}
	tctx, cancel := context.WithTimeout(ctx, cfg.Timeout.D())
	defer cancel()
	err := send(tctx, dl)
	switch {
	case err == nil:
		return outcome{}
	case ctx.Err() != nil:
		return outcome{aborted: true}
	case errors.Is(err, ErrPermanent):
		return outcome{err: err.Error(), permanent: true}
	}
	return outcome{err: err.Error()}
}
