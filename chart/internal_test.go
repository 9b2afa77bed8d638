package chart

import (
	"image/color"
	"math"
	"slices"
	"testing"
	"time"

	"wormwatch/internal/thousands"
	"wormwatch/results"
)

var t0 = time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)

// minuteBand is 12 one-minute bins with medians 1..12, 5% at half and 95%
// at twice the median.
func minuteBand() ([]time.Time, *results.Band) {
	b := &results.Band{Name: "x"}
	var times []time.Time
	for i := range 12 {
		times = append(times, t0.Add(time.Duration(i)*time.Minute))
		v := float64(i + 1)
		b.P05 = append(b.P05, v/2)
		b.P50 = append(b.P50, v)
		b.P95 = append(b.P95, 2*v)
	}
	return times, b
}

func TestAggregate(t *testing.T) {
	t.Parallel()
	at := func(d time.Duration) float64 { return unix(t0.Add(d)) }
	tests := []struct {
		name       string
		from, to   time.Duration
		step       time.Duration
		k          kind
		per, scale float64
		nan        int // index of a bin made NaN, or -1
		wantX      []float64
		wantMid    []float64
		wantLo     []float64
		wantHi     []float64
		wantWindow time.Duration
	}{
		{name: "level: last bin of each window, at its end", from: 0, to: 12 * time.Minute, step: 5 * time.Minute, k: level, per: 1, scale: 1, nan: -1,
			wantX:   []float64{at(5 * time.Minute), at(10 * time.Minute), at(12 * time.Minute)},
			wantMid: []float64{5, 10, 12}, wantLo: []float64{2.5, 5, 6}, wantHi: []float64{10, 20, 24}, wantWindow: 5 * time.Minute},
		// sums 15, 40 over 300 s and 23 over 120 s, per minute
		{name: "count: rate per minute over the covered seconds", from: 0, to: 12 * time.Minute, step: 5 * time.Minute, k: count, per: 60, scale: 1, nan: -1,
			wantX:   []float64{at(150 * time.Second), at(450 * time.Second), at(660 * time.Second)},
			wantMid: []float64{3, 8, 11.5}, wantLo: []float64{1.5, 4, 5.75}, wantHi: []float64{6, 16, 23}, wantWindow: 5 * time.Minute},
		{name: "count: per hour, scaled", from: 0, to: 12 * time.Minute, step: 10 * time.Minute, k: count, per: 3600, scale: 0.5, nan: -1,
			// 55 over 600 s, 23 over 120 s
			wantX:   []float64{at(300 * time.Second), at(660 * time.Second)},
			wantMid: []float64{55.0 / 600 * 3600 / 2, 23.0 / 120 * 3600 / 2}, wantLo: []float64{55.0 / 600 * 3600 / 4, 23.0 / 120 * 3600 / 4},
			wantHi: []float64{55.0 / 600 * 3600, 23.0 / 120 * 3600}, wantWindow: 10 * time.Minute},
		{name: "per bin: mean", from: 0, to: 12 * time.Minute, step: 5 * time.Minute, k: perBin, per: 60, scale: 1, nan: -1,
			wantX:   []float64{at(150 * time.Second), at(450 * time.Second), at(660 * time.Second)},
			wantMid: []float64{3, 8, 11.5}, wantLo: []float64{1.5, 4, 5.75}, wantHi: []float64{6, 16, 23}, wantWindow: 5 * time.Minute},
		{name: "step below the bin: one window per bin", from: 3 * time.Minute, to: 5 * time.Minute, step: 30 * time.Second, k: count, per: 60, scale: 1, nan: -1,
			wantX:   []float64{at(210 * time.Second), at(270 * time.Second)},
			wantMid: []float64{4, 5}, wantLo: []float64{2, 2.5}, wantHi: []float64{8, 10}, wantWindow: time.Minute},
		{name: "windows aligned on from, clipped to to", from: 2 * time.Minute, to: 7 * time.Minute, step: 5 * time.Minute, k: level, per: 1, scale: 2, nan: -1,
			wantX: []float64{at(7 * time.Minute)}, wantMid: []float64{14}, wantLo: []float64{7}, wantHi: []float64{28}, wantWindow: 5 * time.Minute},
		{name: "a NaN drops its window", from: 0, to: 12 * time.Minute, step: 5 * time.Minute, k: level, per: 1, scale: 1, nan: 3,
			wantX:   []float64{at(10 * time.Minute), at(12 * time.Minute)},
			wantMid: []float64{10, 12}, wantLo: []float64{5, 6}, wantHi: []float64{20, 24}, wantWindow: 5 * time.Minute},
		{name: "empty window", from: 20 * time.Minute, to: 30 * time.Minute, step: 5 * time.Minute, k: level, per: 1, scale: 1, nan: -1,
			wantWindow: 5 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			times, b := minuteBand()
			if tc.nan >= 0 {
				b.P95[tc.nan] = math.NaN()
			}
			s := aggregate(times, 60, b, t0.Add(tc.from), t0.Add(tc.to), tc.step, tc.k, tc.per, tc.scale)
			for _, c := range []struct {
				what      string
				got, want []float64
			}{{"x", s.X, tc.wantX}, {"median", s.Mid, tc.wantMid}, {"5%", s.Lo, tc.wantLo}, {"95%", s.Hi, tc.wantHi}} {
				if !approxEqual(c.got, c.want) {
					t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
				}
			}
			if s.Window != tc.wantWindow || s.Bins != time.Minute {
				t.Errorf("window %v, bins %v; want %v, 1m", s.Window, s.Bins, tc.wantWindow)
			}
		})
	}
}

