package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"wormwatch/sim"
)

var update = flag.Bool("update", false, "rewrite testdata/summary.golden.json from the current output")

var t0 = time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)

// synthetic is a small hand-built run in a 24-bit space (so space addresses
// are shifted by 8 bits to become IPv4), with four one-minute bins and five
// infections, one of them a seed and one a re-infection.
func synthetic() *sim.Result {
	return &sim.Result{
		Scenario:   "synthetic",
		Seed:       42,
		Engine:     "fast",
		Start:      t0,
		BinSeconds: 60,
		SpaceBits:  24,
		Variants:   []string{"crv2", "crii"},
		Bins: []sim.Bin{
			{Time: t0, Susceptible: 98, Infected: 2, InfectedScanning: 2, NewInfections: 2, EverInfected: 2, Probes: 1000, SynPackets: 3000, BytesOnWire: 160000, EverUnpatched: 2},
			{Time: t0.Add(time.Minute), Susceptible: 96, Infected: 4, InfectedScanning: 3, InfectedDormant: 1, NewInfections: 3, EverInfected: 4, Probes: 2000, SynPackets: 6000, BytesOnWire: 320000, EverUnpatched: 4},
			{Time: t0.Add(2 * time.Minute), Susceptible: 95, Infected: 3, InfectedScanning: 1, InfectedFlooding: 2, Patched: 1, Removed: 1, NewInfections: 1, EverInfected: 5, Probes: 1500, SynPackets: 4500, BytesOnWire: 240000, FloodBytes: 7777, PatchedHome: 1, EverUnpatched: 4},
			{Time: t0.Add(3 * time.Minute), Susceptible: 95, Infected: 3, InfectedFlooding: 3, Patched: 1, Removed: 1, NewInfections: 0, EverInfected: 5, Probes: 0, SynPackets: 0, BytesOnWire: 0, FloodBytes: 1 << 40, PatchedHome: 1, RemovedHome: 1, EverUnpatched: 3},
		},
		Infections: []sim.Infection{
			{Seconds: 0, Address: 0x0A0B0C, Infector: sim.NoInfector, Variant: 0},
			{Seconds: 30.25, Address: 0xC0A801, Infector: 0x0A0B0C, Variant: 0},
			{Seconds: 61.0000016, Address: 0xFFFFFF, Infector: 0xC0A801, Variant: 1, Backdoor: true},
			{Seconds: 90.5, Address: 0x000000, Infector: 0x0A0B0C, Variant: 1},
			{Seconds: 100, Address: 0x0A0B0D, Infector: 0x0A0B0C, Variant: 0},
			{Seconds: 150, Address: 0xC0A801, Infector: 0xFFFFFF, Variant: 0}, // re-infection
		},
		SimulatedProbes: 4500,
		EverInfected:    5,
		Final:           sim.Counts{Susceptible: 95, Infected: 3, InfectedFlooding: 3, Patched: 1, Removed: 1},
		WallSeconds:     0.5,
		Events:          17,
	}
}

// dotted is the reference conversion, through net/netip, of a space
// address in a space of bits bits to its IPv4 dotted quad.
func dotted(a uint32, bits int) string {
	v := a << uint(32-bits)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}).String()
}

