// Package metrics is the Prometheus exposition of wormwatch serve
// (GET /metrics): a registry of its own (not the global default) with the
// Go runtime's and the process's collectors, a collector that reads a
// Snapshot of the service at each scrape, and the commit duration
// histogram, which the service feeds after each commit (ObserveCommit).
//
// The pipeline keeps its own counts (detect's line counts per input, the
// watch's series and states, the commits); a scrape asks the service for
// a Snapshot of them and turns it into metrics, so that nothing is counted
// twice and the ingest loop does no work for metrics between scrapes.
// docs/serve.md (Metrics) lists every metric.
//
// # Cardinality
//
// Every label takes values from a set bounded by the configuration or the
// code: input (the configured inputs; a folder of captures is one input),
// reason (detect's reasons), state (the four alarm states), channel and
// state of deliveries, sensor (the configured sensors). The series label
// is bounded twice: by the watch's max_series, and here by
// Options.MaxSeries: the first MaxSeries series in order of creation are
// exported, and beyond them only those whose state is not quiet (an alarm
// is never hidden); wormwatch_series_omitted counts the others, and
// wormwatch_series_in_state counts every series by state.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"wormwatch/detect"
	"wormwatch/results"
	"wormwatch/watch"
)

// Snapshot is the service's state at one moment, as a scrape reads it.
type Snapshot struct {
	Now     time.Time // the service's wall clock when the snapshot was taken
	Started time.Time // when the service started (wall clock)

	Inputs []Input // the configured inputs being read, in the order of the configuration

	Records int64 // records counted (in detect's report and the watch) since the service started
	Refused int64 // records the watch refused (past a cap, a time out of range) since the service started
	Late    int64 // the watch's late records (of intervals already closed), over the data folder's life
	Sources int64 // distinct sources over all sensors (the watch's)

	Series  []Series // every series of the watch, in order of creation
	Sensors []Sensor // every sensor of the watch

	Commits     int64       // commits over the data folder's life
	Commit      CommitStats // the durations of this process's commits
	LastCommit  time.Time   // wall clock of the latest commit of this process; zero before the first
	Uncommitted bool        // something read (lines, packets, positions) is not committed yet

	StoreBytes int64           // bytes of the store's files (database and write-ahead log); negative: unknown
	Deliveries []DeliveryCount // the outbox's entries by channel and state; nil: not known
}

// Input is one configured input: its counts summed over what it reads (a
// followed log is one file at a time; a folder of captures, each capture).
type Input struct {
	Name    string              // the configured input's name
	Kind    string              // log, zeek or pcap
	Capture bool                // its files are captures: it has packet counts, not line counts
	Up      bool                // readable: the last try to read it did not fail
	Counts  detect.Counts       // its line counts (a log's), over the data folder's life
	Packets detect.PacketCounts // its packet counts (a capture's), over the data folder's life
}

// Series is one series of the watch.
type Series struct {
	Key    string             // SENSOR, SENSOR/family/NAME or SENSOR/port/tcp/80
	Sensor string             // its sensor
	Kind   string             // all, family or port
	State  watch.State        // where its alarm state machine stands
	Late   int64              // late records counted in its rows' probes
	Last   *results.SensorRow // its latest closed row; nil before any closed
}

// Sensor is one sensor of the watch.
type Sensor struct {
	Name       string
	LastRecord time.Time // time of its latest record (the record's own time); zero: none yet
}

// DeliveryCount is how many entries of the outbox are in one state on one
// channel.
type DeliveryCount struct {
	Channel string // webhook, stix, csaf, ...
	State   string // pending, sent or dead
	N       int64
}

// CommitStats are the durations of the commits of a process: a histogram
// over CommitBuckets of the successful ones, and the failures.
type CommitStats struct {
	Count    uint64   // successful commits
	Sum      float64  // their durations, in seconds
	Buckets  []uint64 // per CommitBuckets bound: the commits that took at most that long (cumulative)
	Failures uint64   // failed commits (their results are committed with the next)
}

