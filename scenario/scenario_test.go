package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"wormwatch/internal/param"
	"wormwatch/ipv4"
	"wormwatch/worm"
)

var wantBuiltins = []string{"codered-2001", "codered1-july", "codered2-july19", "coderedii-aug", "fast-uniform", "hitlist"}

func TestBuiltinsList(t *testing.T) {
	t.Parallel()
	var names []string
	for _, b := range Builtins() {
		names = append(names, b.Name)
		if b.Description == "" {
			t.Errorf("%s has no description", b.Name)
		}
	}
	if !reflect.DeepEqual(names, wantBuiltins) {
		t.Errorf("Builtins() = %v, want %v", names, wantBuiltins)
	}
	if _, err := Builtin("nope"); err == nil || !strings.Contains(err.Error(), "codered2-july19") {
		t.Errorf("Builtin(nope) = %v, want an error listing the built-ins", err)
	}
	if _, err := Builtin("../scenario"); err == nil {
		t.Error("Builtin accepted a path")
	}
}

// TestBuiltinsParse loads every built-in and checks that it is named after
// its file and that every key in it carries a comment with its source or the
// word assumption.
func TestBuiltinsParse(t *testing.T) {
	t.Parallel()
	keyLine := regexp.MustCompile(`^[a-z0-9_.]+ = `)
	for _, name := range wantBuiltins {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, resolved, err := Load(name, nil)
			if err != nil {
				t.Fatal(err)
			}
			if s.Name != name {
				t.Errorf("name = %q, want the file's name %q", s.Name, name)
			}
			if len(resolved) == 0 {
				t.Error("no resolved TOML")
			}
			text, err := Builtin(name)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(text), "\n")
			for i, line := range lines {
				if !keyLine.MatchString(line) || strings.HasPrefix(line, "name = ") || strings.HasPrefix(line, "description = ") {
					continue
				}
				var comment []string
				for j := i - 1; j >= 0 && strings.HasPrefix(lines[j], "#"); j-- {
					comment = append(comment, lines[j])
				}
				c := strings.ToLower(strings.Join(comment, " "))
				// A key fitted by a calibration names it instead
				// (codered-2001: docs/calibration/codered-2001.toml).
				calibrated := strings.Contains(c, "# calibrated (docs/calibration/"+name+".toml")
				if !strings.Contains(c, "source") && !strings.Contains(c, "assumption") && !calibrated {
					t.Errorf("%s.toml:%d: %q has no comment with its source, \"assumption\" or the calibration that set it", name, i+1, line)
				}
				if calibrated {
					if _, err := os.Stat(filepath.Join("..", "docs", "calibration", name+".toml")); err != nil {
						t.Errorf("%s.toml:%d: %q names a calibration file that is not there: %v", name, i+1, line, err)
					}
				}
				if strings.Contains(c, "source") && !strings.Contains(c, `"`) {
					t.Errorf("%s.toml:%d: %q cites a source without quoting it", name, i+1, line)
				}
			}
		})
	}
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestBuiltinValues checks the values the built-ins must carry, as the
// project's brief and shared/reference/codered-2001.md state them.
func TestBuiltinValues(t *testing.T) {
	t.Parallel()
	load := func(name string) *Scenario {
		s, _, err := Load(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Worms) != 1 {
			t.Fatalf("%s: %d worms, want 1", name, len(s.Worms))
		}
		return s
	}
	type check struct {
		what      string
		got, want any
	}
	var checks []check
	add := func(name string, cs ...check) {
		for _, c := range cs {
			c.what = name + ": " + c.what
			checks = append(checks, c)
		}
	}

	s := load("codered2-july19")
	w := s.Worms[0]
	add("codered2-july19",
		check{"start", s.Start, mustTime("2001-07-19T10:00:00Z")},
		check{"end", s.End, mustTime("2001-07-20T00:00:00Z")},
		check{"bin", s.Bin.D(), time.Minute},
		check{"bits", s.Space.Bits, 32},
		check{"hosts", s.Population.Hosts, 360000},
		check{"placement", s.Population.Placement, ipv4.PlacementClustered},
		check{"patched", s.Population.Patched, 0.0},
		check{"worm", w.Name, "crv2"},
		check{"strategy", w.Targeting.Strategy, worm.Strategy("uniform")},
		check{"threads", w.Rate.Threads, 100},
		check{"timeout", w.Rate.Timeout.D(), 21 * time.Second},
		check{"calendar", w.Calendar.Kind, worm.CalendarKind("monthly")},
		check{"spread until", w.Calendar.SpreadUntilDay, 19},
		check{"flood until", w.Calendar.FloodUntilDay, 27},
		check{"flood target", w.Calendar.FloodTarget, "198.137.240.91"},
		check{"seeds", w.Seeds, 1},
		check{"wire", w.Wire, worm.Wire{SynBytes: 48, RequestBytes: 4018, Request: "codered"}},
	)

	s = load("codered1-july")
	w = s.Worms[0]
	add("codered1-july",
		check{"start", s.Start, mustTime("2001-07-12T00:00:00Z")},
		check{"end", s.End, mustTime("2001-07-19T10:00:00Z")},
		check{"bin", s.Bin.D(), 10 * time.Minute},
		check{"worm", w.Name, "crv1"},
		check{"strategy", w.Targeting.Strategy, worm.Strategy("sequence")},
		check{"threads", w.Rate.Threads, 100},
		check{"non-scanning", w.Rate.NonScanningEnglish, 1},
		check{"calendar", w.Calendar.Kind, worm.CalendarKind("monthly")},
		check{"seeds", w.Seeds, 1},
	)

	s = load("coderedii-aug")
	w = s.Worms[0]
	add("coderedii-aug",
		check{"start", s.Start, mustTime("2001-08-04T00:00:00Z")},
		check{"end", s.End, mustTime("2001-08-11T00:00:00Z")},
		check{"bin", s.Bin.D(), 5 * time.Minute},
		check{"patched", s.Population.Patched, 0.6},
		check{"worm", w.Name, "crii"},
		check{"infects", w.Infects, []worm.OS{worm.OSWin2000}},
		check{"strategy", w.Targeting.Strategy, worm.Strategy("local")},
		check{"local", w.Targeting.Local, worm.Local{Own8: 0.5, Own16: 0.375}},
		check{"exclude", w.Targeting.Exclude, []string{"127.0.0.0/8", "224.0.0.0/8"}},
		check{"threads", w.Rate.Threads, 300},
		check{"threads chinese", w.Rate.ThreadsChinese, 600},
		check{"calendar", w.Calendar.Kind, worm.CalendarKind("always")},
		check{"calendar end", w.Calendar.End, mustTime("2001-10-01T00:00:00Z")},
		check{"reboot", w.Reboot.After.D(), 24 * time.Hour},
		check{"reboot chinese", w.Reboot.AfterChinese.D(), 48 * time.Hour},
		check{"backdoor", w.Reboot.Backdoor, true},
		check{"seeds", w.Seeds, 1},
	)

	s = load("fast-uniform")
	w = s.Worms[0]
	add("fast-uniform",
		check{"start", s.Start, mustTime("2001-07-19T10:00:00Z")},
		check{"span", s.End.Sub(s.Start), 2 * time.Hour},
		check{"bin", s.Bin.D(), time.Minute},
		check{"hosts", s.Population.Hosts, 360000},
		check{"bits", s.Space.Bits, 32},
		check{"strategy", w.Targeting.Strategy, worm.Strategy("uniform")},
		check{"model", w.Rate.Model, worm.RateModel("fixed")},
		check{"rate", w.Rate.Fixed, 100.0},
	)

	s = load("hitlist")
	w = s.Worms[0]
	add("hitlist",
		check{"span", s.End.Sub(s.Start), time.Hour},
		check{"bin", s.Bin.D(), time.Minute},
		check{"hosts", s.Population.Hosts, 360000},
		check{"strategy", w.Targeting.Strategy, worm.Strategy("hitlist")},
		check{"hit list", w.Targeting.HitList, worm.HitList{Size: 10000, VulnerableShare: 1, Partitioned: true}},
		check{"model", w.Rate.Model, worm.RateModel("fixed")},
		check{"rate", w.Rate.Fixed, 100.0},
	)

	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
}

