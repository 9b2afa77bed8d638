package alert

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"

	"wormwatch/detect"
	"wormwatch/store"
)

// The channels of the outbox entries this package writes.
const (
	ChannelWebhook = "webhook" // a signed POST to a webhook, Target its name; worked off by the Deliverer
	ChannelSTIX    = "stix"    // a STIX 2.1 bundle, Target its id; stored Sent at once
	ChannelCSAF    = "csaf"    // a draft CSAF 2.0 advisory, Target its tracking id; stored Sent at once
	ChannelTAXII   = "taxii"   // a STIX bundle's objects added to a collection of the service's TAXII server, Target the collection; worked off by the Deliverer's Sender
)

// Facts are what Plan knows of a batch besides its transitions.
type Facts struct {
	// Series describes the series the transitions name; a series not
	// there is read from its key (SENSOR, SENSOR/family/NAME,
	// SENSOR/port/tcp/80).
	Series []store.SeriesKey
	// Forecasts made in the batch: the latest of a transition's series
	// goes into its CSAF draft.
	Forecasts []store.Forecast
	// Families are the signature families: a family series' title,
	// description, STIX pattern and references.
	Families []detect.Family
}

// AddDeliveries plans the deliveries of tr, the transitions new in b (the
// last len(tr) of b.Transitions: those of a failed commit carried into b
// were planned with it), with b's series and forecasts and the families
// given, and appends them to b.Deliveries, so that Commit writes them in
// the transaction of their transitions. On an error (an artifact that
// could not be made) it appends what it could plan all the same.
func AddDeliveries(cfg Config, b *store.Batch, tr []store.Transition, families []detect.Family) error {
	first := len(b.Transitions) - len(tr)
	if first < 0 {
		return fmt.Errorf("alert: %d new transitions in a batch of %d", len(tr), len(b.Transitions))
	}
	var series []store.SeriesKey
	for _, sr := range b.Series {
		series = append(series, sr.Series)
	}
	ds, err := Plan(cfg, b.Transitions[first:], Facts{Series: series, Forecasts: b.Forecasts, Families: families})
	for i := range ds {
		ds[i].TransitionIndex += first
	}
	b.Deliveries = append(b.Deliveries, ds...)
	return err
}

// Hook returns the function serve calls with each batch before its commit
// (serve.BatchHook): it plans the deliveries of the batch's new
// transitions with the configuration cfg returns at that moment (so a
// reload applies from the next batch) and logs an error of planning.
func Hook(cfg func() Config, families []detect.Family, log *slog.Logger) func(tr []store.Transition, b *store.Batch) {
	if log == nil {
		log = slog.Default()
	}
	return func(tr []store.Transition, b *store.Batch) {
		if len(tr) == 0 {
			return
		}
		if err := AddDeliveries(cfg(), b, tr, families); err != nil {
			log.Error("alert: planning deliveries", "err", err)
		}
	}
}

// Plan turns alarm transitions into outbox entries, each linked to its
// transition by TransitionIndex (1 + its index in ts) so that they commit
// in the transition's transaction (store.Batch.Deliveries). For each
// transition of an alarm (Opened, Changed, Closed) it makes, as cfg asks,
// a STIX 2.1 bundle (family and port series: an indicator and a sighting)
// and a draft CSAF 2.0 advisory, stored Sent at once: they are documents
// kept for the page and the API, not messages to anyone. Then one
// webhook delivery (Pending) per webhook that asks for the transition's
// event, its payload an Event naming the bundle and the advisory. The
// entries depend only on their arguments: the same transitions give the
// same bytes. An artifact that cannot be made (a family pattern share
// refuses) is left out and named in the error; everything else is
// returned all the same, so that an alarm is never lost to its documents.
func Plan(cfg Config, ts []store.Transition, f Facts) ([]store.Delivery, error) {
	known := map[string]store.SeriesKey{}
	for _, k := range f.Series {
		known[k.Key] = k
	}
	var out []store.Delivery
	var errs []error
	for i, t := range ts {
		p := planned{cfg: &cfg, t: &t, ev: eventOf(t.From, t.To), info: seriesOf(t.Series, known), est: readEstimates(t.Detail)}
		p.fam = familyOf(p.info, f.Families)
		p.fc = latestForecast(f.Forecasts, t.Series)
		ds, err := p.deliveries(i + 1)
		if err != nil {
			errs = append(errs, fmt.Errorf("alert: transition %d of %s (%s -> %s): %w", i+1, t.Series, t.From, t.To, err))
		}
		out = append(out, ds...)
	}
	return out, errors.Join(errs...)
}

