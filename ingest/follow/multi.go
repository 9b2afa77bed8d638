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
		wg.Go(func() { Run(ctx, in, opt, false, deliver(ctx, i, in.Path, out)) })
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	return out
}

// deliver returns the function with which Run hands FollowAll's input i
// to out: chunks with their lines copied, and errors; it reports false
// once ctx is done.
func deliver(ctx context.Context, i int, path string, out chan<- Delivery) func(Chunk, error) bool {
	return func(c Chunk, err error) bool {
		d := Delivery{Input: i, Path: path, Err: err}
		if err == nil {
			c.Lines = append([]byte(nil), c.Lines...)
			d.Chunk = c
		}
		select {
		case out <- d:
			return true
		case <-ctx.Done():
			return false
		}
	}
}

// Run follows one input until ctx is done or fn returns false, closing
// its Follower then. It calls fn, one call at a time, with each chunk
// (err nil; its Lines are the Follower's buffer, valid only until fn
// returns: fn copies what it keeps) or with an error (the Chunk zero):
//
//   - New failed: fn gets the error; then Run returns, or, with retry,
//     tries New again after Options.Poll (fn gets every failure's error).
//     Options that New refuses end Run whatever retry says.
//   - Next failed: fn gets the error unless it is the one it got from the
//     Next before (the same error is not passed twice in a row), and Run
//     tries again after Options.Poll.
//
// fn is not called once ctx is done. FollowAll runs Run for each of its
// inputs; a caller with a channel of its own runs it in a goroutine with
// a fn that sends there.
func Run(ctx context.Context, in Input, opt Options, retry bool, fn func(Chunk, error) bool) {
	o, err := opt.resolve()
	if err != nil {
		fn(Chunk{}, err)
		return
	}
	var f *Follower
	for f == nil {
		if f, err = New(ctx, in.Path, in.From, o); err != nil {
			if ctx.Err() != nil || !fn(Chunk{}, err) || !retry || !sleep(ctx, o.Poll) {
				return
			}
		}
	}
	defer f.Close()
	var last string
	for {
		c, err := f.Next(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if err.Error() != last && !fn(Chunk{}, err) {
				return
			}
			last = err.Error()
			if !sleep(ctx, o.Poll) {
				return
			}
			continue
		}
		last = ""
		if !fn(c, nil) {
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