func writeSynthetic(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	if err := WriteRun(dir, synthetic(), []byte("# resolved\nname = \"synthetic\"\n"), "v0.0.1-test"); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestWriteRunFolder(t *testing.T) {
	t.Parallel()
	dir := writeSynthetic(t)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"infections.parquet", "scenario.toml", "summary.json", "timeseries.csv", "timeseries.parquet"}
	if !slices.Equal(names, want) {
		t.Errorf("files %q, want %q", names, want)
	}
	toml, err := os.ReadFile(filepath.Join(dir, "scenario.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(toml) != "# resolved\nname = \"synthetic\"\n" {
		t.Errorf("scenario.toml = %q, want the resolved TOML verbatim", toml)
	}
	parent, _ := os.ReadDir(filepath.Dir(dir))
	if len(parent) != 1 || parent[0].Name() != "run" {
		t.Errorf("parent holds %v, want only the results folder", parent)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("results folder mode %v (%v), want 0755", fi.Mode().Perm(), err)
	}
}

// TestWriteRunWithout: without Contents.Infections the folder holds every
// file but infections.parquet, each the same bytes as WriteRun's.
func TestWriteRunWithout(t *testing.T) {
	t.Parallel()
	all := writeSynthetic(t)
	dir := filepath.Join(t.TempDir(), "run")
	if err := WriteRunWith(dir, synthetic(), []byte("# resolved\nname = \"synthetic\"\n"), "v0.0.1-test", Contents{}); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"scenario.toml", "summary.json", "timeseries.csv", "timeseries.parquet"}
	if !slices.Equal(names, want) {
		t.Fatalf("files %q, want %q", names, want)
	}
	for _, name := range want {
		a, errA := os.ReadFile(filepath.Join(all, name))
		b, errB := os.ReadFile(filepath.Join(dir, name))
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from WriteRun's", name)
		}
	}
}

func TestTimeseriesCSV(t *testing.T) {
	t.Parallel()
	dir := writeSynthetic(t)
	f, err := os.Open(filepath.Join(dir, "timeseries.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := []string{"time", "susceptible", "infected", "infected_scanning", "infected_flooding",
		"infected_dormant", "patched", "removed", "new_infections", "ever_infected",
		"probes", "syn_packets", "bytes_on_wire", "flood_bytes",
		"patched_home", "removed_home", "ever_unpatched"}
	if !slices.Equal(recs[0], header) {
		t.Fatalf("header %q, want %q", recs[0], header)
	}
	res := synthetic()
	if len(recs) != 1+len(res.Bins) {
		t.Fatalf("%d records, want header + %d bins", len(recs), len(res.Bins))
	}
	for i, b := range res.Bins {
		want := []string{
			t0.Add(time.Duration(i) * time.Minute).Format("2006-01-02T15:04:05Z"),
			fmt.Sprint(b.Susceptible), fmt.Sprint(b.Infected), fmt.Sprint(b.InfectedScanning),
			fmt.Sprint(b.InfectedFlooding), fmt.Sprint(b.InfectedDormant), fmt.Sprint(b.Patched),
			fmt.Sprint(b.Removed), fmt.Sprint(b.NewInfections), fmt.Sprint(b.EverInfected),
			fmt.Sprint(b.Probes), fmt.Sprint(b.SynPackets), fmt.Sprint(b.BytesOnWire), fmt.Sprint(b.FloodBytes),
			fmt.Sprint(b.PatchedHome), fmt.Sprint(b.RemovedHome), fmt.Sprint(b.EverUnpatched),
		}
		if !slices.Equal(recs[i+1], want) {
			t.Errorf("row %d = %q, want %q", i, recs[i+1], want)
		}
	}
	if recs[4][13] != "1099511627776" {
		t.Errorf("flood_bytes of the last bin = %s, want 2^40 written exactly", recs[4][13])
	}
}

// openParquet opens a Parquet file and returns it with all its rows.
func openParquet(t *testing.T, path string) (*parquet.File, []parquet.Row) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return readParquet(t, data)
}

