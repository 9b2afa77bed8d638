package watch

import "testing"

// TestSources checks that a canonical address and other texts are kept
// apart and given back as they came.
func TestSources(t *testing.T) {
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
