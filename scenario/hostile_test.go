package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"wormwatch/internal/names"
	"wormwatch/worm"
)

// parseErr parses doc (base when empty) with sets and returns the error
// text, "" when it parses.
func parseErr(t *testing.T, doc string, sets ...string) string {
	t.Helper()
	if doc == "" {
		doc = base
	}
	_, err := Parse("s.toml", []byte(doc), "testdata", sets)
	if err == nil {
		return ""
	}
	checkErr(t, err)
	return err.Error()
}

// wantErr fails unless parsing doc with sets gives exactly want, where %d
// stands for the line of the first line of doc holding at.
func wantErr(t *testing.T, doc, at, want string, sets ...string) {
	t.Helper()
	if doc == "" {
		doc = base
	}
	if at != "" {
		want = fmt.Sprintf(want, lineOf(t, doc, at))
	}
	if got := parseErr(t, doc, sets...); got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
}

const rule = "(want " + names.Rule + ")"

// TestNamesBecomePaths is defect 2 of issue 7: a sensor named
// ../../escape made `run` write outside the results folder, --set
// name=../../escaped did the same for the default results folder, and
// name = "a/b" failed only when writing. Every name that becomes part of a
// path is now checked when the scenario is read, so `scenario check`
// refuses it too, with the file, the line and the key.
func TestNamesBecomePaths(t *testing.T) {
	t.Parallel()
	sensor := func(name string) string {
		return base + "\n[[sensor]]\nname = \"" + name + "\"\nprefix = \"44.0.0.0/8\"\n"
	}
	wantErr(t, sensor("../../escape"), "../../escape", `s.toml:%d: sensor.0.name: name "../../escape" has '.' first at position 1 `+rule)
	wantErr(t, "", "", `--set name=../../escaped: name: name "../../escaped" has '.' first at position 1 `+rule, "name=../../escaped")
	wantErr(t, strings.Replace(base, `name = "t"`, `name = "a/b"`, 1), `"a/b"`, `s.toml:%d: name: name "a/b" has a path separator at position 2 `+rule)
	wantErr(t, strings.Replace(base, `name = "crv2"`, `name = "CRv2"`, 1), `"CRv2"`, `s.toml:%d: worm.0.name: name "CRv2" has the uppercase letter 'C' at position 1 `+rule)
	wantErr(t, base+"\n[[defense.advisory]]\nname = \"..\"\ntime = 2001-07-19T12:00:00Z\n", `".."`, `s.toml:%d: defense.advisory.0.name: name ".." has '.' first at position 1 `+rule)
	wantErr(t, base+"\n[[defense.advisory]]\ntime = 2001-07-19T12:00:00Z\n", "[[defense.advisory]]", `s.toml:%d: defense.advisory.0.name: empty name `+rule)
	wantErr(t, sensor(`C:\\x`), `C:`, `s.toml:%d: sensor.0.name: name "C:\\x" has the uppercase letter 'C' at position 1 `+rule)
	// Names that become file names are unique.
	two := sensor("ucsd") + "\n[[sensor]]\nname = \"ucsd\" # again\nprefix = \"45.0.0.0/8\"\n"
	wantErr(t, two, "# again", `s.toml:%d: sensor.1.name: "ucsd" is also the name of sensor 0: names must be unique (each names the sensor's files)`)
	adv := base + "\n[[defense.advisory]]\nname = \"a\"\ntime = 2001-07-19T12:00:00Z\n[[defense.advisory]]\nname = \"a\" # again\ntime = 2001-07-19T13:00:00Z\n"
	wantErr(t, adv, "# again", `s.toml:%d: defense.advisory.1.name: "a" is also the name of advisory 0: names must be unique`)
	// Load, which `scenario check` and `run` call, refuses them the same.
	dir := t.TempDir()
	p := filepath.Join(dir, "escape.toml")
	if err := os.WriteFile(p, []byte(sensor("../../escape")), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(p, nil); err == nil || !strings.HasPrefix(err.Error(), p+":") || !strings.Contains(err.Error(), "sensor.0.name") {
		t.Errorf("Load: %v", err)
	}
}

// TestNameFromFileName checks the name of a scenario without one: its
// file's name made a valid name, or an error when nothing of it is left.
func TestNameFromFileName(t *testing.T) {
	t.Parallel()
	noName := strings.Replace(base, "name = \"t\"\n", "", 1)
	for file, want := range map[string]string{
		"my-run.toml":              "my-run",
		"some/dir/My Run (2).toml": "my-run-2",
		"../../x/../Escape.toml":   "escape",
		"..toml":                   "",
		"dir/ÉÉÉ.toml":             "",
		"dir/" + strings.Repeat("a", 100) + ".toml": strings.Repeat("a", 64),
	} {
		s, err := Parse(file, []byte(noName), "", nil)
		switch {
		case want == "" && (err == nil || !strings.Contains(err.Error(), "name: missing, and the file name")):
			t.Errorf("%s: %v, %v; want an error", file, s, err)
		case want != "" && (err != nil || s.Name != want):
			t.Errorf("%s: %v, %v; want name %q", file, s, err, want)
		}
	}
}

// TestBOM is defect 11: a UTF-8 byte order mark at the start of a file was
// rejected. It is skipped, and line numbers are those of the file.
func TestBOM(t *testing.T) {
	t.Parallel()
	doc := "\uFEFF" + base
	if s, err := Parse("bom.toml", []byte(doc), "", nil); err != nil || s.Name != "t" {
		t.Fatalf("a scenario with a byte order mark: %v", err)
	}
	bad := "\uFEFF" + strings.Replace(base, "threads = 100", "threads = 0", 1)
	want := fmt.Sprintf("bom.toml:%d: worm.crv2.rate.threads: 0 is below the minimum 1", lineOf(t, bad, "threads = 0"))
	if _, err := Parse("bom.toml", []byte(bad), "", nil); err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want %s...", err, want)
	}
}

