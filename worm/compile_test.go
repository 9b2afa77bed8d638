package worm

import (
	"math"
	"strings"
	"testing"
	"time"

	"wormwatch/internal/param"
	"wormwatch/ipv4"
)

// julyStart is the reference scenario's start: CRv2 appears around 10:00
// UTC on 19 July 2001.
var julyStart = time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)

// defaultParams returns a worm.Params with every tag default, named name.
func defaultParams(name string) Params {
	var p Params
	param.Defaults(&p)
	p.Name = name
	return p
}

// mustCompile compiles p for a scenario starting at start.
func mustCompile(t testing.TB, p Params, sp ipv4.Space, start time.Time, q float64) *Variant {
	t.Helper()
	v, err := Compile(0, p, sp, start, q)
	if err != nil {
		t.Fatalf("Compile(%s): %v", p.Name, err)
	}
	return v
}

func closeTo(got, want, relTol float64) bool {
	return math.Abs(got-want) <= relTol*math.Max(math.Abs(want), 1e-300)
}

// TestRate checks the thread model rate = threads / ((1-q) timeout + q
// answered) against hand arithmetic, per language.
func TestRate(t *testing.T) {
	t.Parallel()
	langs := []uint8{ipv4.LangEnglish, ipv4.LangChinese, ipv4.LangOther}
	tests := []struct {
		name string
		set  func(*Params)
		q    float64
		want [3]float64 // English, Chinese, other
	}{
		{
			// 100 threads, each tied up 21 s per silent address.
			name: "crv2 q=0",
			set:  func(*Params) {},
			want: [3]float64{100.0 / 21, 100.0 / 21, 100.0 / 21},
		},
		{
			// 0.97*21 + 0.03*0.5 = 20.37 + 0.015 = 20.385 s per attempt.
			name: "crv2 q=0.03",
			set:  func(*Params) {},
			q:    0.03,
			want: [3]float64{100 / 20.385, 100 / 20.385, 100 / 20.385},
		},
		{
			// Every address answers: 0.5 s per attempt, 200 per second.
			name: "crv2 q=1",
			set:  func(*Params) {},
			q:    1,
			want: [3]float64{200, 200, 200},
		},
		{
			// CRv1: one thread defaces English-language servers.
			name: "crv1 q=0",
			set:  func(p *Params) { p.Rate.NonScanningEnglish = 1 },
			want: [3]float64{99.0 / 21, 100.0 / 21, 100.0 / 21},
		},
		{
			// CRII: 300 threads, 600 on Chinese-language systems.
			name: "crii q=0",
			set:  func(p *Params) { p.Rate.Threads, p.Rate.ThreadsChinese = 300, 600 },
			want: [3]float64{300.0 / 21, 600.0 / 21, 300.0 / 21},
		},
		{
			name: "crii q=0.03",
			set:  func(p *Params) { p.Rate.Threads, p.Rate.ThreadsChinese = 300, 600 },
			q:    0.03,
			want: [3]float64{300 / 20.385, 600 / 20.385, 300 / 20.385},
		},
		{
			// 10 threads, 2 s timeout, 1 s answered, q = 0.5: 1.5 s each.
			name: "custom timeouts",
			set: func(p *Params) {
				p.Rate.Threads = 10
				p.Rate.Timeout = param.Duration(2 * time.Second)
				p.Rate.AnsweredAttempt = param.Duration(time.Second)
			},
			q:    0.5,
			want: [3]float64{10 / 1.5, 10 / 1.5, 10 / 1.5},
		},
		{
			// The fixed model ignores threads, timeouts and language.
			name: "fixed",
			set: func(p *Params) {
				p.Rate.Model = "fixed"
				p.Rate.Fixed = 13.9
				p.Rate.ThreadsChinese = 600
				p.Rate.NonScanningEnglish = 1
			},
			q:    0.03,
			want: [3]float64{13.9, 13.9, 13.9},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := defaultParams("w")
			tc.set(&p)
			v := mustCompile(t, p, ipv4.Space{Bits: 32}, julyStart, tc.q)
			for i, lang := range langs {
				if got := v.Rate(lang); !closeTo(got, tc.want[i], 1e-12) {
					t.Errorf("Rate(lang %d) = %.9g, want %.9g", lang, got, tc.want[i])
				}
			}
		})
	}
}

