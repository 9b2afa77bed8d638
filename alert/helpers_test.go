package alert

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"wormwatch/detect"
	"wormwatch/forecast"
	"wormwatch/store"
)

// t0 is the data time of the test transitions: Code Red v2's 19 July 2001.
var t0 = time.Date(2001, 7, 19, 13, 0, 0, 0, time.UTC)

// testSecret is the secret of the test webhooks.
const testSecret = "0123456789abcdef0123456789abcdef"

// secretFile writes testSecret, with a newline, to a file of t's.
func secretFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(testSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// hook is a webhook to url with the test secret.
func hook(t *testing.T, name, url string, events ...string) Webhook {
	w := DefaultWebhook()
	w.Name, w.URL, w.SecretFile = name, url, secretFile(t)
	if len(events) > 0 {
		w.Events = events
	}
	return w
}

// alarmDetail is the detail of a transition in alarm: 1,834 sources, K
// 0.71 per hour, fired at t0 on growth from three hours before.
func alarmDetail() json.RawMessage {
	return Detail(forecast.Step{Time: t0, Seen: 1834, Observed: 2100, Infected: 2210.4, InfectedSD: 180.2, K: 0.71, KSE: 0.06, N: 351000, NLow: 280000, NHigh: 440000, Trend: true},
		&forecast.Alarm{Time: t0, Index: 779, Onset: t0.Add(-3 * time.Hour), Seen: 1834, Infected: 2210.4, K: 0.71})
}

// earlyDetail is the detail of a step before the scan rate is known
// (NaN estimates) and before any alarm.
func earlyDetail() json.RawMessage {
	nan := math.NaN()
	return Detail(forecast.Step{Time: t0, Seen: 12, Observed: nan, Infected: nan, InfectedSD: nan, K: 0.4, KSE: 0.2, N: nan, NLow: nan, NHigh: nan, Trend: true}, nil)
}

// seriesKey is the store's description of a series of sensor web1 (a web
// server) or tel (a /16 telescope).
func seriesKey(key, sensor, kind, name string) store.SeriesKey {
	size := uint64(1)
	if sensor == "tel" {
		size = 1 << 16
	}
	return store.SeriesKey{Key: key, Sensor: sensor, Kind: kind, Name: name, Size: size, Interval: time.Minute}
}

// testTransitions are four transitions, one of each event: Code Red II's
// alarm opens on web1, the telescope's port 80 alarm subsides, its
// series of every record closes, and a family starts watching.
func testTransitions() ([]store.Transition, []store.SeriesKey) {
	keys := []store.SeriesKey{
		seriesKey("web1/family/codered2", "web1", "family", "codered2"),
		seriesKey("tel/port/tcp/80", "tel", "port", "tcp/80"),
		seriesKey("tel", "tel", "all", ""),
		seriesKey("web1/family/nimda", "web1", "family", "nimda"),
	}
	ts := []store.Transition{
		{Series: keys[0].Key, Time: t0, From: "watching", To: "alarm", Detail: alarmDetail()},
		{Series: keys[1].Key, Time: t0.Add(time.Hour), From: "alarm", To: "subsiding", Detail: alarmDetail()},
		{Series: keys[2].Key, Time: t0.Add(2 * time.Hour), From: "subsiding", To: "quiet", Detail: alarmDetail()},
		{Series: keys[3].Key, Time: t0, From: "quiet", To: "watching", Detail: earlyDetail()},
	}
	return ts, keys
}

// testForecast is a forecast of the Code Red II series as forecast's
// own writer lays it out.
func testForecast(t *testing.T) store.Forecast {
	t.Helper()
	iv := func(v, lo, hi float64) forecast.Interval { return forecast.Interval{Value: v, Low: lo, High: hi} }
	a := &forecast.Analysis{
		Series: "web1/family/codered2", Size: 1, Interval: time.Minute, Start: t0.Add(-13 * time.Hour), End: t0,
		Infected: iv(2210, 1900, 2500), N: iv(351000, 280000, 440000), K: iv(0.71, 0.6, 0.8),
		Alarm:    &forecast.Alarm{Time: t0, Onset: t0.Add(-3 * time.Hour), Seen: 1834, Infected: 2210, K: 0.71},
		Logistic: &forecast.Logistic{From: t0.Add(-3 * time.Hour), To: t0, Points: 180, N: iv(360000, 300000, 420000), Midpoint: t0.Add(7 * time.Hour)},
		Forecast: []forecast.Point{{Time: t0.Add(time.Hour), Infected: iv(4400, 3900, 5000)}, {Time: t0.Add(12 * time.Hour), Infected: iv(298000, 210000, 350000)}},
	}
	var buf bytes.Buffer
	if err := a.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	return store.Forecast{Series: a.Series, Time: t0, State: "alarm", Analysis: buf.Bytes()}
}

// families are the built-in signature families.
func families() []detect.Family { return detect.Builtin() }

// clock is a test's clock, moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// openStore opens a store in dir.
func openStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// commitTransitions commits the transitions with their series and the
// deliveries AddDeliveries plans for them.
func commitTransitions(t *testing.T, st *store.Store, cfg Config, ts []store.Transition, keys []store.SeriesKey) *store.Batch {
	t.Helper()
	b := &store.Batch{Transitions: ts}
	for _, k := range keys {
		b.Series = append(b.Series, store.SeriesRows{Series: k, Rows: []store.Row{{Time: t0.Add(-time.Minute), Probes: 1, Sources: 1, NewSources: 1, CumulativeSources: 1}}})
	}
	if err := AddDeliveries(cfg, b, b.Transitions, families()); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	return b
}
