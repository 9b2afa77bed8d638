package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"wormwatch/detect"
	"wormwatch/ingest/follow"
	"wormwatch/ingest/packet"
	"wormwatch/store"
	"wormwatch/watch"
)

// Keys of the store's meta table that the service keeps.
const (
	metaFamilies = "serve.families" // the signature families the stored records' indices refer to (JSON)
	metaWatch    = "serve.watch"    // the watch's interval and lateness
	metaCommits  = "serve.commits"  // commits made
)

// newLoop restores the state stored (the watch from its snapshot, the
// analyzer from every stored batch, the inputs with their positions and
// readers' states) and registers the configured inputs; it starts nothing.
func newLoop(ctx context.Context, svc *Service, cfg *Config, st *store.Store) (*loop, error) {
	_, m, err := detect.LoadTable(cfg.Signatures)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range m.Families() {
		names = append(names, f.Name)
	}
	l := &loop{svc: svc, cfg: cfg, st: st, log: svc.log, m: m, byKey: map[string]*input{}, sources: map[string]*source{}, sizes: map[string]uint64{},
		chunks: make(chan chunk, 16), calls: make(chan func())}
	l.wcfg = watch.Config{Settings: cfg.Watch, Forecast: cfg.Forecast.Options(cfg.Service.SpaceBits), Families: names}
	if err := l.checkMeta(ctx, names); err != nil {
		return nil, err
	}
	wlog, hot, err := st.WatchState(ctx)
	if err != nil {
		return nil, err
	}
	if wlog == nil && hot == nil {
		l.w, err = watch.New(l.wcfg)
	} else if l.w, err = watch.Restore(l.wcfg, wlog, hot); err != nil {
		err = fmt.Errorf("%s: restoring the watch's state: %w", st.Dir(), err)
	}
	if err != nil {
		return nil, err
	}
	// A watch with no log stored saves its first checkpoint whole (as
	// Full): counted as the full log it is, so that the next is not a
	// Full again.
	l.logSize, l.fullSize, l.full = len(wlog), len(wlog), wlog == nil
	if l.a, err = detect.NewAnalyzer(detect.Options{Matcher: m, MaxLine: cfg.Service.MaxLine}); err != nil {
		return nil, err
	}
	if err := st.EachBatch(ctx, func(recs []byte) error { return decodeRecords(recs, l.a.AddMatched) }); err != nil {
		l.a.Close()
		return nil, fmt.Errorf("%s: rebuilding detect's report: %w", st.Dir(), err)
	}
	if err := l.restoreInputs(ctx); err != nil {
		l.a.Close()
		return nil, err
	}
	l.restoreMarks()
	return l, nil
}

// checkMeta compares the data folder's signature families and watch
// settings with the configuration's (they cannot change for the data
// already made), and reads the number of commits.
func (l *loop) checkMeta(ctx context.Context, names []string) error {
	fams, _ := json.Marshal(names)
	set := fmt.Sprintf("interval=%v lateness=%d", l.cfg.Watch.Interval.D(), l.cfg.Watch.Lateness)
	for _, kv := range []struct{ key, want, cfgKey string }{{metaFamilies, string(fams), "signatures"}, {metaWatch, set, "watch.interval"}} {
		have, ok, err := l.st.Meta(ctx, kv.key)
		switch {
		case err != nil:
			return err
		case !ok:
			if err := l.st.SetMeta(ctx, kv.key, kv.want); err != nil {
				return err
			}
		case have != kv.want:
			return &ConfigError{File: l.cfg.File, Key: kv.cfgKey, Msg: fmt.Sprintf("the data folder %s was made with %s, the configuration gives %s: these cannot change for the data kept; give them as they were, or use a new data folder", l.st.Dir(), have, kv.want)}
		}
	}
	if n, ok, err := l.st.Meta(ctx, metaCommits); err != nil {
		return err
	} else if ok {
		l.commits, _ = strconv.ParseInt(n, 10, 64)
	}
	return nil
}

