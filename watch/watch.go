package watch

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"wormwatch/detect"
	"wormwatch/forecast"
)

// Watch is the online analysis of records from sensors: per sensor and
// class (all records, each family; see Classifier), a series of fixed
// intervals with exact distinct counts, the early-warning filter fed as
// each interval closes and an alarm state machine. It has no clock of its
// own: time comes from the records (and from Advance), so the same records
// give the same results whether they come at once or in pieces. A Watch is
// not safe for concurrent use.
type Watch struct {
	cfg      Config
	ivl      int64       // interval, ns
	lateness int64       // intervals kept open
	rule     machineRule // the state machine's rule, in intervals

	sensors []*sensor
	byName  map[string]int
	series  []*series
	events  []Event
	classes []Class // scratch for the classifier

	records  int64 // records taken
	late     int64 // records older than the open intervals
	nsources int64 // distinct sources over all sensors

	// The snapshot's journal (snapshot.go): kept once Checkpoint or Full
	// has been called.
	journaling    bool
	journal       []byte
	logCount      int64    // records of the log the store holds (since the last Full)
	loggedSensors int      // the sensors in the log
	loggedSeries  int      // the series in the log
	fresh, rebase []uint32 // scratch: a closed row's sources for the journal
}

// sensor is one input: its sources (each given an id, in order of first
// sight), its clock and its series.
type sensor struct {
	name string
	size uint64
	src  sources

	started  bool  // a record or Advance has set the clock
	hi       int64 // the latest interval of a record
	closedTo int64 // the intervals before this one are closed

	all   *series
	fam   []*series // by family index
	other map[Class]*series
	list  []*series // the sensor's series, in order of creation

	loggedSources int // the sources in the log
}

// series is one sensor's series of one class.
type series struct {
	idx    int
	key    Key
	sensor *sensor
	class  Class

	started bool  // a record has set start
	start   int64 // the interval of the first row
	rows    []forecast.Row
	cum     int64 // cumulative sources of the last row
	late    int64 // late records counted in a row's probes

	// Per source (by the sensor's source id): the source's state in this
	// series, found through pairIdx, or (dense, the All series, which has
	// nearly every source of its sensor) at pairs[src].
	dense   bool
	pairIdx map[uint32]uint32
	pairs   []pair
	npairs  int64    // sources in the series
	open    []openIv // ring of Lateness intervals, by interval mod Lateness

	// The filter and the state machine.
	filter
	epoch uint32 // a pair is in the monitor's base set when its epoch is this
}

// pair is one source's state in one series.
type pair struct {
	src   uint32
	epoch uint32 // == series.epoch: seen in a closed interval since the monitor's base
	mask  uint64 // the open intervals it was seen in: bit interval mod 64
	known bool   // seen in a closed interval
	used  bool   // the source is in the series (a dense table has entries for every source of the sensor)
}

// openIv is an open interval of a series: its probes and the sources seen
// (pair indices).
type openIv struct {
	used   bool
	iv     int64
	probes int64
	pairs  []uint32
}

// New returns a Watch with no sensor (AddSensor adds them).
func New(cfg Config) (*Watch, error) {
	if cfg.Settings == (Settings{}) {
		cfg.Settings = DefaultSettings
	}
	if err := cfg.Settings.Validate(); err != nil {
		return nil, err
	}
	if cfg.Classify == nil {
		cfg.Classify = ByFamily
	}
	cfg.Families = slices.Clone(cfg.Families)
	st := cfg.Settings
	ivl := st.Interval.D()
	// The filter's options are checked on a sensor of one address.
	if _, err := forecast.NewMonitor("check", 1, ivl, cfg.Forecast); err != nil {
		return nil, err
	}
	w := &Watch{
		cfg: cfg, ivl: int64(ivl), lateness: int64(st.Lateness), rule: newRule(st, ivl),
		byName: map[string]int{},
	}
	return w, nil
}

// AddSensor adds a sensor that watches size addresses (1 for a web server,
// 2^(32-bits) for a telescope's /bits) and returns its index, which Add
// takes. A sensor of that name already there (restored from a snapshot)
// keeps its index, if its size is the same.
func (w *Watch) AddSensor(name string, size uint64) (int, error) {
	if i, ok := w.byName[name]; ok {
		if w.sensors[i].size != size {
			return 0, fmt.Errorf("sensor %q: size %d, but it watched %d addresses before", name, size, w.sensors[i].size)
		}
		return i, nil
	}
	if name == "" || len(name) > 256 {
		return 0, fmt.Errorf("sensor name %q: want 1 to 256 bytes", name)
	}
	if len(w.sensors) >= MaxSensors {
		return 0, fmt.Errorf("sensor %q: already %d sensors, the most a watch takes", name, MaxSensors)
	}
	if _, err := forecast.NewMonitor(name, size, time.Duration(w.ivl), w.cfg.Forecast); err != nil {
		return 0, fmt.Errorf("sensor %q: %w", name, err)
	}
	w.addSensor(name, size)
	return len(w.sensors) - 1, nil
}

