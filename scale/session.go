package scale

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"wormwatch/report"
	"wormwatch/sweep"
)

// Session is a job whose tasks are not known in advance: sweeps and
// calibrations, which run one simulation at a time from each of their
// --workers goroutines (a calibration only knows a generation's
// parameters once the previous generation is in). Each call of Do
// publishes one task and waits for its seeds. A session has one job id
// and one results bucket for all its tasks, so that a task costs one
// publish, one stored object and its fetch, not a bucket of its own.
type Session struct {
	js     jetstream.JetStream
	obj    jetstream.ObjectStore
	id     string
	cancel context.CancelFunc
	wctx   context.Context // the dispatcher's: cancelled by Close
	log    func(format string, a ...any)
	// deaf, if set (tests), makes the dispatcher ignore the watch's
	// updates, as if it missed them all: only Do's poll finds results.
	deaf atomic.Bool
	done chan struct{} // closed when the dispatcher has returned
	sub  *nats.Subscription

	mu      sync.Mutex
	next    int             // the next task's number
	waiting map[int]*waiter // tasks published and not yet answered
	seqTask map[uint64]int  // stream sequence → task, for the MaxDeliver advisory
	fatal   error           // set when the dispatcher stopped: every Do fails with it
	maxDel  int             // the consumer's MaxDeliver, for messages
	fetches sync.WaitGroup  // fetches in progress
	closeMu sync.Once
}

// waiter is a Do call waiting for its task's seeds.
type waiter struct {
	pending map[uint64]bool // seeds not yet fetched (or on their way)
	results chan fetched
}

type fetched struct {
	r   *SeedResult
	err error
}

// Open starts a session: it makes sure the stream and the consumer exist,
// creates the session's results bucket and starts watching it. Close
// removes what is left of it.
func (c *Client) Open(ctx context.Context) (*Session, error) {
	js, err := jetstream.New(c.Conn)
	if err != nil {
		return nil, err
	}
	cons, err := ensure(ctx, js, c.Config)
	if err != nil {
		return nil, err
	}
	s := &Session{js: js, log: c.Log, waiting: map[int]*waiter{}, seqTask: map[uint64]int{}, done: make(chan struct{}), maxDel: c.Config.orDefault().MaxDeliver}
	if info := cons.CachedInfo(); info != nil && info.Config.MaxDeliver > 0 {
		s.maxDel = info.Config.MaxDeliver
	}
	if s.id, err = newJobID(); err != nil {
		return nil, err
	}
	s.obj, err = js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      bucketName(s.id),
		Description: "results of wormwatch job " + s.id,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("creating the results bucket %s: %w", bucketName(s.id), err)
	}
	wctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.wctx = cancel, wctx
	watch, err := s.obj.Watch(wctx)
	if err == nil {
		s.sub, err = c.Conn.Subscribe(maxDeliverAd, s.advisory)
		if err != nil {
			watch.Stop()
		}
	}
	if err != nil {
		cancel()
		close(s.done)
		s.remove()
		return nil, err
	}
	if c.Log != nil {
		c.Log("job %s: tasks go to stream %s as they come, results to bucket %s", s.id, Stream, bucketName(s.id))
	}
	go s.dispatch(wctx, watch)
	return s, nil
}

// advisory fails the Do call of a task that the server gave up after
// MaxDeliver deliveries.
func (s *Session) advisory(m *nats.Msg) {
	var a struct {
		StreamSeq uint64 `json:"stream_seq"`
	}
	if json.Unmarshal(m.Data, &a) != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.seqTask[a.StreamSeq]
	if !ok {
		return
	}
	if w := s.waiting[n]; w != nil {
		delete(s.waiting, n)
		w.results <- fetched{err: &RemoteError{Task: n, Msg: fmt.Sprintf("handed out %d times without an ack (every worker that took it died, disconnected or stalled); the job is given up", s.maxDel)}}
	}
}