func readParquet(t *testing.T, data []byte) (*parquet.File, []parquet.Row) {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var rows []parquet.Row
	for _, rg := range f.RowGroups() {
		r := rg.Rows()
		buf := make([]parquet.Row, 100)
		for {
			n, err := r.ReadRows(buf)
			for _, row := range buf[:n] {
				rows = append(rows, row.Clone())
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		r.Close()
	}
	return f, rows
}

func TestTimeseriesParquet(t *testing.T) {
	t.Parallel()
	dir := writeSynthetic(t)
	f, rows := openParquet(t, filepath.Join(dir, "timeseries.parquet"))
	wantSchema := `message timeseries {
	required int64 time (TIMESTAMP(isAdjustedToUTC=true,unit=MILLIS));
	required int64 susceptible (INT(64,true));
	required int64 infected (INT(64,true));
	required int64 infected_scanning (INT(64,true));
	required int64 infected_flooding (INT(64,true));
	required int64 infected_dormant (INT(64,true));
	required int64 patched (INT(64,true));
	required int64 removed (INT(64,true));
	required int64 new_infections (INT(64,true));
	required int64 ever_infected (INT(64,true));
	required int64 probes (INT(64,true));
	required int64 syn_packets (INT(64,true));
	required int64 bytes_on_wire (INT(64,true));
	required int64 flood_bytes (INT(64,true));
	required int64 patched_home (INT(64,true));
	required int64 removed_home (INT(64,true));
	required int64 ever_unpatched (INT(64,true));
}`
	if got := f.Schema().String(); got != wantSchema {
		t.Errorf("schema:\n%s\nwant:\n%s", got, wantSchema)
	}
	res := synthetic()
	if len(rows) != len(res.Bins) {
		t.Fatalf("%d rows, want %d", len(rows), len(res.Bins))
	}
	for i, b := range res.Bins {
		want := []int64{
			t0.UnixMilli() + int64(i)*60_000,
			b.Susceptible, b.Infected, b.InfectedScanning, b.InfectedFlooding, b.InfectedDormant,
			b.Patched, b.Removed, b.NewInfections, b.EverInfected, b.Probes, b.SynPackets,
			b.BytesOnWire, b.FloodBytes, b.PatchedHome, b.RemovedHome, b.EverUnpatched,
		}
		var got []int64
		for _, v := range rows[i] {
			got = append(got, v.Int64())
		}
		if !slices.Equal(got, want) {
			t.Errorf("row %d = %v, want %v", i, got, want)
		}
	}
	checkKeyValue(t, f)
}

// checkKeyValue checks the run identification in a Parquet file's metadata.
func checkKeyValue(t *testing.T, f *parquet.File) {
	t.Helper()
	want := map[string]string{
		"wormwatch.scenario":   "synthetic",
		"wormwatch.seed":       "42",
		"wormwatch.engine":     "fast",
		"wormwatch.version":    "v0.0.1-test",
		"wormwatch.start":      "2001-07-19T10:00:00Z",
		"wormwatch.space_bits": "24",
	}
	for k, v := range want {
		if got, ok := f.Lookup(k); !ok || got != v {
			t.Errorf("metadata %s = %q (present %v), want %q", k, got, ok, v)
		}
	}
	if got := f.Metadata().CreatedBy; got != "wormwatch version v0.0.1-test" {
		t.Errorf("created_by = %q", got)
	}
}

const wantInfectionSchema = `message infections {
	required int64 time (TIMESTAMP(isAdjustedToUTC=true,unit=MICROS));
	required double seconds;
	required binary address (STRING);
	required int64 address_int (INT(64,true));
	required binary infector (STRING);
	required binary variant (STRING);
	required boolean backdoor;
}`

type infectionValues struct {
	micros     int64
	seconds    float64
	address    string
	addressInt int64
	infector   string
	variant    string
	backdoor   bool
}

func infectionOf(row parquet.Row) infectionValues {
	return infectionValues{
		row[0].Int64(), row[1].Double(), string(row[2].ByteArray()), row[3].Int64(),
		string(row[4].ByteArray()), string(row[5].ByteArray()), row[6].Boolean(),
	}
}

func TestInfectionsParquet(t *testing.T) {
	t.Parallel()
	dir := writeSynthetic(t)
	f, rows := openParquet(t, filepath.Join(dir, "infections.parquet"))
	if got := f.Schema().String(); got != wantInfectionSchema {
		t.Errorf("schema:\n%s\nwant:\n%s", got, wantInfectionSchema)
	}
	us := t0.UnixMicro()
	want := []infectionValues{
		{us, 0, "10.11.12.0", 0x0A0B0C, "", "crv2", false},
		{us + 30_250_000, 30.25, "192.168.1.0", 0xC0A801, "10.11.12.0", "crv2", false},
		{us + 61_000_002, 61.0000016, "255.255.255.0", 0xFFFFFF, "192.168.1.0", "crii", true},
		{us + 90_500_000, 90.5, "0.0.0.0", 0, "10.11.12.0", "crii", false},
		{us + 100_000_000, 100, "10.11.13.0", 0x0A0B0D, "10.11.12.0", "crv2", false},
		{us + 150_000_000, 150, "192.168.1.0", 0xC0A801, "255.255.255.0", "crv2", false},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		if got := infectionOf(rows[i]); got != w {
			t.Errorf("row %d = %+v, want %+v", i, got, w)
		}
	}
	checkKeyValue(t, f)
}

// manyInfections builds n infections in a space of bits bits with random
// addresses, times and variants, some of them seeds.
func manyInfections(n, bits int, seed uint64) *sim.Result {
	rng := rand.New(rand.NewPCG(seed, 7))
	res := synthetic()
	res.SpaceBits = bits
	res.Variants = []string{"a", "bb", "ccc"}
	res.Infections = make([]sim.Infection, n)
	t := 0.0
	for i := range res.Infections {
		t += rng.Float64()
		inf := sim.NoInfector
		if rng.IntN(5) > 0 {
			inf = uint32(rng.Uint64N(1 << uint(bits)))
		}
		res.Infections[i] = sim.Infection{
			Seconds: t, Address: uint32(rng.Uint64N(1 << uint(bits))), Infector: inf,
			Variant: uint8(rng.IntN(3)), Backdoor: rng.IntN(2) == 0,
		}
	}
	return res
}

// TestInfectionsRowGroups writes more rows than a conversion chunk over
// several row groups and workers, and checks every value, the row group
// sizes, and that the file does not depend on the number of workers.
func TestInfectionsRowGroups(t *testing.T) {
	t.Parallel()
	const n = 3*infectionChunk + 123
	res := manyInfections(n, 32, 1)
	var files [][]byte
	for _, workers := range []int{1, 2, 5} {
		var buf bytes.Buffer
		if err := writeInfections(&buf, res, "v0.0.1-test", workers, 10_000); err != nil {
			t.Fatal(err)
		}
		files = append(files, buf.Bytes())
	}
	for i := 1; i < len(files); i++ {
		if !bytes.Equal(files[0], files[i]) {
			t.Errorf("file written with worker set %d differs from the one written with 1 worker", i)
		}
	}
	f, rows := readParquet(t, files[0])
	var sizes []int64
	for _, rg := range f.RowGroups() {
		sizes = append(sizes, rg.NumRows())
	}
	if !slices.Equal(sizes, []int64{10_000, 10_000, 4_699}) {
		t.Errorf("row group sizes %v, want 10000, 10000, 4699", sizes)
	}
	if len(rows) != n {
		t.Fatalf("%d rows, want %d", len(rows), n)
	}
	for i, in := range res.Infections {
		w := infectionValues{
			micros:     t0.Add(time.Duration(math.Round(in.Seconds*1e6)) * time.Microsecond).UnixMicro(),
			seconds:    in.Seconds,
			address:    dotted(in.Address, 32),
			addressInt: int64(in.Address),
			variant:    res.Variants[in.Variant],
			backdoor:   in.Backdoor,
		}
		if in.Infector != sim.NoInfector {
			w.infector = dotted(in.Infector, 32)
		}
		if got := infectionOf(rows[i]); got != w {
			t.Fatalf("row %d = %+v, want %+v", i, got, w)
		}
	}
}

func TestInfectionsEmpty(t *testing.T) {
	t.Parallel()
	res := synthetic()
	res.Infections = nil
	var buf bytes.Buffer
	if err := writeInfections(&buf, res, "v", 2, 10); err != nil {
		t.Fatal(err)
	}
	f, rows := readParquet(t, buf.Bytes())
	if len(rows) != 0 || f.NumRows() != 0 {
		t.Errorf("%d rows, want none", len(rows))
	}
	if got := f.Schema().String(); got != wantInfectionSchema {
		t.Errorf("schema of an empty file:\n%s", got)
	}
}

// TestColumnLists checks the exported column lists against the schemas
// of the files.
func TestColumnLists(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		schema *parquet.Schema
		list   []string
	}{
		{"timeseries", timeseriesSchema, TimeseriesColumns},
		{"infections", infectionSchema, InfectionColumns},
	}
	for _, c := range cases {
		var names []string
		for _, f := range c.schema.Fields() {
			names = append(names, f.Name())
		}
		if !slices.Equal(names, c.list) {
			t.Errorf("%s: schema columns %q, exported list %q", c.name, names, c.list)
		}
	}
}

func TestAppendDotted(t *testing.T) {
	t.Parallel()
	cases := []uint32{0, 1, 255, 256, 0x0A000001, 0x7F000001, 0xC0A80101, 0xFFFFFFFF, 0x01020304, 0x64006400}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 10_000 {
		cases = append(cases, rng.Uint32())
	}
	for _, v := range cases {
		if got, want := string(appendDotted([]byte("x"), v)), "x"+dotted(v, 32); got != want {
			t.Fatalf("appendDotted(%#x) = %q, want %q", v, got, want)
		}
	}
}

// TestSummaryJSON checks every key of summary.json against values worked
// out by hand from the synthetic result, then the whole file against the
// golden file.
func TestSummaryJSON(t *testing.T) {
	t.Parallel()
	dir := writeSynthetic(t)
	data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"scenario":               "synthetic",
		"seed":                   42.0,
		"engine":                 "fast",
		"version":                "v0.0.1-test",
		"interrupted":            false,
		"start":                  "2001-07-19T10:00:00Z",
		"end":                    "2001-07-19T10:04:00Z", // 4 bins of 60 s
		"bin_seconds":            60.0,
		"bins":                   4.0,
		"space_bits":             24.0,
		"variants":               []any{"crv2", "crii"},
		"wall_seconds":           0.5,
		"simulated_probes":       4500.0,
		"probes_per_wall_second": 9000.0, // 4500 / 0.5
		"events":                 17.0,
		"ever_infected":          5.0,
		"infection_events":       6.0, // the rows' new infections: 2 + 3 + 1 + 0
		"final": map[string]any{
			"susceptible": 95.0, "infected": 3.0, "infected_scanning": 0.0, "infected_flooding": 3.0,
			"infected_dormant": 0.0, "patched": 1.0, "removed": 1.0,
		},
		"saturated":                      []any{},
		"peak_new_infections_per_minute": 3.0,                    // bin 1, 3 in 60 s
		"peak_time":                      "2001-07-19T10:01:00Z", // start of bin 1
		// ever_infected by bin: 2, 4, 5, 5; half of 5 is 2.5, first reached
		// (4 >= 2.5) at the end of bin 1 = 120 s.
		"time_to_50_percent_infected_seconds": 120.0,
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected key %q", k)
		}
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("missing key %q", k)
			continue
		}
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("%s = %v, want %v", k, g, w)
		}
	}
	golden := filepath.Join("testdata", "summary.golden.json")
	if *update {
		if err := os.WriteFile(golden, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wantData, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, wantData) {
		t.Errorf("summary.json differs from %s (run with -update after checking):\n%s", golden, data)
	}
}