// Observe records a commit that took d: in the histogram when it
// succeeded (err nil), in the failures otherwise.
func (c *CommitStats) Observe(d time.Duration, err error) {
	if err != nil {
		c.Failures++
		return
	}
	if c.Buckets == nil {
		c.Buckets = make([]uint64, len(CommitBuckets))
	}
	sec := d.Seconds()
	c.Count++
	c.Sum += sec
	for i, b := range CommitBuckets {
		if sec <= b {
			c.Buckets[i]++
		}
	}
}

// Clone returns a copy that does not share the buckets.
func (c CommitStats) Clone() CommitStats {
	c.Buckets = append([]uint64(nil), c.Buckets...)
	return c
}

// SnapshotFunc returns a snapshot of the service; ctx bounds the wait.
type SnapshotFunc func(ctx context.Context) (*Snapshot, error)

// Options are the settings of the metrics.
type Options struct {
	// MaxSeries is how many series get metrics of their own, at most,
	// besides those whose state is not quiet; 0: DefaultMaxSeries.
	MaxSeries int
	// Timeout bounds the wait for a snapshot; 0: DefaultTimeout.
	Timeout time.Duration
	// Logger receives the errors of scrapes; nil: they are not logged.
	Logger *slog.Logger
}

// DefaultMaxSeries is Options.MaxSeries's default.
const DefaultMaxSeries = 256

// DefaultTimeout is Options.Timeout's default.
const DefaultTimeout = 10 * time.Second

// CommitBuckets are the upper bounds of the commit duration histogram, in
// seconds: from 1 ms to 10 s.
var CommitBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Metrics is the registry of the service's metrics and its handler.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler
}

// New returns the metrics of a service whose snapshots snap returns.
func New(snap SnapshotFunc, opt Options) *Metrics {
	if opt.MaxSeries <= 0 {
		opt.MaxSeries = DefaultMaxSeries
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newCollector(snap, opt),
	)
	var errLog promhttp.Logger
	if opt.Logger != nil {
		errLog = slogPrintln{opt.Logger}
	}
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      errLog,
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg,
	})
	return m
}

// Registry returns the registry (the Gatherer of the handler).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ServeHTTP answers the metrics in Prometheus's text format (or another
// the scraper asks for).
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.handler.ServeHTTP(w, r) }

// slogPrintln is promhttp's logger over slog.
type slogPrintln struct{ l *slog.Logger }

func (p slogPrintln) Println(v ...any) {
	args := make([]any, 0, 2*len(v))
	for _, x := range v {
		args = append(args, "detail", x)
	}
	p.l.Warn("metrics scrape", args...)
}

