package store

import (
	"errors"
	"testing"
	"time"
)

// TestDeliveryQueries commits two transitions with their outbox entries
// (a STIX bundle, a CSAF draft and a webhook delivery each), lets one
// webhook delivery die and enqueues it again, and checks the queries of
// the API: DeliveryList by state and channel, newest first, without
// payloads, with the transitions' series and states and the dead letter's
// replacement; DeliveryByID and Artifact with their payloads; RetriedBy;
// ErrNotFound for what is not stored.
func TestDeliveryQueries(t *testing.T) {
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2001, 7, 19, 14, 49, 0, 0, time.UTC)
	key := SeriesKey{Key: "web/family/codered1", Sensor: "web", Kind: "family", Name: "codered1", Size: 1, Interval: time.Minute}
	b := &Batch{
		Series:      []SeriesRows{{Series: key, Rows: []Row{{Time: at.Add(-time.Minute), Probes: 1, Sources: 1, NewSources: 1, CumulativeSources: 1}}}},
		Transitions: []Transition{{Series: key.Key, Time: at, From: "watching", To: "alarm", Detail: []byte("{}")}, {Series: key.Key, Time: at.Add(time.Hour), From: "alarm", To: "subsiding", Detail: []byte("{}")}},
	}
	for i := range 2 {
		b.Deliveries = append(b.Deliveries,
			Delivery{TransitionIndex: i + 1, Channel: "stix", Target: "bundle--" + string(rune('a'+i)), Payload: []byte(`{"type":"bundle"}`), State: Sent},
			Delivery{TransitionIndex: i + 1, Channel: "csaf", Target: "WORMWATCH-LIVE-" + string(rune('A'+i)), Payload: []byte(`{"document":{}}`), State: Sent},
			Delivery{TransitionIndex: i + 1, Channel: "webhook", Target: "soc", Payload: []byte(`{"event":"opened"}`)})
	}
	if err := s.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	// Commit does not set the IDs of b's entries: they are 1 to 6, in order.
	hook, err := s.DeliveryByID(ctx, 3) // the first transition's webhook delivery
	if err != nil || hook.Channel != "webhook" || hook.TransitionID != b.Transitions[0].ID || string(hook.Payload) != `{"event":"opened"}` {
		t.Fatalf("DeliveryByID(3): %+v %v", hook, err)
	}
	if err := s.Settle(ctx, hook.ID, "500 Internal Server Error", time.Now(), 1); err != nil {
		t.Fatal(err)
	}
	if id, err := s.RetriedBy(ctx, hook); err != nil || id != 0 {
		t.Fatalf("RetriedBy before a retry: %d %v", id, err)
	}
	again := []Delivery{{TransitionID: hook.TransitionID, Channel: hook.Channel, Target: hook.Target, Payload: hook.Payload}}
	if err := s.Enqueue(ctx, again); err != nil {
		t.Fatal(err)
	}
	if id, err := s.RetriedBy(ctx, hook); err != nil || id != again[0].ID {
		t.Fatalf("RetriedBy: %d %v, want %d", id, err, again[0].ID)
	}

	checkDeliveryList(t, s, key.Key, hook, again[0].ID, at)

	d, err := s.DeliveryByID(ctx, 2)
	if err != nil || string(d.Payload) != `{"document":{}}` || d.Channel != "csaf" || d.Target != "WORMWATCH-LIVE-A" || d.TransitionID != hook.TransitionID {
		t.Errorf("DeliveryByID: %+v %v", d, err)
	}
	a, err := s.Artifact(ctx, "stix", "bundle--b")
	if err != nil || a.ID != 4 || string(a.Payload) != `{"type":"bundle"}` {
		t.Errorf("Artifact: %+v %v", a, err)
	}
	if _, err := s.DeliveryByID(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeliveryByID of nothing: %v", err)
	}
	if _, err := s.Artifact(ctx, "csaf", "bundle--a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Artifact of another channel: %v", err)
	}
}

// checkDeliveryList checks DeliveryList on TestDeliveryQueries's outbox:
// hook is the dead letter enqueued again as retry, of a transition at at
// of series key.
func checkDeliveryList(t *testing.T, s *Store, key string, hook Delivery, retry int64, at time.Time) {
	t.Helper()
	all, err := s.DeliveryList(ctx, DeliveryQuery{})
	if err != nil || len(all) != 7 {
		t.Fatalf("DeliveryList: %d entries, %v", len(all), err)
	}
	for i, l := range all {
		if i > 0 && l.ID >= all[i-1].ID {
			t.Errorf("not newest first: %d after %d", l.ID, all[i-1].ID)
		}
		if l.Payload != nil || l.Series != key || l.TransitionTime.IsZero() {
			t.Errorf("entry %d: payload %q, series %q, time %v", l.ID, l.Payload, l.Series, l.TransitionTime)
		}
	}
	dead, err := s.DeliveryList(ctx, DeliveryQuery{State: Dead, Channel: "webhook"})
	if err != nil || len(dead) != 1 || dead[0].ID != hook.ID || dead[0].RetriedBy != retry || dead[0].From != "watching" || dead[0].To != "alarm" ||
		!dead[0].TransitionTime.Equal(at) || dead[0].Attempts != 1 || dead[0].LastError == "" {
		t.Fatalf("dead webhook deliveries: %+v %v", dead, err)
	}
	stix, _ := s.DeliveryList(ctx, DeliveryQuery{Channel: "stix", Limit: 1})
	if len(stix) != 1 || stix[0].Target != "bundle--b" || stix[0].RetriedBy != 0 {
		t.Errorf("the latest STIX bundle: %+v", stix)
	}
	older, _ := s.DeliveryList(ctx, DeliveryQuery{Channel: "stix", BeforeID: stix[0].ID})
	if len(older) != 1 || older[0].Target != "bundle--a" {
		t.Errorf("the STIX bundles before %d: %+v", stix[0].ID, older)
	}
	if pending, _ := s.DeliveryList(ctx, DeliveryQuery{State: Pending}); len(pending) != 2 {
		t.Errorf("%d pending, want 2 (the second webhook delivery and the retry)", len(pending))
	}
}