// TestDatesAndDurationsBounded is defects 6 and 11: population.dhcp_lease
// = 1ns never finished (and -1h was accepted); a year-1 start was reported
// as missing. Every date and duration has bounds that keep the work
// finite.
func TestDatesAndDurationsBounded(t *testing.T) {
	t.Parallel()
	const dates = "(allowed 1970-01-01T00:00:00Z to 2100-01-01T00:00:00Z)"
	year1 := strings.Replace(base, "start = 2001-07-19T10:00:00Z", "start = 0001-01-01T00:00:00Z", 1)
	wantErr(t, year1, "start = 0001", "s.toml:%d: start: 0001-01-01T00:00:00Z is below the minimum 1970-01-01T00:00:00Z "+dates)
	wantErr(t, "", "", "--set end=2200-01-01T00:00:00Z: end: 2200-01-01T00:00:00Z is above the maximum 2100-01-01T00:00:00Z "+dates, "end=2200-01-01T00:00:00Z")
	wantErr(t, "", "", "--set population.dhcp_lease=1ns: population.dhcp_lease: 1ns is below the minimum 1m (allowed 0 (never) or 1m to 3660d)", "population.dhcp_lease=1ns")
	wantErr(t, "", "", "--set population.dhcp_lease=-1h: population.dhcp_lease: -1h is below the minimum 1m (allowed 0 (never) or 1m to 3660d)", "population.dhcp_lease=-1h")
	// The leases are bounded against the run's length too.
	wantErr(t, "", "", "--set population.dhcp_lease=1m: population.dhcp_lease: 1m gives each home machine 525600 addresses over the run (365d); at most 100000 are allowed (use a longer lease, or 0 for none)",
		"end=2002-07-19T10:00:00Z", "bin=1h", "population.dhcp_lease=1m")
	if got := parseErr(t, "", "population.dhcp_lease=1h", "population.dhcp_lease=0"); got != "" {
		t.Errorf("a lease of 0: %s", got)
	}
	wantErr(t, "", "", "--set end=2015-07-19T10:00:00Z: end: 2015-07-19T10:00:00Z is 5113d after start 2001-07-19T10:00:00Z; at most 3660d are allowed", "end=2015-07-19T10:00:00Z", "bin=1d")
	for _, set := range []string{"worm.reboot.after=-1h", "defense.reboot.mean_interval=1s", "defense.diurnal.off=25h", "defense.filter.ramp=-1s", "bin=1ms"} {
		if got := parseErr(t, "", set); !strings.Contains(got, "below the minimum") && !strings.Contains(got, "above the maximum") {
			t.Errorf("--set %s: %q, want it out of bounds", set, got)
		}
	}
	wake := base + "\n[worm.calendar]\nkind = \"monthly\"\nwake_delay = { kind = \"fixed\", mean = \"-1h\" }\n"
	wantErr(t, wake, "wake_delay", "s.toml:%d: worm.crv2.calendar.wake_delay: a delay cannot be negative (want a distribution of durations of 0 or more)")
	// An unknown distribution is refused at its key (it sampled 0 once).
	gamma := base + "\n[worm.calendar]\nkind = \"monthly\"\nwake_delay = { kind = \"gamma\", mean = \"1h\" }\n"
	wantErr(t, gamma, "wake_delay", `s.toml:%d: worm.crv2.calendar.wake_delay.kind: "gamma" is not allowed (allowed none, fixed, exponential, uniform, lognormal)`)
	wantErr(t, "", "", `--set population.clock.error.kind=gamma: population.clock.error.kind: "gamma" is not allowed (allowed none, fixed, exponential, uniform, lognormal)`, "population.clock.error.kind=gamma")
}

