// Package ctxpoll lets long loops honour a cancelled context cheaply: a
// Poller asks its context once every Every calls of Stop, so a loop that
// calls Stop once per step (a probe, an event, a host placed) notices
// Ctrl-C within a bounded number of steps, at the cost of a counter.
//
// The engine and the population placement use it; nothing they compute
// depends on it, so a run that is not cancelled is the same with it or
// without it.
package ctxpoll

import "context"

// Every is how many calls of Stop pass between two looks at the context.
const Every = 1024

// Poller watches one context. The zero Poller and a nil *Poller never stop.
type Poller struct {
	ctx context.Context
	n   uint32
	err error
}

// New returns a Poller of ctx.
func New(ctx context.Context) *Poller { return &Poller{ctx: ctx} }

// Stop reports whether the context is done, looking at it at the first call
// and then once every Every calls; once it has seen it done, it always
// reports true.
func (p *Poller) Stop() bool {
	if p == nil || p.ctx == nil {
		return false
	}
	if p.err != nil {
		return true
	}
	p.n++
	if p.n%Every != 1 {
		return false
	}
	p.err = p.ctx.Err()
	return p.err != nil
}

// Now looks at the context at once (between phases of a long setup) and
// reports whether it is done.
func (p *Poller) Now() bool {
	if p == nil || p.ctx == nil {
		return false
	}
	if p.err == nil {
		p.err = p.ctx.Err()
	}
	return p.err != nil
}

// Err returns the context's error once Stop or Now has seen it done, else
// nil.
func (p *Poller) Err() error {
	if p == nil {
		return nil
	}
	return p.err
}
