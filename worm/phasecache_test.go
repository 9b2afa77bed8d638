package worm

import (
	"math/rand/v2"
	"testing"
	"time"

	"wormwatch/internal/param"
	"wormwatch/ipv4"
)

// TestPhaseAtCacheMatchesCalendar checks the precomputed monthly calendar
// against the calendar arithmetic at random times and clock errors, inside
// and outside the precomputed span.
func TestPhaseAtCacheMatchesCalendar(t *testing.T) {
	t.Parallel()
	start := time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)
	for _, cal := range []struct{ spread, flood int }{{19, 27}, {19, 19}, {30, 31}, {5, 10}} {
		var p Params
		param.Defaults(&p)
		p.Name = "x"
		p.Calendar.Kind = "monthly"
		p.Calendar.SpreadUntilDay, p.Calendar.FloodUntilDay = cal.spread, cal.flood
		p.Calendar.End = start.AddDate(0, 3, 0)
		v, err := Compile(0, p, ipv4.Space{Bits: 32}, start, 0)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < 20000; i++ {
			tt := (r.Float64()*2 - 1) * 800 * 86400 // +-800 days: past the cache on both sides
			ce := int32(r.IntN(6*86400) - 3*86400)
			ph, next := v.PhaseAt(tt, ce)
			host := tt + float64(ce)
			if host >= v.endSeconds {
				if ph != Ended {
					t.Fatalf("t=%g clock %d: phase %v, want ended", tt, ce, ph)
				}
				continue
			}
			want, wantNext := v.phaseSlow(host)
			if wantNext > v.endSeconds {
				wantNext = v.endSeconds
			}
			wantNext -= float64(ce)
			// The cache merges equal neighbouring phases, so its next change
			// may come later than the slow path's boundary, never earlier,
			// and the phase at the slow boundary must then be the same.
			if ph != want {
				t.Fatalf("calendar %v, t=%g clock %d: phase %v, calendar says %v", cal, tt, ce, ph, want)
			}
			if next < wantNext-1e-6 {
				t.Fatalf("calendar %v, t=%g clock %d: next change %g before the calendar's %g", cal, tt, ce, next, wantNext)
			}
			if next > wantNext+1e-6 {
				if p2, _ := v.PhaseAt(wantNext, ce); p2 != ph {
					t.Fatalf("calendar %v: change at %g skipped (phase %v then %v)", cal, wantNext, ph, p2)
				}
			}
		}
	}
}
