package serve

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"wormwatch/detect"
	"wormwatch/serve/metrics"
	"wormwatch/store"
	"wormwatch/watch"
)

// loop is the ingest loop: the one goroutine that owns the readers'
// states, the matcher, the detect analyzer and the watch, takes the
// inputs' chunks, commits a batch every commit interval and runs the API's
// reads of its state (do).
type loop struct {
	svc  *Service
	cfg  *Config
	st   *store.Store
	log  *slog.Logger
	m    *detect.Matcher
	fams []int
	a    *detect.Analyzer
	w    *watch.Watch
	wcfg watch.Config

	inputs  []*input           // in the store's order (their IDs): the order of reports
	byKey   map[string]*input  // by key
	sources map[string]*source // the configured inputs, by key
	sizes   map[string]uint64  // the sensors' sizes, by name
	chunks  chan chunk
	calls   chan func()
	ctx     context.Context // the sources' parent

	recs      recordLog
	changed   bool         // records or positions since the last commit
	latest    []int64      // per watch sensor: the latest record's time, Unix ns; 0: none
	marks     []seriesMark // per watch series: what was committed
	carry     *store.Batch // a batch whose commit failed, to commit with the next
	full      bool         // the next watch checkpoint must be Full
	logSize   int          // bytes of the watch log stored
	fullSize  int          // bytes of the last full log
	commits   int64        // commits made (kept in the store's meta)
	records   int64        // records counted since the start
	refused   int64        // records the watch refused since the start
	lastWatch string       // the last watch error logged
	evs       []watch.Event
	hot       []byte // the memory of the last watch hot part committed, for the next

	version       int64  // counts the changes of the analyzer's state
	detectCache   []byte // detect's JSON at detectVersion
	detectVersion int64

	remote      remotes             // the remote sensors' pushed series (remote.go)
	pools       []*rowPool          // the pools with remote sensors (pools.go)
	commitStats metrics.CommitStats // the durations of this process's commits, for /metrics
}

// seriesMark is what was committed of a series: its closed rows, its late
// records, and each row's probes (which late records change).
type seriesMark struct {
	rows   int
	late   int64
	probes []int64
}

// maxBatchRecords bounds the encoded records of a batch: past it the
// loop commits without waiting for the tick, so that a batch's memory
// (the records, their copy in the store's transaction) does not grow with
// the rate of the inputs (4 MiB: about 160,000 records of a web log).
const maxBatchRecords = 4 << 20

// run takes chunks, calls and ticks until ctx is done, then commits once
// more and returns; it commits at each tick, and when a batch's records
// reach maxBatchRecords. An error is fatal: the analyzer could not count (a
// temporary file that cannot be written).
func (l *loop) run(ctx context.Context) error {
	tick := time.NewTicker(l.cfg.Service.CommitInterval.D())
	defer tick.Stop()
	every := l.cfg.Service.CommitInterval.D()
	for {
		select {
		case <-ctx.Done():
			return l.commit(context.WithoutCancel(ctx))
		case c := <-l.chunks:
			if err := l.process(c); err != nil {
				return err
			}
			if len(l.recs.buf) >= maxBatchRecords {
				if err := l.commit(ctx); err != nil {
					return err
				}
			}
		case f := <-l.calls:
			f()
		case <-tick.C:
			if err := l.tick(ctx); err != nil {
				return err
			}
			if d := l.cfg.Service.CommitInterval.D(); d != every {
				every = d
				tick.Reset(d)
			}
		}
	}
}

// tick settles the readers that fell quiet, advances the live sensors
// and commits.
func (l *loop) tick(ctx context.Context) error {
	for _, in := range l.inputs {
		if in.lr != nil && in.lr.Pending() > 0 && !in.fed {
			if err := in.lr.Settle(in.emit); err != nil {
				if err := l.countErr(in, err); err != nil {
					return err
				}
			}
			in.dirty, l.changed = true, true
			l.version++
		}
		in.fed = false
	}
	if l.cfg.Service.Clock {
		l.advance(l.svc.now())
	}
	return l.commit(ctx)
}