// TestCheckAsStrictAsRun is defect 9: `scenario check` accepted what `run`
// refused. Every check of the engine's setup that needs no draw is made
// when the scenario is read.
func TestCheckAsStrictAsRun(t *testing.T) {
	t.Parallel()
	small := strings.Replace(base, "[population]", "[space]\nbits = 16\n\n[population]", 1)
	// A 16-bit space holds 16,384 hosts by the quarter rule, but the
	// clustered placement's blocks hold about 8,000.
	wantErr(t, small, "", "--set population.hosts=10000: population.hosts: hosts = 10000 may not fit the clustered placement: the /16 blocks it draws (clustered.blocks8 = 64, clustered.blocks16 = 128; a /16 holds 1 addresses in a 16-bit space) hold as few as 8192 free addresses, depending on the seed (want hosts <= 8192: raise clustered.blocks8 or clustered.blocks16, raise space.bits, or use placement = \"uniform\")", "population.hosts=10000")
	if got := parseErr(t, small, "population.hosts=8192"); got != "" {
		t.Errorf("8192 hosts: %s", got)
	}
	// The population file is read and checked.
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("reserved.txt", "61.0.0.1\n10.1.2.3\n")
	write("shadow.txt", "root:$6$s3cr3t:19000:0:99999:7:::\n")
	fileDoc := func(name string) string {
		return strings.Replace(base, "hosts = 1000", "placement = \"file\"\nfile = \""+name+"\"", 1)
	}
	for file, want := range map[string]string{
		"reserved.txt": "population.file: " + filepath.Join(dir, "reserved.txt") + ":2: 10.1.2.3 is in the reserved range 10.0.0.0/8",
		"shadow.txt":   "population.file: " + filepath.Join(dir, "shadow.txt") + ":1: not an IPv4 address (want a bare address",
	} {
		_, err := Parse("s.toml", []byte(fileDoc(file)), dir, nil)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s: %v, want %q", file, err, want)
		}
	}
	// A hit-list whose other entries do not fit beside the hosts.
	wantErr(t, small, "", "--set worm.targeting.hitlist.size=65000: worm.crv2.targeting.hitlist.size: a hit-list of 65000 addresses, 0 of them hosts, does not fit beside 1000 hosts in a space of 65536 addresses",
		"worm.targeting.strategy=hitlist", "worm.targeting.hitlist.size=65000", "worm.targeting.hitlist.vulnerable_share=0")
	// Sensors: a prefix, one address for a web server.
	wantErr(t, base+"\n[[sensor]]\nname = \"s\"\nprefix = \"44.0.0.0/33\"\n", "44.0.0.0/33", `s.toml:%d: sensor.s.prefix: "44.0.0.0/33" is not an IPv4 prefix (want a.b.c.d/n)`)
	wantErr(t, base+"\n[[sensor]]\nname = \"www\"\nkind = \"webserver\"\nprefix = \"198.51.100.0/24\"\n", "198.51.100.0/24", `s.toml:%d: sensor.www.prefix: a web server has one address, and 198.51.100.0/24 covers 256 in a 32-bit space (want an address, or a /32)`)
	// Shares of the same addresses: a probe rate of 0 followed, and the
	// walking strategies failed on it.
	wantErr(t, "", "", "--set space.unreachable_fraction=0.9: space.unreachable_fraction: answer_fraction 0.9 + unreachable_fraction 0.9 is more than 1: they are shares of the same addresses",
		"space.answer_fraction=0.9", "space.unreachable_fraction=0.9")
	// The engine's limits on worms: 256 variants, 8 target groups, 255 rate
	// classes per variant.
	var b strings.Builder
	b.WriteString(base)
	for i := range 8 {
		fmt.Fprintf(&b, "\n[[worm]]\nname = \"g%d\"\n[worm.targeting]\nexclude = [\"%d.0.0.0/8\"]\n", i, 20+i)
	}
	wantErr(t, b.String(), "[[worm]]\nname = \"g7\"", "s.toml:%d: worm.g7: the worms target 9 different groups of hosts (sets of infects and targeting.exclude); at most 8 are allowed: give more worms the same infects and exclude")
	// In /8 number 20+k, k excluded /24s in its first /16: hosts of each
	// /8 have their own share of probes not excluded.
	var ex []string
	for k := range 100 {
		for j := range k + 1 {
			ex = append(ex, fmt.Sprintf("\"%d.0.%d.0/24\"", 20+k, j))
		}
	}
	local := strings.Replace(base, `strategy = "uniform"`, "strategy = \"local\"\nexclude = ["+strings.Join(ex, ", ")+"]", 1)
	wantErr(t, local, "exclude", "s.toml:%d: worm.crv2.targeting.exclude: splits the hosts into more than 255 classes of probe rate and share of probes not excluded; use fewer, larger excluded prefixes")
	// With a few exclusions the local strategy is fine.
	if got := parseErr(t, strings.Replace(base, `strategy = "uniform"`, "strategy = \"local\"\nexclude = [\"20.1.0.0/17\", \"21.0.0.0/9\"]", 1)); got != "" {
		t.Errorf("local with two exclusions: %s", got)
	}
}