func TestSummaryEdgeCases(t *testing.T) {
	t.Parallel()
	f := func(v float64) *float64 { return &v }
	cases := []struct {
		name      string
		edit      func(*sim.Result)
		peak      *float64
		peakTime  *time.Time
		half      *float64
		perSecond *float64
	}{
		{"synthetic", func(*sim.Result) {}, f(3), ptr(t0.Add(time.Minute)), f(120), f(9000)},
		{"no bins", func(r *sim.Result) { r.Bins = nil }, nil, nil, nil, f(9000)},
		{"no infection", func(r *sim.Result) {
			for i := range r.Bins {
				r.Bins[i].NewInfections, r.Bins[i].EverInfected = 0, 0
			}
			r.EverInfected = 0
		}, f(0), nil, nil, f(9000)},
		{"zero wall time", func(r *sim.Result) { r.WallSeconds = 0 }, f(3), ptr(t0.Add(time.Minute)), f(120), nil},
		{"30 s bins", func(r *sim.Result) { r.BinSeconds = 30 }, f(6), ptr(t0.Add(time.Minute)), f(60), f(9000)},
		{"first of equal peaks", func(r *sim.Result) { r.Bins[3].NewInfections = 3 }, f(3), ptr(t0.Add(time.Minute)), f(120), f(9000)},
		{"half reached exactly", func(r *sim.Result) { r.EverInfected = 8 }, f(3), ptr(t0.Add(time.Minute)), f(120), f(9000)},
		{"half reached in first bin", func(r *sim.Result) { r.EverInfected = 4 }, f(3), ptr(t0.Add(time.Minute)), f(60), f(9000)},
		{"bins never reach half", func(r *sim.Result) { r.EverInfected = 11 }, f(3), ptr(t0.Add(time.Minute)), nil, f(9000)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := synthetic()
			c.edit(res)
			s := NewSummary(res, "v")
			eq := func(name string, got, want *float64) {
				if (got == nil) != (want == nil) || got != nil && *got != *want {
					t.Errorf("%s = %v, want %v", name, deref(got), deref(want))
				}
			}
			eq("peak", s.PeakNewInfectionsPerMinute, c.peak)
			eq("time to half", s.TimeTo50PercentSeconds, c.half)
			eq("probes per second", s.ProbesPerWallSecond, c.perSecond)
			if (s.PeakTime == nil) != (c.peakTime == nil) || s.PeakTime != nil && !s.PeakTime.Equal(*c.peakTime) {
				t.Errorf("peak time = %v, want %v", deref(s.PeakTime), deref(c.peakTime))
			}
			wantEnd := t0.Add(time.Duration(float64(len(res.Bins))*res.BinSeconds) * time.Second)
			if !s.End.Equal(wantEnd) {
				t.Errorf("end = %v, want %v", s.End, wantEnd)
			}
		})
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestRefuseOverwrite(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		create func(path string) error
	}{
		{"empty folder", func(p string) error { return os.Mkdir(p, 0o755) }},
		{"folder with a file", func(p string) error {
			if err := os.Mkdir(p, 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(p, "summary.json"), []byte("old"), 0o644)
		}},
		{"file", func(p string) error { return os.WriteFile(p, []byte("old"), 0o644) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			parent := t.TempDir()
			dir := filepath.Join(parent, "run")
			if err := c.create(dir); err != nil {
				t.Fatal(err)
			}
			before := listTree(t, parent)
			err := WriteRun(dir, synthetic(), nil, "v")
			if err == nil || !strings.Contains(err.Error(), "already exists") || !strings.Contains(err.Error(), dir) {
				t.Fatalf("error %v, want one naming %s and saying it already exists", err, dir)
			}
			if after := listTree(t, parent); !slices.Equal(before, after) {
				t.Errorf("folder changed from %q to %q", before, after)
			}
		})
	}
}

