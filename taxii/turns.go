package taxii

import (
	"context"
	"sync"
	"time"
)

// turns lets a few requests for pages of objects be answered at a time,
// in the order they came, the others waiting for their turn: with 100
// readers, each page then waits for those before it and is answered at
// full speed, rather than all progressing together and finishing late,
// some much later than others (the group commit of their audit entries
// and the writes of their bodies served in no order). A channel's
// waiting senders are woken first come, first served, which makes it the
// queue.
type turns struct {
	ch   chan struct{}
	hold time.Duration
}

// turnsPerProc is how many requests for pages are answered at once for
// each processor Go runs on (GOMAXPROCS): more than one, so that while
// some wait for their audit entries' group commit others are written, and
// a commit holds several entries.
const turnsPerProc = 4

// turnHold bounds how long a page keeps its turn once its body is being
// written: a client reading slowly (a page takes 5 ms at 800 Mbit/s)
// holds up those queued after it that long at most, and the rest of its
// page is written beside the others'.
const turnHold = 5 * time.Millisecond

// newTurns makes n turns (nil, none, when n < 1: every request is
// answered at once).
func newTurns(n int, hold time.Duration) *turns {
	if n < 1 {
		return nil
	}
	return &turns{ch: make(chan struct{}, n), hold: hold}
}

// turn is one request's turn; nil is none, whose methods do nothing.
type turn struct {
	t     *turns
	once  sync.Once
	timer *time.Timer
}

// take waits for a turn, or for ctx to end (nil).
func (t *turns) take(ctx context.Context) *turn {
	if t == nil {
		return nil
	}
	select {
	case t.ch <- struct{}{}:
		return &turn{t: t}
	case <-ctx.Done():
		return nil
	}
}

// writing starts the hold: the turn is given back at the latest that
// long after.
func (u *turn) writing() {
	if u != nil && u.timer == nil {
		u.timer = time.AfterFunc(u.t.hold, u.give)
	}
}

// done gives the turn back, if it was not already.
func (u *turn) done() {
	if u == nil {
		return
	}
	if u.timer != nil {
		u.timer.Stop()
	}
	u.give()
}

// give makes the turn someone else's, once.
func (u *turn) give() { u.once.Do(func() { <-u.t.ch }) }
