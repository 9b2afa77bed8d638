package taxii

import (
	"context"
	"testing"
	"time"
)

// TestTurns: with one turn, a second request waits until the first is
// done, or until the first has been writing for the hold; a turn given
// back by its hold is not given back again when done, so the next still
// waits for the second; no turns (nil) never wait.
func TestTurns(t *testing.T) {
	ts := newTurns(1, 10*time.Millisecond)
	within := func(d time.Duration) context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		t.Cleanup(cancel)
		return ctx
	}
	first := ts.take(within(time.Second))
	if first == nil {
		t.Fatal("no turn free at first")
	}
	if u := ts.take(within(30 * time.Millisecond)); u != nil {
		t.Fatal("a second turn while the first is held, not writing")
	}
	first.writing()
	second := ts.take(within(5 * time.Second))
	if second == nil {
		t.Fatal("the first turn was not given back by its hold")
	}
	first.done()
	if u := ts.take(within(30 * time.Millisecond)); u != nil {
		t.Fatal("done gave back a turn its hold had given back already")
	}
	second.done()
	if u := ts.take(within(time.Second)); u == nil {
		t.Fatal("no turn after the second was done")
	}
	var none *turns
	u := none.take(context.Background())
	u.writing()
	u.done()
	if newTurns(0, time.Second) != nil {
		t.Fatal("newTurns(0) makes turns")
	}
}
