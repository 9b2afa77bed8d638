package alert

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"wormwatch/forecast"
	"wormwatch/store"
)

// PayloadVersion is the version of the webhook payload (Event) this
// package writes; a change that breaks a receiver gets a new one.
const PayloadVersion = 1

// Event is the JSON body of a webhook delivery: one transition of a
// series' alarm state machine. docs/serve.md ("Alerts") documents it with
// an example. DeliveryID, TransitionID and Links.Alarms are only known once
// the batch is committed: the stored payload has them zero and empty, and
// the deliverer fills them in before it signs and sends the body.
type Event struct {
	Version      int    `json:"version"`       // PayloadVersion
	Event        string `json:"event"`         // Opened, Changed, Closed or Watching
	DeliveryID   int64  `json:"delivery_id"`   // also in the X-Wormwatch-Delivery header: the key to drop a repeat
	TransitionID int64  `json:"transition_id"` // the transition's id in the store (the alarms API's)
	Webhook      string `json:"webhook"`       // the webhook's name
	Series       string `json:"series"`        // SENSOR, SENSOR/family/NAME or SENSOR/port/tcp/80
	Sensor       string `json:"sensor"`
	Kind         string `json:"kind"`             // all, family or port
	Family       string `json:"family,omitempty"` // the family's name, for a family series
	FamilyTitle  string `json:"family_title,omitempty"`
	Port         string `json:"port,omitempty"` // "tcp/80", for a port series
	From         string `json:"from"`           // quiet, watching, alarm or subsiding
	To           string `json:"to"`
	// Time is the end of the interval whose filter step made the change
	// (data time, not the wall clock).
	Time time.Time `json:"time"`
	// AlarmTime and Onset are when the alarm rule fired and when the
	// growth that fired it began; absent before the alarm fired.
	AlarmTime *time.Time `json:"alarm_time,omitempty"`
	Onset     *time.Time `json:"onset,omitempty"`
	// Estimates is the transition's detail as the store keeps it: the
	// filter's step (sources seen, infected hosts, growth rate K per hour,
	// vulnerable population N, with their errors) and the filter's alarm.
	Estimates    json.RawMessage `json:"estimates"`
	STIXBundle   string          `json:"stix_bundle,omitempty"`   // the id of the STIX bundle of this transition
	CSAFAdvisory string          `json:"csaf_advisory,omitempty"` // the tracking id of the draft CSAF advisory
	Links        Links           `json:"links"`
}

// Links are addresses of the service (Config.BaseURL) about an event.
type Links struct {
	Alarms   string `json:"alarms"`             // /api/v1/alarms?after=N: this transition and those after it
	Forecast string `json:"forecast,omitempty"` // /api/v1/forecast?sensor=NAME
	STIX     string `json:"stix,omitempty"`     // /api/v1/stix/BUNDLE-ID
	CSAF     string `json:"csaf,omitempty"`     // /api/v1/csaf/TRACKING-ID
}

// eventOf says which event a transition is: Opened, Changed, Closed or
// Watching.
func eventOf(from, to string) string {
	inAlarm := func(s string) bool { return s == "alarm" || s == "subsiding" }
	switch {
	case inAlarm(from) && inAlarm(to):
		return Changed
	case inAlarm(to):
		return Opened
	case inAlarm(from):
		return Closed
	}
	return Watching
}

// seriesInfo is what a transition's series is.
type seriesInfo struct {
	Key, Sensor, Kind, Name string
	Size                    uint64
}

// seriesOf describes the series key: from the batch's series when it is
// there, else from the key's form (watch.Key.String): SENSOR,
// SENSOR/family/NAME or SENSOR/port/TRANSPORT/PORT.
func seriesOf(key string, known map[string]store.SeriesKey) seriesInfo {
	if k, ok := known[key]; ok {
		return seriesInfo{Key: key, Sensor: k.Sensor, Kind: k.Kind, Name: k.Name, Size: k.Size}
	}
	if i := strings.LastIndex(key, "/family/"); i > 0 && !strings.Contains(key[i+8:], "/") {
		return seriesInfo{Key: key, Sensor: key[:i], Kind: "family", Name: key[i+8:]}
	}
	if i := strings.LastIndex(key, "/port/"); i > 0 {
		return seriesInfo{Key: key, Sensor: key[:i], Kind: "port", Name: key[i+6:]}
	}
	return seriesInfo{Key: key, Sensor: key, Kind: "all"}
}

// estimates are the numbers of a transition's detail; NaN (and a zero
// time) where the detail has none.
type estimates struct {
	Seen                 int64 // -1: unknown
	Infected, InfectedSD float64
	K, KSE               float64 // per hour
	N, NLow, NHigh       float64
	Trend                bool
	Fired                bool // the alarm rule has fired: the Alarm fields are set
	AlarmTime, Onset     time.Time
	AlarmSeen            int64
	AlarmInfected        float64
}

