// Package ctxpoll lets long loops and reads honour a cancelled context
// cheaply. A Poller asks its context once every Every calls of Stop, so a
// loop that calls Stop once per step (a probe, an event, a host placed)
// notices Ctrl-C within a bounded number of steps, at the cost of a
// counter; a Reader stops a read of an input at the next buffer.
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

// Reader reads from R until Ctx is done, then fails with Ctx's error: it
// looks before every read, and a read that fails once Ctx is done (one cut
// short by closing the file at cancellation, say) reports Ctx's error, so
// that the caller sees an interruption, not a bad input. A read of a
// buffer at a time makes a long input stop soon after Ctrl-C.
type Reader struct {
	Ctx context.Context
	R   interface{ Read([]byte) (int, error) }
}

// Read reads from R, or fails with Ctx's error once Ctx is done.
func (c Reader) Read(p []byte) (int, error) {
	if err := c.Ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.R.Read(p)
	if err != nil && c.Ctx.Err() != nil {
		return n, c.Ctx.Err()
	}
	return n, err
}