// planned is one transition being planned.
type planned struct {
	cfg  *Config
	t    *store.Transition
	ev   string
	info seriesInfo
	est  estimates
	fam  *detect.Family  // the family of a family series, nil if unknown
	fc   *store.Forecast // the latest forecast of the series in the batch, nil if none
}

// deliveries makes the transition's artifacts and webhook deliveries; an
// artifact that fails is left out, and its error returned with the rest.
func (p *planned) deliveries(index int) ([]store.Delivery, error) {
	var out []store.Delivery
	ev := p.event()
	var errs []error
	if p.ev != Watching && p.cfg.STIX {
		if b, id, ok, err := p.stixBundle(); err != nil {
			errs = append(errs, fmt.Errorf("STIX bundle: %w", err))
		} else if ok {
			out = append(out, store.Delivery{TransitionIndex: index, Channel: ChannelSTIX, Target: id, Payload: b, State: store.Sent})
			ev.STIXBundle, ev.Links.STIX = id, p.cfg.link("/api/v1/stix/"+id)
			if p.cfg.TAXII != "" {
				out = append(out, store.Delivery{TransitionIndex: index, Channel: ChannelTAXII, Target: p.cfg.TAXII, Payload: b})
			}
		}
	}
	if p.ev != Watching && p.cfg.CSAF {
		if b, id, err := p.csafDraft(); err != nil {
			errs = append(errs, fmt.Errorf("CSAF draft: %w", err))
		} else {
			out = append(out, store.Delivery{TransitionIndex: index, Channel: ChannelCSAF, Target: id, Payload: b, State: store.Sent})
			ev.CSAFAdvisory, ev.Links.CSAF = id, p.cfg.link("/api/v1/csaf/"+id)
		}
	}
	for _, w := range p.cfg.Webhooks {
		if !w.wants(p.ev) {
			continue
		}
		ev.Webhook = w.Name
		b, err := json.Marshal(ev)
		if err != nil {
			return out, errors.Join(append(errs, err)...)
		}
		out = append(out, store.Delivery{TransitionIndex: index, Channel: ChannelWebhook, Target: w.Name, Payload: b})
	}
	return out, errors.Join(errs...)
}

// event is the transition's webhook payload without its webhook,
// artifacts and the ids known after the commit.
func (p *planned) event() Event {
	ev := Event{Version: PayloadVersion, Event: p.ev, Series: p.info.Key, Sensor: p.info.Sensor, Kind: p.info.Kind,
		From: p.t.From, To: p.t.To, Time: p.t.Time.UTC(), Estimates: compact(p.t.Detail)}
	ev.Links.Forecast = p.cfg.link("/api/v1/forecast?sensor=" + url.QueryEscape(p.info.Sensor))
	switch p.info.Kind {
	case "family":
		ev.Family = p.info.Name
		if p.fam != nil {
			ev.FamilyTitle = p.fam.DisplayName()
		}
	case "port":
		ev.Port = p.info.Name
	}
	if p.est.Fired {
		at, onset := p.est.AlarmTime.UTC(), p.est.Onset.UTC()
		ev.AlarmTime = &at
		if !onset.IsZero() {
			ev.Onset = &onset
		}
	}
	return ev
}

// link is an address of the service: BaseURL and path.
func (c *Config) link(path string) string { return strings.TrimSuffix(c.BaseURL, "/") + path }

// familyOf finds the family of a family series.
func familyOf(info seriesInfo, fams []detect.Family) *detect.Family {
	if info.Kind != "family" {
		return nil
	}
	for i := range fams {
		if fams[i].Name == info.Name {
			return &fams[i]
		}
	}
	return nil
}

// latestForecast returns the last forecast of series key, or nil.
func latestForecast(fs []store.Forecast, key string) *store.Forecast {
	var out *store.Forecast
	for i := range fs {
		if fs[i].Series == key && (out == nil || !fs[i].Time.Before(out.Time)) {
			out = &fs[i]
		}
	}
	return out
}

// Complete returns the body the deliverer sends for a webhook delivery:
// its payload with the delivery's and the transition's ids and the link
// to the alarms API filled in (they are known only after the commit).
// A payload that is not a version 1 Event is sent as it is.
func Complete(d store.Delivery, baseURL string) []byte {
	var ev Event
	if json.Unmarshal(d.Payload, &ev) != nil || ev.Version != PayloadVersion {
		return d.Payload
	}
	ev.DeliveryID, ev.TransitionID = d.ID, d.TransitionID
	after := max(d.TransitionID-1, 0)
	ev.Links.Alarms = strings.TrimSuffix(baseURL, "/") + "/api/v1/alarms?after=" + strconv.FormatInt(after, 10)
	b, err := json.Marshal(ev)
	if err != nil {
		return d.Payload
	}
	return b
}
