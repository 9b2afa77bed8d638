package timespan

import (
	"testing"
	"time"
)

func TestEarlierLater(t *testing.T) {
	t.Parallel()
	var zero time.Time
	a := time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)
	b := a.Add(time.Hour)
	for _, c := range []struct {
		x, y, early, late time.Time
	}{
		{a, b, a, b}, {b, a, a, b}, {zero, a, a, a}, {a, zero, a, a}, {zero, zero, zero, zero},
	} {
		if got := Earlier(c.x, c.y); !got.Equal(c.early) {
			t.Errorf("Earlier(%v, %v) = %v, want %v", c.x, c.y, got, c.early)
		}
		if got := Later(c.x, c.y); !got.Equal(c.late) {
			t.Errorf("Later(%v, %v) = %v, want %v", c.x, c.y, got, c.late)
		}
	}
}