// listTree returns every path under root (relative, "" for root itself),
// with the size of files, in lexical order.
func listTree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		entry := strings.TrimPrefix(p, root)
		if !fi.IsDir() {
			entry += fmt.Sprintf(" (%d bytes)", fi.Size())
		}
		out = append(out, entry)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var errInjected = errors.New("injected failure")

// failingWriter passes through budget bytes, then fails.
type failingWriter struct {
	w      io.Writer
	budget int
}

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.budget {
		n, _ := f.w.Write(p[:f.budget])
		f.budget = 0
		return n, errInjected
	}
	f.budget -= len(p)
	return f.w.Write(p)
}

// TestAtomicFailure injects a write failure into each file in turn, at its
// start and part way, and checks that the error names the file and that
// neither the results folder nor a temporary folder is left.
func TestAtomicFailure(t *testing.T) {
	t.Parallel()
	res := manyInfections(60_000, 20, 9)
	res.Bins = make([]sim.Bin, 20_000)
	for i := range res.Bins {
		res.Bins[i] = sim.Bin{Time: t0.Add(time.Duration(i) * time.Minute), Probes: int64(i) * 7919, NewInfections: int64(i % 13)}
	}
	toml := bytes.Repeat([]byte("# padding\n"), 40_000)
	// A complete write gives each file's size, to fail half way through it.
	ref := filepath.Join(t.TempDir(), "ref")
	if err := WriteRun(ref, res, toml, "v"); err != nil {
		t.Fatal(err)
	}
	files := []string{"scenario.toml", "summary.json", "timeseries.csv", "timeseries.parquet", "infections.parquet"}
	for _, name := range files {
		fi, err := os.Stat(filepath.Join(ref, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, budget := range []int{0, 100, int(fi.Size() / 2)} {
			t.Run(fmt.Sprint(name, "/", budget), func(t *testing.T) {
				t.Parallel()
				parent := t.TempDir()
				dir := filepath.Join(parent, "out", "run")
				var tmp string
				opt := writeOptions{
					wrap: func(n string, w io.Writer) io.Writer {
						if n == name {
							return &failingWriter{w: w, budget: budget}
						}
						return w
					},
					tempName: func(p string) { tmp = p },
					contents: Contents{Infections: true},
				}
				err := writeRun(dir, res, toml, "v", opt)
				if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), name) {
					t.Fatalf("error %v, want the injected failure naming %s", err, name)
				}
				if !strings.HasPrefix(filepath.Base(tmp), ".run.partial-") || filepath.Dir(tmp) != filepath.Dir(dir) {
					t.Errorf("temporary folder %q, want a hidden sibling .run.partial-*", tmp)
				}
				if left := listTree(t, parent); !slices.Equal(left, []string{"", "/out"}) {
					t.Errorf("left behind: %q, want only the (empty) parent folder", left)
				}
			})
		}
	}
}