// dispatch hands each stored seed of a waiting task to a fetch, until ctx
// is cancelled (Close) or the watch ends (then every Do fails).
func (s *Session) dispatch(ctx context.Context, watch jetstream.ObjectWatcher) {
	defer close(s.done)
	defer watch.Stop()
	for {
		select {
		case <-ctx.Done():
			s.stop(errors.New("the session is closed"))
			return
		case info, ok := <-watch.Updates():
			if !ok {
				s.stop(errors.New("the watch of the results bucket ended early"))
				return
			}
			if info == nil || info.Deleted {
				continue // the end of the initial values, or a deletion
			}
			if n, seed, ok := parseObjectName(info.Name); ok && !s.deaf.Load() {
				s.claim(ctx, n, seed)
			}
		}
	}
}

// claim starts the fetch of task n's seed if its Do waits for it and no
// fetch of it started yet (a redelivered task stores it again; the watch
// and the poll of Do may both see it); it says whether it did.
func (s *Session) claim(ctx context.Context, n int, seed uint64) bool {
	s.mu.Lock()
	w := s.waiting[n]
	if w == nil || !w.pending[seed] || s.fatal != nil {
		s.mu.Unlock()
		return false
	}
	delete(w.pending, seed)
	s.fetches.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.fetches.Done()
		r, err := s.fetch(ctx, objectName(n, seed), n, seed)
		w.results <- fetched{r, err}
	}()
	return true
}

// poll looks up the seeds of task n still pending in the bucket and
// claims those stored. The watch of the bucket (an ordered consumer on
// its meta subjects) was seen to miss updates: 4 to 10 of 950 in
// calibrations against Debian's nats-server 2.9 with two worker processes,
// with or without the deletion of fetched results (the cause is not
// known); without the poll, Do would wait for ever.
func (s *Session) poll(ctx context.Context, n int) {
	s.mu.Lock()
	w := s.waiting[n]
	var seeds []uint64
	if w != nil {
		for sd := range w.pending {
			seeds = append(seeds, sd)
		}
	}
	s.mu.Unlock()
	for _, sd := range seeds {
		if _, err := s.obj.GetInfo(ctx, objectName(n, sd)); err == nil && s.claim(s.wctx, n, sd) && s.log != nil {
			s.log("job %s: task %d, seed %d: found in the bucket by polling, the watch missed it", s.id, n, sd)
		}
	}
}

// stop fails every waiting Do with err.
func (s *Session) stop(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fatal = err
	for n, w := range s.waiting {
		delete(s.waiting, n)
		select {
		case w.results <- fetched{err: err}:
		default:
		}
	}
}

// fetch reads and checks one seed's result, then deletes it from the
// bucket (the session's bucket would otherwise hold every result of a long
// calibration until it ends).
func (s *Session) fetch(ctx context.Context, name string, n int, seed uint64) (*SeedResult, error) {
	data, err := s.obj.GetBytes(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("reading %s from bucket %s: %w", name, bucketName(s.id), err)
	}
	r, err := decodeResult(data)
	if err != nil {
		return nil, fmt.Errorf("%s in bucket %s: %w", name, bucketName(s.id), err)
	}
	s.obj.Delete(ctx, name)
	if r.Task != n || r.Seed != seed {
		return nil, fmt.Errorf("%s in bucket %s holds task %d, seed %d", name, bucketName(s.id), r.Task, r.Seed)
	}
	if r.Err != "" {
		return nil, &RemoteError{Task: n, Seed: seed, Msg: r.Err + " (worker " + r.Worker + ")"}
	}
	if r.Result == nil {
		return nil, &RemoteError{Task: n, Seed: seed, Msg: "no result stored (worker " + r.Worker + ")"}
	}
	for _, f := range r.Files {
		if !validFileName(f.Name) {
			return nil, &RemoteError{Task: n, Seed: seed, Msg: fmt.Sprintf("file name %q leaves the seed folder (worker %s)", f.Name, r.Worker)}
		}
	}
	return r, nil
}

// pollEvery is how often Do looks in the bucket for its results itself,
// besides the watch (Session.poll): a lost update then costs at most this.
var pollEvery = 2 * time.Second

