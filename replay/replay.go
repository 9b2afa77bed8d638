// Package replay replays a scenario over many seeds and checks it against
// what was measured: it runs the seeds in parallel (each deterministic),
// computes the 5%, 50% and 95% bands over seeds of every series, fits the
// random-constant-spread logistic to the telescope's view, and puts each
// published figure beside the simulated median and 90% band. What it
// produced is a results.Replay, which the figures and the report draw.
package replay

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"wormwatch/internal/atomicfile"
	"wormwatch/results"
	"wormwatch/scenario"
	"wormwatch/scenario/builtin/reference"
	"wormwatch/sim"
)

// Options control a replay.
type Options struct {
	Seeds    []uint64
	Out      string // the replay's folder, claimed by the caller (atomicfile.Claim); one run folder per seed inside
	Version  string
	Progress func(done, total int) // after each seed, if set
	// Posterior and PosteriorKeys: the calibration each seed's keys were
	// drawn from, if any (results.Replay's fields of those names).
	Posterior     string
	PosteriorKeys []string
}

// Hooks are what a replay needs around each seed's run: Configure sets the
// engine's options before it (the first seed takes the map snapshots), Keep
// sees its result after its folder is written, Done counts it.
type Hooks struct {
	Configure func(seed uint64, o *sim.Options)
	Keep      func(seed uint64, res *sim.Result)
	Done      func(seed uint64)
}

// SeedsFunc runs the scenario once per seed, writes each run's folder
// (results.SeedDirName under the replay's folder) and calls the hooks. The
// command line passes runner.Seeds; replay does not import runner, so that
// where the seeds run (these cores, or later other machines) is the
// caller's choice and the ensemble's statistics sit just above the engine.
type SeedsFunc func(ctx context.Context, seeds []uint64, h Hooks) error

// Columns of timeseries.csv that get bands, in order (binCol reads them
// from a bin).
var seriesColumns = results.SeriesColumns()

// Columns of a sensor file that get bands (named results.SensorBand).
var sensorColumns = results.SensorBandColumns

// seedSeries is what a replay keeps of one seed: one value per bin and
// column, as float32 (counts of this size are exact to 1 in 2^24 relative,
// far below the spread between seeds).
type seedSeries struct {
	cols  [][]float32
	hosts float64 // hosts in the population
	home  float64 // home and small-business machines among them
}

func binCol(b *sim.Bin, c int) int64 {
	switch c {
	case 0:
		return b.Susceptible
	case 1:
		return b.Infected
	case 2:
		return b.InfectedScanning
	case 3:
		return b.InfectedFlooding
	case 4:
		return b.InfectedDormant
	case 5:
		return b.Patched
	case 6:
		return b.Removed
	case 7:
		return b.NewInfections
	case 8:
		return b.EverInfected
	case 9:
		return b.Probes
	case 10:
		return b.SynPackets
	case 11:
		return b.BytesOnWire
	case 12:
		return b.FloodBytes
	case 13:
		return b.PatchedHome
	case 14:
		return b.RemovedHome
	case 15:
		return b.EverUnpatched
	}
	panic("replay: no such column")
}

// Run replays the scenario over opt.Seeds, run by runSeeds (which writes
// one run folder per seed under opt.Out), then writes bands.csv and
// validation.json. The report (plots and report.html) is written by the
// caller from the returned Replay.
func Run(ctx context.Context, sc *scenario.Scenario, resolved []byte, opt Options, runSeeds SeedsFunc) (*results.Replay, error) {
	if len(opt.Seeds) == 0 {
		return nil, fmt.Errorf("replay: no seeds")
	}
	_, snapLabels := snapshotTimes(sc)
	first := opt.Seeds[0]
	var (
		mu     sync.Mutex
		series = map[uint64]*seedSeries{}
		snaps  []sim.Snapshot
		done   int
	)
	h := Hooks{
		Configure: Configure(sc, opt.Seeds),
		Keep: func(seed uint64, res *sim.Result) {
			s := keep(res)
			mu.Lock()
			defer mu.Unlock()
			series[seed] = s
			if seed == first {
				snaps = res.Snapshots
			}
		},
		Done: func(uint64) {
			mu.Lock()
			done++
			d := done
			mu.Unlock()
			if opt.Progress != nil {
				opt.Progress(d, len(opt.Seeds))
			}
		},
	}
	if err := runSeeds(ctx, opt.Seeds, h); err != nil {
		return nil, err
	}
	r := &results.Replay{
		Scenario: sc.Name, Description: sc.Description, Version: opt.Version, Seeds: opt.Seeds,
		Start: sc.Start.UTC(), BinSeconds: sc.Bin.Seconds(), ScenarioTOML: resolved,
		Posterior: opt.Posterior, PosteriorKeys: opt.PosteriorKeys,
	}
	for _, sn := range sc.Sensors {
		r.Sensors = append(r.Sensors, results.SensorInfo{Name: sn.Name, Prefix: sn.Prefix})
	}
	all := make([]*seedSeries, 0, len(opt.Seeds))
	for _, s := range opt.Seeds {
		all = append(all, series[s])
	}
	computeBands(r, all)
	for i, s := range snaps {
		r.Maps = append(r.Maps, results.Snapshot{Time: r.Start.Add(seconds(s.Seconds)), Label: snapLabels[i], Infected: s.Infected})
	}
	ref, err := reference.CodeRed2001()
	if err != nil {
		return nil, err
	}
	r.Validation, r.Measured = validate(sc, r, all, ref)
	if err := writeBands(r, filepath.Join(opt.Out, results.BandsFile)); err != nil {
		return nil, err
	}
	if err := writeValidation(r, filepath.Join(opt.Out, results.ValidationFile)); err != nil {
		return nil, err
	}
	return r, nil
}