// TestRateMatchesReference checks the defaults against the reference
// document: "about 4.8 connection attempts per second per host".
func TestRateMatchesReference(t *testing.T) {
	t.Parallel()
	v := mustCompile(t, defaultParams("crv2"), ipv4.Space{Bits: 32}, julyStart, 0)
	r := v.Rate(ipv4.LangOther)
	if got := math.Round(r*10) / 10; got != 4.8 {
		t.Errorf("default rate %.4g rounds to %.1g per second, reference says about 4.8", r, got)
	}
}

// TestThreads checks the scanning threads per language, including the
// clamp at zero.
func TestThreads(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		r    Rate
		want [3]int // English, Chinese, other
	}{
		{"crv2", Rate{Threads: 100}, [3]int{100, 100, 100}},
		{"crv1", Rate{Threads: 100, NonScanningEnglish: 1}, [3]int{99, 100, 100}},
		{"crii", Rate{Threads: 300, ThreadsChinese: 600}, [3]int{300, 600, 300}},
		{"chinese and english rules together", Rate{Threads: 300, ThreadsChinese: 600, NonScanningEnglish: 5}, [3]int{295, 600, 300}},
		{"more non-scanning than threads", Rate{Threads: 2, NonScanningEnglish: 5}, [3]int{0, 2, 2}},
	}
	for _, tc := range tests {
		for i, lang := range []uint8{ipv4.LangEnglish, ipv4.LangChinese, ipv4.LangOther} {
			if got := Threads(tc.r, lang); got != tc.want[i] {
				t.Errorf("%s: Threads(lang %d) = %d, want %d", tc.name, lang, got, tc.want[i])
			}
		}
	}
}

