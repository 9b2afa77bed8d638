package alert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"wormwatch/detect"
	"wormwatch/share"
	"wormwatch/share/schematest"
	"wormwatch/store"
)

// planTest plans the four test transitions for two webhooks: "all" with
// the default events, "early" asking only for watching and opened.
func planTest(t *testing.T, mod func(*Config)) ([]store.Delivery, []store.Transition) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Webhooks = []Webhook{hook(t, "all", "https://hooks.example.org/a"), hook(t, "early", "http://127.0.0.1:9/e", Watching, Opened)}
	if mod != nil {
		mod(&cfg)
	}
	ts, keys := testTransitions()
	ds, err := Plan(cfg, ts, Facts{Series: keys, Forecasts: []store.Forecast{testForecast(t)}, Families: families()})
	if err != nil {
		t.Fatal(err)
	}
	return ds, ts
}

// strictEvent decodes a webhook payload, refusing any field Event lacks.
func strictEvent(t *testing.T, b []byte) Event {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var ev Event
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("payload %s: %v", b, err)
	}
	return ev
}

// TestPlan checks what each transition gives: a bundle for the alarm
// transitions of family and port series, a draft for every alarm
// transition, a webhook delivery per webhook that asks for the event, each
// linked to its transition, artifacts stored Sent and webhooks Pending.
func TestPlan(t *testing.T) {
	ds, ts := planTest(t, nil)
	got := map[int][]string{}
	for _, d := range ds {
		got[d.TransitionIndex] = append(got[d.TransitionIndex], d.Channel+":"+d.Target)
		wantState := store.Sent
		if d.Channel == ChannelWebhook {
			wantState = ""
		}
		if d.State != wantState || d.Attempts != 0 || d.TransitionID != 0 {
			t.Errorf("%s %s: state %q attempts %d transition id %d", d.Channel, d.Target, d.State, d.Attempts, d.TransitionID)
		}
	}
	// The artifacts' ids are checked below; here their channels.
	chans := func(i int) []string {
		var out []string
		for _, s := range got[i] {
			c, target, _ := strings.Cut(s, ":")
			if c != ChannelWebhook {
				target = ""
			}
			out = append(out, c+":"+target)
		}
		return out
	}
	want := map[int][]string{
		1: {"stix:", "csaf:", "webhook:all", "webhook:early"}, // family, opened
		2: {"stix:", "csaf:", "webhook:all"},                  // port, changed
		3: {"csaf:", "webhook:all"},                           // all, closed: no pattern, no bundle
		4: {"webhook:early"},                                  // watching: only the webhook that asks
	}
	for i := 1; i <= len(ts); i++ {
		if !slices.Equal(chans(i), want[i]) {
			t.Errorf("transition %d (%s %s -> %s): %v, want %v", i, ts[i-1].Series, ts[i-1].From, ts[i-1].To, chans(i), want[i])
		}
	}
	// Switched off, the artifacts are not made.
	ds, _ = planTest(t, func(c *Config) { c.STIX, c.CSAF, c.Webhooks = false, false, nil })
	if len(ds) != 0 {
		t.Errorf("no webhooks, no artifacts: %d deliveries", len(ds))
	}
}

