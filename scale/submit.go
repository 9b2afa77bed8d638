package scale

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Client submits jobs to the workers.
type Client struct {
	Conn   *nats.Conn
	Config Config
	// Log, if set, gets a line when the job's tasks are published, and
	// one for each result the watch of the bucket missed (Run's poll).
	Log func(format string, a ...any)
	// Parallel is how many results are fetched and handed on at once;
	// 0 means 4.
	Parallel int
	// deaf, if set (tests), makes Run ignore the watch's updates, as if it
	// missed them all: only its poll of the bucket finds results.
	deaf bool
}

// newJobID returns a fresh job id: 12 hex digits, usable in subjects and
// bucket names.
func newJobID() (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// Run publishes the job's tasks and calls each once per seed of every
// task as the workers' results come in, from up to Parallel goroutines at
// once (in no particular order; a seed stored twice, by a redelivered
// task, is handed on once). Run returns only after every call of each
// has returned. It returns when every seed is in, or with the first error: a
// seed a worker could not run or a task handed out Config.MaxDeliver times
// without an ack (a *RemoteError), an error of each, or ctx's error. Either
// way the job's tasks still queued are removed and its bucket deleted.
func (c *Client) Run(ctx context.Context, job Job, each func(*SeedResult) error) (err error) {
	js, err := jetstream.New(c.Conn)
	if err != nil {
		return err
	}
	cons, err := ensure(ctx, js, c.Config)
	if err != nil {
		return err
	}
	maxDeliver := c.Config.orDefault().MaxDeliver
	if info := cons.CachedInfo(); info != nil && info.Config.MaxDeliver > 0 {
		maxDeliver = info.Config.MaxDeliver
	}
	id, err := newJobID()
	if err != nil {
		return err
	}
	obj, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      bucketName(id),
		Description: "results of wormwatch job " + id,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return fmt.Errorf("creating the results bucket %s: %w", bucketName(id), err)
	}
	defer func() {
		// Removes what is left of the job, also when ctx was cancelled.
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if s, e := js.Stream(cctx, Stream); e == nil {
			s.Purge(cctx, jetstream.WithPurgeSubject("job."+id+".>"))
		}
		if e := js.DeleteObjectStore(cctx, bucketName(id)); e != nil && err == nil {
			err = fmt.Errorf("deleting the results bucket %s: %w", bucketName(id), e)
		}
	}()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watch, err := obj.Watch(wctx)
	if err != nil {
		return err
	}
	defer watch.Stop()
	// A task handed out MaxDeliver times without an ack is given up by the
	// server, which says so in an advisory naming its stream sequence.
	given := make(chan uint64, 16)
	sub, err := c.Conn.Subscribe(maxDeliverAd, func(m *nats.Msg) {
		var a struct {
			StreamSeq uint64 `json:"stream_seq"`
		}
		if json.Unmarshal(m.Data, &a) == nil {
			select {
			case given <- a.StreamSeq:
			default:
			}
		}
	})
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()

	want := map[[2]uint64]bool{} // (task, seed) not yet in
	seqTask := map[uint64]int{}
	for n, t := range job.Tasks {
		for _, s := range t.Seeds {
			want[[2]uint64{uint64(n), s.Seed}] = true
		}
		data, err := json.Marshal(t)
		if err != nil {
			return err
		}
		ack, err := js.Publish(ctx, subject(id, n), data, jetstream.WithMsgID(subject(id, n)))
		if err != nil {
			return fmt.Errorf("publishing task %d: %w", n, err)
		}
		seqTask[ack.Sequence] = n
	}
	if c.Log != nil {
		c.Log("job %s: %d task(s), %d seed(s) published to stream %s; results in bucket %s", id, len(job.Tasks), len(want), Stream, bucketName(id))
	}
	// Results are fetched, decoded and handed on by up to Parallel
	// goroutines; this loop only dispatches names and counts what is in.
	type outcome struct {
		key [2]uint64
		err error
	}
	fetch := func(fctx context.Context, name string, n int, seed uint64) error {
		data, err := obj.GetBytes(fctx, name)
		if err != nil {
			return fmt.Errorf("reading %s from bucket %s: %w", name, bucketName(id), err)
		}
		r, err := decodeResult(data)
		if err != nil {
			return fmt.Errorf("%s in bucket %s: %w", name, bucketName(id), err)
		}
		if r.Task != n || r.Seed != seed {
			return fmt.Errorf("%s in bucket %s holds task %d, seed %d", name, bucketName(id), r.Task, r.Seed)
		}
		if r.Err != "" {
			return &RemoteError{Task: n, Seed: seed, Msg: r.Err + " (worker " + r.Worker + ")"}
		}
		if r.Result == nil {
			return &RemoteError{Task: n, Seed: seed, Msg: "no result stored (worker " + r.Worker + ")"}
		}
		for _, f := range r.Files {
			if !validFileName(f.Name) {
				return &RemoteError{Task: n, Seed: seed, Msg: fmt.Sprintf("file name %q leaves the seed folder (worker %s)", f.Name, r.Worker)}
			}
		}
		return each(r)
	}
	par := c.Parallel
	if par <= 0 {
		par = 4
	}
	fctx, fcancel := context.WithCancel(ctx)
	jobs := make(chan string)
	done := make(chan outcome)
	var wg sync.WaitGroup
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range jobs {
				n, seed, _ := parseObjectName(name)
				done <- outcome{[2]uint64{uint64(n), seed}, fetch(fctx, name, n, seed)}
			}
		}()
	}
	defer func() {
		// Stop the fetchers and wait for them: nothing is handed on
		// after Run returns.
		fcancel()
		close(jobs)
		go func() { wg.Wait(); close(done) }()
		for range done {
		}
	}()
	inFlight := map[[2]uint64]bool{}
	var queue []string
	// take queues a stored result of the job for fetching, once.
	take := func(name string) bool {
		n, seed, ok := parseObjectName(name)
		key := [2]uint64{uint64(n), seed}
		if !ok || !want[key] || inFlight[key] {
			return false // not a seed of the job, or already in or on its way
		}
		inFlight[key] = true
		queue = append(queue, name)
		return true
	}
	// The watch can miss an update (seen with Debian's nats-server 2.9,
	// as for sessions: docs/scale.md): after pollEvery without one, while
	// seeds are still awaited, Run lists the bucket itself. Only in quiet
	// spells, so that a large job's listing does not compete with the
	// watch while results flow.
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	heard := false
	for len(want) > 0 {
		var send chan string
		next := ""
		if len(queue) > 0 {
			send, next = jobs, queue[0]
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case seq := <-given:
			if n, ok := seqTask[seq]; ok {
				return &RemoteError{Task: n, Msg: fmt.Sprintf("handed out %d times without an ack (every worker that took it died, disconnected or stalled); the job is given up", maxDeliver)}
			}
		case send <- next:
			queue = queue[1:]
		case o := <-done:
			if o.err != nil {
				return o.err
			}
			delete(want, o.key)
		case <-tick.C:
			if heard {
				heard = false
				continue
			}
			infos, err := obj.List(ctx)
			if err != nil {
				continue // none stored yet (ErrNoObjectsFound), or the server away: the next tick tries again
			}
			for _, info := range infos {
				if !info.Deleted && take(info.Name) && c.Log != nil {
					c.Log("job %s: %s found in the bucket by polling, the watch missed it", id, info.Name)
				}
			}
		case info, ok := <-watch.Updates():
			if !ok {
				return errors.New("the watch of the results bucket ended early")
			}
			if info == nil || info.Deleted || c.deaf {
				continue // the end of the initial values, or a deletion
			}
			heard = true
			take(info.Name)
		}
	}
	return nil
}
