package follow

import (
	"context"
	"sync"
	"time"
)

// Input is one path for FollowAll, and where to resume it (the zero
// Position: as Options.Start says).
type Input struct {
	Path string
	From Position
}

// Delivery is a chunk, or an error, of one input of FollowAll.
type Delivery struct {
	Input int    // index of the input in FollowAll's inputs
	Path  string // its path
	Chunk Chunk  // Lines is the receiver's own copy
	// Err is not nil when the input could not be set up (it is then
	// dropped) or Next failed (it is tried again every Options.Poll; the
	// same error is not delivered twice in a row).
	Err error
}

// FollowAll follows every input, one goroutine each, and delivers their
// chunks on the returned channel (in order for each input). Cancel ctx to
// stop: every Follower is then closed, and the channel is closed after
// the last of them. The receiver need not drain the channel after
// cancelling.
func FollowAll(ctx context.Context, inputs []Input, opt Options) <-chan Delivery {
	out := make(chan Delivery, len(inputs))
	var wg sync.WaitGroup
	for i, in := range inputs {
		wg.Go(func() { followOne(ctx, i, in, opt, out) })
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	return out
}

// followOne runs one input of FollowAll until ctx is done.
func followOne(ctx context.Context, i int, in Input, opt Options, out chan<- Delivery) {
	send := func(d Delivery) bool {
		d.Input, d.Path = i, in.Path
		select {
		case out <- d:
			return true
		case <-ctx.Done():
			return false
		}
	}
	f, err := New(ctx, in.Path, in.From, opt)
	if err != nil {
		send(Delivery{Err: err})
		return
	}
	defer f.Close()
	var last string
	for {
		c, err := f.Next(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if err.Error() != last && !send(Delivery{Err: err}) {
				return
			}
			last = err.Error()
			if !sleep(ctx, f.opt.Poll) {
				return
			}
			continue
		}
		last = ""
		c.Lines = append([]byte(nil), c.Lines...)
		if !send(Delivery{Chunk: c}) {
			return
		}
	}
}

// sleep waits d, or until ctx is done (false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
