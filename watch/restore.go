package watch

import (
	"fmt"
	"time"

	"wormwatch/forecast"
)

// Restore returns the Watch a Snapshot was taken of: log is the whole log
// saved (Full's, then every Checkpoint's appended, in order), hot the last
// hot part. cfg must be the configuration the Watch had: the same
// interval and lateness (checked), family names and classifier. Each
// series' filter is fed its rows again from its base, so Restore costs
// about as much as the rows' steps did. The restored Watch goes on exactly
// as the one saved would have, and its next Checkpoint is incremental.
func Restore(cfg Config, log, hot []byte) (*Watch, error) {
	w, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if err := w.replay(log); err != nil {
		return nil, fmt.Errorf("watch: restoring the log: %w", err)
	}
	if err := w.restoreHot(hot); err != nil {
		return nil, fmt.Errorf("watch: restoring the hot part: %w", err)
	}
	w.journaling = true
	w.loggedSensors, w.loggedSeries = len(w.sensors), len(w.series)
	for _, s := range w.sensors {
		s.loggedSources = s.src.len()
	}
	return w, nil
}

// replay applies the log's records.
func (w *Watch) replay(log []byte) error {
	if len(log) < len(logMagic) || string(log[:len(logMagic)]) != logMagic {
		return fmt.Errorf("not a watch log (it starts with %q)", log[:min(len(log), len(logMagic))])
	}
	d := &decoder{b: log, off: len(logMagic)}
	for !d.done() {
		w.logCount++
		switch tag := d.byte(); tag {
		case recSensor:
			name := d.string(256)
			size := d.uvarint()
			if d.err != nil {
				break
			}
			if _, ok := w.byName[name]; ok || len(w.sensors) >= MaxSensors {
				d.fail("sensor %q twice, or too many sensors", name)
				break
			}
			if _, err := forecast.NewMonitor(name, size, time.Duration(w.ivl), w.cfg.Forecast); err != nil {
				d.fail("sensor %q: %v", name, err)
				break
			}
			w.addSensor(name, size)
		case recSources:
			s := w.sensorAt(d)
			n := d.count(w.cfg.Settings.MaxSources-w.nsources, "sources")
			for i := int64(0); i < n && d.err == nil; i++ {
				k := d.string(1 << 20)
				if _, ok := s.src.find([]byte(k)); ok || d.err != nil {
					d.fail("source %q twice", k)
					break
				}
				s.src.add([]byte(k))
				w.nsources++
			}
		case recSources2:
			w.replaySources(d)
		case recSeries:
			s := w.sensorAt(d)
			c := Class{Kind: Kind(d.byte())}
			c.ID = uint32(d.count(1<<32-1, "class id"))
			if d.err != nil {
				break
			}
			if _, err := className(c, w.cfg.Families); err != nil || s.get(c) != nil || len(w.series) >= w.cfg.Settings.MaxSeries {
				d.fail("series of class %v: a bad class, twice, or too many series (%v)", c, err)
				break
			}
			w.newSeries(s, c)
		case recRow:
			w.replayRow(d)
		case recLate:
			ser := w.seriesAt(d)
			r := d.count(forecast.MaxRows, "row")
			n := d.count(1<<62, "late records")
			if d.err == nil && r >= int64(len(ser.rows)) {
				d.fail("late records in row %d of %d", r, len(ser.rows))
			}
			if d.err == nil {
				ser.rows[r].Probes += n // the late count itself is in the hot part
			}
		case recRestart:
			ser := w.seriesAt(d)
			if d.err == nil {
				w.restart(ser)
			}
		case recRows:
			w.replayRows(d)
		default:
			d.fail("unknown record %d", tag)
		}
	}
	return d.err
}

// replaySources applies a recSources2 record: sources of a sensor, each
// an IPv4 address in 4 bytes or a text.
func (w *Watch) replaySources(d *decoder) {
	s := w.sensorAt(d)
	n := d.count(w.cfg.Settings.MaxSources-w.nsources, "sources")
	for i := int64(0); i < n && d.err == nil; i++ {
		var ok bool
		switch l := d.count(1<<20+1, "source length"); {
		case d.err != nil:
			return
		case l == 0:
			a := d.uint32()
			if d.err != nil {
				return
			}
			ok = s.src.addKey(true, a, nil)
		default:
			if int64(len(d.b)-d.off) < l-1 {
				d.fail("truncated")
				return
			}
			ok = s.src.addKey(false, 0, d.b[d.off:d.off+int(l-1)])
			d.off += int(l - 1)
		}
		if !ok {
			d.fail("source %d of the record twice", i)
			return
		}
		w.nsources++
	}
}

// sensorAt reads a sensor index; on an error it returns a sensor that
// takes anything (d holds the error).
func (w *Watch) sensorAt(d *decoder) *sensor {
	i := d.count(int64(len(w.sensors))-1, "sensor")
	if d.err != nil || len(w.sensors) == 0 {
		d.fail("no such sensor")
		return &sensor{src: newSources(), other: map[Class]*series{}}
	}
	return w.sensors[i]
}

