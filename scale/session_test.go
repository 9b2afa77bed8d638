package scale

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"wormwatch/report"
	"wormwatch/runner"
	"wormwatch/sweep"
)

// tinySweep is a grid of 3 × 2 points over codered2-july19 shrunk to a
// few hundred hosts, two seeds each: 12 runs of milliseconds.
const tinySweep = `scenario = "codered2-july19"
set = ["space.bits=20", "population.hosts=300", "end=2001-07-19T12:00:00Z"]
design = "grid"
seeds = 2
outputs = ["ever_infected", "final.infected", "peak_infected"]

[[factor]]
key = "defense.patch.rate"
values = [0.0, 2.0, 5.0]

[[factor]]
key = "population.patched"
values = [0.0, 0.5]
`

// localRun is the command line's sweepRun: runner.Simulate on this machine.
func localRun(ctx context.Context, j sweep.Job) (report.Summary, error) {
	res, err := runner.Simulate(ctx, j.Scenario, j.Seed, runner.Options{Engine: j.Engine, BaseDir: j.BaseDir})
	if err != nil {
		return report.Summary{}, err
	}
	if res == nil {
		return report.Summary{}, ctx.Err()
	}
	j.Keep(res)
	return report.NewSummary(res, testVersion), nil
}

// runSweep runs the tiny sweep with run and writes its folder under dir.
func runSweep(t *testing.T, ctx context.Context, run sweep.RunFunc, workers int, dir string) {
	t.Helper()
	spec, err := sweep.ParseFile("tiny.toml", []byte(tinySweep))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := sweep.NewPlan(spec)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sweep.Run(ctx, plan, sweep.Options{Run: run, Workers: workers, Version: testVersion})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Write(dir); err != nil {
		t.Fatal(err)
	}
}

// TestSweepOverNATSWorkerKilled: a sweep whose runs go through a Session
// (SweepRun, 4 in flight) to two workers, one of which dies holding a task
// (its connection closed after running the seed, before storing it, no
// ack), writes a folder byte-identical to the local sweep's: the task is
// redelivered after AckWait and run by the other worker. Afterwards the
// server holds no task and no results bucket of the session.
func TestSweepOverNATSWorkerKilled(t *testing.T) {
	sweepOverNATSWorkerKilled(t, embedded(t))
}

// TestSweepOverDebianNATSServer: TestSweepOverNATSWorkerKilled against the
// nats-server binary (Debian's package) as a separate process
// (debianServer: mandatory when WORMWATCH_CI is set).
func TestSweepOverDebianNATSServer(t *testing.T) {
	sweepOverNATSWorkerKilled(t, debianServer(t))
}

// sweepOverNATSWorkerKilled is TestSweepOverNATSWorkerKilled with the
// server at url.
func sweepOverNATSWorkerKilled(t *testing.T, url string) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	runSweep(t, ctx, localRun, 2, filepath.Join(dir, "local"))

	ncA := connect(t, url)
	killed := make(chan int, 1)
	var once sync.Once
	a := &Worker{Conn: ncA, Config: testConfig, Version: testVersion, Name: "a"}
	a.beforeStore = func(task int, _ uint64) error {
		err := error(nil)
		once.Do(func() {
			ncA.Close()
			err = errors.New("killed")
			killed <- task
		})
		return err
	}
	go a.Run(ctx)
	var (
		mu  sync.Mutex
		byB = map[int]bool{}
	)
	b := &Worker{Conn: connect(t, url), Config: testConfig, Version: testVersion, Name: "b"}
	b.afterStore = func(task int, _ uint64) error {
		mu.Lock()
		byB[task] = true
		mu.Unlock()
		return nil
	}
	var task int
	go func() {
		// b starts once a died, so a held the task alone.
		select {
		case task = <-killed:
			killed <- task
			b.Run(ctx)
		case <-ctx.Done():
		}
	}()
	c := &Client{Conn: connect(t, url), Config: testConfig}
	s, err := c.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	runSweep(t, ctx, SweepRun(s, SweepOptions{Version: testVersion}), 4, filepath.Join(dir, "nats"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case task = <-killed:
	default:
		t.Fatal("worker a was never killed")
	}
	mu.Lock()
	if !byB[task] {
		t.Errorf("task %d, whose worker died, was not run by worker b (b ran %v)", task, byB)
	}
	mu.Unlock()
	for _, f := range []string{"points.csv", "summary.csv", "sweep.json", "heatmap-ever_infected.png", "heatmap-final-infected.png", "heatmap-peak_infected.png"} {
		x, _ := os.ReadFile(filepath.Join(dir, "local", f))
		y, err := os.ReadFile(filepath.Join(dir, "nats", f))
		if err != nil || len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s differs between the local sweep and the one over NATS (%v)", f, err)
		}
	}
	js, _ := jetstream.New(c.Conn)
	leftovers(t, js)
}

// TestSessionRemoteError: a run a worker cannot do (another version) fails
// Do with a *RemoteError naming the seed, and the next Do of the session
// still works.
func TestSessionRemoteError(t *testing.T) {
	url := embedded(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w := &Worker{Conn: connect(t, url), Config: testConfig, Version: testVersion}
	go w.Run(ctx)
	c := &Client{Conn: connect(t, url), Config: testConfig}
	s, err := c.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, resolved := smallSummer(t)
	bad := Task{Scenario: resolved, Name: "codered-2001.toml", Version: "other", SummaryOnly: true, Seeds: []Seed{{Seed: 4}}}
	_, err = s.Do(ctx, bad)
	var re *RemoteError
	if !errors.As(err, &re) || re.Seed != 4 {
		t.Fatalf("Do of another version's task = %v; want a RemoteError for seed 4", err)
	}
	good := bad
	good.Version = testVersion
	good.Seeds = []Seed{{Seed: 5}, {Seed: 6}}
	rs, err := s.Do(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Seed != 5 || rs[1].Seed != 6 || rs[0].Result == nil || len(rs[0].Files) != 0 || rs[1].Result.EverInfected == 0 {
		t.Errorf("Do = %+v; want the results of seeds 5 and 6 in order, with no files (SummaryOnly)", rs)
	}
}

// TestSessionPollsForMissedResults: when the watch of the bucket misses a
// result (here: all of them, the dispatcher deaf to it), Do still returns
// it, found by its poll of the bucket, and the session logs the miss.
func TestSessionPollsForMissedResults(t *testing.T) {
	url := embedded(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w := &Worker{Conn: connect(t, url), Config: testConfig, Version: testVersion}
	go w.Run(ctx)
	var (
		mu   sync.Mutex
		logs []string
	)
	c := &Client{Conn: connect(t, url), Config: testConfig, Log: func(format string, a ...any) {
		mu.Lock()
		logs = append(logs, fmt.Sprintf(format, a...))
		mu.Unlock()
	}}
	s, err := c.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.deaf.Store(true)
	_, resolved := smallSummer(t)
	rs, err := s.Do(ctx, Task{Scenario: resolved, Name: "codered-2001.toml", Version: testVersion, SummaryOnly: true, Seeds: []Seed{{Seed: 9}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Seed != 9 || rs[0].Result == nil {
		t.Fatalf("Do = %+v; want seed 9's result", rs)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(strings.Join(logs, "\n"), "task 0, seed 9: found in the bucket by polling") {
		t.Errorf("no log line of the poll's find:\n%s", strings.Join(logs, "\n"))
	}
}
