package scale

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"wormwatch/runner"
	"wormwatch/scenario"
)

// oneSeedJob is a job of one task of seed 7 of the small summer.
func oneSeedJob(t *testing.T) Job {
	_, resolved := smallSummer(t)
	return Job{Tasks: []Task{{Scenario: resolved, Name: "codered-2001.toml", Version: testVersion, Seeds: []Seed{{Seed: 7}}}}}
}

// leftovers fails the test if the server still holds a message of a task
// or a results bucket once a job is over.
func leftovers(t *testing.T, js jetstream.JetStream) {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, Stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 0 {
		t.Errorf("the stream holds %d task(s) after the job", info.State.Msgs)
	}
	for name := range js.ObjectStoreNames(ctx).Name() {
		if strings.HasPrefix(name, BucketPrefix) {
			t.Errorf("bucket %s is left after the job", name)
		}
	}
}

// TestWorkerOfAnotherVersion: a worker refuses a task of another version;
// the seed fails the job with a *RemoteError naming both versions, and
// nothing of the job stays on the server.
func TestWorkerOfAnotherVersion(t *testing.T) {
	url := embedded(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &Worker{Conn: connect(t, url), Config: testConfig, Version: "other"}
	go w.Run(ctx)
	c := &Client{Conn: connect(t, url), Config: testConfig}
	err := c.Run(ctx, oneSeedJob(t), func(*SeedResult) error { t.Error("a seed was handed on"); return nil })
	var re *RemoteError
	if !errors.As(err, &re) || re.Seed != 7 || !strings.Contains(err.Error(), "submitted by wormwatch test and this worker is other") {
		t.Fatalf("Run = %v; want a RemoteError for seed 7 naming both versions", err)
	}
	js, _ := jetstream.New(c.Conn)
	leftovers(t, js)
}

// TestMaxDeliverGivesUp: a task that every worker takes and never acks is
// handed out MaxDeliver times, then the server gives it up and so does
// the job, with a *RemoteError naming the task.
func TestMaxDeliverGivesUp(t *testing.T) {
	url := embedded(t)
	cfg := Config{AckWait: 300 * time.Millisecond, MaxDeliver: 2}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	js, err := jetstream.New(connect(t, url))
	if err != nil {
		t.Fatal(err)
	}
	cons, err := ensure(ctx, js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// A worker that dies each time: it takes the task and never answers.
	taken := make(chan uint64, 10)
	go func() {
		for ctx.Err() == nil {
			m, err := cons.Next(jetstream.FetchMaxWait(time.Second))
			if err == nil {
				md, _ := m.Metadata()
				taken <- md.NumDelivered
			}
		}
	}()
	c := &Client{Conn: connect(t, url), Config: cfg}
	err = c.Run(ctx, oneSeedJob(t), func(*SeedResult) error { return nil })
	var re *RemoteError
	if !errors.As(err, &re) || re.Task != 0 || !strings.Contains(err.Error(), "handed out 2 times without an ack") {
		t.Fatalf("Run = %v; want a RemoteError for task 0 after 2 deliveries", err)
	}
	if n := len(taken); n != 2 {
		t.Errorf("the task was delivered %d times; want MaxDeliver = 2", n)
	}
	leftovers(t, js)
}

// TestCancelRemovesTheJob: a submitter stopped before any worker came
// removes its tasks from the stream and deletes its bucket.
func TestCancelRemovesTheJob(t *testing.T) {
	url := embedded(t)
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{Conn: connect(t, url), Config: testConfig}
	published := false
	c.Log = func(string, ...any) { published = true; cancel() }
	job := oneSeedJob(t)
	job.Tasks = append(job.Tasks, job.Tasks[0], job.Tasks[0])
	err := c.Run(ctx, job, func(*SeedResult) error { return nil })
	if !errors.Is(err, context.Canceled) || !published {
		t.Fatalf("Run = %v (published %v); want context.Canceled after publishing", err, published)
	}
	js, _ := jetstream.New(c.Conn)
	leftovers(t, js)
}

// TestTaskWithSets: a task may carry a scenario as written and --set
// overrides (as sweep and calibrate will); the worker applies them, and
// the seed's folder equals the one runner.Seeds writes for the scenario
// loaded with the same overrides. The result handed on has no infections.
func TestTaskWithSets(t *testing.T) {
	url := embedded(t)
	sets := []string{"space.bits=20", "population.hosts=300", "end=2001-07-19T12:00:00Z"}
	raw, err := scenario.Builtin("codered2-july19")
	if err != nil {
		t.Fatal(err)
	}
	sc, resolved, err := scenario.Load("codered2-july19", sets)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := runner.Seeds(context.Background(), sc, resolved, []uint64{3}, func(uint64) string { return filepath.Join(dir, "local") },
		runner.Options{Version: testVersion, Infections: true}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &Worker{Conn: connect(t, url), Config: testConfig, Version: testVersion}
	go w.Run(ctx)
	c := &Client{Conn: connect(t, url), Config: testConfig}
	var got *SeedResult
	job := Job{Tasks: []Task{{Scenario: raw, Name: "codered2-july19.toml", Sets: sets, Infections: true, Version: testVersion, Seeds: []Seed{{Seed: 3}}}}}
	if err := c.Run(ctx, job, func(r *SeedResult) error { got = r; return nil }); err != nil {
		t.Fatal(err)
	}
	if got == nil || got.Result == nil || got.Seed != 3 || len(got.Result.Infections) != 0 || got.Result.EverInfected == 0 {
		t.Fatalf("result %+v; want seed 3's result, without infections, with infected hosts", got)
	}
	if err := WriteSeedDir(filepath.Join(dir, "nats"), got.Files); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"scenario.toml", "timeseries.csv", "timeseries.parquet", "infections.parquet"} {
		a, _ := os.ReadFile(filepath.Join(dir, "local", f))
		b, err := os.ReadFile(filepath.Join(dir, "nats", f))
		if err != nil || len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs from runner.Seeds' (%v)", f, err)
		}
	}
}

// TestStoppedWorkerHandsBack: a worker stopped (its context cancelled, as
// Ctrl-C does) in the middle of a task hands it back at once (Nak), so
// another worker finishes it long before the consumer's AckWait of a
// minute would have let it: the job's deadline of 45 s is shorter.
func TestStoppedWorkerHandsBack(t *testing.T) {
	url := embedded(t)
	cfg := Config{AckWait: time.Minute, MaxDeliver: 5}
	_, resolved := smallSummer(t)
	job := Job{Tasks: []Task{{Scenario: resolved, Name: "codered-2001.toml", Version: testVersion, Seeds: []Seed{{Seed: 1}, {Seed: 2}}}}}
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	actx, stopA := context.WithCancel(ctx)
	defer stopA()
	startB := make(chan struct{})
	a := &Worker{Conn: connect(t, url), Config: cfg, Version: testVersion, Name: "a"}
	a.afterStore = func(int, uint64) error {
		stopA() // Ctrl-C after the first seed is stored, before the second runs
		close(startB)
		return nil
	}
	aDone := make(chan error, 1)
	go func() { aDone <- a.Run(actx) }()
	var (
		mu     sync.Mutex
		bSeeds []uint64
	)
	b := &Worker{Conn: connect(t, url), Config: cfg, Version: testVersion, Name: "b"}
	b.afterStore = func(_ int, seed uint64) error {
		mu.Lock()
		bSeeds = append(bSeeds, seed)
		mu.Unlock()
		return nil
	}
	go func() {
		select {
		case <-startB:
			b.Run(ctx)
		case <-ctx.Done():
		}
	}()
	c := &Client{Conn: connect(t, url), Config: cfg}
	got := map[uint64]string{}
	err := c.Run(ctx, job, func(r *SeedResult) error {
		mu.Lock()
		got[r.Seed] = r.Worker
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatalf("Run = %v; want both seeds before the deadline (the task was not handed back?)", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got[1] != "a" || got[2] != "b" || len(bSeeds) != 1 {
		t.Errorf("seeds were run by %v (b ran %v); want seed 1 by a, seed 2 by b only", got, bSeeds)
	}
	if err := <-aDone; !errors.Is(err, context.Canceled) {
		t.Errorf("worker a's Run = %v; want context.Canceled", err)
	}
}

// TestHeartbeatKeepsLongTask: a task that runs for twice the consumer's
// AckWait is not redelivered, because its worker sends InProgress every
// AckWait/3: a second worker, idle all along, runs none of its seeds.
func TestHeartbeatKeepsLongTask(t *testing.T) {
	url := embedded(t)
	cfg := Config{AckWait: 1500 * time.Millisecond, MaxDeliver: 5}
	_, resolved := smallSummer(t)
	job := Job{Tasks: []Task{{Scenario: resolved, Name: "codered-2001.toml", Version: testVersion, Seeds: []Seed{{Seed: 1}, {Seed: 2}, {Seed: 3}}}}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var (
		mu  sync.Mutex
		ran = map[string]int{}
	)
	started := make(chan struct{})
	var once sync.Once
	a := &Worker{Conn: connect(t, url), Config: cfg, Version: testVersion, Name: "a"}
	a.afterStore = func(int, uint64) error {
		once.Do(func() { close(started) })
		mu.Lock()
		ran["a"]++
		mu.Unlock()
		time.Sleep(time.Second) // a long seed: three of them outlast AckWait twice
		return nil
	}
	go a.Run(ctx)
	b := &Worker{Conn: connect(t, url), Config: cfg, Version: testVersion, Name: "b"}
	b.afterStore = func(int, uint64) error {
		mu.Lock()
		ran["b"]++
		mu.Unlock()
		return nil
	}
	go func() {
		select {
		case <-started: // a holds the task: b may only get it by redelivery
			b.Run(ctx)
		case <-ctx.Done():
		}
	}()
	c := &Client{Conn: connect(t, url), Config: cfg}
	if err := c.Run(ctx, job, func(*SeedResult) error { return nil }); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if ran["a"] != 3 || ran["b"] != 0 {
		t.Errorf("seeds stored: %v; want all 3 by a, none by b (the task was redelivered despite the heartbeats)", ran)
	}
}

// TestRunPollsForMissedResults: when the watch of the bucket misses a
// result (here: all of them, Run deaf to it), Run still gets every seed,
// found by its poll of the bucket in a quiet spell, and says so in its
// log (against Debian's nats-server 2.9 a replay of 100 short seeds lost
// about 5 updates and, before the poll, waited for ever).
func TestRunPollsForMissedResults(t *testing.T) {
	url := embedded(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w := &Worker{Conn: connect(t, url), Config: testConfig, Version: testVersion}
	go w.Run(ctx)
	var (
		mu   sync.Mutex
		logs []string
	)
	c := &Client{Conn: connect(t, url), Config: testConfig, deaf: true, Log: func(format string, a ...any) {
		mu.Lock()
		logs = append(logs, fmt.Sprintf(format, a...))
		mu.Unlock()
	}}
	job := oneSeedJob(t)
	job.Tasks[0].Seeds = append(job.Tasks[0].Seeds, Seed{Seed: 8})
	var got []uint64
	err := c.Run(ctx, job, func(r *SeedResult) error {
		mu.Lock()
		got = append(got, r.Seed)
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(got)
	if !slices.Equal(got, []uint64{7, 8}) {
		t.Errorf("seeds handed on: %v, want [7 8]", got)
	}
	polled := 0
	for _, l := range logs {
		if strings.Contains(l, "found in the bucket by polling") {
			polled++
		}
	}
	if polled != 2 {
		t.Errorf("%d results logged as found by polling, want 2; the log:\n%s", polled, strings.Join(logs, "\n"))
	}
	js, _ := jetstream.New(c.Conn)
	leftovers(t, js)
}
