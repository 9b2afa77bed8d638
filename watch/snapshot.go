package watch

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"

	"wormwatch/forecast"
)

// Snapshot is a Watch's state in two parts, for a store that saves it with
// the inputs' positions in one transaction:
//
//   - Log is append-only: the sensors, their sources, the series, every
//     closed row (with the sources it saw for the first time, and for the
//     first time since the filter's base), the probes of late records and
//     the filter's restarts. Checkpoint returns what was added since the
//     previous Checkpoint, to append to the log saved so far; Full
//     returns the whole log anew, which replaces it (and compacts it).
//   - Hot replaces the hot part saved before: the sensors' clocks, the
//     open intervals with their sources, the state machines and the
//     events not yet taken.
//
// Restore takes the log (everything appended, in order) and the latest hot
// part. The filters are not saved: Restore feeds each its rows again
// (the same code on the same rows gives the same steps bit for bit).
type Snapshot struct {
	Log []byte
	Hot []byte
}

// The records of the log.
const (
	recSensor   = 1 + iota // name, size
	recSources             // sensor, n, n x (len, bytes)
	recSeries              // sensor, kind, id
	recRow                 // series, interval, probes, sources, new, base-only, new x src, base-only x src
	recLate                // series, row, count
	recRestart             // series
	recRows                // series, base, epoch, start, n, n x (probes, sources, new, newBase), known sources, base sources (Full)
	recSources2            // sensor, n, n x (0 and an IPv4 address in 4 bytes, or len+1 and bytes)
)

const (
	logMagic = "wwlog1\n"
	hotMagic = "wwhot1\n"
)

// Checkpoint returns the state as a Snapshot whose Log holds what was
// added since the previous Checkpoint (or Full): the store appends it to
// the log it has and replaces the hot part. The first call (and any call
// on a Watch that has never been checkpointed) returns the whole log, as
// Full does. If saving a Checkpoint fails, the next save must be a Full
// one: what the failed one held is not returned again.
func (w *Watch) Checkpoint() Snapshot { return w.CheckpointTo(nil) }

// CheckpointTo is Checkpoint with the hot part written over the memory of
// hot (from hot[:0]), for a caller that has saved the hot part it took
// before and reuses its memory: the hot part holds every source of the
// open intervals, and a service checkpoints it at each commit.
func (w *Watch) CheckpointTo(hot []byte) Snapshot {
	if !w.journaling {
		return w.Full()
	}
	var log []byte
	log = w.appendNew(log)
	log = append(log, w.journal...)
	w.journal = w.journal[:0]
	return Snapshot{Log: log, Hot: w.hot(hot[:0])}
}

// Full returns the whole state: a log that replaces the one saved (it
// holds the rows, and the sources' state as sets, instead of the history
// of closes) and the hot part. Its log is about 3 bytes per source and
// per source and series, plus 8 to 15 bytes per row.
func (w *Watch) Full() Snapshot {
	w.journaling = true
	w.journal = w.journal[:0]
	w.logCount = 0
	w.loggedSensors, w.loggedSeries = 0, 0
	for _, s := range w.sensors {
		s.loggedSources = 0
	}
	log := []byte(logMagic)
	log = w.appendNew(log)
	for _, ser := range w.series {
		log = w.appendRows(log, ser)
	}
	return Snapshot{Log: log, Hot: w.hot(nil)}
}

// appendNew appends the sensors, sources and series not yet logged.
func (w *Watch) appendNew(b []byte) []byte {
	for si, s := range w.sensors {
		if si >= w.loggedSensors {
			b = append(b, recSensor)
			b = appendString(b, s.name)
			b = binary.AppendUvarint(b, s.size)
			w.logCount++
			w.loggedSensors = si + 1
		}
		if n := s.src.len() - s.loggedSources; n > 0 {
			b = append(b, recSources2)
			b = binary.AppendUvarint(b, uint64(si))
			b = binary.AppendUvarint(b, uint64(n))
			for id := s.loggedSources; id < s.src.len(); id++ {
				b = s.src.appendKey(b, id)
			}
			s.loggedSources = s.src.len()
			w.logCount++
		}
	}
	// Series in order of creation (their indices), after every source.
	for _, ser := range w.series[w.loggedSeries:] {
		b = append(b, recSeries)
		b = binary.AppendUvarint(b, uint64(w.byName[ser.sensor.name]))
		b = append(b, byte(ser.class.Kind))
		b = binary.AppendUvarint(b, uint64(ser.class.ID))
		w.logCount++
	}
	w.loggedSeries = len(w.series)
	return b
}

