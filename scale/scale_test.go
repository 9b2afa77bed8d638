package scale

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"wormwatch/results"
	"wormwatch/runner"
	"wormwatch/scenario"
)

// testConfig redelivers a task 2 s after its worker stopped answering, so
// that the test of a killed worker takes seconds (workers heartbeat every
// AckWait/3, so a live worker's task is never redelivered).
var testConfig = Config{AckWait: 2 * time.Second, MaxDeliver: 5}

// smallSummer is codered-2001 shrunk as in package replay's tests: a
// 24-bit space, 20,000 hosts and four days, so a seed takes a fraction of
// a second.
func smallSummer(t *testing.T) (*scenario.Scenario, []byte) {
	t.Helper()
	sc, resolved, err := scenario.Load("codered-2001", []string{
		"space.bits=24", "population.hosts=20000", "end=2001-07-21T00:00:00Z",
		"worm.crii.start=2001-07-21T00:00:00Z", "bin=10m",
	})
	if err != nil {
		t.Fatal(err)
	}
	return sc, resolved
}

// embedded starts a NATS server with JetStream inside the test, its store
// in a temporary folder, and returns its URL.
func embedded(t *testing.T) string {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("embedded NATS server not ready after 10 s")
	}
	return s.ClientURL()
}

func connect(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := Connect(url, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// localReplay is the replay on this machine (runner.Replay), the reference
// the NATS replays are held against; computed once.
var localReplay = struct {
	sync.Once
	dir string
	r   *results.Replay
	err error
}{}

const testVersion = "test"

var testSeeds = []uint64{1, 2, 3, 4, 5}

func local(t *testing.T, sc *scenario.Scenario, resolved []byte) (string, *results.Replay) {
	t.Helper()
	localReplay.Do(func() {
		dir, err := os.MkdirTemp("", "scale-local-")
		if err != nil {
			localReplay.err = err
			return
		}
		out := filepath.Join(dir, "cr")
		localReplay.dir = out
		localReplay.r, localReplay.err = runner.Replay(context.Background(), sc, resolved, runner.ReplayOptions{Seeds: testSeeds, Out: out, Workers: 2, Version: testVersion})
	})
	if localReplay.err != nil {
		t.Fatal(localReplay.err)
	}
	return localReplay.dir, localReplay.r
}

func TestMain(m *testing.M) {
	code := m.Run()
	if localReplay.dir != "" {
		os.RemoveAll(filepath.Dir(localReplay.dir))
	}
	os.Exit(code)
}

// kill makes a worker die in the middle of a task: after it stored the
// first seed of its first task, it closes its connection without acking.
type kill struct {
	nc     *nats.Conn
	once   sync.Once
	task   int // the task it died in; -1 if it did not
	mu     sync.Mutex
	killed chan struct{} // closed when it died
}

func (k *kill) afterStore(task int, seed uint64) error {
	err := error(nil)
	k.once.Do(func() {
		k.mu.Lock()
		k.task = task
		k.mu.Unlock()
		k.nc.Close()
		close(k.killed)
		err = errors.New("killed")
	})
	return err
}

// replayOverNATS replays testSeeds through the server at url with two
// workers (goroutines, each with its own connection); with killOne, the
// first dies after storing the first seed of its first task, and the
// second starts only then (started together, the second could take every
// task before the first took one, and nothing would be killed). It checks the
// replay against the local one: every file of every seed folder byte for
// byte (summary.json apart from its wall-clock keys), bands.csv,
// validation.json and the maps; and, with killOne, that the task the
// worker died in was finished by the other after redelivery.
func replayOverNATS(t *testing.T, url string, killOne bool) {
	sc, resolved := smallSummer(t)
	wantDir, want := local(t, sc, resolved)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k := &kill{task: -1, killed: make(chan struct{})}
	var (
		mu      sync.Mutex
		ranBy   = map[string][][2]uint64{} // worker -> (task, seed) stored
		workers sync.WaitGroup
	)
	for i, name := range []string{"a", "b"} {
		w := &Worker{Conn: connect(t, url), Config: testConfig, Version: testVersion, Name: name, Scratch: t.TempDir()}
		w.afterStore = func(task int, seed uint64) error {
			mu.Lock()
			ranBy[name] = append(ranBy[name], [2]uint64{uint64(task), seed})
			mu.Unlock()
			return nil
		}
		if killOne && i == 0 {
			k.nc = w.Conn
			w.afterStore = func(task int, seed uint64) error {
				mu.Lock()
				ranBy[name] = append(ranBy[name], [2]uint64{uint64(task), seed})
				mu.Unlock()
				return k.afterStore(task, seed)
			}
		}
		workers.Add(1)
		go func() {
			defer workers.Done()
			if killOne && i == 1 {
				select {
				case <-k.killed:
				case <-ctx.Done():
					return
				}
			}
			w.Run(ctx)
		}()
	}
	out := filepath.Join(t.TempDir(), "cr")
	client := &Client{Conn: connect(t, url), Config: testConfig}
	got, err := runner.Replay(ctx, sc, resolved, runner.ReplayOptions{Seeds: testSeeds, Out: out, Version: testVersion,
		Remote: ReplaySeeds(client, resolved, ReplayOptions{Out: out, Name: "codered-2001.toml", Version: testVersion, Block: 2})})
	cancel()
	workers.Wait()
	if err != nil {
		t.Fatal(err)
	}
	sameSeedFolders(t, wantDir, out)
	for _, f := range []string{results.BandsFile, results.ValidationFile} {
		a, _ := os.ReadFile(filepath.Join(wantDir, f))
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil || !bytes.Equal(a, b) || len(a) == 0 {
			t.Errorf("%s differs from the local replay's (%v)", f, err)
		}
	}
	if len(got.Maps) == 0 || !reflect.DeepEqual(got.Maps, want.Maps) {
		t.Errorf("maps: %d over NATS, %d local, or they differ", len(got.Maps), len(want.Maps))
	}
	if killOne {
		if k.task < 0 {
			t.Fatal("worker a was never killed")
		}
		// Tasks hold seeds (1,2), (3,4), (5): the other seed of the task
		// worker a died in was stored by worker b, after redelivery.
		seeds := [][]uint64{{1, 2}, {3, 4}, {5}}[k.task]
		stored := ranBy["a"][len(ranBy["a"])-1][1]
		rest := slices.DeleteFunc(slices.Clone(seeds), func(s uint64) bool { return s == stored })
		for _, s := range rest {
			if !slices.Contains(ranBy["b"], [2]uint64{uint64(k.task), s}) {
				t.Errorf("task %d, seed %d: not run by worker b after worker a died (b ran %v)", k.task, s, ranBy["b"])
			}
		}
		if slices.Contains(ranBy["b"], [2]uint64{uint64(k.task), stored}) {
			t.Errorf("task %d, seed %d was stored before worker a died, yet b ran it again", k.task, stored)
		}
	}
}

// sameSeedFolders compares the seed folders under two replay folders.
func sameSeedFolders(t *testing.T, a, b string) {
	t.Helper()
	fa, fb := tree(t, a), tree(t, b)
	if len(fa) == 0 || len(fa) != len(fb) {
		t.Fatalf("%d files in the local seed folders, %d over NATS", len(fa), len(fb))
	}
	n := 0
	for name, da := range fa {
		db, ok := fb[name]
		if !ok {
			t.Errorf("%s: missing over NATS", name)
			continue
		}
		if filepath.Base(name) == "summary.json" {
			da, db = withoutWallClock(t, da), withoutWallClock(t, db)
		}
		if !bytes.Equal(da, db) {
			t.Errorf("%s differs between the local replay and the one over NATS", name)
		}
		n++
	}
	if n != len(testSeeds)*(len(fa)/len(testSeeds)) {
		t.Errorf("compared %d files", n)
	}
}

// tree reads the files of the seed folders under dir (allFiles, kept to
// the names under a seed folder).
func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := allFiles(t, dir)
	maps.DeleteFunc(m, func(rel string, _ []byte) bool { return !strings.HasPrefix(rel, results.SeedPrefix) })
	return m
}

// withoutWallClock re-encodes summary.json without the wall-clock keys,
// which docs/output.md exempts from reproducibility.
func withoutWallClock(t *testing.T, b []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["wall_seconds"]; !ok {
		t.Fatal("summary.json has no wall_seconds")
	}
	delete(m, "wall_seconds")
	delete(m, "probes_per_wall_second")
	out, _ := json.Marshal(m)
	return out
}

// TestReplayOverNATS: a replay whose seeds run on two workers through an
// embedded JetStream server equals the local replay byte for byte.
func TestReplayOverNATS(t *testing.T) {
	replayOverNATS(t, embedded(t), false)
}

// TestReplayOverNATSWorkerKilled: a worker that dies in the middle of a
// task (its connection closed, no ack) leaves the task to be redelivered;
// the other worker finishes it and the replay still equals the local one.
func TestReplayOverNATSWorkerKilled(t *testing.T) {
	replayOverNATS(t, embedded(t), true)
}

// TestReplayOverDebianNATSServer runs the killed-worker replay against
// the nats-server binary (Debian's package) as a separate process
// (debianServer).
func TestReplayOverDebianNATSServer(t *testing.T) {
	replayOverNATS(t, debianServer(t), true)
}

// debianServer starts the nats-server binary (Debian's package) with
// JetStream as a separate process, its store in a temporary folder, and
// returns its URL; the process is killed at the test's end. The test is
// skipped only when the binary is absent outside CI (.ci/run installs it
// and sets WORMWATCH_CI).
func debianServer(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		// Debian installs it in /usr/sbin, which a user's PATH may lack.
		if _, serr := os.Stat("/usr/sbin/nats-server"); serr == nil {
			bin, err = "/usr/sbin/nats-server", nil
		}
	}
	if err != nil {
		if os.Getenv("WORMWATCH_CI") != "" {
			t.Fatal("nats-server not found, and WORMWATCH_CI is set: .ci/run installs it (apt-get install nats-server)")
		}
		t.Skip("nats-server not installed (apt-get install nats-server); mandatory when WORMWATCH_CI is set")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-js", "-sd", t.TempDir())
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("nats-server's output:\n%s", logs.String())
		}
	})
	url := "nats://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(15 * time.Second)
	for {
		nc, err := nats.Connect(url)
		if err == nil {
			nc.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server did not accept connections on %s within 15 s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return url
}

// TestReplaySeedScenarios: a replay whose seeds each run a scenario of
// their own (ReplayOptions.ScenarioFor, as replay --posterior gives them:
// here population.patched differs by seed) through a server whose largest
// message is 256 kB (the Object Store's chunks are 128 kB), with Block 5:
// a task of five seeds would hold six 18.5 kB scenarios (25 kB each in
// base64), more than half the limit, so the tasks are cut (4 + 1 seeds),
// and the replay still equals the local one with the same
// scenarios (runner.ReplayOptions.ScenarioFor): every seed folder, its
// scenario.toml with its own value included, bands.csv and validation.json.
func TestReplaySeedScenarios(t *testing.T) {
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true, MaxPayload: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("embedded NATS server not ready after 10 s")
	}
	url := s.ClientURL()
	sc, resolved := smallSummer(t)
	sets := []string{"space.bits=24", "population.hosts=20000", "end=2001-07-21T00:00:00Z", "worm.crii.start=2001-07-21T00:00:00Z", "bin=10m"}
	scenarioFor := func(seed uint64) (*scenario.Scenario, []byte, error) {
		return scenario.Load("codered-2001", append(slices.Clone(sets), "population.patched=0."+strconv.FormatUint(50+seed, 10)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	wantDir := filepath.Join(dir, "local")
	if _, err := runner.Replay(ctx, sc, resolved, runner.ReplayOptions{Seeds: testSeeds, Out: wantDir, Workers: 2, Version: testVersion, ScenarioFor: scenarioFor}); err != nil {
		t.Fatal(err)
	}
	w := &Worker{Conn: connect(t, url), Config: testConfig, Version: testVersion, Name: "a", Scratch: t.TempDir()}
	var (
		mu    sync.Mutex
		tasks = map[int]int{} // task -> seeds stored
	)
	w.afterStore = func(task int, _ uint64) error {
		mu.Lock()
		tasks[task]++
		mu.Unlock()
		return nil
	}
	go w.Run(ctx)
	out := filepath.Join(dir, "nats")
	client := &Client{Conn: connect(t, url), Config: testConfig}
	_, err = runner.Replay(ctx, sc, resolved, runner.ReplayOptions{Seeds: testSeeds, Out: out, Version: testVersion,
		Remote: ReplaySeeds(client, resolved, ReplayOptions{Out: out, Name: "codered-2001.toml", Version: testVersion, Block: 5,
			ScenarioFor: func(seed uint64) ([]byte, error) { _, b, err := scenarioFor(seed); return b, err }})})
	if err != nil {
		t.Fatal(err)
	}
	sameSeedFolders(t, wantDir, out)
	for _, f := range []string{results.BandsFile, results.ValidationFile} {
		a, _ := os.ReadFile(filepath.Join(wantDir, f))
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil || !bytes.Equal(a, b) || len(a) == 0 {
			t.Errorf("%s differs from the local replay's (%v)", f, err)
		}
	}
	toml, _ := os.ReadFile(filepath.Join(out, results.SeedDirName(3), "scenario.toml"))
	if !bytes.Contains(toml, []byte("\npatched = 0.53\n")) {
		t.Error("seed 3's scenario.toml does not hold its own population.patched = 0.53")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(tasks) < 2 {
		t.Errorf("5 seeds with their own scenarios went in %d task(s) under a 256 kB limit; want them cut", len(tasks))
	}
}
