package calibrate

import (
	"math"
	"testing"

	"wormwatch/sim"
)

// TestShareStats checks the two share statistics on hand-made bins whose
// answers are known, and that they have no value where the share is
// undefined.
func TestShareStats(t *testing.T) {
	t.Parallel()
	r := &run{home: 600, bin: 3600}
	// 1000 hosts (600 home), 100 removed of which 50 home: 350 servers on
	// the network, 500 - 270 = 230 of them patched.
	b := sim.Bin{Susceptible: 300, Infected: 100, Patched: 500, Removed: 100, PatchedHome: 270, RemovedHome: 50, EverInfected: 300, EverUnpatched: 90}
	if got, want := stats["server_patched_share_at"].at(r, b), 230.0/350; math.Abs(got-want) > 1e-12 {
		t.Errorf("server_patched_share_at = %v, want %v", got, want)
	}
	if got := stats["ever_unpatched_share_at"].at(r, b); math.Abs(got-0.3) > 1e-12 {
		t.Errorf("ever_unpatched_share_at = %v, want 0.3", got)
	}
	if got := stats["ever_unpatched_share_at"].at(r, sim.Bin{Susceptible: 1000}); !math.IsNaN(got) {
		t.Errorf("ever_unpatched_share_at before any infection = %v, want no value (NaN)", got)
	}
	allHome := &run{home: 1000}
	if got := stats["server_patched_share_at"].at(allHome, b); !math.IsNaN(got) {
		t.Errorf("server_patched_share_at with no server = %v, want no value (NaN)", got)
	}
	// Read at a target's times: the bin holding each time.
	r.bins = []sim.Bin{{Susceptible: 1000}, b}
	tg := Target{Stat: "ever_unpatched_share_at", offsets: []float64{1800, 5400}}
	v := tg.values(r)
	if len(v) != 2 || !math.IsNaN(v[0]) || math.Abs(v[1]-0.3) > 1e-12 {
		t.Errorf("values at 30 min and 90 min = %v, want [NaN 0.3]", v)
	}
	for _, name := range []string{"server_patched_share_at", "ever_unpatched_share_at"} {
		if st := stats[name]; !st.series || st.doc == "" {
			t.Errorf("%s: series %v, doc %q", name, st.series, st.doc)
		}
	}
}