// Do publishes t and returns its seeds' results in the order of t.Seeds,
// once every one is in; or the first error: a seed a worker could not
// run, the task handed out MaxDeliver times without an ack (a
// *RemoteError), the session closed, or ctx's error (the task is then
// removed from the stream if no worker took it yet). Do may be called
// from many goroutines at once: that is how many tasks are in flight.
func (s *Session) Do(ctx context.Context, t Task) ([]*SeedResult, error) {
	if len(t.Seeds) == 0 {
		return nil, nil
	}
	data, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	w := &waiter{pending: map[uint64]bool{}, results: make(chan fetched, len(t.Seeds)+1)}
	for _, sd := range t.Seeds {
		w.pending[sd.Seed] = true
	}
	s.mu.Lock()
	if s.fatal != nil {
		s.mu.Unlock()
		return nil, s.fatal
	}
	n := s.next
	s.next++
	s.waiting[n] = w
	s.mu.Unlock()
	forget := func() {
		s.mu.Lock()
		delete(s.waiting, n)
		s.mu.Unlock()
	}
	ack, err := s.js.Publish(ctx, subject(s.id, n), data, jetstream.WithMsgID(subject(s.id, n)))
	if err != nil {
		forget()
		return nil, fmt.Errorf("publishing task %d: %w", n, err)
	}
	s.mu.Lock()
	s.seqTask[ack.Sequence] = n
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.seqTask, ack.Sequence)
		s.mu.Unlock()
	}()
	got := map[uint64]*SeedResult{}
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for len(got) < len(t.Seeds) {
		select {
		case <-tick.C:
			s.poll(ctx, n)
		case <-ctx.Done():
			forget()
			// Not run if no worker took it yet; a worker that did
			// finds the task gone when it acks, which is harmless.
			pctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if st, e := s.js.Stream(pctx, Stream); e == nil {
				st.Purge(pctx, jetstream.WithPurgeSubject(subject(s.id, n)))
			}
			cancel()
			return nil, ctx.Err()
		case f := <-w.results:
			if f.err != nil {
				forget()
				return nil, f.err
			}
			got[f.r.Seed] = f.r
		}
	}
	forget()
	out := make([]*SeedResult, len(t.Seeds))
	for i, sd := range t.Seeds {
		out[i] = got[sd.Seed]
	}
	return out, nil
}

// Close stops the session: Do calls still waiting fail, the session's
// tasks still queued are removed and its bucket deleted.
func (s *Session) Close() error {
	var err error
	s.closeMu.Do(func() {
		s.cancel()
		<-s.done
		s.fetches.Wait()
		if s.sub != nil {
			s.sub.Unsubscribe()
		}
		err = s.remove()
	})
	return err
}

// remove purges the session's tasks and deletes its bucket.
func (s *Session) remove() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if st, e := s.js.Stream(ctx, Stream); e == nil {
		st.Purge(ctx, jetstream.WithPurgeSubject("job."+s.id+".>"))
	}
	if e := s.js.DeleteObjectStore(ctx, bucketName(s.id)); e != nil {
		return fmt.Errorf("deleting the results bucket %s: %w", bucketName(s.id), e)
	}
	return nil
}

// SweepOptions are what SweepRun needs besides the session.
type SweepOptions struct {
	Version string // the submitter's version: workers must run the same
}

// SweepRun returns a sweep.RunFunc (for `wormwatch sweep` and
// `wormwatch calibrate`) that runs each job on the workers: one task of
// one seed, whose scenario is the job's resolved TOML, with no seed folder
// (Task.SummaryOnly). The result that comes back is the one sim.Run gives
// on this machine, so the summary (report.NewSummary, made here) and what
// Keep takes are the local run's. The job's BaseDir must exist on the
// workers when the scenario reads a file through it.
func SweepRun(s *Session, opt SweepOptions) sweep.RunFunc {
	return func(ctx context.Context, j sweep.Job) (report.Summary, error) {
		name := "scenario.toml"
		if j.Scenario != nil && j.Scenario.Name != "" {
			name = j.Scenario.Name + ".toml"
		}
		rs, err := s.Do(ctx, Task{Scenario: j.Resolved, Name: name, BaseDir: j.BaseDir, Engine: j.Engine,
			Version: opt.Version, SummaryOnly: true, Seeds: []Seed{{Seed: j.Seed}}})
		if err != nil {
			return report.Summary{}, err
		}
		res := rs[0].Result
		if j.Keep != nil {
			j.Keep(res)
		}
		return report.NewSummary(res, opt.Version), nil
	}
}
