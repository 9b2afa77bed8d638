package scenario

import (
	"errors"
	"strings"
	"testing"

	"wormwatch/internal/names"
)

// checkErr fails unless err is nil or a one-line *Error with a message.
func checkErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v is a %T, want a *scenario.Error", err, err)
	}
	if se.Msg == "" || strings.ContainsAny(err.Error(), "\n\r") {
		t.Fatalf("bad message %q", err.Error())
	}
}

// stripComments drops the comment lines of a scenario: the fuzzing engine
// stalls on seeds of several kilobytes (the built-ins with their sources),
// and the comments hold nothing the parser does not skip.
func stripComments(data []byte) []byte {
	var b strings.Builder
	for line := range strings.SplitSeq(string(data), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") && strings.TrimSpace(line) != "" {
			b.WriteString(line + "\n")
		}
	}
	return []byte(b.String())
}

// FuzzParse feeds random and mutated documents to Parse: it must never
// panic, and a scenario it accepts must survive the round trip through its
// resolved TOML.
func FuzzParse(f *testing.F) {
	for _, b := range Builtins() {
		data, err := Builtin(b.Name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(stripComments(data))
	}
	for _, s := range []string{
		base,
		"",
		"[[worm]]\n[[worm]]\nname = 1\n",
		"worm = [{name = \"a\", targeting = {strategy = \"local\", local = {own8 = 2}}}]\n",
		"start = 2001-07-19\nend = 2001-07-19T10:00:00\n[[worm]]\nname = \"x\"\n",
		"[population]\nregion = [{share = 1e308}, 3]\n",
		"a = [[[[[[[[1]]]]]]]]\n",
		"[space]\nbits = 16\nreserved = [\"0.0.0.0/0\"]\n",
		"bin = \"1d12h\"\n[[worm]]\n[worm.calendar.wake_delay]\nkind = \"lognormal\"\nmean = \"-1s\"\n",
		"\"quoted.key\" = 1\n",
		// Hostile input of issue 7.
		"\uFEFF" + base,
		strings.Replace(base, "start = 2001-07-19T10:00:00Z", "start = 0001-01-01T00:00:00Z", 1),
		strings.Replace(base, `name = "t"`, `name = "../../escape"`, 1),
		base + "\n[[sensor]]\nname = \"../../escape\"\n[[sensor]]\nname = \"a\"\n[[sensor]]\nname = \"a\"\n",
		strings.Replace(base, "hosts = 1000", "hosts = 1000\ndhcp_lease = \"1ns\"", 1),
		strings.Replace(base, "hosts = 1000", "placement = \"file\"\nfile = \"hosts.txt\"", 1),
		strings.Replace(base, "[population]", "[space]\nbits = 16\n[population]", 1),
		base + "\n[worm.calendar]\nkind = \"monthly\"\nwake_delay = { kind = \"fixed\", mean = \"-1h\" }\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.toml", data, "testdata", nil)
		checkErr(t, err)
		if err != nil {
			return
		}
		// Every name that becomes part of a path follows the rule, and
		// those that name files are unique.
		all := []string{s.Name}
		for _, w := range s.Worms {
			all = append(all, w.Name)
		}
		seen := map[string]bool{}
		for _, sn := range s.Sensors {
			if seen[sn.Name] {
				t.Fatalf("two sensors named %q accepted", sn.Name)
			}
			seen[sn.Name] = true
			all = append(all, sn.Name)
		}
		for _, a := range s.Defense.Advisories {
			all = append(all, a.Name)
		}
		for _, n := range all {
			if err := names.Check(n); err != nil {
				t.Fatalf("accepted a name that breaks the rule: %v", err)
			}
		}
		resolved, err := s.TOML()
		if err != nil {
			t.Fatalf("accepted scenario does not render: %v", err)
		}
		if _, err := Parse("resolved.toml", resolved, "testdata", nil); err != nil {
			t.Fatalf("resolved TOML does not parse: %v\n%s", err, resolved)
		}
	})
}

// FuzzSet feeds random --set arguments to a built-in: Parse must never
// panic and errors must be one line.
func FuzzSet(f *testing.F) {
	for _, s := range []string{
		"worm.rate.threads=0", "worm.crv2.rate.threads=300", "worm.0.targeting.strategy=local",
		"population.region=[]", `worm=[{name = "a"}, {name = "b"}]`, "worm.infects=win2000,nt4",
		"worm.reboot.after=1d12h", "start=2001-07-19", "worm.threads=5", "=", "worm..x=1", "worm.-1.name=x",
		`population.clock.error={kind = "uniform", min = "1d"}`, "space.bits=16",
	} {
		f.Add(s)
	}
	data, err := Builtin("codered2-july19")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, set string) {
		_, err := Parse("codered2-july19.toml", data, "", []string{set})
		checkErr(t, err)
	})
}