// TestDefaultGeography checks the default regions against CAIDA's shares
// and the assumed split of the rest.
func TestDefaultGeography(t *testing.T) {
	t.Parallel()
	s, _, err := Load("codered2-july19", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []ipv4.Region{
		{Name: "United States", Share: 0.43, UTCOffset: -6}, {Name: "Korea", Share: 0.11, UTCOffset: 9},
		{Name: "China", Share: 0.05, UTCOffset: 8}, {Name: "Taiwan", Share: 0.04, UTCOffset: 8},
		{Name: "Europe", Share: 0.25, UTCOffset: 1}, {Name: "other", Share: 0.12, UTCOffset: 0},
	}
	if !reflect.DeepEqual(s.Population.Regions, want) {
		t.Errorf("regions = %+v, want %+v", s.Population.Regions, want)
	}
	if e := s.Population.Clock.Error; e.Kind != "uniform" || e.Min.D() != -72*time.Hour || e.Max.D() != 72*time.Hour {
		t.Errorf("clock error = %+v, want uniform -3d to 3d", e)
	}
}

// TestRoundTrip renders each built-in (and variants through --set) as
// resolved TOML and parses it back.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{}
	for _, b := range wantBuiltins {
		cases[b] = nil
	}
	cases["codered2-july19 permutation"] = []string{"worm.targeting.strategy=permutation", "worm.targeting.permutation.partitioned=true"}
	cases["codered2-july19 sequential"] = []string{"worm.targeting.strategy=sequential", "space.bits=24", "population.hosts=1000"}
	cases["codered2-july19 no regions"] = []string{"population.region=[]", `population.clock.error={kind = "exponential", mean = "6h"}`}
	cases["codered2-july19 file"] = []string{"population.placement=file", "population.file=" + filepath.Join("testdata", "hosts.txt")}
	cases["coderedii-aug two worms"] = []string{`worm=[{name = "a", start = 2001-08-05T00:00:00Z}, {name = "b", infects = ["nt4"], calendar = {kind = "monthly"}}]`}
	cases["coderedii-aug uniform"] = []string{"worm.targeting.strategy=uniform", "worm.rate.model=fixed", "worm.rate.fixed=2.5"}
	for name, sets := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, resolved, err := Load(strings.Fields(name)[0], sets)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse("resolved.toml", resolved, "", nil)
			if err != nil {
				t.Fatalf("%v\n%s", err, resolved)
			}
			if !reflect.DeepEqual(back, s) {
				t.Errorf("round trip differs:\n got %+v\nwant %+v\n%s", back, s, resolved)
			}
			again, err := back.TOML()
			if err != nil || !bytes.Equal(again, resolved) {
				t.Errorf("rendering the parsed scenario again differs (err %v)", err)
			}
		})
	}
}