// TestLimitsMatchEngine checks that the tags bounding the worms agree with
// the engine's limits.
func TestLimitsMatchEngine(t *testing.T) {
	t.Parallel()
	f, _ := reflect.TypeFor[Scenario]().FieldByName("Worms")
	if got := f.Tag.Get("maxlen"); got != strconv.Itoa(worm.MaxVariants) {
		t.Errorf("worm maxlen tag %s, engine limit %d", got, worm.MaxVariants)
	}
}

// manyWorms is a scenario with n worm tables.
func manyWorms(n int) []byte {
	var b strings.Builder
	b.WriteString("name = \"many\"\nstart = 2001-07-19T10:00:00Z\nend = 2001-07-19T12:00:00Z\n[population]\nhosts = 1000\n")
	for i := range n {
		fmt.Fprintf(&b, "[[worm]]\nname = \"w%d\"\nseeds = 1\n[worm.rate]\nmodel = \"fixed\"\nfixed = 10.0\n", i)
	}
	return []byte(b.String())
}

// TestManyWorms is defect 8: 5,000 [[worm]] tables took 27.5 s to load
// (quadratic). Loading is linear now, and a scenario has at most 256
// worms: the 257th table is refused at its line before any is decoded.
func TestManyWorms(t *testing.T) {
	t.Parallel()
	s, err := Parse("many.toml", manyWorms(256), "", nil)
	if err != nil || len(s.Worms) != 256 || s.Worms[255].Name != "w255" {
		t.Fatalf("256 worms: %v", err)
	}
	data := manyWorms(5000)
	want := fmt.Sprintf("many.toml:%d: worm: 5000 tables; at most 256 are allowed", lineOf(t, string(data), "name = \"w256\"")-1)
	if _, err := Parse("many.toml", data, "", nil); err == nil || err.Error() != want {
		t.Errorf("5000 worms: %v\nwant %s", err, want)
	}
}