// appendRows appends the Full record of ser: its rows and its sources'
// state as sets.
func (w *Watch) appendRows(b []byte, ser *series) []byte {
	b = append(b, recRows)
	b = binary.AppendUvarint(b, uint64(ser.idx))
	b = binary.AppendUvarint(b, uint64(ser.base))
	b = binary.AppendUvarint(b, uint64(ser.epoch))
	b = binary.AppendVarint(b, ser.start)
	b = binary.AppendUvarint(b, uint64(len(ser.rows)))
	mrows := ser.mon.Rows()
	for i, r := range ser.rows {
		nb := r.NewSources
		if i >= ser.base {
			nb = mrows[i-ser.base].NewSources
		}
		b = binary.AppendUvarint(b, uint64(r.Probes))
		b = binary.AppendUvarint(b, uint64(r.Sources))
		b = binary.AppendUvarint(b, uint64(r.NewSources))
		b = binary.AppendUvarint(b, uint64(nb))
	}
	var known, base []uint32
	for _, p := range ser.pairs {
		if p.known {
			known = append(known, p.src)
		}
		if p.epoch == ser.epoch {
			base = append(base, p.src)
		}
	}
	b = appendIDs(b, known)
	b = appendIDs(b, base)
	w.logCount++
	return b
}

// logRow journals the close of interval c of ser: its counts, the
// sources seen in it for the first time (fresh) and those seen for the
// first time since the filter's base only (rebased).
func (w *Watch) logRow(ser *series, c, probes, sources int64, fresh, rebased []uint32) {
	b := append(w.journal, recRow)
	b = binary.AppendUvarint(b, uint64(ser.idx))
	b = binary.AppendVarint(b, c)
	b = binary.AppendUvarint(b, uint64(probes))
	b = binary.AppendUvarint(b, uint64(sources))
	b = appendIDs(b, fresh)
	b = appendIDs(b, rebased)
	w.journal = b
	w.logCount++
}

// logLate journals a late record's probe in row r of ser.
func (w *Watch) logLate(ser *series, r int) {
	if !w.journaling {
		return
	}
	b := append(w.journal, recLate)
	b = binary.AppendUvarint(b, uint64(ser.idx))
	b = binary.AppendUvarint(b, uint64(r))
	b = binary.AppendUvarint(b, 1)
	w.journal = b
	w.logCount++
}

// logRestart journals the restart of ser's filter.
func (w *Watch) logRestart(ser *series) {
	if !w.journaling {
		return
	}
	b := append(w.journal, recRestart)
	w.journal = binary.AppendUvarint(b, uint64(ser.idx))
	w.logCount++
}

