package ipv4text

import "testing"

// TestParse checks that only canonical dotted addresses are taken as
// addresses, and that they format back to the same text.
func TestParse(t *testing.T) {
	for _, s := range []string{"0.0.0.0", "10.1.2.3", "255.255.255.255", "192.0.2.10", "1.20.100.0"} {
		a, ok := Parse([]byte(s))
		if !ok || Format(a) != s {
			t.Errorf("%s: %d %v, formats as %s", s, a, ok, Format(a))
		}
	}
	for _, s := range []string{"", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "256.1.1.1", "1.2.3.4 ", "1..2.3", ".1.2.3", "1.2.3.", "::1", "host.example", "1.2.3.1000"} {
		if a, ok := Parse([]byte(s)); ok {
			t.Errorf("%q taken for address %d", s, a)
		}
	}
}