// TestBadResult checks that results the files cannot represent are refused
// before anything is written.
func TestBadResult(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, want string
		edit       func(*sim.Result)
	}{
		{"variant out of range", "infection 2: Variant 2 out of range", func(r *sim.Result) { r.Infections[2].Variant = 2 }},
		{"address outside space", "infection 1: Address 16777216 outside a 24-bit space", func(r *sim.Result) { r.Infections[1].Address = 1 << 24 }},
		{"infector outside space", "infection 3: Infector 16777216 outside", func(r *sim.Result) { r.Infections[3].Infector = 1 << 24 }},
		{"NaN time", "infection 0: Seconds NaN", func(r *sim.Result) { r.Infections[0].Seconds = math.NaN() }},
		{"space too small", "SpaceBits 8 outside 16..32", func(r *sim.Result) { r.SpaceBits = 8 }},
		{"zero bin width", "BinSeconds 0 is not a positive", func(r *sim.Result) { r.BinSeconds = 0 }},
		{"infinite wall time", "WallSeconds +Inf", func(r *sim.Result) { r.WallSeconds = math.Inf(1) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			parent := t.TempDir()
			res := synthetic()
			c.edit(res)
			err := WriteRun(filepath.Join(parent, "run"), res, nil, "v")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if left, _ := os.ReadDir(parent); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
	if err := WriteRun(filepath.Join(t.TempDir(), "run"), nil, nil, "v"); err == nil {
		t.Error("nil result accepted")
	}
}

// TestWriteRunSpaceBits32 checks the addresses of a full IPv4 space, where
// space addresses are IPv4 addresses.
func TestWriteRunSpaceBits32(t *testing.T) {
	t.Parallel()
	res := synthetic()
	res.SpaceBits = 32
	res.Infections = []sim.Infection{
		{Seconds: 1, Address: 0xC6897F5B, Infector: sim.NoInfector},
		{Seconds: 2, Address: 0xFFFFFFFF, Infector: 0xC6897F5B},
	}
	dir := filepath.Join(t.TempDir(), "run")
	if err := WriteRun(dir, res, nil, "v"); err != nil {
		t.Fatal(err)
	}
	_, rows := openParquet(t, filepath.Join(dir, "infections.parquet"))
	got := []infectionValues{infectionOf(rows[0]), infectionOf(rows[1])}
	if got[0].address != "198.137.127.91" || got[0].addressInt != 0xC6897F5B || got[0].infector != "" ||
		got[1].address != "255.255.255.255" || got[1].infector != "198.137.127.91" {
		t.Errorf("rows %+v", got)
	}
}