// TestCompileErrors checks that bad parameters are refused with the
// variant's name, the key and the bad value in the message.
func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		set  func(*Params)
		want []string // substrings of the error
	}{
		{"prefix length", func(p *Params) { p.Targeting.Exclude = []string{"127.0.0.0/8", "10.0.0.0/33"} },
			[]string{"worm bad1", "targeting.exclude", "10.0.0.0/33", "entry 2"}},
		{"host bits set", func(p *Params) { p.Targeting.Exclude = []string{"10.0.0.1/8"} },
			[]string{"worm bad2", "targeting.exclude", "10.0.0.1/8"}},
		{"not an address", func(p *Params) { p.Targeting.Exclude = []string{"banana"} },
			[]string{"worm bad3", "targeting.exclude", "banana"}},
		{"os class", func(p *Params) { p.Infects = []OS{"win2000", "linux"} },
			[]string{"worm bad4", "infects", "linux", "want win2000 or nt4"}},
		{"flood target short", func(p *Params) {
			p.Calendar.Kind = "monthly"
			p.Calendar.FloodTarget = "198.137.240"
		}, []string{"worm bad5", "calendar.flood_target", "198.137.240"}},
		{"flood target ipv6", func(p *Params) {
			p.Calendar.Kind = "monthly"
			p.Calendar.FloodTarget = "2001:db8::1"
		}, []string{"worm bad6", "calendar.flood_target", "2001:db8::1"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := defaultParams("bad" + string(rune('1'+i)))
			tc.set(&p)
			v, err := Compile(0, p, ipv4.Space{Bits: 32}, julyStart, 0)
			if err == nil {
				t.Fatalf("Compile accepted it: %+v", v)
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

// TestCompileDerived checks the fields Compile derives: components,
// infectable OS classes, start offset, flood target, reboot times.
func TestCompileDerived(t *testing.T) {
	t.Parallel()
	t.Run("components", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			strategy     Strategy
			own8, own16  float64
			want         []Component
			wantMonthly  bool
			calendarKind CalendarKind
		}{
			{"uniform", 0.5, 0.375, []Component{{0, 1}}, false, "always"},
			{"local", 0.5, 0.375, []Component{{0, 0.125}, {8, 0.5}, {16, 0.375}}, true, "monthly"},
			{"local", 1, 0, []Component{{8, 1}}, false, "always"},
			{"local", 0, 1, []Component{{16, 1}}, false, "always"},
			{"local", 0, 0, []Component{{0, 1}}, false, "always"},
			{"local", 0.25, 0.25, []Component{{0, 0.5}, {8, 0.25}, {16, 0.25}}, false, "always"},
			{"hitlist", 0.5, 0.375, []Component{{0, 1}}, false, "always"},
			{"sequence", 0.5, 0.375, []Component{{0, 1}}, false, "always"},
		}
		for _, tc := range tests {
			p := defaultParams("c")
			p.Targeting.Strategy = tc.strategy
			p.Targeting.Local = Local{Own8: tc.own8, Own16: tc.own16}
			p.Calendar.Kind = tc.calendarKind
			v := mustCompile(t, p, ipv4.Space{Bits: 32}, julyStart, 0)
			if len(v.Components) != len(tc.want) {
				t.Errorf("%s %v/%v: components %v, want %v", tc.strategy, tc.own8, tc.own16, v.Components, tc.want)
				continue
			}
			for i, c := range v.Components {
				if c.Level != tc.want[i].Level || !closeTo(c.Weight, tc.want[i].Weight, 1e-12) {
					t.Errorf("%s %v/%v: components %v, want %v", tc.strategy, tc.own8, tc.own16, v.Components, tc.want)
					break
				}
			}
			if v.Monthly() != tc.wantMonthly {
				t.Errorf("calendar kind %s: Monthly() = %v", tc.calendarKind, v.Monthly())
			}
		}
	})
	t.Run("infects", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			infects []OS
			want    [2]bool // win2000, nt4
		}{
			{[]OS{"win2000", "nt4"}, [2]bool{true, true}},
			{[]OS{"win2000"}, [2]bool{true, false}},
			{[]OS{"nt4"}, [2]bool{false, true}},
			{nil, [2]bool{false, false}},
		}
		for _, tc := range tests {
			p := defaultParams("i")
			p.Infects = tc.infects
			v := mustCompile(t, p, ipv4.Space{Bits: 32}, julyStart, 0)
			if v.Infects[ipv4.OSWin2000] != tc.want[0] || v.Infects[ipv4.OSNT4] != tc.want[1] {
				t.Errorf("infects %v: got win2000=%v nt4=%v, want %v", tc.infects, v.Infects[ipv4.OSWin2000], v.Infects[ipv4.OSNT4], tc.want)
			}
		}
	})
	t.Run("start, flood, reboot", func(t *testing.T) {
		t.Parallel()
		p := defaultParams("crii")
		p.Start = time.Date(2001, 8, 4, 0, 0, 0, 0, time.UTC)
		p.Calendar.Kind = "monthly"
		p.Reboot.After = param.Duration(24 * time.Hour)
		p.Reboot.AfterChinese = param.Duration(48 * time.Hour)
		// 20-bit space: 198.137.240.91 keeps its top 20 bits,
		// 198<<12 | 137<<4 | 240>>4 = 811008 + 2192 + 15.
		v := mustCompile(t, p, ipv4.Space{Bits: 20}, julyStart, 0)
		// 19 July 10:00 to 4 August 00:00: 15 days and 14 hours.
		if want := 15*86400.0 + 14*3600; v.StartSeconds != want {
			t.Errorf("StartSeconds = %v, want %v", v.StartSeconds, want)
		}
		if a, ok := v.FloodTarget(); !ok || a != 811008+2192+15 {
			t.Errorf("FloodTarget() = %d, %v, want %d, true", a, ok, 811008+2192+15)
		}
		for _, tc := range []struct {
			lang uint8
			want float64
		}{{ipv4.LangEnglish, 86400}, {ipv4.LangChinese, 172800}, {ipv4.LangOther, 86400}} {
			if got := v.RebootAfter(tc.lang); got != tc.want {
				t.Errorf("RebootAfter(%d) = %v, want %v", tc.lang, got, tc.want)
			}
		}
		p.Reboot.AfterChinese = 0
		p.Start = time.Time{}
		p.Calendar.Kind = "always"
		v = mustCompile(t, p, ipv4.Space{Bits: 20}, julyStart, 0)
		if got := v.RebootAfter(ipv4.LangChinese); got != 86400 {
			t.Errorf("after_chinese = 0: RebootAfter(Chinese) = %v, want 86400", got)
		}
		if v.StartSeconds != 0 {
			t.Errorf("empty start: StartSeconds = %v, want 0", v.StartSeconds)
		}
		if _, ok := v.FloodTarget(); ok {
			t.Error("a worm with calendar kind always reports a flood target")
		}
	})
}
