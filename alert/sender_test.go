package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"wormwatch/store"
)

// TestTAXIIChannel: with taxii_collection, each STIX bundle planned gets
// a taxii delivery of the same bytes to the collection, worked off by
// the channel's Sender: a failure is retried with backoff, ErrPermanent
// kills it at once, success settles it; taxii_collection needs
// taxii_member and stix.
func TestTAXIIChannel(t *testing.T) {
	mod := func(c *Config) { c.TAXII, c.TAXIIMember = "amber", "cert-north" }
	s := setup(t, t.TempDir(), 3, nil, nil, mod)
	var all []store.Delivery
	for _, state := range []string{store.Pending, store.Sent} {
		ds, err := s.st.Deliveries(t.Context(), state, 0)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ds...)
	}
	bundles := map[int64][]byte{}
	var shares []store.Delivery
	for _, d := range all {
		switch d.Channel {
		case ChannelSTIX:
			bundles[d.TransitionID] = d.Payload
		case ChannelTAXII:
			shares = append(shares, d)
		}
	}
	if len(shares) == 0 || len(shares) != len(bundles) {
		t.Fatalf("%d taxii deliveries for %d bundles", len(shares), len(bundles))
	}
	for _, d := range shares {
		if d.Target != "amber" || d.State != store.Pending || !bytes.Equal(d.Payload, bundles[d.TransitionID]) {
			t.Errorf("taxii delivery %+v: want target amber, pending, its transition's bundle", d)
		}
	}
	tries := map[int64]int{}
	send := func(_ context.Context, d store.Delivery) error {
		tries[d.ID]++
		switch {
		case d.ID == shares[0].ID:
			return fmt.Errorf("%w: refused", ErrPermanent)
		case d.ID == shares[len(shares)-1].ID && tries[d.ID] == 1 && len(shares) > 1:
			return errors.New("store busy")
		}
		return nil
	}
	var err error
	if s.d, err = NewDeliverer(s.st, s.cfg, Options{Logger: quiet, Now: s.clock.Now, Seed: 1, Senders: map[string]Sender{ChannelTAXII: send}}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		s.round(t)
		s.clock.Set(s.clock.Now().Add(time.Hour))
	}
	for _, d := range shares {
		got, err := s.st.DeliveryByID(t.Context(), d.ID)
		if err != nil {
			t.Fatal(err)
		}
		want, wantTries := store.Sent, 1
		switch {
		case d.ID == shares[0].ID:
			want = store.Dead
		case d.ID == shares[len(shares)-1].ID && len(shares) > 1:
			wantTries = 2
		}
		if got.State != want || tries[d.ID] != wantTries {
			t.Errorf("delivery %d: %s after %d tries, want %s after %d", d.ID, got.State, tries[d.ID], want, wantTries)
		}
	}
	for _, c := range []Config{{TAXII: "amber"}, {TAXIIMember: "x"}, {TAXII: "amber", TAXIIMember: "x"}} {
		cfg := DefaultConfig()
		cfg.TAXII, cfg.TAXIIMember, cfg.STIX = c.TAXII, c.TAXIIMember, c.TAXII == "" || c.TAXIIMember == ""
		if err := cfg.Check(); err == nil {
			t.Errorf("taxii_collection %q, taxii_member %q, stix %v: no error", cfg.TAXII, cfg.TAXIIMember, cfg.STIX)
		}
	}
}