// seriesAt reads a series index.
func (w *Watch) seriesAt(d *decoder) *series {
	i := d.count(int64(len(w.series))-1, "series")
	if d.err != nil || len(w.series) == 0 {
		d.fail("no such series")
		return &series{pairIdx: map[uint32]uint32{}, sensor: &sensor{src: newSources()}}
	}
	return w.series[i]
}

// pairOf returns ser's pair of source src, made if need be.
func (ser *series) pairOf(d *decoder, src uint64) *pair {
	if src >= uint64(ser.sensor.src.len()) {
		d.fail("source %d of %d", src, ser.sensor.src.len())
		return &pair{}
	}
	return &ser.pairs[ser.pairIndex(uint32(src))]
}

// replayRow applies a journaled close.
func (w *Watch) replayRow(d *decoder) {
	ser := w.seriesAt(d)
	c := d.varint()
	probes := d.count(1<<62, "probes")
	sources := d.count(probes, "sources")
	if d.err != nil {
		return
	}
	if !ser.started {
		if !w.validStart(c) {
			d.fail("row of interval %d: out of range", c)
			return
		}
		ser.started, ser.start = true, c
	}
	if c != ser.start+int64(len(ser.rows)) || len(ser.rows) >= forecast.MaxRows {
		d.fail("row of interval %d, want %d", c, ser.start+int64(len(ser.rows)))
		return
	}
	var newN, newBase int64
	for _, fresh := range []bool{true, false} {
		n := d.count(sources, "sources")
		for i := int64(0); i < n && d.err == nil; i++ {
			p := ser.pairOf(d, d.uvarint())
			if fresh == p.known || p.epoch == ser.epoch {
				d.fail("a source's first sighting twice")
			}
			if fresh {
				p.known = true
				newN++
			}
			p.epoch = ser.epoch
			newBase++
		}
	}
	if d.err != nil || newBase > sources {
		d.fail("more new sources than sources")
		return
	}
	w.appendRow(ser, c, probes, sources, newN, newBase)
}

// appendRow appends a restored row and feeds the filter.
func (w *Watch) appendRow(ser *series, c, probes, sources, newN, newBase int64) {
	t := time.Unix(0, c*w.ivl).UTC()
	ser.cum += newN
	ser.rows = append(ser.rows, forecast.Row{Time: t, Probes: probes, Sources: sources, NewSources: newN, CumulativeSources: ser.cum})
	w.feed(ser, forecast.Row{Time: t, Probes: probes, Sources: sources, NewSources: newBase, CumulativeSources: ser.cumBase + newBase})
}

// replayRows applies a Full record of a series.
func (w *Watch) replayRows(d *decoder) {
	ser := w.seriesAt(d)
	base := d.count(forecast.MaxRows, "base row")
	epoch := d.count(1<<32-1, "epoch")
	start := d.varint()
	n := d.count(forecast.MaxRows, "rows")
	if d.err != nil {
		return
	}
	if len(ser.rows) > 0 || base > n || epoch == 0 {
		d.fail("rows of a series twice, or a bad base")
		return
	}
	if n > 0 {
		if !w.validStart(start) {
			d.fail("series start out of range")
			return
		}
		ser.started, ser.start = true, start
	}
	ser.epoch, ser.base = uint32(epoch), int(base)
	for i := int64(0); i < n && d.err == nil; i++ {
		probes := d.count(1<<62, "probes")
		sources := d.count(probes, "sources")
		newN := d.count(sources, "new sources")
		newBase := d.count(sources, "new sources since the base")
		if d.err != nil {
			return
		}
		if i < base {
			ser.cum += newN
			ser.rows = append(ser.rows, forecast.Row{Time: time.Unix(0, (start+i)*w.ivl).UTC(), Probes: probes, Sources: sources, NewSources: newN, CumulativeSources: ser.cum})
			continue
		}
		w.appendRow(ser, start+i, probes, sources, newN, newBase)
	}
	for _, base := range []bool{false, true} {
		m := d.count(int64(ser.sensor.src.len()), "sources")
		for i := int64(0); i < m && d.err == nil; i++ {
			p := ser.pairOf(d, d.uvarint())
			if base {
				p.epoch = ser.epoch
			} else {
				p.known = true
			}
		}
	}
}

