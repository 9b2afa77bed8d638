package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"wormwatch/internal/atomicfile"
	"wormwatch/ipv4"
	"wormwatch/scenario"
	"wormwatch/sensor/capture"
	"wormwatch/sim"
)

// What Generate simulates by default, and the names of the files it
// writes.
const (
	// Scenario is the built-in scenario of the demo: Code Red v2 on 19 July
	// 2001, 10:00 to 24:00 UTC.
	Scenario = "codered2-july19"
	// DefaultSeed is the seed of the run (the default speed and lead are
	// chosen for its outbreak).
	DefaultSeed uint64 = 1
	// DefaultPrefix is the honeynet's block: a /16, the size of the
	// telescope the watch package's tests use.
	DefaultPrefix = "44.1.0.0/16"
	// SensorName is the honeynet's name in the scenario.
	SensorName = "honeynet"
	// SourceName is the file Generate writes: the honeynet's whole log,
	// gzip'ed (about 20 times smaller: 12 MB instead of 240).
	SourceName = "source.log.gz"
	// LiveName is the file Feed is meant to grow, and the service to
	// follow.
	LiveName = "access.log"
)

// Config is what Generate simulates. The zero value is the demo.
type Config struct {
	Seed   uint64 // the run's seed; 0: DefaultSeed
	Prefix string // the honeynet's block (at most a /8); "": DefaultPrefix
}

// Log describes the log Generate wrote.
type Log struct {
	Source string    // the log: dir/SourceName
	Live   string    // the file to feed and follow: dir/LiveName (removed, with its rotated files)
	Sensor string    // the sensor's name (SensorName)
	Size   uint64    // addresses the sensor watches (65,536 for a /16)
	Lines  int64     // lines of the log, one per probe
	Bytes  int64     // size of the log unpacked
	First  time.Time // time of the first line (the log's resolution: a second)
	Last   time.Time // time of the last line
}

// Generate runs the demo's outbreak (Scenario, for cfg's seed, with the
// honeynet sensor cfg.Prefix) and writes the honeynet's log, one Apache
// combined log line per probe in time order, to dir/SourceName (whole or
// not at all). It also removes what an earlier demo fed in dir: the live
// file dir/LiveName and its rotated files (LiveName-*, LiveName.*), so that
// a feed starts on an empty file. It makes dir if needed.
func Generate(ctx context.Context, dir string, cfg Config) (*Log, error) {
	if cfg.Seed == 0 {
		cfg.Seed = DefaultSeed
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	// Checked before the run: a larger block would record too many probes.
	if p, err := netip.ParsePrefix(cfg.Prefix); err != nil || !p.Addr().Is4() || p.Bits() < 8 {
		return nil, fmt.Errorf("demo: prefix %q: want an IPv4 block of at most a /8 (such as %s)", cfg.Prefix, DefaultPrefix)
	}
	// The capture window is the whole run (14 h for the scenario; at most
	// 3660 days is allowed).
	set := fmt.Sprintf(`sensor=[{name=%q, kind="telescope", prefix=%q, capture="3660d"}]`, SensorName, cfg.Prefix)
	sc, _, err := scenario.Load(Scenario, []string{set})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	res, err := sim.Run(ctx, sc, cfg.Seed, sim.Options{})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if res.Interrupted {
		return nil, fmt.Errorf("demo: %w", context.Cause(ctx))
	}
	s := &res.Sensors[0]
	if len(s.Probes) == 0 {
		return nil, fmt.Errorf("demo: the honeynet %s received no probe", cfg.Prefix)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if err := removeLive(dir); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	l := &Log{
		Source: filepath.Join(dir, SourceName), Live: filepath.Join(dir, LiveName),
		Sensor: SensorName, Size: s.Size, Lines: int64(len(s.Probes)),
		First: at(res.Start, s.Probes[0].Seconds), Last: at(res.Start, s.Probes[len(s.Probes)-1].Seconds),
	}
	sp := ipv4.Space{Bits: res.SpaceBits}
	err = atomicfile.Write(l.Source, func(w io.Writer) error {
		zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
		if err != nil {
			return err
		}
		cw := &countWriter{w: zw}
		if err := capture.WriteAccessLog(cw, s.Probes, sp, res.Start, res.Requests); err != nil {
			return err
		}
		l.Bytes = cw.n
		return zw.Close()
	})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return l, nil
}

// at is the time of a line written for a probe at sec seconds from start:
// the log's timestamps have whole seconds.
func at(start time.Time, sec float64) time.Time {
	return start.Add(time.Duration(sec * float64(time.Second))).UTC().Truncate(time.Second)
}

// removeLive removes dir's live file and its rotated files.
func removeLive(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range ents {
		n := e.Name()
		if n == LiveName || strings.HasPrefix(n, LiveName+"-") || strings.HasPrefix(n, LiveName+".") {
			if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
