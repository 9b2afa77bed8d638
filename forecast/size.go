package forecast

import (
	"fmt"
	"math"
	"time"
)

// SizeError is the error of a series whose sensor size is far too small
// for what the sensor saw: the filter's estimates overflowed.
//
// The filter's model bounds the infected hosts by N = K size / mu (see
// the package documentation): mu, the probes a second each source sends
// into the sensor, comes from the re-sightings whatever the size, so
// holding the Seen distinct sources seen needs a growth rate of at least
// KMin = Seen mu / size. The filter's K climbs to it, and once K times
// the interval passes about 354.9 (ln(MaxFloat64) / 2: the propagation
// squares e^{K interval}) its arithmetic overflows and every estimate
// after is NaN. With the size right (a /16 telescope of 65536 addresses
// declared as such) KMin is tiny: 76,849 sources of Code Red's day on a
// /16 need 0.3 per hour; declared as 1 address they need 20,792 per
// hour, and the filter overflows at that row. Analyze and
// Monitor.Analysis return it; Monitor.SizeError reports it while the
// Monitor goes on (its steps after it are NaN).
type SizeError struct {
	Series string    // the series' name (Analyze's Series.Name, NewMonitor's name)
	Size   uint64    // the size given: addresses the sensor watches
	Row    int       // the row (from 1) whose step overflowed
	Time   time.Time // end of that row's interval
	Seen   int64     // distinct sources seen by then (since the filter's base)
	Q      float64   // the probability that a scanning source is seen within an interval, from the re-sightings
	KMin   float64   // the least growth rate per hour that holds Seen sources: Seen mu / size
}

// Error says what was seen, what the size would need, and to check the
// size; the caller names the series (the file, the sensor).
func (e *SizeError) Error() string {
	unit := "addresses"
	if e.Size == 1 {
		unit = "address"
	}
	return fmt.Sprintf("column size: %d %s is far too small for what the sensor saw: by %s it had seen %d distinct sources, "+
		"which the filter's model (infected hosts at most N = K x size / mu, mu from the re-sightings) holds only at a growth rate K "+
		"of %.4g per hour or more, and its estimates overflow from row %d on; give the addresses the sensor watches (65536 for a /16 telescope)",
		e.Size, unit, e.Time.UTC().Format(time.RFC3339), e.Seen, e.KMin, e.Row)
}

// overflowed reports whether the filter's estimates in st are not finite
// while it runs: its arithmetic overflowed.
func overflowed(st *Step) bool {
	for _, x := range []float64{st.Infected, st.InfectedSD, st.K, st.KSE} {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return true
		}
	}
	return false
}

// noteOverflow records the first row whose step overflowed (k from 0),
// with the sighting probability q it was computed with.
func (run *filterRun) noteOverflow(st *Step, k int, q float64) {
	if run.overflow != nil || !overflowed(st) {
		return
	}
	mu := -math.Log1p(-q) / run.dt
	run.overflow = &SizeError{Series: run.name, Size: run.size, Row: k + 1, Time: st.Time, Seen: st.Seen, Q: q,
		KMin: float64(st.Seen) * mu / float64(run.size) * 3600}
}

// SizeError returns the error of a sensor size far too small for the rows
// added (see SizeError), once a step has overflowed, or nil.
func (m *Monitor) SizeError() *SizeError { return m.run.overflow }
