package pool

import (
	"fmt"
	"math"
	"slices"
	"time"

	"wormwatch/results"
)

// Row is one interval of a sensor series (results.SensorRow, which
// forecast.Row is too).
type Row = results.SensorRow

// MaxIntervals is the most intervals a Union counts (its sources remember
// the last interval they were seen in as an int32).
const MaxIntervals = math.MaxInt32

// Union is the sensor series of a union of disjoint sensors, counted
// exactly from their probes one interval at a time: the open interval
// takes probes (Add, AddAt) until Close ends it and returns its row. It
// keeps every source seen (8 to 32 bytes each) and the rows.
//
// A Union is not safe for concurrent use.
type Union struct {
	blocks   []Block
	size     uint64
	start    time.Time
	interval time.Duration
	last     table // every source seen: the last interval it was seen in
	open     Row   // the counts of the open interval
	rows     []Row
}

// NewUnion returns the union of the sensors watching blocks (disjoint:
// see Size), whose first interval starts at start and every interval
// lasts interval.
func NewUnion(blocks []Block, start time.Time, interval time.Duration) (*Union, error) {
	size, err := Size(blocks)
	if err != nil {
		return nil, err
	}
	if interval <= 0 {
		return nil, fmt.Errorf("interval %s: want more than 0", interval)
	}
	return &Union{blocks: slices.Clone(blocks), size: size, start: start, interval: interval}, nil
}

// Size returns the addresses the union watches: the sum of its blocks'.
func (u *Union) Size() uint64 { return u.size }

// Blocks returns the union's blocks, in the order given to NewUnion (a
// sensor's index in Add is its place there).
func (u *Union) Blocks() []Block { return slices.Clone(u.blocks) }

// Interval returns the width of an interval.
func (u *Union) Interval() time.Duration { return u.interval }

// Open returns the start of the open interval.
func (u *Union) Open() time.Time { return u.at(len(u.rows)) }

func (u *Union) at(i int) time.Time { return u.start.Add(time.Duration(i) * u.interval) }

// Add counts probes from the given sources received by sensor (its index
// among the blocks) in the open interval. A source is a 32-bit key: an
// IPv4 address (internal/ipv4text parses one from text), or any id the
// caller gives the same source at every sensor of the union. An index
// out of range is an error, and nothing is counted.
func (u *Union) Add(sensor int, sources ...uint32) error {
	if sensor < 0 || sensor >= len(u.blocks) {
		return fmt.Errorf("sensor %d: no such sensor in the union (it has %d)", sensor, len(u.blocks))
	}
	for _, src := range sources {
		u.see(src)
	}
	u.open.Probes += int64(len(sources))
	return nil
}

// see counts source src in the open interval's sources (once) and new
// sources (the first time it is seen).
func (u *Union) see(src uint32) {
	cur := int32(len(u.rows))
	switch u.last.see(src, cur) {
	case -1:
		u.open.NewSources++
		u.open.Sources++
	case cur:
	default:
		u.open.Sources++
	}
}

// AddN counts probes probes (1 or more) from source src received by
// sensor in the open interval: Add of src probes times, for a sensor that
// reports its sources with their counts. A bad index or a count below 1
// is an error, and nothing is counted.
func (u *Union) AddN(sensor int, src uint32, probes int64) error {
	if probes < 1 {
		return fmt.Errorf("source %d: %d probes, want 1 or more", src, probes)
	}
	if err := u.Add(sensor); err != nil {
		return err
	}
	u.see(src)
	u.open.Probes = add(u.open.Probes, probes)
	return nil
}

// Close ends the open interval and returns its row; the next interval
// opens. It panics past MaxIntervals intervals.
func (u *Union) Close() Row {
	if len(u.rows) >= MaxIntervals {
		panic("pool: more than MaxIntervals intervals")
	}
	r := u.open
	r.Time = u.at(len(u.rows))
	r.CumulativeSources = r.NewSources
	if n := len(u.rows); n > 0 {
		r.CumulativeSources += u.rows[n-1].CumulativeSources
	}
	u.rows = append(u.rows, r)
	u.open = Row{}
	return r
}

// AddAt counts a probe from source src received by sensor at time t,
// for probes that come in time order: the intervals before t's are
// closed first (their rows are in Rows). A probe before the start, or of
// an interval already closed (late), is an error and is not counted.
func (u *Union) AddAt(sensor int, t time.Time, src uint32) error {
	if t.Before(u.start) {
		return fmt.Errorf("probe at %s: before the union's start %s", t.Format(time.RFC3339Nano), u.start.Format(time.RFC3339Nano))
	}
	i := u.index(t)
	if i < len(u.rows) {
		return fmt.Errorf("probe at %s: late, its interval (from %s) is closed", t.Format(time.RFC3339Nano), u.at(i).Format(time.RFC3339Nano))
	}
	if sensor < 0 || sensor >= len(u.blocks) {
		return u.Add(sensor) // the error
	}
	if err := u.closeTo(i, t); err != nil {
		return err
	}
	return u.Add(sensor, src)
}

// CloseUntil closes every interval that ends at or before t, and returns
// the rows it closed (a slice of Rows, valid until the next call).
func (u *Union) CloseUntil(t time.Time) ([]Row, error) {
	from := len(u.rows)
	if t.Before(u.start) {
		return nil, nil
	}
	if err := u.closeTo(u.index(t), t); err != nil {
		return nil, err
	}
	return slices.Clip(u.rows[from:]), nil
}

// index returns the interval that holds t (not before the start).
func (u *Union) index(t time.Time) int {
	d := t.Sub(u.start)
	if d == math.MaxInt64 || int64(d/u.interval) >= MaxIntervals {
		return MaxIntervals
	}
	return int(d / u.interval)
}

// closeTo closes intervals until interval i, which holds t, is open.
func (u *Union) closeTo(i int, t time.Time) error {
	if i >= MaxIntervals {
		return fmt.Errorf("time %s: more than %d intervals after the start", t.Format(time.RFC3339), MaxIntervals)
	}
	for len(u.rows) < i {
		u.Close()
	}
	return nil
}

// Rows returns the rows closed so far. The slice is the Union's own: it
// must not be modified, and it is valid until the next Close.
func (u *Union) Rows() []Row { return slices.Clip(u.rows) }

// Sources returns the number of distinct sources seen so far, the open
// interval's included.
func (u *Union) Sources() int { return u.last.n }