func (w *Watch) addSensor(name string, size uint64) *sensor {
	s := &sensor{name: name, size: size, src: newSources(), other: map[Class]*series{}}
	w.byName[name] = len(w.sensors)
	w.sensors = append(w.sensors, s)
	return s
}

// Sensor returns the index of the named sensor, or -1.
func (w *Watch) Sensor(name string) int {
	if i, ok := w.byName[name]; ok {
		return i
	}
	return -1
}

// MinTime and MaxTime bound the times of records (and of Advance): from
// forecast.MinTime (1970) to before 2200 (detect's bound on log times), so
// that every time, in nanoseconds, and every interval's fit in 64 bits.
var (
	MinTime = forecast.MinTime
	MaxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// interval returns the interval of t, or an error when t is outside
// MinTime to MaxTime.
func (w *Watch) interval(t time.Time) (int64, error) {
	if t.Before(MinTime) || !t.Before(MaxTime) {
		return 0, fmt.Errorf("time %s out of range (allowed: from %s to before %s)", t.UTC().Format(time.RFC3339Nano),
			MinTime.Format(time.RFC3339), MaxTime.Format(time.RFC3339))
	}
	return floorDiv(t.UnixNano(), w.ivl), nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Add takes one record of sensor (an index from AddSensor) that matched the
// families fams (indices into Config.Families, increasing, as
// detect.Matcher.Match gives them; empty when none matched). The record's
// time closes the intervals Lateness or more before its own (see the
// package documentation); the classifier says which series it counts in.
// Only Time and Source are read (and what the classifier reads), during
// the call. A record refused with an error (a time out of range, a series
// or source past the caps, a series past forecast.MaxRows rows) changes
// nothing.
func (w *Watch) Add(sensor int, rec *detect.Record, fams []int) error {
	if sensor < 0 || sensor >= len(w.sensors) {
		return fmt.Errorf("sensor %d: no such sensor (%d)", sensor, len(w.sensors))
	}
	s := w.sensors[sensor]
	iv, err := w.interval(rec.Time)
	if err != nil {
		return err
	}
	for _, f := range fams {
		if f < 0 || f >= len(w.cfg.Families) {
			return fmt.Errorf("family index %d out of range (%d families)", f, len(w.cfg.Families))
		}
	}
	w.classes = w.cfg.Classify(rec, fams, w.classes[:0])
	if s.started && iv < s.closedTo {
		w.lateRecord(s, iv)
		return nil
	}
	if err := w.admit(s, rec.Source); err != nil {
		return err
	}
	switch {
	case !s.started:
		s.started, s.hi, s.closedTo = true, iv, iv-w.lateness+1
	case iv > s.hi:
		if to := iv - w.lateness + 1; to > s.closedTo {
			if err := w.closeTo(s, to); err != nil {
				return err
			}
		}
		s.hi = iv
	}
	w.records++
	if len(w.classes) == 0 {
		return nil
	}
	src, added := s.src.intern(rec.Source)
	if added {
		w.nsources++
	}
	for _, c := range w.classes {
		ser := s.get(c)
		if ser == nil {
			ser = w.newSeries(s, c)
		}
		ser.count(src, iv, w.lateness)
	}
	return nil
}

// admit checks the caps before a record changes anything: the series its
// classes would add, its source if new, and the names of new classes.
func (w *Watch) admit(s *sensor, source []byte) error {
	need := 0
	for i, c := range w.classes {
		if s.get(c) == nil && !slices.Contains(w.classes[:i], c) {
			if _, err := className(c, w.cfg.Families); err != nil {
				return err
			}
			need++
		}
	}
	if need > 0 && len(w.series)+need > w.cfg.Settings.MaxSeries {
		return fmt.Errorf("sensor %q: %d series more would pass the cap of %d (max_series)", s.name, need, w.cfg.Settings.MaxSeries)
	}
	if len(w.classes) > 0 && w.nsources >= w.cfg.Settings.MaxSources {
		if _, ok := s.src.find(source); !ok {
			return fmt.Errorf("sensor %q: a new source would pass the cap of %d distinct sources (max_sources)", s.name, w.cfg.Settings.MaxSources)
		}
	}
	return nil
}

// get returns the sensor's series of class c, or nil.
func (s *sensor) get(c Class) *series {
	switch c.Kind {
	case All:
		if c.ID == 0 {
			return s.all
		}
	case Family:
		if int64(c.ID) < int64(len(s.fam)) {
			return s.fam[c.ID]
		}
		return nil
	}
	return s.other[c]
}

// newSeries adds the sensor's series of class c (admit checked it).
func (w *Watch) newSeries(s *sensor, c Class) *series {
	name, _ := className(c, w.cfg.Families)
	ser := &series{idx: len(w.series), key: Key{Sensor: s.name, Class: c, Name: name}, sensor: s, class: c,
		pairIdx: map[uint32]uint32{}, dense: c == AllClass, open: make([]openIv, w.lateness), epoch: 1}
	ser.mon = w.monitor(ser)
	w.series = append(w.series, ser)
	s.list = append(s.list, ser)
	switch {
	case c == AllClass:
		s.all = ser
	case c.Kind == Family:
		for int64(len(s.fam)) <= int64(c.ID) {
			s.fam = append(s.fam, nil)
		}
		s.fam[c.ID] = ser
	default:
		s.other[c] = ser
	}
	return ser
}

// monitor returns a new filter for ser (AddSensor checked the size).
func (w *Watch) monitor(ser *series) *forecast.Monitor {
	m, err := forecast.NewMonitor(ser.key.String(), ser.sensor.size, time.Duration(w.ivl), w.cfg.Forecast)
	if err != nil {
		panic("watch: the filter refused a sensor AddSensor accepted: " + err.Error())
	}
	return m
}

// count counts a record of source src in open interval iv.
func (ser *series) count(src uint32, iv, lateness int64) {
	if !ser.started || iv < ser.start {
		// the first record, or one before it while no row is closed
		ser.started, ser.start = true, iv
	}
	pi := ser.pairIndex(src)
	o := &ser.open[mod(iv, lateness)]
	if !o.used || o.iv != iv {
		o.used, o.iv, o.probes, o.pairs = true, iv, 0, o.pairs[:0]
	}
	o.probes++
	p := &ser.pairs[pi]
	if bit := uint64(1) << uint(iv&63); p.mask&bit == 0 {
		p.mask |= bit
		o.pairs = append(o.pairs, pi)
	}
}

// pairIndex returns the index of source src's pair, made if need be.
func (ser *series) pairIndex(src uint32) uint32 {
	if ser.dense {
		for uint32(len(ser.pairs)) <= src {
			ser.pairs = push(ser.pairs, pair{src: uint32(len(ser.pairs))})
		}
		if p := &ser.pairs[src]; !p.used {
			p.used = true
			ser.npairs++
		}
		return src
	}
	pi, ok := ser.pairIdx[src]
	if !ok {
		pi = uint32(len(ser.pairs))
		ser.pairs = push(ser.pairs, pair{src: src, used: true})
		ser.pairIdx[src] = pi
		ser.npairs++
		if n := len(ser.pairs); n >= denseMin && 4*n >= ser.sensor.src.len() {
			ser.densify()
			return src
		}
	}
	return pi
}

// push appends v to s, doubling its capacity when it must grow: append
// grows a large slice by a quarter, which copies a table that grows an
// element at a time five times over.
func push[T any](s []T, v T) []T {
	if len(s) == cap(s) {
		s = slices.Grow(s, max(len(s), 256))
	}
	return append(s, v)
}

// denseMin is the fewest sources a series has before densify: below it
// the map costs little.
const denseMin = 1024

// densify moves ser's pairs to a table by source id, once it has a
// quarter of its sensor's sources or more: a look-up is then an index
// (no hash, one memory access less), for at most 4 times the entries.
func (ser *series) densify() {
	old := ser.pairs
	ser.pairs = make([]pair, ser.sensor.src.len())
	for i := range ser.pairs {
		ser.pairs[i].src = uint32(i)
	}
	for _, p := range old {
		ser.pairs[p.src] = p
	}
	for i := range ser.open {
		o := &ser.open[i]
		for j, pi := range o.pairs {
			o.pairs[j] = old[pi].src
		}
	}
	ser.pairIdx, ser.dense = nil, true
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// lateRecord counts a record of interval iv, already closed, in the late
// counters and in the probes of its interval's row in each of its series
// that has one. Its source is counted nowhere (see the package
// documentation).
func (w *Watch) lateRecord(s *sensor, iv int64) {
	w.records++
	w.late++
	for _, c := range w.classes {
		ser := s.get(c)
		if ser == nil || !ser.started || iv < ser.start {
			continue
		}
		r := int(iv - ser.start)
		if r >= len(ser.rows) {
			continue // cannot be: the interval is closed
		}
		ser.rows[r].Probes++
		ser.late++
		w.logLate(ser, r)
	}
}

// closeTo closes the intervals of every series of s before to, after
// checking that no series would pass forecast.MaxRows.
func (w *Watch) closeTo(s *sensor, to int64) error {
	for _, ser := range s.list {
		if ser.started && to-ser.start > forecast.MaxRows {
			return fmt.Errorf("series %s: closing the intervals up to %s would make %d rows of %s, more than the cap of %d (forecast.MaxRows)",
				ser.key, time.Unix(0, to*w.ivl).UTC().Format(time.RFC3339), to-ser.start, time.Duration(w.ivl), forecast.MaxRows)
		}
	}
	for _, ser := range s.list {
		if !ser.started {
			continue
		}
		for c := max(s.closedTo, ser.start); c < to; c++ {
			w.closeInterval(ser, c)
		}
	}
	s.closedTo = to
	return nil
}

// closeInterval closes interval c of ser (the oldest open one): its row,
// the filter's step and the state machine.
func (w *Watch) closeInterval(ser *series, c int64) {
	o := &ser.open[mod(c, w.lateness)]
	var probes int64
	var list []uint32
	if o.used && o.iv == c {
		probes, list = o.probes, o.pairs
	}
	bit := uint64(1) << uint(c&63)
	var newN, newBase int64
	fresh, rebased := w.fresh[:0], w.rebase[:0]
	for _, pi := range list {
		p := &ser.pairs[pi]
		p.mask &^= bit
		if !p.known {
			p.known = true
			newN++
			if w.journaling {
				fresh = append(fresh, p.src)
			}
		} else if p.epoch != ser.epoch && w.journaling {
			rebased = append(rebased, p.src)
		}
		if p.epoch != ser.epoch {
			p.epoch = ser.epoch
			newBase++
		}
	}
	if w.journaling {
		w.logRow(ser, c, probes, int64(len(list)), fresh, rebased)
		w.fresh, w.rebase = fresh, rebased
	}
	t := time.Unix(0, c*w.ivl).UTC()
	ser.cum += newN
	ser.rows = append(ser.rows, forecast.Row{Time: t, Probes: probes, Sources: int64(len(list)), NewSources: newN, CumulativeSources: ser.cum})
	st := w.feed(ser, forecast.Row{Time: t, Probes: probes, Sources: int64(len(list)), NewSources: newBase, CumulativeSources: ser.cumBase + newBase})
	o.used, o.pairs = false, o.pairs[:0]
	w.machine(ser, st)
}

// feed gives the monitor its row: the series' row with the sources
// counted since the monitor's base.
func (w *Watch) feed(ser *series, r forecast.Row) forecast.Step {
	st, err := ser.filter.feed(r)
	if err != nil {
		// The rows are built to be valid and closeTo checks the cap.
		panic("watch: the filter refused a row: " + err.Error())
	}
	return st
}

// Advance tells the Watch that every record before t has arrived, at
// every sensor: the intervals that end at or before t close (zero rows
// for those without records). A service calls it from a watermark (an
// input's time, or the wall clock less a delay) so that a quiet sensor's
// series go on; at shutdown it saves a snapshot instead. Sensors that
// have had no record yet are left alone. An error (a series past
// forecast.MaxRows) changes nothing at that sensor and stops there.
func (w *Watch) Advance(t time.Time) error {
	for i := range w.sensors {
		if err := w.AdvanceSensor(i, t); err != nil {
			return err
		}
	}
	return nil
}

// AdvanceSensor is Advance for one sensor.
func (w *Watch) AdvanceSensor(sensor int, t time.Time) error {
	if sensor < 0 || sensor >= len(w.sensors) {
		return fmt.Errorf("sensor %d: no such sensor (%d)", sensor, len(w.sensors))
	}
	s := w.sensors[sensor]
	if !s.started {
		return nil
	}
	to, err := w.interval(t)
	if err != nil {
		return err
	}
	if to > s.closedTo {
		return w.closeTo(s, to)
	}
	return nil
}

// Flush closes every open interval of every sensor, up to its latest
// record's: what the end of a batch does. Records of those intervals that
// come after it are late.
func (w *Watch) Flush() error {
	var errs []error
	for _, s := range w.sensors {
		if s.started && s.hi+1 > s.closedTo {
			errs = append(errs, w.closeTo(s, s.hi+1))
		}
	}
	return errors.Join(errs...)
}