// Configure returns the hook that sets the engine's options of each seed
// of a replay of seeds (Hooks.Configure): the first seed takes the map
// snapshots. A replay split into shards (run --shard, merge) runs each
// shard's seeds with it, so that merged they equal the replay in one go.
func Configure(sc *scenario.Scenario, seeds []uint64) func(seed uint64, o *sim.Options) {
	snapTimes, _ := snapshotTimes(sc)
	return func(seed uint64, o *sim.Options) {
		if len(seeds) > 0 && seed == seeds[0] {
			o.Snapshots = snapTimes
		}
	}
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// keep copies the series of one run.
func keep(res *sim.Result) *seedSeries {
	n := len(res.Bins)
	s := &seedSeries{}
	for c := range seriesColumns {
		col := make([]float32, n)
		for i := range res.Bins {
			col[i] = float32(binCol(&res.Bins[i], c))
		}
		s.cols = append(s.cols, col)
	}
	for _, ss := range res.Sensors {
		for c := range sensorColumns {
			col := make([]float32, len(ss.Rows))
			for i, row := range ss.Rows {
				v := [4]int64{row.Probes, row.Sources, row.NewSources, row.CumulativeSources}[c]
				col[i] = float32(v)
			}
			s.cols = append(s.cols, col)
		}
	}
	f := res.Final
	s.hosts = float64(f.Susceptible + f.Infected + f.Patched + f.Removed)
	s.home = float64(res.HomeHosts)
	return s
}

// snapshotTimes chooses the moments of the IPv4 maps: every other day at
// 00:00 UTC (every day for runs of at most two weeks), and every two hours
// over the first 14 hours of each worm variant that starts after the
// scenario's start (the first hours of the first variant show a handful of
// hosts).
func snapshotTimes(sc *scenario.Scenario) ([]float64, []string) {
	end := sc.End.Sub(sc.Start).Seconds()
	set := map[int64]bool{}
	step := 2
	if sc.End.Sub(sc.Start) <= 14*24*time.Hour {
		step = 1
	}
	day := time.Date(sc.Start.Year(), sc.Start.Month(), sc.Start.Day(), 0, 0, 0, 0, time.UTC)
	for d := day.AddDate(0, 0, 1); d.Before(sc.End); d = d.AddDate(0, 0, step) {
		set[int64(d.Sub(sc.Start).Seconds())] = true
	}
	for _, w := range sc.Worms {
		st := w.Start
		if st.IsZero() || !st.After(sc.Start) {
			continue
		}
		for h := 2; h <= 14; h += 2 {
			if t := st.Add(time.Duration(h) * time.Hour).Sub(sc.Start).Seconds(); t > 0 && t <= end {
				set[int64(t)] = true
			}
		}
	}
	var ts []float64
	for t := range set {
		ts = append(ts, float64(t))
	}
	sort.Float64s(ts)
	labels := make([]string, len(ts))
	for i, t := range ts {
		labels[i] = sc.Start.Add(seconds(t)).UTC().Format("2006-01-02 15:04 UTC")
	}
	return ts, labels
}

// computeBands sets the replay's times and its bands over the seeds'
// series: every column of timeseries.csv, then each sensor's.
func computeBands(r *results.Replay, all []*seedSeries) {
	names := append([]string(nil), seriesColumns...)
	for _, sn := range r.Sensors {
		for _, c := range sensorColumns {
			names = append(names, results.SensorBand(sn.Name, c))
		}
	}
	nbins := len(all[0].cols[0])
	for b := 0; b < nbins; b++ {
		r.Times = append(r.Times, r.Start.Add(seconds(float64(b)*r.BinSeconds)))
	}
	v := make([]float64, len(all))
	for c, name := range names {
		bd := results.Band{Name: name, P05: make([]float64, nbins), P50: make([]float64, nbins), P95: make([]float64, nbins)}
		for b := 0; b < nbins; b++ {
			for i, s := range all {
				v[i] = float64(s.cols[c][b])
			}
			bd.P05[b], bd.P50[b], bd.P95[b] = results.Quantiles(v)
		}
		r.Bands = append(r.Bands, bd)
	}
}

// writeBands writes bands.csv: time, then <column>_p05, _p50, _p95 for
// every band.
func writeBands(r *results.Replay, path string) error {
	return atomicfile.Write(path, func(f io.Writer) error {
		w := csv.NewWriter(f)
		head := []string{results.TimeColumn}
		for _, b := range r.Bands {
			c := results.BandColumns(b.Name)
			head = append(head, c[:]...)
		}
		if err := w.Write(head); err != nil {
			return err
		}
		rec := make([]string, len(head))
		for i, t := range r.Times {
			rec[0] = t.Format(time.RFC3339)
			for j, b := range r.Bands {
				rec[1+3*j] = strconv.FormatFloat(b.P05[i], 'f', -1, 64)
				rec[2+3*j] = strconv.FormatFloat(b.P50[i], 'f', -1, 64)
				rec[3+3*j] = strconv.FormatFloat(b.P95[i], 'f', -1, 64)
			}
			if err := w.Write(rec); err != nil {
				return err
			}
		}
		w.Flush()
		return w.Error()
	})
}

// writeValidation writes validation.json (results.ValidationReport).
func writeValidation(r *results.Replay, path string) error {
	doc := results.ValidationReport{Scenario: r.Scenario, Seeds: r.Seeds, Version: r.Version,
		Checks: r.Validation.Checks, Logistic: r.Validation.Logistic, Traffic: r.Validation.Traffic,
		Restart: r.Validation.Restart}
	return atomicfile.Write(path, func(f io.Writer) error {
		enc := json.NewEncoder(f)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	})
}
