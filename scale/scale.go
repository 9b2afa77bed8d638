// Package scale runs a job's seeds on other machines through NATS
// JetStream, with no daemon of ours: the submitter publishes the job's
// tasks (a resolved scenario, --set overrides, engine options and a block
// of seeds) to a work-queue stream, any number of `wormwatch worker`
// processes pull them, run each seed with the engine (sim.Run) and the
// results writer (report.WriteRunWith) exactly as a local run does, store
// each seed's result in the job's Object Store bucket and then ack. The
// submitter watches the bucket and hands each seed's result on as it
// comes in (Client.Run); ReplaySeeds makes that a replay.SeedsFunc.
//
// What travels, and where it is kept:
//
//   - stream Stream ("WORMWATCH"), work-queue retention, subjects
//     job.<job>.task.<n>: one message per task (JSON, Task); a task is
//     removed when a worker acks it;
//   - durable pull consumer Consumer ("workers"), explicit ack, AckWait and
//     MaxDeliver from Config; a worker sends InProgress every AckWait/3
//     while it runs a task, so long tasks are not redelivered, and a task
//     whose worker died (no ack, no heartbeat) is redelivered after AckWait;
//   - Object Store bucket "wormwatch-<job>": one object per seed, named
//     task-<n>/seed-<seed> (gob in zstd, SeedResult: the seed folder's files and the
//     result without its infections). A redelivered task puts the same
//     bytes under the same names, so running it twice is harmless; the
//     submitter takes each seed once and deletes the bucket when done.
//
// A run is a pure function of (scenario, seed), so results computed on any
// machine equal the local ones byte for byte (apart from the wall-clock
// keys of summary.json), provided every worker runs the same version.
package scale

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"wormwatch/sim"
)

// Names of what the package keeps on the NATS server.
const (
	Stream       = "WORMWATCH"    // the work-queue stream of tasks
	Consumer     = "workers"      // the durable pull consumer every worker shares
	BucketPrefix = "wormwatch-"   // + job id: the job's Object Store bucket
	subjectAll   = "job.*.task.*" // the stream's subjects
	maxDeliverAd = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + Stream + "." + Consumer
)

// Config is how the stream's consumer treats tasks. Submitter and workers
// create the stream and the consumer if missing, with these values; the
// first to create them sets them.
type Config struct {
	// AckWait is how long a task may go without an ack or a heartbeat
	// before it is given to another worker: the time it takes to notice a
	// worker that died without closing its connection cleanly.
	AckWait time.Duration
	// MaxDeliver is how many times a task is handed out before it is given
	// up (the submitter then fails the job, naming the task).
	MaxDeliver int
}

// DefaultConfig is what the command line uses: a dead worker's task goes
// to another after at most 30 s (workers heartbeat every 10 s, so a
// worker has to miss three heartbeats); a task that was handed out 5
// times without an ack (a seed that crashes or exhausts every machine it
// lands on) fails the job instead of going round for ever.
var DefaultConfig = Config{AckWait: 30 * time.Second, MaxDeliver: 5}

func (c Config) orDefault() Config {
	if c.AckWait <= 0 {
		c.AckWait = DefaultConfig.AckWait
	}
	if c.MaxDeliver <= 0 {
		c.MaxDeliver = DefaultConfig.MaxDeliver
	}
	return c
}

// Seed is one seed of a task and the engine options that differ by seed.
type Seed struct {
	Seed      uint64
	Snapshots []float64 `json:",omitempty"` // sim.Options.Snapshots
	// Scenario, if set, is the seed's own resolved scenario, run instead of
	// the task's (then Task.Sets apply to it): replay --posterior, whose
	// seeds each draw their keys from a calibration's posterior on the
	// submitter, so that they run and write exactly what a local replay
	// gives them.
	Scenario []byte `json:",omitempty"`
}

// Task is one unit of work: a scenario and a block of its seeds.
type Task struct {
	// Scenario is the scenario's TOML (for a replay the resolved one, with
	// every key), Name the file name used in messages.
	Scenario []byte
	Name     string
	// Sets are --set overrides applied to Scenario (dotted.key=value); the
	// seed folders then hold the scenario resolved after them. Empty for
	// a replay, whose Scenario is already resolved.
	Sets []string `json:",omitempty"`
	// BaseDir is the folder a relative population.file is read from: it
	// must exist on the workers (a shared filesystem) when used.
	BaseDir    string `json:",omitempty"`
	Engine     string `json:",omitempty"` // sim.EngineFast (default) or sim.EngineProbe
	Infections bool   `json:",omitempty"` // write infections.parquet in each seed folder
	// SummaryOnly stores only each seed's result, no seed folder (sweeps
	// and calibrations read the result and write no folder per run). A
	// worker of a version before this field writes the folder anyway,
	// which is harmless: the submitter refuses other versions' results.
	SummaryOnly bool   `json:",omitempty"`
	Version     string // the submitter's version: a worker of another version refuses the task
	Seeds       []Seed
}

// Job is what a submitter runs: tasks, each a block of seeds.
type Job struct {
	Tasks []Task
}

// File is one file of a seed's results folder.
type File struct {
	Name string // slash-separated, inside the folder
	Data []byte
}

