package scale

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"wormwatch/report"
	"wormwatch/scenario"
	"wormwatch/sim"
)

// Worker pulls tasks from the stream and runs them.
type Worker struct {
	Conn    *nats.Conn
	Config  Config
	Version string // a task of another version is refused (its seeds fail with an error)
	// Workers is how many tasks run at once; 0 means 1.
	Workers int
	// Scratch is the folder each seed's results folder is written to
	// before it is stored (removed at once); "" means /dev/shm where it
	// is a folder (memory: the writer syncs every file, which on a disk
	// costs more than a small seed), else os.TempDir(). The worker holds
	// the folder in memory anyway to store it.
	Scratch string
	// Name identifies the worker in the results; "" means host:pid.
	Name string
	// Log, if set, gets one line per task started and finished.
	Log func(format string, a ...any)
	// afterStore, if set (tests), runs after each seed's result is stored;
	// an error stops the task unacked.
	afterStore func(task int, seed uint64) error
	// beforeStore, if set (tests), runs after each seed is run and before
	// its result is stored; an error stops the task unacked.
	beforeStore func(task int, seed uint64) error
}

// Run pulls and runs tasks until ctx is cancelled; then a task in progress
// is handed back (Nak) for another worker, and Run returns ctx's error.
func (w *Worker) Run(ctx context.Context) error {
	js, err := jetstream.New(w.Conn)
	if err != nil {
		return err
	}
	cons, err := ensure(ctx, js, w.Config)
	if err != nil {
		return err
	}
	// Heartbeats follow the consumer's AckWait as the server holds it
	// (set by whoever created the consumer), not this worker's Config.
	ackWait := w.Config.orDefault().AckWait
	if info := cons.CachedInfo(); info != nil && info.Config.AckWait > 0 {
		ackWait = info.Config.AckWait
	}
	if w.Name == "" {
		h, _ := os.Hostname()
		w.Name = fmt.Sprintf("%s:%d", h, os.Getpid())
	}
	n := max(w.Workers, 1)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- w.loop(ctx, js, cons, ackWait)
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		if e != nil && !errors.Is(e, context.Canceled) {
			return e
		}
	}
	return ctx.Err()
}

// loop takes one task at a time.
func (w *Worker) loop(ctx context.Context, js jetstream.JetStream, cons jetstream.Consumer, ackWait time.Duration) error {
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		msg, err := cons.Next(jetstream.FetchContext(fctx))
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, jetstream.ErrNoMessages) {
				continue
			}
			if errors.Is(err, nats.ErrConnectionClosed) {
				return err
			}
			// The server is away (reconnecting) or the consumer is being
			// recreated: wait a moment and ask again.
			if w.Log != nil {
				w.Log("fetching a task: %v (retrying)", err)
			}
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		w.handle(ctx, js, msg, ackWait)
	}
}

// handle runs one task: each seed not yet stored is run, written, read back
// and put in the job's bucket; then the task is acked. While it runs, a
// heartbeat (InProgress) every AckWait/3 keeps it from being redelivered.
func (w *Worker) handle(ctx context.Context, js jetstream.JetStream, msg jetstream.Msg, ackWait time.Duration) {
	job, n, err := jobOfSubject(msg.Subject())
	if err != nil {
		msg.Term() // not ours to understand: never redeliver it
		return
	}
	var t Task
	if err := json.Unmarshal(msg.Data(), &t); err != nil {
		msg.TermWithReason("not a task: " + err.Error())
		return
	}
	obj, err := js.ObjectStore(ctx, bucketName(job))
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		// The submitter gave up the job (interrupted, failed) and deleted its bucket.
		msg.TermWithReason("job " + job + " is gone")
		return
	}
	if err != nil {
		msg.Nak()
		return
	}
	hb := max(ackWait/3, 100*time.Millisecond)
	stop := make(chan struct{})
	var hwg sync.WaitGroup
	hwg.Add(1)
	go func() {
		defer hwg.Done()
		tk := time.NewTicker(hb)
		defer tk.Stop()
		for {
			select {
			case <-tk.C:
				msg.InProgress()
			case <-stop:
				return
			}
		}
	}()
	start := time.Now()
	if w.Log != nil {
		w.Log("job %s task %d: %d seed(s)", job, n, len(t.Seeds))
	}
	stored, err := w.runTask(ctx, obj, n, &t)
	close(stop)
	hwg.Wait()
	switch {
	case ctx.Err() != nil:
		msg.Nak() // stopped: another worker takes it now, not after AckWait
	case err != nil:
		if w.Log != nil {
			w.Log("job %s task %d: %v (handed back)", job, n, err)
		}
		// A failure to store (the server away): handed back; if the Nak
		// is lost too, the task is redelivered after AckWait.
		msg.NakWithDelay(time.Second)
	default:
		if err := msg.DoubleAck(ctx); err != nil && w.Log != nil {
			w.Log("job %s task %d: ack: %v", job, n, err)
		}
		if w.Log != nil {
			w.Log("job %s task %d: done in %.2f s, %.3g MB stored", job, n, time.Since(start).Seconds(), float64(stored)/1e6)
		}
	}
}

