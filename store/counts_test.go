package store

import (
	"slices"
	"testing"
	"time"
)

// TestDeliveryCounts: the outbox's entries counted by channel and state.
func TestDeliveryCounts(t *testing.T) {
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.DeliveryCounts(ctx); err != nil || len(got) != 0 {
		t.Fatalf("empty outbox: %+v %v", got, err)
	}
	if err := s.Enqueue(ctx, []Delivery{
		{Channel: "webhook", Target: "a", Payload: []byte("1")},
		{Channel: "webhook", Target: "b", Payload: []byte("2")},
		{Channel: "webhook", Target: "c", Payload: []byte("3")},
		{Channel: "stix", Target: "d", Payload: []byte("4"), State: Sent},
	}); err != nil {
		t.Fatal(err)
	}
	due, err := s.Due(ctx, time.Now().Add(time.Second), 0)
	if err != nil || len(due) != 3 {
		t.Fatalf("due %+v %v", due, err)
	}
	if err := s.Settle(ctx, due[0].ID, "", time.Time{}, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Settle(ctx, due[1].ID, "refused", time.Now(), 1); err != nil {
		t.Fatal(err)
	}
	got, err := s.DeliveryCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []DeliveryCount{{"stix", Sent, 1}, {"webhook", Dead, 1}, {"webhook", Pending, 1}, {"webhook", Sent, 1}}
	if !slices.Equal(got, want) {
		t.Errorf("counts %+v, want %+v", got, want)
	}
}
