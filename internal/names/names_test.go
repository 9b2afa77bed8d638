package names

import "testing"

func TestCheck(t *testing.T) {
	good := []string{"a", "crv2", "ucsd-8", "codered-2001", "x.y_z-1", "0day", "a..b"}
	for _, s := range good {
		if err := Check(s); err != nil {
			t.Errorf("Check(%q) = %v, want nil", s, err)
		}
	}
	long := make([]byte, MaxLen+1)
	for i := range long {
		long[i] = 'a'
	}
	bad := []string{"", ".", "..", "../../escape", "a/b", `a\b`, "-x", ".hidden", "_x", "Caps", "a b", "é", "a\x00", string(long)}
	for _, s := range bad {
		if err := Check(s); err == nil {
			t.Errorf("Check(%q) = nil, want an error", s)
		}
	}
}

func TestSanitize(t *testing.T) {
	cases := map[string]string{
		"My Scenario":    "my-scenario",
		"../../escape":   "escape",
		"a//b":           "a-b",
		"---":            "",
		"Code Red (v2)!": "code-red-v2",
	}
	for in, want := range cases {
		got := Sanitize(in)
		if got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
		if got != "" {
			if err := Check(got); err != nil {
				t.Errorf("Sanitize(%q) = %q, which Check refuses: %v", in, got, err)
			}
		}
	}
}

func FuzzSanitize(f *testing.F) {
	f.Add("../x")
	f.Add("Ünïcode name")
	f.Fuzz(func(t *testing.T, s string) {
		if got := Sanitize(s); got != "" {
			if err := Check(got); err != nil {
				t.Fatalf("Sanitize(%q) = %q, refused by Check: %v", s, got, err)
			}
		}
	})
}
