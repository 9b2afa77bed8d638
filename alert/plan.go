package alert

import (
	"encoding/json"
	"fmt"
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

// AddDeliveries plans the deliveries of the batch's transitions (Plan,
// with the batch's series and forecasts and the families given) and
// appends them to b.Deliveries, so that Commit writes them in the
// transaction of their transitions.
func AddDeliveries(cfg Config, b *store.Batch, families []detect.Family) error {
	var series []store.SeriesKey
	for _, sr := range b.Series {
		series = append(series, sr.Series)
	}
	ds, err := Plan(cfg, b.Transitions, Facts{Series: series, Forecasts: b.Forecasts, Families: families})
	if err != nil {
		return err
	}
	b.Deliveries = append(b.Deliveries, ds...)
	return nil
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
// same bytes.
func Plan(cfg Config, ts []store.Transition, f Facts) ([]store.Delivery, error) {
	known := map[string]store.SeriesKey{}
	for _, k := range f.Series {
		known[k.Key] = k
	}
	var out []store.Delivery
	for i, t := range ts {
		p := planned{cfg: &cfg, t: &t, ev: eventOf(t.From, t.To), info: seriesOf(t.Series, known), est: readEstimates(t.Detail)}
		p.fam = familyOf(p.info, f.Families)
		p.fc = latestForecast(f.Forecasts, t.Series)
		ds, err := p.deliveries(i + 1)
		if err != nil {
			return nil, fmt.Errorf("alert: transition %d of %s (%s -> %s): %w", i+1, t.Series, t.From, t.To, err)
		}
		out = append(out, ds...)
	}
	return out, nil
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

// deliveries makes the transition's artifacts and webhook deliveries.
func (p *planned) deliveries(index int) ([]store.Delivery, error) {
	var out []store.Delivery
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
	if p.ev != Watching && p.cfg.STIX {
		if b, id, ok, err := p.stixBundle(); err != nil {
			return nil, err
		} else if ok {
			out = append(out, store.Delivery{TransitionIndex: index, Channel: ChannelSTIX, Target: id, Payload: b, State: store.Sent})
			ev.STIXBundle, ev.Links.STIX = id, p.cfg.link("/api/v1/stix/"+id)
		}
	}
	if p.ev != Watching && p.cfg.CSAF {
		b, id, err := p.csafDraft()
		if err != nil {
			return nil, err
		}
		out = append(out, store.Delivery{TransitionIndex: index, Channel: ChannelCSAF, Target: id, Payload: b, State: store.Sent})
		ev.CSAFAdvisory, ev.Links.CSAF = id, p.cfg.link("/api/v1/csaf/"+id)
	}
	for _, w := range p.cfg.Webhooks {
		if !w.wants(p.ev) {
			continue
		}
		ev.Webhook = w.Name
		b, err := json.Marshal(ev)
		if err != nil {
			return nil, err
		}
		out = append(out, store.Delivery{TransitionIndex: index, Channel: ChannelWebhook, Target: w.Name, Payload: b})
	}
	return out, nil
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