// TestPayload checks the webhook payloads field by field, against the
// transitions and the artifacts planned with them.
func TestPayload(t *testing.T) {
	ds, ts := planTest(t, nil)
	artifacts := map[string]string{} // by transition index and channel
	for _, d := range ds {
		if d.Channel != ChannelWebhook {
			artifacts[fmt.Sprint(d.TransitionIndex, d.Channel)] = d.Target
		}
	}
	n := 0
	for _, d := range ds {
		if d.Channel != ChannelWebhook {
			continue
		}
		n++
		ev := strictEvent(t, d.Payload)
		tr := ts[d.TransitionIndex-1]
		if ev.Version != 1 || ev.Webhook != d.Target || ev.Series != tr.Series || ev.From != tr.From || ev.To != tr.To || !ev.Time.Equal(tr.Time) ||
			ev.DeliveryID != 0 || ev.TransitionID != 0 || ev.Links.Alarms != "" {
			t.Errorf("payload %+v for transition %+v", ev, tr)
		}
		if ev.STIXBundle != artifacts[fmt.Sprint(d.TransitionIndex, ChannelSTIX)] || ev.CSAFAdvisory != artifacts[fmt.Sprint(d.TransitionIndex, ChannelCSAF)] {
			t.Errorf("transition %d: bundle %q advisory %q, want those planned %v", d.TransitionIndex, ev.STIXBundle, ev.CSAFAdvisory, artifacts)
		}
		if ev.STIXBundle != "" && ev.Links.STIX != "http://127.0.0.1:8080/api/v1/stix/"+ev.STIXBundle {
			t.Errorf("stix link %q", ev.Links.STIX)
		}
		if !bytes.Equal(ev.Estimates, tr.Detail) {
			t.Errorf("estimates %s, want the detail %s", ev.Estimates, tr.Detail)
		}
		switch d.TransitionIndex {
		case 1:
			if ev.Event != Opened || ev.Sensor != "web1" || ev.Kind != "family" || ev.Family != "codered2" || ev.FamilyTitle != "Code Red II" || ev.Port != "" ||
				ev.AlarmTime == nil || !ev.AlarmTime.Equal(t0) || ev.Onset == nil || !ev.Onset.Equal(t0.Add(-3*time.Hour)) ||
				ev.Links.Forecast != "http://127.0.0.1:8080/api/v1/forecast?sensor=web1" {
				t.Errorf("opened: %+v", ev)
			}
		case 2:
			if ev.Event != Changed || ev.Sensor != "tel" || ev.Kind != "port" || ev.Port != "tcp/80" || ev.Family != "" {
				t.Errorf("changed: %+v", ev)
			}
		case 3:
			if ev.Event != Closed || ev.Sensor != "tel" || ev.Kind != "all" || ev.STIXBundle != "" {
				t.Errorf("closed: %+v", ev)
			}
		case 4:
			if ev.Event != Watching || ev.AlarmTime != nil || ev.Onset != nil || ev.CSAFAdvisory != "" {
				t.Errorf("watching: %+v", ev)
			}
		}
	}
	if n != 5 {
		t.Errorf("%d webhook deliveries, want 5", n)
	}
}

// TestArtifactsValid validates every bundle against the OASIS STIX 2.1
// schemas and every draft against the CSAF 2.0 schema (with FIRST's CVSS
// schemas, and strict), as package share's tests do, and checks what
// they say.
func TestArtifactsValid(t *testing.T) {
	ds, ts := planTest(t, nil)
	for _, d := range ds {
		switch d.Channel {
		case ChannelSTIX:
			if err := schematest.Validate(schematest.STIX, d.Payload); err != nil {
				t.Fatalf("bundle of transition %d: %v", d.TransitionIndex, err)
			}
			checkBundle(t, d, ts[d.TransitionIndex-1])
		case ChannelCSAF:
			for _, k := range []schematest.Kind{schematest.CSAF, schematest.CSAFStrict} {
				if err := schematest.Validate(k, d.Payload); err != nil {
					t.Fatalf("draft of transition %d: %v", d.TransitionIndex, err)
				}
			}
			checkDraft(t, d, ts[d.TransitionIndex-1])
		}
	}
}