// restoreInputs makes the inputs stored, in their order, each counted in
// the analyzer's reports as stored until it is read again.
func (l *loop) restoreInputs(ctx context.Context) error {
	ins, err := l.st.Inputs(ctx)
	if err != nil {
		return err
	}
	for _, si := range ins {
		in := &input{id: si.ID, key: si.Key, name: si.Name, stored: si}
		kind, _, _ := strings.Cut(si.Key, ":")
		in.kind = InputKind(kind)
		in.entry.Name = si.Name // until its entry is stored: an input that had read nothing
		if len(si.Report) > 0 {
			if err := json.Unmarshal(si.Report, &in.entry); err != nil {
				return fmt.Errorf("input %s: its stored entry: %w", si.Key, err)
			}
		}
		switch {
		case in.kind.captures():
			if in.through, in.done, err = parseCapturePosition(si.Position); err != nil {
				return fmt.Errorf("input %s: %w", si.Key, err)
			}
			if si.Key == stdinKey && len(si.Report) > 0 {
				base := in.entry
				in.base, in.entry, in.through, in.done = &base, detect.Input{Name: base.Name}, 0, false
			}
		default:
			if si.Position != "" {
				if in.pos, err = follow.ParsePosition(si.Position); err != nil {
					return fmt.Errorf("input %s: %w", si.Key, err)
				}
			}
		}
		in.emit = l.emitter(in)
		l.inputs = append(l.inputs, in)
		l.byKey[in.key] = in
		l.a.Track(in)
	}
	return nil
}

// restoreMarks sets what was committed of each series (all the rows of a
// restored watch), and each sensor's latest record as far as its series
// tell (their latest open interval).
func (l *loop) restoreMarks() {
	ivl := l.cfg.Watch.Interval.D()
	for i, info := range l.w.Series() {
		mk := seriesMark{rows: info.Rows, late: info.Late}
		for _, r := range l.w.Rows(i) {
			mk.probes = append(mk.probes, r.Probes)
		}
		l.marks = append(l.marks, mk)
		l.sizes[info.Key.Sensor] = info.Size
		s := l.w.Sensor(info.Key.Sensor)
		for s >= len(l.latest) {
			l.latest = append(l.latest, 0)
		}
		var t int64
		if p := l.w.Pending(i); len(p) > 0 {
			t = p[len(p)-1].Time.UnixNano()
		} else if info.Rows > 0 {
			t = info.Start.Add(ivl * time.Duration(info.Rows)).UnixNano()
		}
		l.latest[s] = max(l.latest[s], t)
	}
}

// ensureInput returns the store's input of key, adding it (after the
// others: its place in reports) when it is new.
func (l *loop) ensureInput(key, name string, src *source) (*input, error) {
	ctx := context.WithoutCancel(l.ctx)
	in := l.byKey[key]
	if in == nil || in.name != name || in.stored.Sensor != src.cfg.Sensor {
		if err := l.st.AddInputs(ctx, []store.Input{{Key: key, Name: name, Sensor: src.cfg.Sensor}}); err != nil {
			return nil, err
		}
	}
	if in == nil {
		ins, err := l.st.Inputs(ctx)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(ins, func(si store.Input) bool { return si.Key == key })
		if i < 0 {
			return nil, fmt.Errorf("input %s: not stored after AddInputs", key)
		}
		in = &input{id: ins[i].ID, key: key, name: name, kind: src.cfg.Kind, stored: ins[i]}
		in.entry.Name = name
		in.emit = l.emitter(in)
		l.inputs = append(l.inputs, in)
		l.byKey[key] = in
		l.a.Track(in)
		l.version++
	}
	in.name, in.stored.Name, in.stored.Sensor, in.sensors, in.src = name, name, src.cfg.Sensor, src.sensors, src
	return in, nil
}