// Detail encodes a watch event's step and alarm as the JSON detail of a
// store.Transition, in the form this package reads (numbers that are not
// finite as null): {"step": {...}, "alarm": {...} or null}. serve may
// write the detail some other way: what alert reads from it is any object
// with a "step" and an "alarm" object (or the step's keys at the top),
// keys matched without regard to case and underscores.
func Detail(step forecast.Step, alarm *forecast.Alarm) json.RawMessage {
	type stepJSON struct {
		Time       time.Time `json:"time"`
		Seen       int64     `json:"seen"`
		Observed   jsonNum   `json:"observed"`
		Infected   jsonNum   `json:"infected"`
		InfectedSD jsonNum   `json:"infected_sd"`
		K          jsonNum   `json:"k_per_hour"`
		KSE        jsonNum   `json:"k_se"`
		N          jsonNum   `json:"n"`
		NLow       jsonNum   `json:"n_low"`
		NHigh      jsonNum   `json:"n_high"`
		Trend      bool      `json:"trend"`
	}
	type alarmJSON struct {
		Time     time.Time `json:"time"`
		Onset    time.Time `json:"onset"`
		Row      int       `json:"row"`
		Seen     int64     `json:"seen"`
		Infected jsonNum   `json:"infected"`
		K        jsonNum   `json:"k_per_hour"`
	}
	out := struct {
		Step  stepJSON   `json:"step"`
		Alarm *alarmJSON `json:"alarm"`
	}{Step: stepJSON{step.Time.UTC(), step.Seen, jsonNum(step.Observed), jsonNum(step.Infected), jsonNum(step.InfectedSD),
		jsonNum(step.K), jsonNum(step.KSE), jsonNum(step.N), jsonNum(step.NLow), jsonNum(step.NHigh), step.Trend}}
	if alarm != nil {
		out.Alarm = &alarmJSON{alarm.Time.UTC(), alarm.Onset.UTC(), alarm.Index + 1, alarm.Seen, jsonNum(alarm.Infected), jsonNum(alarm.K)}
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic(err) // every part marshals: numbers that are not finite are null
	}
	return b
}

// jsonNum is a number that is null in JSON when it is not finite.
type jsonNum float64

// MarshalJSON writes the number, or null.
func (x jsonNum) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(x), 'g', -1, 64), nil
}

// fields decodes a JSON object into its members by normalised key (lower
// case, no underscores); nil for anything else.
func fields(raw json.RawMessage) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		out[strings.ReplaceAll(strings.ToLower(k), "_", "")] = v
	}
	return out
}

// readEstimates reads a transition's detail (see Detail); what it lacks is
// unknown.
func readEstimates(detail json.RawMessage) estimates {
	e := estimates{Seen: -1, Infected: math.NaN(), InfectedSD: math.NaN(), K: math.NaN(), KSE: math.NaN(),
		N: math.NaN(), NLow: math.NaN(), NHigh: math.NaN(), AlarmInfected: math.NaN()}
	top := fields(detail)
	step := top
	if s, ok := top["step"]; ok {
		step = fields(s)
	}
	num := func(m map[string]json.RawMessage, keys ...string) float64 {
		for _, k := range keys {
			var f *float64
			if v, ok := m[k]; ok && json.Unmarshal(v, &f) == nil && f != nil {
				return *f
			}
		}
		return math.NaN()
	}
	if s := num(step, "seen"); !math.IsNaN(s) {
		e.Seen = int64(s)
	}
	e.Infected, e.InfectedSD = num(step, "infected"), num(step, "infectedsd")
	e.K, e.KSE = num(step, "kperhour", "k"), num(step, "kse")
	e.N, e.NLow, e.NHigh = num(step, "n"), num(step, "nlow"), num(step, "nhigh")
	if v, ok := step["trend"]; ok {
		_ = json.Unmarshal(v, &e.Trend) // not a boolean: no trend
	}
	alarm := fields(top["alarm"])
	if alarm == nil {
		return e
	}
	when := func(k string) time.Time {
		var t time.Time
		if v, ok := alarm[k]; ok {
			_ = json.Unmarshal(v, &t) // not a time: unknown
		}
		return t
	}
	e.AlarmTime, e.Onset = when("time"), when("onset")
	e.Fired = !e.AlarmTime.IsZero()
	if s := num(alarm, "seen"); !math.IsNaN(s) {
		e.AlarmSeen = int64(s)
	}
	e.AlarmInfected = num(alarm, "infected")
	return e
}

// compact returns the detail as compact JSON, or null when it is empty or
// not JSON.
func compact(detail json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if len(detail) == 0 || json.Compact(&buf, detail) != nil {
		return json.RawMessage("null")
	}
	return buf.Bytes()
}