// process takes one chunk of an input.
func (l *loop) process(c chunk) error {
	src := c.src
	defer putChunkBuf(c.lines) // Feed keeps what it has not read
	if c.gen != src.gen {
		return nil // from a goroutine stopped by a reload
	}
	if c.capture == nil && c.err != nil {
		l.sourceErr(src, c.err)
		return nil
	}
	src.err = ""
	if c.capture != nil {
		return l.feedCapture(src, c)
	}
	in := src.log
	if c.gap != nil {
		l.log.Warn("lines lost", "input", src.cfg.Name, "gap", c.gap.String())
	}
	err := in.lr.Feed(c.lines, in.emit)
	in.pos, in.fed, in.dirty, l.changed = c.pos, true, true, true
	l.version++
	if err != nil {
		return l.countErr(in, err)
	}
	return nil
}

// feedCapture takes a chunk of a capture's records.
func (l *loop) feedCapture(src *source, c chunk) error {
	in := l.byKey[c.capture.key]
	if in == nil {
		if c.err != nil && len(c.recs) == 0 && c.through == 0 {
			l.log.Warn("capture passed over", "input", src.cfg.Name, "file", c.capture.name, "error", c.err)
			return nil
		}
		var err error
		if in, err = l.ensureInput(c.capture.key, c.capture.name, src); err != nil {
			return err
		}
	}
	for i := range c.recs {
		if err := in.emit(&c.recs[i]); err != nil {
			return err
		}
	}
	in.entry, in.through, in.done = c.entry, c.through, c.done
	in.fed, in.dirty, l.changed = true, true, true
	l.version++
	if c.err != nil {
		l.log.Error("capture cut short or damaged: read up to there", "input", src.cfg.Name, "file", c.capture.name, "error", c.err)
	}
	return nil
}

// emitter returns the function that counts the records of an input.
func (l *loop) emitter(in *input) func(*detect.Record) error {
	return func(rec *detect.Record) error {
		l.fams = l.fams[:0]
		if !rec.Attempt {
			l.fams = l.m.Match(rec, l.fams)
		}
		if err := l.a.AddMatched(rec, l.fams); err != nil {
			return &fatalError{err}
		}
		for _, s := range in.sensors { // its sensor's, then its pools' (exact unions: the watch counts each source once)
			if err := l.w.Add(s, rec, l.fams); err != nil {
				l.watchErr(err)
			} else if t := rec.Time.UnixNano(); t > l.latest[s] {
				l.latest[s] = t
			}
		}
		l.recs.add(rec, l.fams)
		l.records++
		in.records++
		return nil
	}
}

// fatalError is an error that stops the service: the analyzer failed.
type fatalError struct{ err error }

// Error returns the analyzer's error.
func (e *fatalError) Error() string { return e.err.Error() }

// Unwrap returns the analyzer's error.
func (e *fatalError) Unwrap() error { return e.err }

// countErr returns a fatal error, and logs any other error of an input's
// reader (an IIS or Zeek header that lacks a field detect needs, say: the
// lines after it in the chunk are passed over, as batch would stop
// there) and shows it in the input's status.
func (l *loop) countErr(in *input, err error) error {
	var fe *fatalError
	if errors.As(err, &fe) {
		return fe.err
	}
	l.log.Error("reading: lines passed over", "input", in.name, "error", err)
	if in.src != nil {
		in.src.err = err.Error()
	}
	return nil
}

// watchErr logs a record the watch refused (past a cap, a time out of
// range), once per kind of error.
func (l *loop) watchErr(err error) {
	l.refused++
	if msg := err.Error(); msg != l.lastWatch {
		l.lastWatch = msg
		l.log.Warn("record refused by the watch (counted in detect's report, not in the series)", "error", msg, "refused", l.refused)
	}
}

// sourceErr records and logs an error of an input's reading, once.
func (l *loop) sourceErr(src *source, err error) {
	if msg := err.Error(); msg != src.err {
		src.err = msg
		l.log.Warn("input not readable (tried again)", "input", src.cfg.Name, "path", src.cfg.Path, "error", msg)
	}
}

// errStopped is the error of a call on a loop that has stopped.
var errStopped = errors.New("the service is stopping")

// do runs f on the loop and waits for it, or for ctx.
func (l *loop) do(ctx context.Context, done <-chan struct{}, f func()) error {
	ran := make(chan struct{})
	select {
	case l.calls <- func() { f(); close(ran) }:
	case <-ctx.Done():
		return ctx.Err()
	case <-done:
		return errStopped
	}
	select {
	case <-ran:
		return nil
	case <-ctx.Done():
		// f runs anyway; its results are not waited for
		return ctx.Err()
	}
}