// addSource registers a configured input (its store inputs, its sensor)
// and starts its goroutine.
func (l *loop) addSource(cfg Input) error {
	s, err := l.w.AddSensor(cfg.Sensor, cfg.Size)
	if err != nil {
		return &ConfigError{File: l.cfg.File, Key: "input." + cfg.Name + ".size", Msg: fmt.Sprintf("%v (the data folder %s keeps it)", err, l.st.Dir())}
	}
	l.sizes[cfg.Sensor] = cfg.Size
	src := &source{cfg: cfg, sensors: []int{s}}
	for _, p := range l.cfg.Pools {
		if !slices.Contains(p.Sensors, cfg.Sensor) || l.cfg.remotePool(p) {
			continue // a pool with remote sensors is made of series (pools.go)
		}
		ps, err := l.w.AddSensor(p.Name, l.cfg.poolSize(p))
		if err != nil {
			return &ConfigError{File: l.cfg.File, Key: "pool." + p.Name, Msg: fmt.Sprintf("%v (the data folder %s keeps it)", err, l.st.Dir())}
		}
		src.sensors = append(src.sensors, ps)
	}
	for _, s := range src.sensors {
		for s >= len(l.latest) {
			l.latest = append(l.latest, 0)
		}
	}
	if cfg.Kind.captures() {
		return l.addCaptures(src)
	}
	in, err := l.ensureInput(cfg.key(), cfg.Path, src)
	if err != nil {
		return err
	}
	if in.lr == nil {
		opt := detect.ReaderOptions{MaxLine: l.cfg.Service.MaxLine}
		opt.Format, _ = detect.ParseFormat(cfg.Format)
		if in.stored.Reader != nil {
			in.lr, err = detect.ResumeLineReader(in.name, opt, in.stored.Reader)
		} else {
			in.lr, err = detect.NewLineReader(in.name, opt)
		}
		if err != nil {
			return err
		}
	}
	src.log = in
	l.sources[cfg.key()] = src
	l.start(src)
	return nil
}

// addCaptures registers the captures of a pcap input there are now (in
// the order detect reads them) and starts its goroutine.
func (l *loop) addCaptures(src *source) error {
	files, err := captureFiles(src.cfg)
	if err != nil {
		l.sourceErr(src, err)
	}
	for _, c := range files {
		if _, err := l.ensureInput(c.key, c.name, src); err != nil {
			return err
		}
	}
	l.sources[src.cfg.key()] = src
	l.start(src)
	return nil
}

// start starts (or restarts) the goroutine of a source, from the
// positions of what the loop has counted.
func (l *loop) start(src *source) {
	if src.cancel != nil {
		src.cancel()
	}
	src.gen++
	ctx, cancel := context.WithCancel(l.ctx)
	src.cancel = cancel
	if !src.cfg.Kind.captures() {
		opt := followOptions(l.cfg)
		go followInput(ctx, src, src.gen, src.log.pos, opt, l.chunks)
		return
	}
	known := map[string]captureState{}
	for _, in := range l.inputs {
		if in.kind.captures() && in.key != stdinKey {
			known[in.key] = captureState{through: in.through, done: in.done}
		}
	}
	opt := packet.Options{HTTPPorts: ports(l.cfg.HTTPPorts), MaxRequest: l.cfg.Service.MaxLine}
	go readCaptures(ctx, src, src.gen, known, opt, l.cfg.Service.Poll.D(), l.svc.opt.Stdin, l.chunks)
}

// stop stops a source's goroutine; the chunks it sent and the loop has not
// taken are dropped (what they hold is read again if it is added back).
// Its inputs stay in reports as they are.
func (l *loop) stop(src *source) {
	if src.cancel != nil {
		src.cancel()
		src.cancel = nil
	}
	src.gen++
	delete(l.sources, src.cfg.key())
}

// followOptions are the followers' options of a configuration. A line
// longer than the readers' cap comes cut to one byte more than the cap,
// so that the reader counts it as too long, as the batch reader does.
func followOptions(cfg *Config) follow.Options {
	return follow.Options{MaxLine: min(cfg.Service.MaxLine+1, follow.MaxMaxLine), Long: follow.Truncate, Poll: cfg.Service.Poll.D()}
}

// ports returns the HTTP ports of a configuration as ingest/packet takes
// them.
func ports(ps []int) []uint16 {
	out := make([]uint16, 0, len(ps))
	for _, p := range ps {
		out = append(out, uint16(p))
	}
	return out
}