// checkBundle checks a bundle's id, indicator and sighting.
func checkBundle(t *testing.T, d store.Delivery, tr store.Transition) {
	t.Helper()
	var b struct {
		ID      string           `json:"id"`
		Objects []map[string]any `json:"objects"`
	}
	if err := json.Unmarshal(d.Payload, &b); err != nil {
		t.Fatal(err)
	}
	if b.ID != d.Target {
		t.Errorf("bundle id %s, target %s", b.ID, d.Target)
	}
	byType := map[string][]map[string]any{}
	for _, o := range b.Objects {
		byType[o["type"].(string)] = append(byType[o["type"].(string)], o)
	}
	if len(byType["indicator"]) != 1 || len(byType["sighting"]) != 1 || len(byType["identity"]) != 1 || len(byType["marking-definition"]) != 1 {
		t.Fatalf("bundle of %s: objects %v", tr.Series, b.Objects)
	}
	ind, sg := byType["indicator"][0], byType["sighting"][0]
	wantPattern := "[network-traffic:dst_port = 80 AND network-traffic:protocols[*] = 'tcp']"
	if tr.Series == "web1/family/codered2" {
		fams := families()
		i := slices.IndexFunc(fams, func(f detect.Family) bool { return f.Name == "codered2" })
		wantPattern = fams[i].Pattern()
	}
	if ind["pattern"] != wantPattern || sg["sighting_of_ref"] != ind["id"] {
		t.Errorf("%s: pattern %v, want %s; sighting of %v", tr.Series, ind["pattern"], wantPattern, sg["sighting_of_ref"])
	}
	if sg["count"] != 1834.0 || sg["first_seen"] != "2001-07-19T10:00:00.000Z" || sg["last_seen"] != tr.Time.UTC().Format("2006-01-02T15:04:05.000Z") {
		t.Errorf("%s: sighting %v", tr.Series, sg)
	}
	if desc, _ := sg["description"].(string); !strings.Contains(desc, "1,834 distinct sources seen") || !strings.Contains(desc, "about 2,210 hosts infected (± 180)") {
		t.Errorf("%s: sighting description %q", tr.Series, desc)
	}
}

// checkDraft checks a draft's tracking, category and the numbers in its
// notes.
func checkDraft(t *testing.T, d store.Delivery, tr store.Transition) {
	t.Helper()
	c, err := share.ReadCSAF(bytes.NewReader(d.Payload))
	if err != nil {
		t.Fatal(err)
	}
	doc := c.Document
	tk := doc.Tracking
	if tk.ID != d.Target || tk.ID != TrackingID(tr) || tk.Status != "draft" || tk.Version != "0" || len(tk.RevisionHistory) != 1 || tk.RevisionHistory[0].Number != "0" ||
		tk.InitialReleaseDate != tr.Time.UTC().Format(time.RFC3339) || doc.Category != "csaf_security_incident_response" || doc.Distribution.TLP.Label != "AMBER" {
		t.Errorf("%s: document %+v", tr.Series, doc)
	}
	var text strings.Builder
	for _, n := range doc.Notes {
		text.WriteString(n.Text + "\n")
	}
	wants := []string{"1,834", "2,210", "0.71 per hour", "351,000 (280,000 to 440,000)"}
	switch tr.Series {
	case "web1/family/codered2":
		wants = append(wants, "298,000 (210,000 to 350,000)", "midpoint at 2001-07-19 20:00 UTC") // the forecast
		if len(c.Vulnerabilities) != 1 || c.Vulnerabilities[0].CVE != "CVE-2001-0500" {
			t.Errorf("vulnerabilities %+v", c.Vulnerabilities)
		}
	case "tel/port/tcp/80":
		if !slices.ContainsFunc(doc.References, func(r share.Reference) bool { return strings.HasSuffix(r.URL, "search=80") }) {
			t.Errorf("port 80: references %+v", doc.References)
		}
	}
	for _, w := range wants {
		if !strings.Contains(text.String(), w) {
			t.Errorf("%s: the notes lack %q:\n%s", tr.Series, w, text.String())
		}
	}
}

// TestPlanDeterministic: the same transitions give the same bytes; a
// transition at another time gets other ids.
func TestPlanDeterministic(t *testing.T) {
	a, _ := planTest(t, nil)
	b, _ := planTest(t, nil)
	if len(a) != len(b) {
		t.Fatalf("%d and %d deliveries", len(a), len(b))
	}
	for i := range a {
		if a[i].Target != b[i].Target || !bytes.Equal(a[i].Payload, b[i].Payload) {
			t.Errorf("delivery %d differs between two plans", i)
		}
	}
	ts, _ := testTransitions()
	other := ts[0]
	other.Time = other.Time.Add(time.Minute)
	if TrackingID(other) == TrackingID(ts[0]) {
		t.Error("two transitions share a tracking id")
	}
}