// desc declares a metric of the collector.
func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// The metrics the collector exports from a snapshot.
var (
	inputLines      = desc("wormwatch_input_lines_read_total", "Lines read from the input, whatever became of them, over the data folder's life.", "input")
	inputParsed     = desc("wormwatch_input_lines_parsed_total", "Lines of the input normalised to a record, over the data folder's life.", "input")
	inputSkipped    = desc("wormwatch_input_lines_skipped_total", "Lines of the input skipped, by detect's reason, over the data folder's life.", "input", "reason")
	inputDirectives = desc("wormwatch_input_directives_total", "IIS W3C directive lines (#Fields and the like) of the input, over the data folder's life.", "input")
	inputPackets    = desc("wormwatch_input_packets_read_total", "Packets read from the input's captures, over the data folder's life.", "input")
	inputUndecoded  = desc("wormwatch_input_packets_undecoded_total", "Packets of the input whose headers could not be read, over the data folder's life.", "input")
	inputSYNs       = desc("wormwatch_input_syns_total", "TCP SYNs without ACK (connection attempts) in the input's captures, over the data folder's life.", "input")
	inputRequests   = desc("wormwatch_input_requests_reassembled_total", "HTTP requests reassembled from the input's packets, over the data folder's life.", "input")
	inputUp         = desc("wormwatch_input_up", "1 while the input is readable, 0 when the last try to read it failed (it is tried again).", "input", "kind")

	records   = desc("wormwatch_records_total", "Records (requests and connection attempts) counted since the service started.")
	refused   = desc("wormwatch_watch_refused_records_total", "Records the watch refused (past a cap, a time out of range) since the service started; counted in detect's report only.")
	late      = desc("wormwatch_watch_late_records_total", "Records of intervals already closed (counted in their row's probes only), over the data folder's life.")
	sources   = desc("wormwatch_watch_sources", "Distinct sources kept by the watch over all sensors.")
	nSeries   = desc("wormwatch_watch_series", "Series of the watch (sensors times classes seen).")
	inState   = desc("wormwatch_series_in_state", "Series whose alarm state machine is in the state.", "state")
	omitted   = desc("wormwatch_series_omitted", "Series without metrics of their own (past the cap of series exported; all of them quiet).")
	state     = desc("wormwatch_series_state", "The series' alarm state: 0 quiet, 1 watching, 2 alarm, 3 subsiding.", "series", "sensor", "kind")
	rowTime   = desc("wormwatch_series_last_row_timestamp_seconds", "Start of the series' latest closed interval, in seconds since the epoch (the records' time).", "series", "sensor", "kind")
	rowProbes = desc("wormwatch_series_probes", "Probes (records) in the series' latest closed interval.", "series", "sensor", "kind")
	rowSrc    = desc("wormwatch_series_sources", "Distinct sources in the series' latest closed interval.", "series", "sensor", "kind")
	rowNew    = desc("wormwatch_series_new_sources", "Sources seen for the first time in the series' latest closed interval.", "series", "sensor", "kind")
	rowCum    = desc("wormwatch_series_cumulative_sources", "Distinct sources seen by the series from its first row to the end of its latest closed interval.", "series", "sensor", "kind")
	serLate   = desc("wormwatch_series_late_records_total", "Late records counted in the series' rows' probes, over the data folder's life.", "series", "sensor", "kind")
	sensorRec = desc("wormwatch_sensor_last_record_timestamp_seconds", "Time of the sensor's latest record (the record's own time), in seconds since the epoch.", "sensor")

	commits    = desc("wormwatch_commits_total", "Commits to the store over the data folder's life.")
	commitDur  = desc("wormwatch_commit_duration_seconds", "Time taken by the store's commits of this process (successful ones), in seconds.")
	commitFail = desc("wormwatch_commit_failures_total", "Commits of this process that failed (their results are committed with the next).")
	lastCommit = desc("wormwatch_last_commit_timestamp_seconds", "Wall-clock time of the latest commit of this process (before the first: the service's start), in seconds since the epoch.")
	lag        = desc("wormwatch_ingest_lag_seconds", "0 when everything read is committed; else the seconds since the latest commit (or the start): how long, at most, the oldest line or packet read has waited for its commit.")
	storeSize  = desc("wormwatch_store_size_bytes", "Bytes of the store's files: the database and its write-ahead log.")
	deliveries = desc("wormwatch_deliveries", "Entries of the alert outbox, by channel and state (pending, sent, dead).", "channel", "state")
	scrapeOK   = desc("wormwatch_snapshot_up", "1 when the scrape read the service's state, 0 when it could not (stopping, or too slow): the other wormwatch_ metrics are then missing.")
)

// stateNames are the alarm states in the order of their values.
var stateNames = []watch.State{watch.Quiet, watch.Watching, watch.Alarm, watch.Subsiding}

// collector turns a snapshot into metrics at each scrape.
type collector struct {
	snap    SnapshotFunc
	opt     Options
	reasons []string // detect's reasons, in order
}

// newCollector returns the collector of snapshots.
func newCollector(snap SnapshotFunc, opt Options) *collector {
	c := &collector{snap: snap, opt: opt}
	var counts detect.Counts
	for i := range counts.Skipped {
		c.reasons = append(c.reasons, detect.Reason(i).String())
	}
	return c
}

// Describe sends every metric's description.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{inputLines, inputParsed, inputSkipped, inputDirectives, inputPackets, inputUndecoded, inputSYNs, inputRequests, inputUp,
		records, refused, late, sources, nSeries, inState, omitted, state, rowTime, rowProbes, rowSrc, rowNew, rowCum, serLate, sensorRec,
		commits, commitDur, commitFail, lastCommit, lag, storeSize, deliveries, scrapeOK} {
		ch <- d
	}
}

