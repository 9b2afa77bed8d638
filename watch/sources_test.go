package watch

import "testing"

// TestParseIPv4 checks that only canonical dotted addresses are taken as
// addresses, and that they format back to the same text.
func TestParseIPv4(t *testing.T) {
	for _, s := range []string{"0.0.0.0", "10.1.2.3", "255.255.255.255", "192.0.2.10", "1.20.100.0"} {
		a, ok := parseIPv4([]byte(s))
		if !ok || formatIPv4(a) != s {
			t.Errorf("%s: %d %v, formats as %s", s, a, ok, formatIPv4(a))
		}
	}
	for _, s := range []string{"", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "256.1.1.1", "1.2.3.4 ", "1..2.3", ".1.2.3", "1.2.3.", "::1", "host.example", "1.2.3.1000"} {
		if a, ok := parseIPv4([]byte(s)); ok {
			t.Errorf("%q taken for address %d", s, a)
		}
	}
	s := newSources()
	for _, k := range []string{"10.0.0.1", "host", "10.0.0.01", "10.0.0.1", "host"} {
		if _, ok := s.find([]byte(k)); !ok {
			s.add([]byte(k))
		}
	}
	if s.len() != 3 || s.string(0) != "10.0.0.1" || s.string(1) != "host" || s.string(2) != "10.0.0.01" {
		t.Errorf("sources %+v", s)
	}
}