// restoreHot applies the hot part.
func (w *Watch) restoreHot(hot []byte) error {
	if len(hot) < len(hotMagic) || string(hot[:len(hotMagic)]) != hotMagic {
		return fmt.Errorf("not a watch hot part")
	}
	d := &decoder{b: hot, off: len(hotMagic)}
	if ivl, l := d.varint(), d.uvarint(); d.err == nil && (ivl != w.ivl || l != uint64(w.lateness)) {
		return fmt.Errorf("saved with an interval of %s and a lateness of %d, restored with %s and %d: the series would not go on",
			time.Duration(ivl), l, time.Duration(w.ivl), w.lateness)
	}
	if n := d.count(1<<62, "log records"); d.err == nil && n != w.logCount {
		return fmt.Errorf("the hot part goes with a log of %d records, the log has %d (a log and a hot part of different saves?)", n, w.logCount)
	}
	w.records = d.count(1<<62, "records")
	w.late = d.count(w.records, "late records")
	if n := d.count(MaxSensors, "sensors"); d.err == nil && n != int64(len(w.sensors)) {
		d.fail("%d sensors, the log has %d", n, len(w.sensors))
	}
	for _, s := range w.sensors {
		if n := d.count(1<<62, "sources"); d.err == nil && n != int64(s.src.len()) {
			d.fail("sensor %q: %d sources, the log has %d", s.name, n, s.src.len())
		}
		s.started = d.bool()
		s.hi, s.closedTo = d.varint(), d.varint()
		if d.err == nil && s.started && (s.hi-s.closedTo >= w.lateness || s.closedTo-s.hi > forecast.MaxRows) {
			d.fail("sensor %q: a bad clock", s.name)
		}
	}
	if n := d.count(int64(w.cfg.Settings.MaxSeries), "series"); d.err == nil && n != int64(len(w.series)) {
		d.fail("%d series, the log has %d", n, len(w.series))
	}
	for _, ser := range w.series {
		if d.err != nil {
			break
		}
		w.restoreSeries(d, ser)
	}
	n := d.count(1<<30, "events")
	for i := int64(0); i < n && d.err == nil; i++ {
		ser := w.seriesAt(d)
		e := Event{Series: ser.idx, Key: ser.key, From: State(d.byte()), To: State(d.byte()), Step: d.step()}
		e.Time = e.Step.Time
		if d.bool() {
			e.Alarm = &forecast.Alarm{Time: d.time(), Index: int(d.count(forecast.MaxRows, "row")), Onset: d.time(), Seen: d.varint(), Infected: d.float(), K: d.float()}
		}
		w.events = append(w.events, e)
	}
	if d.err == nil && d.off != len(hot) {
		d.fail("%d bytes after the end", len(hot)-d.off)
	}
	return d.err
}

// restoreSeries reads one series' part of the hot part.
func (w *Watch) restoreSeries(d *decoder, ser *series) {
	s := ser.sensor
	if n := d.count(forecast.MaxRows, "rows"); d.err == nil && n != int64(len(ser.rows)) {
		d.fail("series %s: %d rows, the log has %d", ser.key, n, len(ser.rows))
	}
	started, start := d.bool(), d.varint()
	if len(ser.rows) > 0 && (!started || start != ser.start) {
		d.fail("series %s: start %d, the log's %d", ser.key, start, ser.start)
	}
	ser.started, ser.start = started, start
	if st := State(d.byte()); st > Subsiding {
		d.fail("series %s: state %d", ser.key, st)
	} else {
		ser.state = st
	}
	ser.noTrend = int(d.count(forecast.MaxRows, "intervals without a trend"))
	ser.late = d.count(1<<62, "late records")
	n := d.count(w.lateness, "open intervals")
	for i := int64(0); i < n && d.err == nil; i++ {
		iv := d.varint()
		if d.err == nil && (!s.started || iv < s.closedTo || iv > s.hi || !started || iv < start) {
			d.fail("series %s: open interval %d outside the sensor's open intervals", ser.key, iv)
			return
		}
		o := &ser.open[mod(iv, w.lateness)]
		if o.used {
			d.fail("series %s: open interval %d twice", ser.key, iv)
			return
		}
		o.used, o.iv = true, iv
		o.probes = d.count(1<<62, "probes")
		m := d.count(o.probes, "sources")
		bit := uint64(1) << uint(iv&63)
		for j := int64(0); j < m && d.err == nil; j++ {
			src := d.uvarint()
			p := ser.pairOf(d, src)
			if p.mask&bit != 0 {
				d.fail("series %s: a source twice in interval %d", ser.key, iv)
			}
			p.mask |= bit
			o.pairs = append(o.pairs, ser.pairIndex(uint32(src)))
		}
	}
	if d.err == nil {
		ser.alarmed = ser.mon.Alarm() != nil
		if (ser.state == Alarm || ser.state == Subsiding) != ser.alarmed {
			d.fail("series %s: state %s, but the filter's alarm is %v", ser.key, ser.state, ser.mon.Alarm())
		}
	}
}

// validStart reports whether a series may start at interval c: within
// MinTime and MaxTime, with room for forecast.MaxRows rows before 9000
// (forecast.MaxTime is far beyond MaxTime).
func (w *Watch) validStart(c int64) bool {
	return c >= MinTime.UnixNano()/w.ivl && c < MaxTime.UnixNano()/w.ivl
}
