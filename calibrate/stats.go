package calibrate

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"wormwatch/internal/infile"
	"wormwatch/report"
	"wormwatch/sim"
)

// run is what a calibration keeps of one simulated run: its summary and its
// time series.
type run struct {
	summary report.Summary
	start   time.Time
	bin     float64 // seconds
	bins    []sim.Bin
	home    int64 // home and small-business machines (sim.Result.HomeHosts)
}

// stat is a documented summary statistic of a run (docs/calibrate.md).
type statistic struct {
	doc    string
	series bool // read at the target's times
	// point reads a point statistic; at reads a series statistic at
	// seconds after the start. NaN: the run has no value.
	point func(r *run) float64
	at    func(r *run, b sim.Bin) float64
}

// stats are the statistics a target may name.
var stats = map[string]statistic{
	"ever_infected":  {doc: "hosts ever infected by the end (summary.json ever_infected)", point: func(r *run) float64 { return float64(r.summary.EverInfected) }},
	"final_infected": {doc: "hosts infected at the end (summary.json final.infected)", point: func(r *run) float64 { return float64(r.summary.Final.Infected) }},
	"peak_infected":  {doc: "the most hosts infected at the end of a bin", point: peakInfected},
	"peak_new_per_minute": {doc: "the most new infections per minute in a bin (summary.json peak_new_infections_per_minute)", point: func(r *run) float64 {
		return deref(r.summary.PeakNewInfectionsPerMinute, 1)
	}},
	"hours_to_50_percent": {doc: "hours from the start until half of the hosts ever infected were infected (summary.json time_to_50_percent_infected_seconds); no value when none was", point: func(r *run) float64 {
		return deref(r.summary.TimeTo50PercentSeconds, 1.0/3600)
	}},
	"infected_at":             {doc: "hosts infected at the end of the bin holding each time (column infected)", series: true, at: func(_ *run, b sim.Bin) float64 { return float64(b.Infected) }},
	"ever_infected_at":        {doc: "hosts ever infected by the end of the bin holding each time (column ever_infected)", series: true, at: func(_ *run, b sim.Bin) float64 { return float64(b.EverInfected) }},
	"server_patched_share_at": {doc: "patched share of the servers that are not home machines, of those still on the network, at the end of the bin holding each time: (patched - patched_home) / (hosts - home hosts - (removed - removed_home)), what CAIDA's daily survey of about 10,000 IIS 5.0 servers measured; no value when no such server is left", series: true, at: serverPatchedShare},
	"ever_unpatched_share_at": {doc: "share of the hosts ever infected that are neither patched nor removed at the end of the bin holding each time: ever_unpatched / ever_infected (31 July 2001: nearly a third of the machines infected in July were still unpatched); no value before the first infection", series: true, at: everUnpatchedShare},
}

// serverPatchedShare is the patched share of the servers (hosts that are
// not home machines) still on the network at the end of bin b of run r.
func serverPatchedShare(r *run, b sim.Bin) float64 {
	hosts := b.Susceptible + b.Infected + b.Patched + b.Removed
	on := hosts - r.home - (b.Removed - b.RemovedHome)
	if on <= 0 {
		return math.NaN()
	}
	return float64(b.Patched-b.PatchedHome) / float64(on)
}

// everUnpatchedShare is the share of the hosts ever infected by the end of
// bin b that are neither patched nor removed.
func everUnpatchedShare(_ *run, b sim.Bin) float64 {
	if b.EverInfected == 0 {
		return math.NaN()
	}
	return float64(b.EverUnpatched) / float64(b.EverInfected)
}

func peakInfected(r *run) float64 {
	var p int64
	for _, b := range r.bins {
		p = max(p, b.Infected)
	}
	return float64(p)
}

func deref(p *float64, scale float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p * scale
}

// values returns target t's statistic of run r, one value per observed
// value (NaN: none).
func (t *Target) values(r *run) []float64 {
	st := stats[t.Stat]
	if !st.series {
		return []float64{st.point(r)}
	}
	out := make([]float64, len(t.offsets))
	for j, sec := range t.offsets {
		k := int(math.Floor(sec / r.bin))
		if k >= len(r.bins) {
			k = len(r.bins) - 1
		}
		if k < 0 || len(r.bins) == 0 {
			out[j] = math.NaN()
			continue
		}
		out[j] = st.at(r, r.bins[k])
	}
	return out
}

// readCSVs reads the series of the targets that name a CSV file: columns
// at (a date-time or a duration after the start) and value, with a header.
func (s *Spec) readCSVs() error {
	for i := range s.Targets {
		t := &s.Targets[i]
		if t.CSV == "" {
			continue
		}
		path := t.CSV
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(s.File), path)
		}
		data, err := infile.ReadAll(path, "target CSV", MaxFileBytes)
		if err != nil {
			msg := err.Error()
			if errors.Is(err, fs.ErrNotExist) {
				msg = path + ": no such file"
			}
			return s.failIn("target", i, "csv", "%s", msg)
		}
		times, obs, err := parseSeriesCSV(string(data))
		if err != nil {
			return s.failIn("target", i, "csv", "%s: %v", path, err)
		}
		t.times, t.obs = times, obs
		t.csvData = data
		if err := s.setSDs(i); err != nil {
			return err
		}
	}
	return nil
}

// parseSeriesCSV reads an at,value CSV.
func parseSeriesCSV(text string) ([]timeRef, []float64, error) {
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = 2
	head, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("line 1: %v", err)
	}
	if strings.TrimSpace(head[0]) != "at" || strings.TrimSpace(head[1]) != "value" {
		return nil, nil, fmt.Errorf("line 1: want the header at,value")
	}
	var times []timeRef
	var obs []float64
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		ref, err := parseTime(strings.TrimSpace(rec[0]))
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: at: %v", line, err)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rec[1]), 64)
		if err != nil || !finite(v) {
			return nil, nil, fmt.Errorf("line %d: value %q: want a finite number", line, rec[1])
		}
		times, obs = append(times, ref), append(obs, v)
		if len(obs) > MaxPoints {
			return nil, nil, fmt.Errorf("more than %d rows", MaxPoints)
		}
	}
	if len(obs) == 0 {
		return nil, nil, fmt.Errorf("no rows")
	}
	return times, obs, nil
}