// hot appends to b the hot part: the settings it was made under, the
// counts, the log's record count, the sensors' clocks, the series' open
// intervals and state machines, and the events not yet taken. b grows
// once, to about the size needed (5 bytes a source of an open interval).
func (w *Watch) hot(b []byte) []byte {
	n := 64 + 32*len(w.sensors) + 256*len(w.events)
	for _, ser := range w.series {
		n += 64
		for _, o := range ser.open {
			n += 32 + 5*len(o.pairs)
		}
	}
	b = slices.Grow(b, n)
	b = append(b, hotMagic...)
	b = binary.AppendVarint(b, w.ivl)
	b = binary.AppendUvarint(b, uint64(w.lateness))
	b = binary.AppendUvarint(b, uint64(w.logCount))
	b = binary.AppendUvarint(b, uint64(w.records))
	b = binary.AppendUvarint(b, uint64(w.late))
	b = binary.AppendUvarint(b, uint64(len(w.sensors)))
	for _, s := range w.sensors {
		b = binary.AppendUvarint(b, uint64(s.src.len()))
		b = appendBool(b, s.started)
		b = binary.AppendVarint(b, s.hi)
		b = binary.AppendVarint(b, s.closedTo)
	}
	b = binary.AppendUvarint(b, uint64(len(w.series)))
	for _, ser := range w.series {
		b = binary.AppendUvarint(b, uint64(len(ser.rows)))
		b = appendBool(b, ser.started)
		b = binary.AppendVarint(b, ser.start)
		b = append(b, byte(ser.state))
		b = binary.AppendUvarint(b, uint64(ser.noTrend))
		b = binary.AppendUvarint(b, uint64(ser.late))
		n := 0
		for _, o := range ser.open {
			if o.used {
				n++
			}
		}
		b = binary.AppendUvarint(b, uint64(n))
		for _, o := range ser.open {
			if !o.used {
				continue
			}
			b = binary.AppendVarint(b, o.iv)
			b = binary.AppendUvarint(b, uint64(o.probes))
			b = binary.AppendUvarint(b, uint64(len(o.pairs)))
			for _, pi := range o.pairs {
				b = binary.AppendUvarint(b, uint64(ser.pairs[pi].src))
			}
		}
	}
	b = binary.AppendUvarint(b, uint64(len(w.events)))
	for _, e := range w.events {
		b = binary.AppendUvarint(b, uint64(e.Series))
		b = append(b, byte(e.From), byte(e.To))
		b = appendStep(b, e.Step)
		b = appendBool(b, e.Alarm != nil)
		if a := e.Alarm; a != nil {
			b = appendTime(b, a.Time)
			b = binary.AppendUvarint(b, uint64(a.Index))
			b = appendTime(b, a.Onset)
			b = binary.AppendVarint(b, a.Seen)
			b = appendFloat(b, a.Infected)
			b = appendFloat(b, a.K)
		}
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendFloat(b []byte, x float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
}

func appendTime(b []byte, t time.Time) []byte { return binary.AppendVarint(b, t.UnixNano()) }

func appendStep(b []byte, st forecast.Step) []byte {
	b = appendTime(b, st.Time)
	b = binary.AppendVarint(b, st.Seen)
	for _, x := range []float64{st.Observed, st.Infected, st.InfectedSD, st.K, st.KSE, st.N, st.NLow, st.NHigh} {
		b = appendFloat(b, x)
	}
	return appendBool(b, st.Trend)
}

// appendIDs appends a list of source ids, sorted as they are, with their
// count.
func appendIDs(b []byte, ids []uint32) []byte {
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		b = binary.AppendUvarint(b, uint64(id))
	}
	return b
}

// decoder reads what the appenders wrote; the first problem sticks.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("byte %d: "+format, append([]any{d.off}, args...)...)
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad or truncated number")
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad or truncated number")
		return 0
	}
	d.off += n
	return v
}

// count reads a count of at most limit.
func (d *decoder) count(limit int64, what string) int64 {
	v := d.uvarint()
	if limit < 0 || v > uint64(limit) {
		d.fail("%s %d out of range (at most %d)", what, v, limit)
		return 0
	}
	return int64(v)
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.fail("truncated")
		return 0
	}
	d.off++
	return d.b[d.off-1]
}

func (d *decoder) bool() bool {
	v := d.byte()
	if v > 1 {
		d.fail("bad flag %d", v)
	}
	return v == 1
}

func (d *decoder) string(limit int) string {
	n := d.count(int64(limit), "string length")
	if d.err != nil {
		return ""
	}
	if int64(len(d.b)-d.off) < n {
		d.fail("truncated")
		return ""
	}
	s := string(d.b[d.off : d.off+int(n)])
	d.off += int(n)
	return s
}

func (d *decoder) uint32() uint32 {
	if d.err != nil {
		return 0
	}
	if len(d.b)-d.off < 4 {
		d.fail("truncated")
		return 0
	}
	v := binary.BigEndian.Uint32(d.b[d.off:])
	d.off += 4
	return v
}

func (d *decoder) float() float64 {
	if d.err != nil {
		return 0
	}
	if len(d.b)-d.off < 8 {
		d.fail("truncated")
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b[d.off:]))
	d.off += 8
	return v
}

func (d *decoder) time() time.Time { return time.Unix(0, d.varint()).UTC() }

func (d *decoder) step() forecast.Step {
	st := forecast.Step{Time: d.time(), Seen: d.varint()}
	for _, x := range []*float64{&st.Observed, &st.Infected, &st.InfectedSD, &st.K, &st.KSE, &st.N, &st.NLow, &st.NHigh} {
		*x = d.float()
	}
	st.Trend = d.bool()
	return st
}

func (d *decoder) done() bool { return d.err != nil || d.off >= len(d.b) }