func approxEqual(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-9*math.Max(1, math.Abs(b[i])) {
			return false
		}
	}
	return true
}

func TestTimeTicks(t *testing.T) {
	t.Parallel()
	d := func(m time.Month, day, h int) time.Time { return time.Date(2001, m, day, h, 0, 0, 0, time.UTC) }
	tests := []struct {
		name     string
		from, to time.Time
		want     []string
	}{
		{"19 July 10:00-24:00", d(7, 19, 10), d(7, 20, 0),
			[]string{"10:00\nJul 19", "12:00", "14:00", "16:00", "18:00", "20:00", "22:00", "00:00\nJul 20"}},
		{"two days", d(7, 19, 0), d(7, 21, 0),
			[]string{"00:00\nJul 19", "06:00", "12:00", "18:00", "00:00\nJul 20", "06:00", "12:00", "18:00", "00:00\nJul 21"}},
		{"restart", d(7, 31, 18), d(8, 3, 0),
			[]string{"00:00\nAug 1", "12:00", "00:00\nAug 2", "12:00", "00:00\nAug 3"}},
		{"the summer", d(7, 12, 0), d(8, 31, 0),
			[]string{"Jul 20", "Aug 1", "Aug 10", "Aug 20"}},
		{"ten days", d(7, 12, 0), d(7, 22, 0),
			[]string{"Jul 13", "Jul 15", "Jul 17", "Jul 19", "Jul 21"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lo, hi := unix(tc.from), unix(tc.to)
			ticks := timeTicks{}.Ticks(lo, hi)
			var got []string
			minor := 0
			for _, tk := range ticks {
				if tk.Value < lo || tk.Value > hi {
					t.Errorf("tick %v outside [%v, %v]", fromUnix(tk.Value), tc.from, tc.to)
				}
				if tk.Label != "" {
					got = append(got, tk.Label)
				} else {
					minor++
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("labels %q, want %q", got, tc.want)
			}
			if minor < len(got) {
				t.Errorf("%d minor ticks for %d labels, want more", minor, len(got))
			}
		})
	}
	if ticks := (timeTicks{}).Ticks(5, 5); ticks != nil {
		t.Errorf("an empty range gets ticks %v", ticks)
	}
}

func TestNumberTicks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lo, hi float64
		want   []string
	}{
		{0, 380000, []string{"0", "100k", "200k", "300k"}},
		{0, 3.5, []string{"0", "1", "2", "3"}},
		{0, 5.6, []string{"0", "1", "2", "3", "4", "5"}},
		{0, 1.3e6, []string{"0", "250k", "500k", "750k", "1M", "1.25M"}},
	}
	for _, tc := range tests {
		var got []string
		for _, tk := range (numberTicks{}).Ticks(tc.lo, tc.hi) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("ticks(%v, %v) = %q, want %q", tc.lo, tc.hi, got, tc.want)
		}
	}
}

func TestCompactAndThousands(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v           float64
		compact, th string
	}{
		{0, "0", "0"},
		{0.25, "0.25", "0"},
		{999, "999", "999"},
		{1234, "1.234k", "1,234"},
		{200000, "200k", "200,000"},
		{359104, "359.1k", "359,104"},
		{1.5e6, "1.5M", "1,500,000"},
		{3e9, "3G", "3,000,000,000"},
		{-2000, "-2k", "-2,000"},
		{999.6, "999.6", "1,000"},
	} {
		if got := compact(tc.v); got != tc.compact {
			t.Errorf("compact(%v) = %q, want %q", tc.v, got, tc.compact)
		}
		if got := thousands.Round(tc.v); got != tc.th {
			t.Errorf("thousands.Round(%v) = %q, want %q", tc.v, got, tc.th)
		}
	}
}