// runTask runs and stores each seed of t that the bucket does not hold yet
// (a redelivered task resumes where its first worker stopped).
func (w *Worker) runTask(ctx context.Context, obj jetstream.ObjectStore, n int, t *Task) (stored int64, err error) {
	var sc *scenario.Scenario
	resolved := t.Scenario
	var setupErr error
	if t.Version != w.Version {
		setupErr = fmt.Errorf("the job was submitted by wormwatch %s and this worker is %s: run workers of the submitter's version", t.Version, w.Version)
	} else {
		sc, resolved, setupErr = parseTask(t.Name, t.Scenario, t.BaseDir, t.Sets)
	}
	for _, s := range t.Seeds {
		name := objectName(n, s.Seed)
		if _, err := obj.GetInfo(ctx, name); err == nil {
			continue // stored by an earlier delivery
		} else if !errors.Is(err, jetstream.ErrObjectNotFound) {
			return stored, fmt.Errorf("looking up %s: %w", name, err)
		}
		r := &SeedResult{Task: n, Seed: s.Seed, Worker: w.Name}
		seedSc, seedResolved, seedErr := sc, resolved, setupErr
		if seedErr == nil && s.Scenario != nil {
			seedSc, seedResolved, seedErr = parseTask(t.Name, s.Scenario, t.BaseDir, t.Sets)
		}
		if seedErr != nil {
			r.Err = seedErr.Error()
		} else if err := w.runSeed(ctx, seedSc, seedResolved, t, s, r); err != nil {
			if ctx.Err() != nil {
				return stored, ctx.Err()
			}
			r.Err = err.Error()
		}
		if w.beforeStore != nil {
			if err := w.beforeStore(n, s.Seed); err != nil {
				return stored, err
			}
		}
		data, err := encodeResult(r)
		if err != nil {
			return stored, err
		}
		if _, err := obj.PutBytes(ctx, name, data); err != nil {
			return stored, fmt.Errorf("storing %s: %w", name, err)
		}
		stored += int64(len(data))
		if w.afterStore != nil {
			if err := w.afterStore(n, s.Seed); err != nil {
				return stored, err
			}
		}
	}
	return stored, nil
}

// parseTask reads a task's (or a seed's) scenario with the task's --set
// overrides and returns it with the TOML its seed folders hold: the
// scenario as sent, or resolved again after the overrides.
func parseTask(name string, data []byte, baseDir string, sets []string) (*scenario.Scenario, []byte, error) {
	sc, err := scenario.Parse(name, data, baseDir, sets)
	if err != nil {
		return nil, nil, err
	}
	if len(sets) == 0 {
		return sc, data, nil
	}
	resolved, err := sc.TOML()
	return sc, resolved, err
}

// runSeed runs one seed as runner.Seeds does (sim.Run, then
// report.WriteRunWith), into a scratch folder that it reads back into r.
func (w *Worker) runSeed(ctx context.Context, sc *scenario.Scenario, resolved []byte, t *Task, s Seed, r *SeedResult) error {
	so := sim.Options{Engine: t.Engine, BaseDir: t.BaseDir, NoInfections: !t.Infections, Snapshots: s.Snapshots}
	res, err := sim.Run(ctx, sc, s.Seed, so)
	if err != nil {
		return err
	}
	if res.Interrupted {
		return ctx.Err()
	}
	if t.SummaryOnly {
		res.Infections = nil
		r.Result = res
		return nil
	}
	scratch, err := os.MkdirTemp(scratchDir(w.Scratch), "wormwatch-worker-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	dir := filepath.Join(scratch, "seed")
	if err := report.WriteRunWith(dir, res, resolved, t.Version, report.Contents{Infections: t.Infections}); err != nil {
		return fmt.Errorf("seed %d: %w", s.Seed, err)
	}
	if r.Files, err = readTree(dir); err != nil {
		return err
	}
	res.Infections = nil
	r.Result = res
	return nil
}

// readTree reads every file under dir, in lexical order.
func readTree(dir string) ([]File, error) {
	var files []File
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files = append(files, File{Name: filepath.ToSlash(rel), Data: b})
		return nil
	})
	return files, err
}

// validFileName refuses a name that would leave the seed folder.
func validFileName(name string) bool {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\\") {
		return false
	}
	for _, p := range strings.Split(name, "/") {
		if p == "" || p == "." || p == ".." {
			return false
		}
	}
	return true
}

// scratchDir is Worker.Scratch or its default.
func scratchDir(s string) string {
	if s != "" {
		return s
	}
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		return "/dev/shm"
	}
	return os.TempDir()
}
