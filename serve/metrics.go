package serve

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"wormwatch/results"
	"wormwatch/serve/metrics"
	"wormwatch/store"
)

// metricsHandler makes the service's metrics (GET /metrics: package
// serve/metrics reads a snapshot of the service at each scrape) and
// returns their handler.
func (s *Service) metricsHandler() http.Handler {
	s.metrics = metrics.New(s.metricsSnapshot, metrics.Options{Logger: s.log})
	return s.metrics
}

// metricsSnapshot returns the service's state for a scrape: the loop's
// counts (taken on the loop), the store's size and its outbox's counts.
func (s *Service) metricsSnapshot(ctx context.Context) (*metrics.Snapshot, error) {
	snap := &metrics.Snapshot{Started: s.start, StoreBytes: -1}
	if err := s.l.do(ctx, s.done, func() { s.l.metricsSnapshot(snap) }); err != nil {
		return nil, err
	}
	var size int64
	for _, name := range []string{store.FileName, store.FileName + "-wal"} {
		fi, err := os.Stat(filepath.Join(s.st.Dir(), name))
		if err == nil {
			size += fi.Size()
		} else if !os.IsNotExist(err) {
			size = -1
			break
		}
	}
	snap.StoreBytes = size
	counts, err := s.st.DeliveryCounts(ctx)
	if err != nil {
		s.log.Warn("metrics: the outbox's counts", "error", err)
	}
	for _, c := range counts {
		snap.Deliveries = append(snap.Deliveries, metrics.DeliveryCount{Channel: c.Channel, State: c.State, N: c.N})
	}
	return snap, nil
}

// metricsSnapshot fills snap with the loop's counts.
func (l *loop) metricsSnapshot(snap *metrics.Snapshot) {
	snap.Now = l.svc.now()
	for _, cfg := range l.cfg.Inputs {
		src := l.sources[cfg.key()]
		if src == nil {
			continue
		}
		mi := metrics.Input{Name: cfg.Name, Kind: string(cfg.Kind), Capture: cfg.Kind.captures(), Up: src.err == ""}
		for _, in := range l.inputs {
			if in.src != src {
				continue
			}
			e := in.Input()
			mi.Counts.Lines += e.Lines
			mi.Counts.Parsed += e.Parsed
			mi.Counts.Directives += e.Directives
			for i := range e.Skipped {
				mi.Counts.Skipped[i] += e.Skipped[i]
			}
			if p := e.Packets; p != nil {
				mi.Packets.Packets += p.Packets
				mi.Packets.SYNs += p.SYNs
				mi.Packets.Requests += p.Requests
				mi.Packets.Undecoded += p.Undecoded
			}
		}
		snap.Inputs = append(snap.Inputs, mi)
	}
	c := l.counters()
	snap.Records, snap.Refused, snap.Late, snap.Sources, snap.Commits = c.Records, c.Refused, c.Late, c.Sources, c.Commits
	snap.Commit = l.commitStats.Clone()
	snap.Uncommitted = l.changed || l.carry != nil
	snap.LastCommit = l.svc.hub.lastTime()
	seen := map[string]bool{}
	for i, info := range l.w.Series() {
		ms := metrics.Series{Key: info.Key.String(), Sensor: info.Key.Sensor, Kind: info.Key.Class.Kind.String(), State: info.State, Late: info.Late}
		if rows := l.w.Rows(i); len(rows) > 0 {
			r := results.SensorRow(rows[len(rows)-1])
			ms.Last = &r
		}
		snap.Series = append(snap.Series, ms)
		if name := info.Key.Sensor; !seen[name] {
			seen[name] = true
			sn := metrics.Sensor{Name: name}
			if k := l.w.Sensor(name); k >= 0 && k < len(l.latest) && l.latest[k] != 0 {
				sn.LastRecord = time.Unix(0, l.latest[k])
			}
			snap.Sensors = append(snap.Sensors, sn)
		}
	}
	l.remoteMetrics(snap)
	l.poolMetrics(snap)
}

// lastTime returns the wall-clock time of the latest commit published
// since the start; zero before the first.
func (h *hub) lastTime() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.ring) == 0 {
		return time.Time{}
	}
	return h.ring[len(h.ring)-1].Time
}