// TestPlanCommit commits planned deliveries with their transitions in a
// real store: each is linked to its transition's id, and the body sent
// carries the ids and the link to the alarms from it on.
func TestPlanCommit(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	cfg := DefaultConfig()
	cfg.Webhooks = []Webhook{hook(t, "all", "https://hooks.example.org/a")}
	ts, keys := testTransitions()
	commitTransitions(t, st, cfg, ts[:1], keys[:1]) // a first transition, so ids are not all 1
	b := commitTransitions(t, st, cfg, ts[1:3], keys[1:3])
	due, err := st.Due(t.Context(), time.Now().Add(time.Minute), 0)
	if err != nil {
		t.Fatal(err)
	}
	sent, _ := st.Deliveries(t.Context(), store.Sent, 0)
	if len(due) != 3 || len(sent) != 5 {
		t.Fatalf("%d pending and %d sent, want 3 webhooks and 5 artifacts", len(due), len(sent))
	}
	for _, d := range due {
		ev := strictEvent(t, Complete(d, "http://wormwatch.test:8080/"))
		var tr store.Transition
		for _, x := range append(ts[:1:1], b.Transitions...) {
			if x.ID == d.TransitionID {
				tr = x
			}
		}
		if tr.ID == 0 || ev.Series != tr.Series || ev.DeliveryID != d.ID || ev.TransitionID != tr.ID ||
			ev.Links.Alarms != fmt.Sprintf("http://wormwatch.test:8080/api/v1/alarms?after=%d", tr.ID-1) {
			t.Errorf("delivery %d of transition %d: %+v", d.ID, d.TransitionID, ev)
		}
	}
	// What is not a version 1 payload is sent as it is.
	raw := store.Delivery{ID: 3, Payload: []byte(`{"hello":1}`)}
	if string(Complete(raw, "")) != `{"hello":1}` {
		t.Error("a foreign payload was changed")
	}
}

// TestEventOf classifies every transition of the state machine.
func TestEventOf(t *testing.T) {
	for _, c := range []struct{ from, to, want string }{
		{"quiet", "watching", Watching}, {"watching", "quiet", Watching},
		{"quiet", "alarm", Opened}, {"watching", "alarm", Opened},
		{"alarm", "subsiding", Changed}, {"subsiding", "alarm", Changed},
		{"subsiding", "quiet", Closed}, {"alarm", "quiet", Closed}, {"subsiding", "watching", Closed},
	} {
		if got := eventOf(c.from, c.to); got != c.want {
			t.Errorf("%s -> %s: %s, want %s", c.from, c.to, got, c.want)
		}
	}
}

// TestSeriesOf reads series keys that the batch does not describe.
func TestSeriesOf(t *testing.T) {
	for key, want := range map[string]seriesInfo{
		"web1":                    {Key: "web1", Sensor: "web1", Kind: "all"},
		"web1/family/codered2":    {Key: "web1/family/codered2", Sensor: "web1", Kind: "family", Name: "codered2"},
		"tel/port/tcp/80":         {Key: "tel/port/tcp/80", Sensor: "tel", Kind: "port", Name: "tcp/80"},
		"a/b/port/udp/53":         {Key: "a/b/port/udp/53", Sensor: "a/b", Kind: "port", Name: "udp/53"},
		"x/family/y/family/nimda": {Key: "x/family/y/family/nimda", Sensor: "x/family/y", Kind: "family", Name: "nimda"},
	} {
		if got := seriesOf(key, nil); got != want {
			t.Errorf("%s: %+v, want %+v", key, got, want)
		}
	}
	known := map[string]store.SeriesKey{"odd": {Key: "odd", Sensor: "s", Kind: "port", Name: "tcp/8080", Size: 256}}
	if got := seriesOf("odd", known); got.Kind != "port" || got.Size != 256 {
		t.Errorf("a series of the batch: %+v", got)
	}
}