func TestLogTicks(t *testing.T) {
	t.Parallel()
	var got []string
	for _, tk := range (logTicks{}).Ticks(0, math.Log10(2500)) {
		if tk.Label != "" {
			got = append(got, tk.Label)
		}
	}
	if want := []string{"1", "10", "100", "1k"}; !slices.Equal(got, want) {
		t.Errorf("log ticks %q, want %q", got, want)
	}
}

// TestMapLayout checks the map against the layout of the xkcd and CAIDA
// maps as ipv4/hilbert.go documents it (0/8 top left, then 1/8 to its
// right, 2/8 below that, 3/8 below 0/8, 255/8 top right), and the grey of
// special-purpose space against a count made by hand from the registry.
func TestMapLayout(t *testing.T) {
	t.Parallel()
	s := results.Snapshot{Infected: make([]uint32, 1<<16)}
	for _, a := range []int{0, 1, 2, 3, 255} { // the first /16 of these /8s
		s.Infected[a<<8] = 5
	}
	ms, err := newMapScale([]results.Snapshot{s})
	if err != nil {
		t.Fatal(err)
	}
	reserved, err := reservedOnce()
	if err != nil {
		t.Fatal(err)
	}
	img := mapImage(s, ms, reserved, 1)
	if b := img.Bounds(); b.Dx() != 256 || b.Dy() != 256 {
		t.Fatalf("map is %v, want 256 x 256", b)
	}
	white := color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF}
	grey := colReserved
	var nWhite, nGrey, nOther int
	for y := range 256 {
		for x := range 256 {
			switch img.NRGBAAt(x, y) {
			case white:
				nWhite++
			case grey:
				nGrey++
			default:
				nOther++
			}
		}
	}
	// Whole /16s of special-purpose space: 0/8, 10/8, 127/8 (256 each),
	// 100.64/10 (64), 169.254/16 (1), 172.16/12 (16), 192.168/16 (1),
	// 198.18/15 (2), 224/4 and 240/4 (4096 each): 9044, less 0.0/16 and
	// 255.0/16 which have infected hosts.
	if nGrey != 9042 || nOther != 5 || nWhite != 65536-9042-5 {
		t.Errorf("%d grey, %d coloured, %d white cells; want 9042, 5, %d", nGrey, nOther, nWhite, 65536-9042-5)
	}
	// Each infected /16 lies in its /8's 16 x 16 square.
	for _, c := range []struct{ a, sx, sy int }{{0, 0, 0}, {1, 1, 0}, {2, 1, 1}, {3, 0, 1}, {255, 15, 0}} {
		n := 0
		for y := c.sy * 16; y < c.sy*16+16; y++ {
			for x := c.sx * 16; x < c.sx*16+16; x++ {
				if p := img.NRGBAAt(x, y); p != white && p != grey {
					n++
				}
			}
		}
		if n != 1 {
			t.Errorf("/8 %d: %d coloured cells in square (%d, %d), want 1", c.a, n, c.sx, c.sy)
		}
	}
	if p := img.NRGBAAt(0, 0); p == white || p == grey {
		t.Errorf("0.0.0.0/16 is drawn %v at the top-left corner, want a colour for 5 hosts", p)
	}
}

func TestMapColoursDarkenWithCount(t *testing.T) {
	t.Parallel()
	s := results.Snapshot{Infected: make([]uint32, 1<<16)}
	s.Infected[7] = 10000
	ms, err := newMapScale([]results.Snapshot{s})
	if err != nil {
		t.Fatal(err)
	}
	lum := func(c color.Color) float64 {
		r, g, b, _ := c.RGBA()
		return 0.2126*float64(r) + 0.7152*float64(g) + 0.0722*float64(b)
	}
	prev := lum(ms.color(0, false))
	for _, n := range []uint32{1, 10, 100, 1000, 10000, 20000} {
		l := lum(ms.color(n, false))
		if n <= 10000 && !(l < prev) {
			t.Errorf("%d hosts: luminance %v, want below %v (fewer hosts)", n, l, prev)
		}
		prev = l
	}
	if ms.color(0, true) != colReserved || ms.color(0, false) != colNone {
		t.Error("zero counts are not white (ordinary) and grey (special-purpose)")
	}
}
