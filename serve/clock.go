package serve

import "time"

// advance closes the intervals of the live sensors with the wall clock:
// each sensor whose latest record is within Settings.ClockWindow of now is
// advanced to now less Settings.ClockDelay (watch.AdvanceSensor): its
// intervals that ended by then close, with zero rows where nothing came,
// so that a quiet live sensor's series go on. A sensor whose latest record
// is older (a log of 2001 read in 2026, a sensor that stopped) or far
// ahead (a clock that is wrong) is left to its records.
func (l *loop) advance(now time.Time) {
	win, delay := l.cfg.Service.ClockWindow.D(), l.cfg.Service.ClockDelay.D()
	to := now.Add(-delay)
	for s, latest := range l.latest {
		if latest == 0 {
			continue
		}
		if d := now.Sub(time.Unix(0, latest)); d > win || d < -win {
			continue
		}
		if err := l.w.AdvanceSensor(s, to); err != nil {
			l.watchErr(err)
		}
	}
}
