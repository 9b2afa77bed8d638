// Package timespan widens a span of time seen (first seen, last seen) by
// another, where the zero time means "not seen yet". Detections, sightings
// and notices all merge such spans.
package timespan

import "time"

// Earlier returns the earlier of a and b, ignoring a zero time on either
// side (the other is returned; zero if both are).
func Earlier(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// Later returns the later of a and b (a zero time is earlier than any
// other, so it is ignored too).
func Later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