func BenchmarkParseManyWorms(b *testing.B) {
	data := manyWorms(256)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("many.toml", data, "", nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLoadRefusesWhatIsNotAFile is defect 7: `scenario check /dev/zero`
// read forever. A device, a folder or a file past 16 MiB is refused, with
// one line; a FIFO is read.
func TestLoadRefusesWhatIsNotAFile(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/zero"); err == nil {
		_, _, err := Load("/dev/zero", nil)
		var se *Error
		if !errors.As(err, &se) || err.Error() != "/dev/zero: is a device, not a scenario file (want a regular file)" {
			t.Errorf("/dev/zero: %v", err)
		}
	}
	dir := t.TempDir()
	if _, _, err := Load(dir+"/", nil); err == nil || !strings.Contains(err.Error(), "is a folder, not a scenario file") {
		t.Errorf("a folder: %v", err)
	}
	big := filepath.Join(dir, "big.toml")
	data := append(bytes.Repeat([]byte("# padding\n"), MaxFileBytes/10), base...)
	if err := os.WriteFile(big, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(big, nil); err == nil || err.Error() != big+": larger than 16 MiB, the most a scenario file may be" {
		t.Errorf("a file past the cap: %v", err)
	}
	fifo := filepath.Join(dir, "fifo.toml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs:", err)
	}
	go func() {
		if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			w.WriteString(base)
			w.Close()
		}
	}()
	if s, _, err := Load(fifo, nil); err != nil || s.Name != "t" {
		t.Errorf("a FIFO: %v", err)
	}
}

// TestArrivalsChecked: hosts that come online after the start
// (population.arrivals) need a span that starts at or after the run's
// start; with share 0 the span is not read.
func TestArrivalsChecked(t *testing.T) {
	t.Parallel()
	wantErr(t, "", "", "--set population.arrivals.share=0.1: population.arrivals.share: 0.1 needs population.arrivals.from, the earliest time a host comes online, like from = 2001-07-19T10:00:00Z", "population.arrivals.share=0.1")
	wantErr(t, "", "", "--set population.arrivals.share=0.1: population.arrivals.share: 0.1 needs population.arrivals.until, the latest time a host comes online, like until = 2001-07-20T00:00:00Z",
		"population.arrivals.share=0.1", "population.arrivals.from=2001-07-19T12:00:00Z")
	wantErr(t, "", "", "--set population.arrivals.from=2001-07-19T09:00:00Z: population.arrivals.from: 2001-07-19T09:00:00Z is before the run's start 2001-07-19T10:00:00Z: arriving hosts are those not on the network at the start",
		"population.arrivals.share=0.1", "population.arrivals.from=2001-07-19T09:00:00Z", "population.arrivals.until=2001-07-19T12:00:00Z")
	wantErr(t, "", "", "--set population.arrivals.until=2001-07-19T11:00:00Z: population.arrivals.until: 2001-07-19T11:00:00Z is before from 2001-07-19T12:00:00Z",
		"population.arrivals.share=0.1", "population.arrivals.from=2001-07-19T12:00:00Z", "population.arrivals.until=2001-07-19T11:00:00Z")
	if got := parseErr(t, "", "population.arrivals.share=0.1", "population.arrivals.from=2001-07-19T12:00:00Z", "population.arrivals.until=2001-07-25T00:00:00Z"); got != "" {
		t.Errorf("arrivals until after the end: %s", got)
	}
	if got := parseErr(t, "", "population.arrivals.from=2001-07-19T09:00:00Z"); got != "" {
		t.Errorf("share 0 with a from before the start: %s", got)
	}
	if got := parseErr(t, "", "population.arrivals.share=1.5"); !strings.Contains(got, "above the maximum 1") {
		t.Errorf("share 1.5: %q", got)
	}
}