// TestResolvedLeavesOut checks that the resolved TOML has every applicable
// key and none that does not apply.
func TestResolvedLeavesOut(t *testing.T) {
	t.Parallel()
	_, resolved, err := Load("codered2-july19", nil)
	if err != nil {
		t.Fatal(err)
	}
	text := string(resolved)
	for _, want := range []string{"[worm.wire]\n", "syn_bytes = 48\n", "spread_until_day = 19\n", "[population.clustered]\n", "answer_fraction = 0.03\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("resolved TOML lacks %q", want)
		}
	}
	for _, bad := range []string{"[worm.targeting.local]", "[worm.targeting.hitlist]", "file = ", "\nfixed = "} {
		if strings.Contains(text, bad) {
			t.Errorf("resolved TOML has %q, which does not apply", bad)
		}
	}
}

// base is a small valid scenario for the error tests.
const base = `name = "t"
start = 2001-07-19T10:00:00Z
end = 2001-07-20T00:00:00Z

[population]
hosts = 1000

[[worm]]
name = "crv2"

[worm.targeting]
strategy = "uniform"

[worm.rate]
threads = 100
`

// lineOf returns the line (from 1) of the first line of doc containing s.
func lineOf(t *testing.T, doc, s string) int {
	t.Helper()
	i := strings.Index(doc, s)
	if i < 0 {
		t.Fatalf("%q not in the document", s)
	}
	return strings.Count(doc[:i], "\n") + 1
}

