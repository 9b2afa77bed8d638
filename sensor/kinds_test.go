package sensor

import (
	"math"
	"strings"
	"testing"
	"time"

	"wormwatch/internal/param"
	"wormwatch/ipv4"
)

// TestKinds checks the kinds' values and documentation (written in every
// resolved scenario.toml, so unchanged from the enum and doc tags they
// replace), the prefix rule and each kind's recording window.
func TestKinds(t *testing.T) {
	t.Parallel()
	if got := strings.Join(Kind("").Enum(), ","); got != "telescope,webserver" {
		t.Errorf("kinds %s", got)
	}
	if got, want := Kind("").ParamDoc(), "telescope: a block of unused addresses that records every probe sent into it; webserver: one web server that logs every probe it receives (sensors/<name>.log, Apache combined format)"; got != want {
		t.Errorf("doc %s", got)
	}
	sp := ipv4.Space{Bits: 32}
	for _, c := range []struct {
		p    Params
		want string // error, "" for none
	}{
		{Params{Kind: KindTelescope, Prefix: "44.0.0.0/8"}, ""},
		{Params{Kind: KindWebServer, Prefix: "44.1.2.3"}, ""},
		{Params{Kind: KindWebServer, Prefix: "44.1.2.0/24"}, "a web server has one address, and 44.1.2.0/24 covers 256 in a 32-bit space (want an address, or a /32)"},
		{Params{Kind: KindTelescope, Prefix: "44.0.0.0/33"}, `"44.0.0.0/33" is not an IPv4 prefix (want a.b.c.d/n)`},
		{Params{Kind: "honeypot", Prefix: "44.0.0.0/8"}, `unknown sensor kind "honeypot" (want telescope or webserver)`},
	} {
		_, err := CheckPrefix(c.p, sp)
		if got := ""; err != nil {
			got = err.Error()
			if got != c.want {
				t.Errorf("%+v: %s, want %s", c.p, got, c.want)
			}
		} else if c.want != "" {
			t.Errorf("%+v: no error, want %s", c.p, c.want)
		}
	}
	start := time.Date(2001, 7, 19, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		p        Params
		from, to float64
		ok       bool
	}{
		{Params{Kind: KindTelescope}, 0, 0, false},
		{Params{Kind: KindTelescope, Capture: param.Duration(time.Hour)}, 0, 3600, true},
		{Params{Kind: KindTelescope, Capture: param.Duration(time.Hour), CaptureStart: start.Add(30 * time.Minute)}, 1800, 5400, true},
		{Params{Kind: KindTelescope, Capture: param.Duration(time.Hour), CaptureStart: start.Add(90 * time.Minute)}, 5400, 6000, true}, // cut at the end
		{Params{Kind: KindWebServer}, 0, math.Inf(1), true},
	} {
		k, _ := kinds.Lookup(c.p.Kind)
		from, to, ok := k.window(c.p, start, 6000)
		if from != c.from || to != c.to || ok != c.ok {
			t.Errorf("%+v: window %v to %v (%v), want %v to %v (%v)", c.p, from, to, ok, c.from, c.to, c.ok)
		}
	}
}