// SeedResult is what a worker stores for one seed of a task.
type SeedResult struct {
	Task   int    // index into Job.Tasks
	Seed   uint64 // the seed
	Worker string // who ran it (host name and process id)
	// Err is set when the seed could not be run (the scenario could not be
	// set up on the worker, another version); then nothing else is.
	Err string
	// Result is the run's result without Result.Infections.
	Result *sim.Result
	// Files are the seed folder as report.WriteRunWith wrote it.
	Files []File
}

// RemoteError is a seed that a worker could not run, or a task no worker
// finished.
type RemoteError struct {
	Task int
	Seed uint64 // 0 when the whole task failed
	Msg  string
}

// Error says which task (and seed) failed and why.
func (e *RemoteError) Error() string {
	if e.Seed != 0 {
		return fmt.Sprintf("task %d, seed %d: %s", e.Task, e.Seed, e.Msg)
	}
	return fmt.Sprintf("task %d: %s", e.Task, e.Msg)
}

func subject(job string, task int) string { return "job." + job + ".task." + strconv.Itoa(task) }

func bucketName(job string) string { return BucketPrefix + job }

func objectName(task int, seed uint64) string {
	return "task-" + strconv.Itoa(task) + "/seed-" + strconv.FormatUint(seed, 10)
}

// parseObjectName is the inverse of objectName.
func parseObjectName(name string) (task int, seed uint64, ok bool) {
	t, s, found := strings.Cut(name, "/")
	if !found {
		return 0, 0, false
	}
	ts, ok1 := strings.CutPrefix(t, "task-")
	ss, ok2 := strings.CutPrefix(s, "seed-")
	if !ok1 || !ok2 {
		return 0, 0, false
	}
	n, err1 := strconv.Atoi(ts)
	sd, err2 := strconv.ParseUint(ss, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return n, sd, true
}

// jobOfSubject returns the job and task of a task's subject.
func jobOfSubject(subj string) (job string, task int, err error) {
	p := strings.Split(subj, ".")
	if len(p) != 4 || p[0] != "job" || p[2] != "task" {
		return "", 0, fmt.Errorf("subject %q is not job.<id>.task.<n>", subj)
	}
	n, err := strconv.Atoi(p[3])
	if err != nil {
		return "", 0, fmt.Errorf("subject %q is not job.<id>.task.<n>", subj)
	}
	return p[1], n, nil
}

// ErrNoJetStream is a NATS server that answers without JetStream.
var ErrNoJetStream = errors.New("the NATS server has no JetStream: start it with -js (and -sd DIR for where it keeps the streams), see docs/scale.md")

// ensure creates the stream and the consumer if missing (a server that
// already holds them keeps their configuration).
func ensure(ctx context.Context, js jetstream.JetStream, cfg Config) (jetstream.Consumer, error) {
	cfg = cfg.orDefault()
	s, err := js.Stream(ctx, Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		s, err = js.CreateStream(ctx, jetstream.StreamConfig{
			Name:        Stream,
			Description: "wormwatch tasks (docs/scale.md)",
			Subjects:    []string{subjectAll},
			Retention:   jetstream.WorkQueuePolicy,
			Storage:     jetstream.FileStorage,
			Duplicates:  10 * time.Minute,
		})
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			s, err = js.Stream(ctx, Stream)
		}
	}
	if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
		return nil, ErrNoJetStream
	}
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", Stream, err)
	}
	c, err := s.Consumer(ctx, Consumer)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		c, err = s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
			Durable:       Consumer,
			Description:   "wormwatch workers",
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       cfg.AckWait,
			MaxDeliver:    cfg.MaxDeliver,
			MaxAckPending: 10000,
		})
	}
	if err != nil {
		return nil, fmt.Errorf("consumer %s of stream %s: %w", Consumer, Stream, err)
	}
	return c, nil
}

// Connect connects to the NATS server at url (nats://host:4222, a comma
// separated list of servers) with a name shown by the server's monitoring;
// it reconnects for ever.
func Connect(url, name string) (*nats.Conn, error) {
	nc, err := nats.Connect(url, nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(time.Second))
	if err != nil {
		return nil, fmt.Errorf("--nats %s: %w", url, err)
	}
	return nc, nil
}

// The zstd coders are shared: EncodeAll and DecodeAll are safe for
// concurrent use, and making a coder costs more than a small result.
var (
	zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	zdec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(4<<30))
)

// encodeResult returns r as gob compressed with zstd at its fastest level:
// the CSV files of a long run compress several fold, and the object
// store of the Debian server (2.9) has no compression of its own.
func encodeResult(r *SeedResult) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(r); err != nil {
		return nil, err
	}
	return zenc.EncodeAll(b.Bytes(), nil), nil
}

// decodeResult reads what encodeResult wrote.
func decodeResult(data []byte) (*SeedResult, error) {
	raw, err := zdec.DecodeAll(data, nil)
	if err != nil {
		return nil, err
	}
	r := new(SeedResult)
	if err := gob.NewDecoder(bytes.NewReader(raw)).Decode(r); err != nil {
		return nil, err
	}
	return r, nil
}