func TestBaseIsValid(t *testing.T) {
	t.Parallel()
	if _, err := Parse("codered.toml", []byte(base), "", nil); err != nil {
		t.Fatal(err)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string   // the file (base when empty)
		sets []string // --set arguments
		at   string   // text on the line of the error; "" for errors without a line
		want string   // the message; %d stands for that line
	}{
		{name: "unknown key", doc: strings.Replace(base, `name = "crv2"`, "name = \"crv2\"\nthreads = 5", 1), at: "threads = 5",
			want: "codered.toml:%d: worm.crv2.threads: unknown key; did you mean worm.crv2.rate.threads?"},
		{name: "unknown table", doc: base + "[defence]\npatch = 1\n", at: "[defence]",
			want: "codered.toml:%d: defence: unknown key; did you mean defense?"},
		{name: "wrong type", doc: strings.Replace(base, "hosts = 1000", `hosts = "many"`, 1), at: "hosts =",
			want: `codered.toml:%d: population.hosts: want an integer, got the string "many" (allowed 1 to 100000000)`},
		{name: "out of range", doc: strings.Replace(base, "threads = 100", "threads = 0", 1), at: "threads = 0",
			want: "codered.toml:%d: worm.crv2.rate.threads: 0 is below the minimum 1 (allowed 1 to 100000)"},
		{name: "enum", doc: strings.Replace(base, `"uniform"`, `"random"`, 1), at: `"random"`,
			want: `codered.toml:%d: worm.crv2.targeting.strategy: "random" is not allowed (allowed uniform, sequence, local, hitlist, permutation, sequential)`},
		{name: "list enum", doc: strings.Replace(base, `name = "crv2"`, "name = \"crv2\"\ninfects = [\"win95\"]", 1), at: "infects",
			want: `codered.toml:%d: worm.crv2.infects: element 1: "win95" is not allowed (allowed win2000, nt4)`},
		{name: "impossible combination", doc: strings.Replace(base, `"uniform"`, "\"local\"\nlocal = { own8 = 0.75, own16 = 0.5 }", 1), at: "own16",
			want: "codered.toml:%d: worm.crv2.targeting.local.own16: own8 0.75 + own16 0.5 is more than 1: together they are the share of probes that stay near the host"},
		{name: "end before start", doc: strings.Replace(base, "end = 2001-07-20T00:00:00Z", "end = 2001-07-19T09:00:00Z", 1), at: "end =",
			want: "codered.toml:%d: end: 2001-07-19T09:00:00Z is not after start 2001-07-19T10:00:00Z"},
		{name: "bad prefix", doc: strings.Replace(base, `"uniform"`, "\"uniform\"\nexclude = [\"127.0.0.0/8\", \"10.0.0.1/8\"]", 1), at: "exclude",
			want: `codered.toml:%d: worm.crv2.targeting.exclude: entry 2: "10.0.0.1/8" has bits set after the prefix length (did you mean 10.0.0.0/8?)`},
		{name: "not a prefix", doc: strings.Replace(base, `"uniform"`, "\"uniform\"\nexclude = [\"ten\"]", 1), at: "exclude",
			want: `codered.toml:%d: worm.crv2.targeting.exclude: entry 1: "ten" is not an IPv4 prefix (want a.b.c.d/n)`},
		{name: "when violation", doc: base + "\n[worm.targeting.local]\nown8 = 0.5\n", at: "[worm.targeting.local]",
			want: `codered.toml:%d: worm.crv2.targeting.local: applies only when worm.crv2.targeting.strategy is "local" (it is "uniform"); remove it or change strategy`},
		{name: "when violation of a key", doc: strings.Replace(base, "threads = 100", "threads = 100\nfixed = 5.0", 1), at: "fixed",
			want: `codered.toml:%d: worm.crv2.rate.fixed: applies only when worm.crv2.rate.model is "fixed" (it is "threads"); remove it or change model`},
		{name: "bad --set path", sets: []string{"worm.threads=5"},
			want: "--set worm.threads=5: worm.threads: unknown key; did you mean worm.rate.threads?"},
		{name: "bad --set value", sets: []string{"worm.rate.threads=0"},
			want: "--set worm.rate.threads=0: worm.crv2.rate.threads: 0 is below the minimum 1 (allowed 1 to 100000)"},
		{name: "bad --set text", sets: []string{"worm.crv2.rate.threads=lots"},
			want: `--set worm.crv2.rate.threads=lots: worm.crv2.rate.threads: want an integer, got "lots" (allowed 1 to 100000)`},
		{name: "--set of a key that does not apply", sets: []string{"worm.0.targeting.hitlist.size=5"},
			want: `--set worm.0.targeting.hitlist.size=5: worm.crv2.targeting.hitlist.size: applies only when worm.crv2.targeting.strategy is "hitlist" (it is "uniform"); remove it or change strategy`},
		{name: "--set breaks a rule", sets: []string{"end=2001-07-19T10:00:00Z"},
			want: "--set end=2001-07-19T10:00:00Z: end: 2001-07-19T10:00:00Z is not after start 2001-07-19T10:00:00Z"},
		{name: "syntax", doc: strings.Replace(base, "hosts = 1000", "hosts = ", 1), at: "hosts =",
			want: "codered.toml:%d:9: unexpected character U+000A at start of value"},
		{name: "missing start", doc: strings.Replace(base, "start = 2001-07-19T10:00:00Z\n", "", 1),
			want: "codered.toml: start: missing: give the simulated start as a UTC date-time, like start = 2001-07-19T10:00:00Z"},
		{name: "no worm", doc: base[:strings.Index(base, "[[worm]]")],
			want: "codered.toml: worm: no [[worm]] table: a scenario needs at least one worm"},
		{name: "worm without name", doc: strings.Replace(base, "name = \"crv2\"\n", "", 1), at: "[[worm]]",
			want: "codered.toml:%d: worm.0.name: empty name (want 1 to 64 characters: lowercase letters a-z, digits, '.', '_' and '-', starting with a letter or a digit)"},
		{name: "duplicate names", doc: base + "\n[[worm]]\nname = \"crv2\" # again\n", at: "# again",
			want: `codered.toml:%d: worm.1.name: "crv2" is also the name of worm 0: names must be unique`},
		{name: "bin zero", doc: "bin = \"0s\"\n" + base, at: "bin",
			want: `codered.toml:%d: bin: 0s is below the minimum 1s (allowed 1s to 3660d)`},
		{name: "bin longer than run", doc: "bin = \"1d\"\n" + base, at: "bin",
			want: "codered.toml:%d: bin: 1d is longer than the run (14h from start to end)"},
		{name: "too many bins", doc: "bin = \"1s\"\n" + strings.Replace(base, "2001-07-20T00:00:00Z", "2001-10-20T00:00:00Z", 1), at: "bin",
			want: "codered.toml:%d: bin: 1s makes 7999200 rows from start to end; at most 5000000 are allowed (use a wider bin)"},
		{name: "hosts beyond the space", doc: strings.Replace(base, "[population]", "[space]\nbits = 16\n\n[population]", 1), sets: []string{"population.hosts=16385"},
			want: "--set population.hosts=16385: population.hosts: 16385 hosts do not fit a 16-bit space of 65536 addresses: at most a quarter of it (16384) may hold hosts; raise space.bits or lower hosts"},
		{name: "hit list beyond the space", sets: []string{"space.bits=16", "worm.targeting.strategy=hitlist", "worm.targeting.hitlist.size=65537"},
			want: "--set worm.targeting.hitlist.size=65537: worm.crv2.targeting.hitlist.size: 65537 is more than the 65536 addresses of the 16-bit space"},
		{name: "region shares", doc: base + "\n[[population.region]]\nname = \"a\"\nshare = 0.5\n", at: "[[population.region]]",
			want: "codered.toml:%d: population.region: the shares of the 1 regions add up to 0.5; they must add up to 1"},
		{name: "languages", doc: strings.Replace(base, "hosts = 1000", "hosts = 1000\nenglish = 0.5\nchinese = 0.6", 1), at: "chinese",
			want: "codered.toml:%d: population.chinese: english 0.5 + chinese 0.6 is more than 1: they are shares of the same hosts"},
		{name: "reserved", doc: strings.Replace(base, "[population]", "[space]\nreserved = [\"special\", \"nowhere\"]\n\n[population]", 1), at: "reserved",
			want: `codered.toml:%d: space.reserved: entry 2: "nowhere" is not an IPv4 prefix (want a.b.c.d/n); want "special" or a prefix like 10.0.0.0/8`},
		{name: "placement file without file", doc: strings.Replace(base, "hosts = 1000", "hosts = 1000\nplacement = \"file\"", 1), at: "placement",
			want: `codered.toml:%d: population.placement: placement "file" needs population.file, a file of addresses or prefixes with counts`},
		{name: "file missing", doc: strings.Replace(base, "hosts = 1000", "hosts = 1000\nplacement = \"file\"\nfile = \"nosuch.txt\"", 1), at: "file = ",
			want: "codered.toml:%d: population.file: cannot read testdata/nosuch.txt: no such file or directory"},
		{name: "file given for another placement", doc: strings.Replace(base, "hosts = 1000", "hosts = 1000\nfile = \"hosts.txt\"", 1), at: "file = ",
			want: `codered.toml:%d: population.file: applies only when population.placement is "file" (it is "clustered"); remove it or change placement`},
		{name: "worm start before the run", doc: strings.Replace(base, `name = "crv2"`, "name = \"crv2\"\nstart = 2001-07-19T09:00:00Z", 1), at: "start = 2001-07-19T09",
			want: "codered.toml:%d: worm.crv2.start: 2001-07-19T09:00:00Z is before the run's start 2001-07-19T10:00:00Z: want a time from the start on (at or after the end leaves the worm out)"},
		{name: "seeds beyond hosts", sets: []string{"worm.seeds=1001"},
			want: "--set worm.seeds=1001: worm.crv2.seeds: 1001 seeds is more than the 1000 hosts of the population"},
		{name: "exclude with sequence", doc: strings.Replace(base, `"uniform"`, "\"sequence\"\nexclude = [\"127.0.0.0/8\"]", 1), at: "exclude",
			want: `codered.toml:%d: worm.crv2.targeting.exclude: not supported with strategy "sequence": it walks one fixed order of the space, and skipping addresses would change the walk; exclude works with uniform, local and hitlist (remove exclude)`},
		{name: "no scanning thread", doc: strings.Replace(base, "threads = 100", "threads = 1\nnon_scanning_english = 1", 1), at: "non_scanning_english",
			want: "codered.toml:%d: worm.crv2.rate.non_scanning_english: 1 leaves no scanning thread out of threads = 1"},
		{name: "flood before spread", doc: base + "\n[worm.calendar]\nkind = \"monthly\"\nspread_until_day = 20\nflood_until_day = 19\n", at: "flood_until_day",
			want: "codered.toml:%d: worm.crv2.calendar.flood_until_day: 19 is before spread_until_day = 20: the flood days follow the spreading days"},
		{name: "flood target", doc: base + "\n[worm.calendar]\nkind = \"monthly\"\nflood_target = \"whitehouse.gov\"\n", at: "flood_target",
			want: `codered.toml:%d: worm.crv2.calendar.flood_target: "whitehouse.gov" is not an IPv4 address (want a.b.c.d)`},
		{name: "calendar end before start", doc: base + "\n[worm.calendar]\nend = 2001-07-19T09:00:00Z\n", at: "end = 2001-07-19T09",
			want: "codered.toml:%d: worm.crv2.calendar.end: 2001-07-19T09:00:00Z is not after the worm's start 2001-07-19T10:00:00Z"},
		{name: "--set breaks a table's own rule", sets: []string{"worm.calendar.kind=monthly", "worm.calendar.wake_delay.kind=exponential"},
			want: "--set worm.calendar.wake_delay.kind=exponential: worm.crv2.calendar.wake_delay: exponential distribution needs a positive mean, got 0s"},
		{name: "distribution", doc: base + "\n[population.clock.error]\nmin = \"1d\"\nmax = \"-1d\"\n", at: "[population.clock.error]",
			want: "codered.toml:%d: population.clock.error: uniform distribution with max -1d below min 1d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := tt.doc
			if doc == "" {
				doc = base
			}
			_, err := Parse("codered.toml", []byte(doc), "testdata", tt.sets)
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T), want a *scenario.Error", err, err)
			}
			want := tt.want
			if tt.at != "" {
				want = fmt.Sprintf(tt.want, lineOf(t, doc, tt.at))
			}
			if got := err.Error(); got != want {
				t.Errorf("\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestSetAddressing(t *testing.T) {
	t.Parallel()
	two := base + "\n[[worm]]\nname = \"crv1\"\n[worm.targeting]\nstrategy = \"sequence\"\n"
	tests := []struct {
		name, doc string
		set       string
		threads   []int // threads of each worm after the --set
		errPart   string
	}{
		{"by name", two, "worm.crv1.rate.threads=7", []int{100, 7}, ""},
		{"by index", two, "worm.0.rate.threads=8", []int{8, 100}, ""},
		{"shorthand", base, "worm.rate.threads=9", []int{9}, ""},
		{"shorthand by name", base, "worm.crv2.rate.threads=10", []int{10}, ""},
		{"shorthand with two worms", two, "worm.rate.threads=9", nil, `worm has no element named "rate" (address one by index or name: 0 crv2, 1 crv1)`},
		{"index out of range", two, "worm.2.rate.threads=9", nil, "worm has 2 element(s): index 2 is out of range (0 to 1)"},
		{"unknown name", base, "worm.crv3.rate.threads=9", nil, `worm has no element named "crv3" (address one by index or name: 0 crv2)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Parse("codered.toml", []byte(tt.doc), "", []string{tt.set})
			if tt.errPart != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errPart) || !strings.HasPrefix(err.Error(), "--set "+tt.set+": ") {
					t.Errorf("error %v, want one naming --set %s and containing %q", err, tt.set, tt.errPart)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, w := range s.Worms {
				got = append(got, w.Rate.Threads)
			}
			if !reflect.DeepEqual(got, tt.threads) {
				t.Errorf("threads = %v, want %v", got, tt.threads)
			}
		})
	}
}

// TestSetStrategySwitch checks that --set may switch a worm's strategy away
// from the sub-table its file gives, which is then ignored.
func TestSetStrategySwitch(t *testing.T) {
	t.Parallel()
	s, _, err := Load("coderedii-aug", []string{"worm.targeting.strategy=uniform"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Worms[0].Targeting.Strategy != "uniform" {
		t.Errorf("strategy %q", s.Worms[0].Targeting.Strategy)
	}
	if _, _, err := Load("coderedii-aug", []string{"worm.targeting.strategy=sequence"}); err == nil ||
		!strings.HasPrefix(err.Error(), "coderedii-aug.toml:") || !strings.Contains(err.Error(), "worm.crii.targeting.exclude: not supported") {
		t.Errorf("error %v, want the file's exclude line", err)
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	doc := strings.Replace(base, "hosts = 1000", "placement = \"file\"\nfile = \"hosts.txt\"", 1)
	path := filepath.Join(dir, "mine.toml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(path, nil); err == nil || !strings.Contains(err.Error(), "population.file: cannot read "+filepath.Join(dir, "hosts.txt")) {
		t.Errorf("error %v, want the missing file relative to the scenario's folder", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hosts.txt"), []byte("61.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, resolved, err := Load(path, []string{"description=mine"})
	if err != nil {
		t.Fatal(err)
	}
	// The resolved scenario names the file by its absolute path, so that it
	// runs again from a results folder.
	abs := filepath.Join(dir, "hosts.txt")
	if s.Population.File != abs || s.Description != "mine" || !bytes.Contains(resolved, []byte(`file = "`+abs+`"`)) {
		t.Errorf("loaded %+v", s.Population)
	}
	var se *Error
	_, _, err = Load("no-such-scenario", nil)
	if !errors.As(err, &se) || err.Error() != "no-such-scenario: neither a built-in scenario (codered-2001, codered1-july, codered2-july19, coderedii-aug, fast-uniform, hitlist) nor a readable file (no such file)" {
		t.Errorf("got %v", err)
	}
	noName := strings.Replace(base, "name = \"t\"\n", "", 1)
	s, err = Parse(filepath.Join("some", "dir", "my-run.toml"), []byte(noName), "", nil)
	if err != nil || s.Name != "my-run" {
		t.Errorf("name from the file: %v, %v", s, err)
	}
}

func TestErrorFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "a.toml", Line: 3, Key: "k", Msg: "bad"}, "a.toml:3: k: bad"},
		{Error{File: "a.toml", Line: 3, Col: 7, Msg: "bad"}, "a.toml:3:7: bad"},
		{Error{File: "a.toml", Key: "k", Msg: "bad"}, "a.toml: k: bad"},
		{Error{File: "a.toml", Line: 3, Set: "k=1", Key: "k", Msg: "bad"}, "--set k=1: k: bad"},
		{Error{File: "a.toml", Key: "k", Msg: "two\nlines"}, "a.toml: k: two lines"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%+v: got %q, want %q", tt.e, got, tt.want)
		}
	}
}

// TestDocUpToDate fails when docs/scenario.md does not match the tags.
func TestDocUpToDate(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteDoc(&b); err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile(filepath.Join("..", "docs", "scenario.md"))
	if err != nil || !bytes.Equal(have, b.Bytes()) {
		t.Fatalf("docs/scenario.md is out of date (%v); regenerate it with: go run ./scenario/gendoc", err)
	}
	for _, want := range []string{"`worm.rate.threads`", "`population.region`", "## `[worm.targeting.local]`", "`codered2-july19`"} {
		if !bytes.Contains(have, []byte(want)) {
			t.Errorf("docs/scenario.md lacks %s", want)
		}
	}
}

// TestSchemaDeclarations checks the tags of the real parameter structs:
// defaults parse, bounds parse, when tags name siblings (each would panic),
// and the defaults satisfy the bounds.
func TestSchemaDeclarations(t *testing.T) {
	t.Parallel()
	var s Scenario
	param.Defaults(&s)
	s.Worms = []worm.Params{{}}
	param.Defaults(&s.Worms[0])
	s.Name, s.Worms[0].Name = "s", "w" // names have no default
	if errs := param.Validate(&s); len(errs) > 0 {
		t.Errorf("defaults break their own bounds: %+v", errs)
	}
}