// Collect takes a snapshot and sends its metrics.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.opt.Timeout)
	defer cancel()
	s, err := c.snap(ctx)
	if err != nil {
		if c.opt.Logger != nil {
			c.opt.Logger.Warn("metrics: no snapshot of the service", "error", err)
		}
		ch <- gauge(scrapeOK, 0)
		return
	}
	ch <- gauge(scrapeOK, 1)
	c.inputs(ch, s)
	c.series(ch, s)
	ch <- counter(records, float64(s.Records))
	ch <- counter(refused, float64(s.Refused))
	ch <- counter(late, float64(s.Late))
	ch <- gauge(sources, float64(s.Sources))
	ch <- gauge(nSeries, float64(len(s.Series)))
	for _, sn := range s.Sensors {
		if !sn.LastRecord.IsZero() {
			ch <- gauge(sensorRec, seconds(sn.LastRecord), sn.Name)
		}
	}
	ch <- counter(commits, float64(s.Commits))
	ch <- commitHistogram(s.Commit)
	ch <- counter(commitFail, float64(s.Commit.Failures))
	last := s.LastCommit
	if last.IsZero() {
		last = s.Started
	}
	ch <- gauge(lastCommit, seconds(last))
	var wait float64
	if s.Uncommitted {
		wait = max(0, s.Now.Sub(last).Seconds())
	}
	ch <- gauge(lag, wait)
	if s.StoreBytes >= 0 {
		ch <- gauge(storeSize, float64(s.StoreBytes))
	}
	for _, d := range s.Deliveries {
		ch <- gauge(deliveries, float64(d.N), d.Channel, d.State)
	}
}

// inputs sends the metrics of the inputs.
func (c *collector) inputs(ch chan<- prometheus.Metric, s *Snapshot) {
	for _, in := range s.Inputs {
		up := 0.0
		if in.Up {
			up = 1
		}
		ch <- gauge(inputUp, up, in.Name, in.Kind)
		if in.Capture {
			p := in.Packets
			ch <- counter(inputPackets, float64(p.Packets), in.Name)
			ch <- counter(inputUndecoded, float64(p.Undecoded), in.Name)
			ch <- counter(inputSYNs, float64(p.SYNs), in.Name)
			ch <- counter(inputRequests, float64(p.Requests), in.Name)
			continue
		}
		ch <- counter(inputLines, float64(in.Counts.Lines), in.Name)
		ch <- counter(inputParsed, float64(in.Counts.Parsed), in.Name)
		ch <- counter(inputDirectives, float64(in.Counts.Directives), in.Name)
		for i, why := range c.reasons {
			ch <- counter(inputSkipped, float64(in.Counts.Skipped[i]), in.Name, why)
		}
	}
}

// series sends the metrics of the series: the counts by state over all
// of them, each exported series' own.
func (c *collector) series(ch chan<- prometheus.Metric, s *Snapshot) {
	var by [4]int
	left := 0
	for i, sr := range s.Series {
		if int(sr.State) < len(by) {
			by[sr.State]++
		}
		if i >= c.opt.MaxSeries && sr.State == watch.Quiet {
			left++
			continue
		}
		l := []string{sr.Key, sr.Sensor, sr.Kind}
		ch <- gauge(state, float64(sr.State), l...)
		ch <- counter(serLate, float64(sr.Late), l...)
		if r := sr.Last; r != nil {
			ch <- gauge(rowTime, seconds(r.Time), l...)
			ch <- gauge(rowProbes, float64(r.Probes), l...)
			ch <- gauge(rowSrc, float64(r.Sources), l...)
			ch <- gauge(rowNew, float64(r.NewSources), l...)
			ch <- gauge(rowCum, float64(r.CumulativeSources), l...)
		}
	}
	for i, st := range stateNames {
		ch <- gauge(inState, float64(by[i]), st.String())
	}
	ch <- gauge(omitted, float64(left))
}

// commitHistogram makes the commit duration histogram's sample.
func commitHistogram(c CommitStats) prometheus.Metric {
	buckets := make(map[float64]uint64, len(CommitBuckets))
	for i, b := range CommitBuckets {
		if i < len(c.Buckets) {
			buckets[b] = c.Buckets[i]
		} else {
			buckets[b] = 0
		}
	}
	return prometheus.MustNewConstHistogram(commitDur, c.Count, c.Sum, buckets)
}

// gauge makes a gauge's sample.
func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

// counter makes a counter's sample.
func counter(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}

// seconds returns t in seconds since the epoch.
func seconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