// TestReadEstimates reads details in Detail's form (with null for what is
// not estimated), with Go's field names and flat.
func TestReadEstimates(t *testing.T) {
	e := readEstimates(alarmDetail())
	if e.Seen != 1834 || e.Infected != 2210.4 || e.InfectedSD != 180.2 || e.K != 0.71 || e.KSE != 0.06 || e.N != 351000 || e.NLow != 280000 || e.NHigh != 440000 ||
		!e.Trend || !e.Fired || !e.AlarmTime.Equal(t0) || !e.Onset.Equal(t0.Add(-3*time.Hour)) || e.AlarmSeen != 1834 {
		t.Errorf("alarm detail: %+v", e)
	}
	if !strings.Contains(string(earlyDetail()), `"infected":null`) {
		t.Errorf("NaN is not null: %s", earlyDetail())
	}
	e = readEstimates(earlyDetail())
	if e.Seen != 12 || !math.IsNaN(e.Infected) || !math.IsNaN(e.N) || e.K != 0.4 || e.Fired {
		t.Errorf("early detail: %+v", e)
	}
	e = readEstimates(json.RawMessage(`{"Step":{"Seen":5,"InfectedSD":3,"K":1.5},"Alarm":{"Time":"2001-07-19T13:00:00Z","Onset":"2001-07-19T12:00:00Z"}}`))
	if e.Seen != 5 || e.InfectedSD != 3 || e.K != 1.5 || !e.Fired || !e.Onset.Equal(t0.Add(-time.Hour)) {
		t.Errorf("Go's names: %+v", e)
	}
	e = readEstimates(json.RawMessage(`{"seen":7,"k_per_hour":2}`))
	if e.Seen != 7 || e.K != 2 || e.Fired {
		t.Errorf("flat: %+v", e)
	}
	e = readEstimates(json.RawMessage(`"nonsense"`))
	if e.Seen != -1 || !math.IsNaN(e.K) {
		t.Errorf("not an object: %+v", e)
	}
}

// TestHookCarried: serve's hook gets the transitions new in a batch that
// carries a failed commit's transitions and deliveries. Only the new ones
// are planned, each delivery linked to its own transition once
// committed.
func TestHookCarried(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Webhooks = []Webhook{hook(t, "all", "https://hooks.example.org/a")}
	h := Hook(func() Config { return cfg }, families(), quiet)
	ts, keys := testTransitions()
	b := &store.Batch{}
	for _, k := range keys {
		b.Series = append(b.Series, store.SeriesRows{Series: k, Rows: []store.Row{{Time: t0, Probes: 1, Sources: 1, NewSources: 1, CumulativeSources: 1}}})
	}
	b.Transitions = ts[:1]
	h(b.Transitions, b) // the failed commit's
	carried := len(b.Deliveries)
	b.Transitions = append(b.Transitions, ts[1:3]...)
	h(b.Transitions[1:], b) // the next commit's new transitions
	if carried != 3 || len(b.Deliveries) != 3+3+2 {
		t.Fatalf("%d deliveries carried, %d in all; want 3 and 8", carried, len(b.Deliveries))
	}
	st := openStore(t, t.TempDir())
	defer st.Close()
	if err := st.Commit(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	due, _ := st.Due(t.Context(), time.Now().Add(time.Minute), 0)
	bySeries := map[string]int64{}
	for _, tr := range b.Transitions {
		bySeries[tr.Series] = tr.ID
	}
	if len(due) != 3 {
		t.Fatalf("%d webhook deliveries, want 3", len(due))
	}
	for _, d := range due {
		if ev := strictEvent(t, d.Payload); bySeries[ev.Series] != d.TransitionID {
			t.Errorf("delivery of %s linked to transition %d, want %d", ev.Series, d.TransitionID, bySeries[ev.Series])
		}
	}
	if err := AddDeliveries(cfg, &store.Batch{}, ts[:1], nil); err == nil {
		t.Error("more new transitions than the batch has: no error")
	}
}

// TestPlanArtifactError: a family whose pattern share refuses loses its
// bundle, with an error, but not its draft nor its webhook delivery.
func TestPlanArtifactError(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Webhooks = []Webhook{hook(t, "all", "https://hooks.example.org/a")}
	fams := families()
	i := slices.IndexFunc(fams, func(f detect.Family) bool { return f.Name == "codered2" })
	fams[i].STIXPattern = "[url:value MATCHES"
	ts, keys := testTransitions()
	ds, err := Plan(cfg, ts[:1], Facts{Series: keys, Families: fams})
	if err == nil || !strings.Contains(err.Error(), "STIX bundle") {
		t.Errorf("error %v, want one about the STIX bundle", err)
	}
	var chans []string
	for _, d := range ds {
		chans = append(chans, d.Channel)
	}
	if !slices.Equal(chans, []string{ChannelCSAF, ChannelWebhook}) {
		t.Errorf("planned %v, want the draft and the webhook", chans)
	}
}
