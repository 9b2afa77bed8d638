package ctxpoll

import (
	"context"
	"errors"
	"testing"
)

func TestPoller(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	p := New(ctx)
	for i := range 3 * Every {
		if p.Stop() {
			t.Fatalf("stopped at call %d before the cancel", i)
		}
	}
	cancel()
	calls := 0
	for !p.Stop() {
		calls++
		if calls > Every {
			t.Fatal("Stop did not notice the cancel within Every calls")
		}
	}
	if !errors.Is(p.Err(), context.Canceled) || !p.Stop() || !p.Now() {
		t.Errorf("after the cancel: Err %v", p.Err())
	}
	// Now looks at once.
	ctx2, cancel2 := context.WithCancel(context.Background())
	q := New(ctx2)
	q.Stop()
	cancel2()
	if !q.Now() || !errors.Is(q.Err(), context.Canceled) {
		t.Errorf("Now after the cancel: %v", q.Err())
	}
	// A cancelled context is seen at the first call.
	if !New(ctx).Stop() {
		t.Error("the first Stop did not look at the context")
	}
	var nilP *Poller
	if nilP.Stop() || nilP.Now() || nilP.Err() != nil || new(Poller).Stop() {
		t.Error("a nil or zero Poller stopped")
	}
}
