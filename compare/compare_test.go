package compare

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"wormwatch/results"
)

var t0 = time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)

// series is one synthetic run: per-bin values of the columns compare reads.
type series struct {
	newInf, infected, patched, probes []int64
}

// ever is the running sum of new infections (no re-infections in these
// synthetic runs, so ever_infected is their running total).
func (s series) ever() []int64 {
	out := make([]int64, len(s.newInf))
	var sum int64
	for i, n := range s.newInf {
		sum += n
		out[i] = sum
	}
	return out
}

// writeTimeseries writes a timeseries.csv with every column of
// docs/output.md (those compare does not read are zero).
func writeTimeseries(t *testing.T, dir string, start time.Time, bin time.Duration, s series) {
	t.Helper()
	var b strings.Builder
	b.WriteString("time,susceptible,infected,infected_scanning,infected_flooding,infected_dormant,patched,removed,new_infections,ever_infected,probes,syn_packets,bytes_on_wire,flood_bytes\n")
	ever := s.ever()
	for i := range s.newInf {
		fmt.Fprintf(&b, "%s,0,%d,%d,0,0,%d,0,%d,%d,%d,0,0,0\n", start.Add(time.Duration(i)*bin).Format(time.RFC3339),
			s.infected[i], s.infected[i], s.patched[i], s.newInf[i], ever[i], s.probes[i])
	}
	writeFileT(t, filepath.Join(dir, "timeseries.csv"), b.String())
}

func writeFileT(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeBands writes a bands.csv over n bins whose every value is v: the
// table must not depend on it (it comes from the seeds).
func writeBands(t *testing.T, dir string, start time.Time, bin time.Duration, n int, v float64, sensors ...string) {
	t.Helper()
	names := []string{"susceptible", "infected", "patched", "new_infections", "ever_infected", "probes"}
	for _, s := range sensors {
		names = append(names, s+"_probes", s+"_cumulative_sources")
	}
	head := []string{"time"}
	for _, n := range names {
		head = append(head, n+"_p05", n+"_p50", n+"_p95")
	}
	var b strings.Builder
	b.WriteString(strings.Join(head, ",") + "\n")
	for i := range n {
		b.WriteString(start.Add(time.Duration(i) * bin).Format(time.RFC3339))
		for j := 1; j < len(head); j++ {
			// 5%, 50%, 95% as v, v+1, v+2.
			b.WriteString("," + strconv.FormatFloat(v+float64((j-1)%3), 'f', -1, 64))
		}
		b.WriteString("\n")
	}
	writeFileT(t, filepath.Join(dir, "bands.csv"), b.String())
}

func writeSensor(t *testing.T, dir, name string, start time.Time, bin time.Duration, cum []int64) {
	t.Helper()
	var b strings.Builder
	b.WriteString("time,probes,sources,new_sources,cumulative_sources,size\n")
	for i, c := range cum {
		fmt.Fprintf(&b, "%s,0,0,0,%d,16777216\n", start.Add(time.Duration(i)*bin).Format(time.RFC3339), c)
	}
	writeFileT(t, filepath.Join(dir, "sensors", name+".csv"), b.String())
}

// The replay's three seeds and the run, with the values the tests expect
// worked out by hand in the comments.
var (
	// final 11; peak 5 at bin 2 (10:02); half (ever >= 5.5) at bin 2, so
	// 10:03; probes 210; most infected 10; infections 11.
	seed1 = series{newInf: []int64{1, 2, 5, 3, 0, 0}, infected: []int64{1, 3, 8, 10, 9, 8},
		patched: []int64{0, 0, 1, 2, 3, 4}, probes: []int64{10, 20, 30, 40, 50, 60}}
	// final 11; peak 4 first at bin 3 (10:03); half at bin 3, so 10:04;
	// probes 100; most infected 7; infections 11.
	seed2 = series{newInf: []int64{1, 1, 1, 4, 4, 0}, infected: []int64{1, 2, 3, 7, 7, 6},
		patched: []int64{0, 0, 0, 0, 1, 1}, probes: []int64{0, 0, 0, 0, 100, 0}}
	// final 12; peak 9 at bin 4 (10:04); half (ever >= 6) at bin 4, so
	// 10:05; probes 300; most infected 12; infections 12.
	seed3 = series{newInf: []int64{1, 0, 0, 0, 9, 2}, infected: []int64{1, 1, 1, 1, 10, 12},
		patched: []int64{0, 0, 0, 0, 0, 0}, probes: []int64{50, 50, 50, 50, 50, 50}}
	// The run starts two bins later (10:02). final 12; peak 6 at bin 3
	// (10:05); half (ever >= 6) at bin 3, so 10:06; probes 30; most
	// infected 11; infections 12.
	runStart = t0.Add(2 * time.Minute)
	run      = series{newInf: []int64{0, 2, 2, 6, 1, 1}, infected: []int64{0, 2, 4, 10, 11, 11},
		patched: []int64{0, 0, 0, 0, 0, 3}, probes: []int64{5, 5, 5, 5, 5, 5}}
)

// fixture writes a replay folder (3 seeds, sensor ucsd-8) and a run folder
// (sensor ucsd-8) under a new temporary folder.
func fixture(t *testing.T) (replayDir, runDir string) {
	t.Helper()
	root := t.TempDir()
	replayDir, runDir = filepath.Join(root, "base"), filepath.Join(root, "what-if")
	writeBands(t, replayDir, t0, time.Minute, 6, 1000, "ucsd-8")
	for i, s := range []series{seed1, seed2, seed3} {
		d := filepath.Join(replayDir, fmt.Sprintf("seed-%04d", i+1))
		writeTimeseries(t, d, t0, time.Minute, s)
		writeFileT(t, filepath.Join(d, "summary.json"), fmt.Sprintf(`{"scenario": "synthetic", "seed": %d, "bin_seconds": 60}`, i+1))
		writeFileT(t, filepath.Join(d, "scenario.toml"), scenarioA)
	}
	writeTimeseries(t, runDir, runStart, time.Minute, run)
	writeSensor(t, runDir, "ucsd-8", runStart, time.Minute, []int64{0, 1, 2, 3, 4, 5})
	writeFileT(t, filepath.Join(runDir, "summary.json"), `{"scenario": "synthetic", "seed": 7, "bin_seconds": 60}`)
	writeFileT(t, filepath.Join(runDir, "scenario.toml"), scenarioB)
	return replayDir, runDir
}

const scenarioA = `name = "synthetic"
end = 2001-07-19T10:06:00Z
[population]
patched = 0.632
[[worm]]
name = "crv1"
start = 2001-07-12T00:00:00Z
[[worm]]
name = "crv2"
start = 2001-07-19T10:00:00Z
[[defense.advisory]]
name = "joint"
time = 2001-07-30T12:00:00Z
`

const scenarioB = `name = "synthetic"
end = 2001-07-19T10:08:00Z
[population]
patched = 0.95
[[worm]]
name = "crv1"
start = 2001-07-12T00:00:00Z
[[worm]]
name = "crv2"
start = 2001-09-01T00:00:00Z
[[defense.advisory]]
name = "joint"
time = 2001-07-30T12:00:00Z
`

func at(min, sec int) float64 {
	return unix(t0.Add(time.Duration(min)*time.Minute + time.Duration(sec)*time.Second))
}

func TestLoadTable(t *testing.T) {
	t.Parallel()
	rd, wd := fixture(t)
	c, err := Load([]string{rd, wd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Folders[0].Kind != results.KindReplay || c.Folders[1].Kind != results.KindRun {
		t.Fatalf("kinds %s, %s; want replay, run", c.Folders[0].Kind, c.Folders[1].Kind)
	}
	if c.Folders[0].Label != "base" || c.Folders[1].Label != "what-if" {
		t.Errorf("labels %q, %q; want the base names", c.Folders[0].Label, c.Folders[1].Label)
	}
	if !slices.Equal(c.Folders[0].Seeds(), []uint64{1, 2, 3}) || !slices.Equal(c.Folders[1].Seeds(), []uint64{7}) {
		t.Errorf("seeds %v, %v; want [1 2 3], [7]", c.Folders[0].Seeds(), c.Folders[1].Seeds())
	}
	if !c.From.Equal(t0) || !c.To.Equal(t0.Add(8*time.Minute)) || c.Bin != time.Minute {
		t.Errorf("span %s to %s in %s bins; want 10:00 to 10:08 in 1m bins", c.From, c.To, c.Bin)
	}
	if !slices.Equal(c.Sensors, []string{"ucsd-8"}) {
		t.Errorf("common sensors %v, want [ucsd-8]", c.Sensors)
	}
	// Quantiles of three values x0 <= x1 <= x2 (type 7): p05 = x0 +
	// 0.1 (x1 - x0), p50 = x1, p95 = x1 + 0.9 (x2 - x1).
	nan := math.NaN()
	want := map[string][2]Value{
		// seeds 11, 11, 12; run 12.
		"final_ever_infected": {{N: 3, P05: 11, P50: 11, P95: 11.9}, {N: 1, P05: 12, P50: 12, P95: 12, Diff: 1, Rel: 1.0 / 11}},
		// seeds 10, 7, 12; run 11.
		"peak_infected": {{N: 3, P05: 7.3, P50: 10, P95: 11.8}, {N: 1, P05: 11, P50: 11, P95: 11, Diff: 1, Rel: 0.1}},
		// seeds 5, 4, 9 per minute; run 6.
		"peak_new_infections_per_minute": {{N: 3, P05: 4.1, P50: 5, P95: 8.6}, {N: 1, P05: 6, P50: 6, P95: 6, Diff: 1, Rel: 0.2}},
		// seeds 10:02, 10:03, 10:04; run 10:05.
		"peak_time": {{N: 3, P05: at(2, 6), P50: at(3, 0), P95: at(3, 54)}, {N: 1, P05: at(5, 0), P50: at(5, 0), P95: at(5, 0), Diff: 120, Rel: nan}},
		// seeds 10:03, 10:04, 10:05; run 10:06.
		"half_infected_time": {{N: 3, P05: at(3, 6), P50: at(4, 0), P95: at(4, 54)}, {N: 1, P05: at(6, 0), P50: at(6, 0), P95: at(6, 0), Diff: 120, Rel: nan}},
		// seeds 11, 11, 12; run 12.
		"infections": {{N: 3, P05: 11, P50: 11, P95: 11.9}, {N: 1, P05: 12, P50: 12, P95: 12, Diff: 1, Rel: 1.0 / 11}},
		// seeds 210, 100, 300; run 30.
		"total_probes": {{N: 3, P05: 111, P50: 210, P95: 291}, {N: 1, P05: 30, P50: 30, P95: 30, Diff: -180, Rel: -180.0 / 210}},
	}
	if len(c.Rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(c.Rows), len(want))
	}
	for _, r := range c.Rows {
		w, ok := want[r.Metric.Key]
		if !ok {
			t.Errorf("unexpected metric %s", r.Metric.Key)
			continue
		}
		w[0].Diff, w[0].Rel = nan, nan // the reference has no difference
		for i, v := range r.Values {
			if !sameValue(v, w[i]) {
				t.Errorf("%s of %s: got %+v, want %+v", r.Metric.Key, c.Folders[i].Label, v, w[i])
			}
		}
	}
}

func sameValue(a, b Value) bool {
	eq := func(x, y float64) bool {
		return (math.IsNaN(x) && math.IsNaN(y)) || math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(y))
	}
	return a.N == b.N && eq(a.P05, b.P05) && eq(a.P50, b.P50) && eq(a.P95, b.P95) && eq(a.Diff, b.Diff) && eq(a.Rel, b.Rel)
}

func TestOutcome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		bin               time.Duration
		newInf, ever      []float64
		wantPeak          float64
		wantPeakAt, wantH int // bin index of the peak (-1: none), and of the half (its end; -1: none)
	}{
		{"one-minute bins", time.Minute, []float64{0, 3, 3, 1}, []float64{0, 3, 6, 7}, 3, 1, 2},
		{"30-second bins: per minute is twice the count", 30 * time.Second, []float64{1, 5, 2}, []float64{1, 6, 8}, 10, 1, 1},
		{"ten-minute bins", 10 * time.Minute, []float64{20, 40}, []float64{20, 60}, 4, 1, 1},
		{"half reached exactly", time.Minute, []float64{2, 2, 0}, []float64{2, 4, 4}, 2, 0, 0},
		{"no infection", time.Minute, []float64{0, 0}, []float64{0, 0}, 0, -1, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := len(tc.newInf)
			tb := &results.Table{Bin: tc.bin, Cols: map[string][]float64{
				"new_infections": tc.newInf, "ever_infected": tc.ever,
				"infected": make([]float64, n), "probes": make([]float64, n),
			}}
			for i := range n {
				tb.Times = append(tb.Times, t0.Add(time.Duration(i)*tc.bin))
			}
			o := outcome(tb)
			if o.PeakPerMinute != tc.wantPeak {
				t.Errorf("peak per minute %v, want %v", o.PeakPerMinute, tc.wantPeak)
			}
			wantAt := time.Time{}
			if tc.wantPeakAt >= 0 {
				wantAt = tb.Times[tc.wantPeakAt]
			}
			if !o.PeakTime.Equal(wantAt) {
				t.Errorf("peak time %v, want %v", o.PeakTime, wantAt)
			}
			wantH := time.Time{}
			if tc.wantH >= 0 {
				wantH = tb.Times[tc.wantH].Add(tc.bin)
			}
			if !o.HalfTime.Equal(wantH) {
				t.Errorf("half time %v, want %v", o.HalfTime, wantH)
			}
		})
	}
}

func TestCurves(t *testing.T) {
	t.Parallel()
	rd, wd := fixture(t)
	c, err := Load([]string{rd, wd}, []string{"A", "B"})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Folders[0]
	// Windows of two minutes from 10:00: seed totals per window are
	// seed1 (3, 8, 0), seed2 (2, 5, 4), seed3 (1, 0, 11); per minute that
	// is half. Median of window 1: 2 -> 1 per minute; window 2: 5 -> 2.5;
	// window 3: 4 -> 2.
	cv := countCurve(r, t0, 2*time.Minute, 60)
	wantMid := []float64{1, 2.5, 2}
	wantX := []float64{at(1, 0), at(3, 0), at(5, 0)}
	// 95%: window 1 sorted (1, 2, 3): 2 + 0.9 = 2.9 -> 1.45 per minute.
	if !slices.Equal(cv.mid, wantMid) || !slices.Equal(cv.x, wantX) || math.Abs(cv.hi[0]-1.45) > 1e-12 {
		t.Errorf("count curve x %v mid %v hi %v; want x %v mid %v hi[0] 1.45", cv.x, cv.mid, cv.hi, wantX, wantMid)
	}
	// Levels: the run's infected at the end of each 4-minute window from
	// 10:00: window 0 holds its bins 0-1 (10:02, 10:03), window 1 bins
	// 2-5.
	lv := levelCurve(c.Folders[1], c.Folders[1].Levels["infected"], t0, 4*time.Minute)
	if !slices.Equal(lv.mid, []float64{2, 11}) || !slices.Equal(lv.x, []float64{at(4, 0), at(8, 0)}) {
		t.Errorf("level curve x %v mid %v; want x [10:04 10:08] mid [2 11]", lv.x, lv.mid)
	}
	// The replay's levels come from bands.csv (infected is the second
	// band: 5%, 50%, 95% = 1000, 1001, 1002).
	lr := levelCurve(r, r.Levels["infected"], t0, time.Minute)
	if len(lr.mid) != 6 || lr.lo[0] != 1000 || lr.mid[0] != 1001 || lr.hi[0] != 1002 {
		t.Errorf("replay level curve lo %v mid %v hi %v; want 6 points of 1000, 1001, 1002", lr.lo, lr.mid, lr.hi)
	}
}

func writeFixture(t *testing.T) (string, *Comparison) {
	t.Helper()
	rd, wd := fixture(t)
	c, err := Load([]string{rd, wd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	figs, err := c.Figures()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "sub", "cmp")
	if err := Write(out, c, figs, "test"); err != nil {
		t.Fatal(err)
	}
	return out, c
}

var imgRE = regexp.MustCompile(`<figure id="fig-([a-z0-9._-]+)" class="chart">\s*<img src="data:(image/[a-z+]+);base64,([A-Za-z0-9+/=]+)"`)

func TestWrite(t *testing.T) {
	t.Parallel()
	out, c := writeFixture(t)
	wantPlots := []string{"infected", "new-infections", "patched", "telescope"}
	var files []string
	for _, p := range wantPlots {
		files = append(files, filepath.Join("plots", p+".png"), filepath.Join("plots", p+".svg"))
	}
	files = append(files, "compare.csv", "compare.html", "compare.json")
	slices.Sort(files)
	var got []string
	err := filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(out, p)
			got = append(got, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, files) {
		t.Fatalf("%s holds %v, want %v", out, got, files)
	}
	// Nothing else beside it (no temporary folder left).
	siblings, _ := os.ReadDir(filepath.Dir(out))
	if len(siblings) != 1 {
		t.Errorf("the parent of the output holds %d entries, want only the output", len(siblings))
	}
	for _, p := range wantPlots {
		b, _ := os.ReadFile(filepath.Join(out, "plots", p+".png"))
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("%s.png does not decode: %v", p, err)
		}
		s, _ := os.ReadFile(filepath.Join(out, "plots", p+".svg"))
		if err := wellFormed(s); err != nil {
			t.Errorf("%s.svg: %v", p, err)
		}
	}

	// The page: self-contained, every figure embedded and decodable.
	h, _ := os.ReadFile(filepath.Join(out, "compare.html"))
	doc := string(h)
	for _, bad := range []string{"http://", "https://", "//cdn", "<script", "<link"} {
		if strings.Contains(strings.ToLower(doc), bad) {
			t.Errorf("compare.html contains %q; want a self-contained page", bad)
		}
	}
	if !strings.Contains(doc, `http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;`) &&
		!strings.Contains(doc, `http-equiv="Content-Security-Policy" content="default-src 'none'`) {
		t.Errorf("compare.html has no Content-Security-Policy forbidding other sources")
	}
	found := map[string]bool{}
	for _, m := range imgRE.FindAllStringSubmatch(doc, -1) {
		b, err := base64.StdEncoding.DecodeString(m[3])
		if err != nil {
			t.Errorf("figure %s: bad base64: %v", m[1], err)
			continue
		}
		if m[2] != "image/svg+xml" {
			t.Errorf("figure %s embedded as %s, want image/svg+xml", m[1], m[2])
		}
		if err := wellFormed(b); err != nil {
			t.Errorf("embedded figure %s: %v", m[1], err)
		}
		found[m[1]] = true
	}
	for _, p := range wantPlots {
		if !found[p] {
			t.Errorf("compare.html does not embed figure %s", p)
		}
	}
	text := html.UnescapeString(doc)
	for _, s := range []string{"worm.crv2.start: 2001-07-19T10:00:00Z -> 2001-09-01T00:00:00Z", "population.patched: 0.632 -> 0.95",
		"hosts ever infected, at the end", "+1 (+9.1%)", "-180 (-85.7%)", "+2 min"} {
		if !strings.Contains(text, s) {
			t.Errorf("compare.html does not contain %q", s)
		}
	}

	// compare.csv: one row per metric and folder, values as in the table.
	f, _ := os.Open(filepath.Join(out, "compare.csv"))
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs[0], CSVColumns) || len(recs) != 1+len(Metrics)*2 {
		t.Fatalf("compare.csv: header %v and %d rows; want %v and %d rows", recs[0], len(recs)-1, CSVColumns, len(Metrics)*2)
	}
	byKey := map[string][]string{}
	for _, r := range recs[1:] {
		byKey[r[0]+"/"+r[2]] = r
	}
	check := func(key string, col int, want string) {
		t.Helper()
		r := byKey[key]
		if r == nil || r[col] != want {
			t.Errorf("compare.csv %s column %s: got %v, want %q", key, CSVColumns[col], r, want)
		}
	}
	check("final_ever_infected/base", 8, "11")
	check("final_ever_infected/base", 9, "11.9")
	check("final_ever_infected/base", 10, "")
	check("final_ever_infected/what-if", 10, "1")
	check("total_probes/what-if", 10, "-180")
	check("peak_time/base", 8, "2001-07-19T10:03:00Z")
	check("peak_time/what-if", 10, "0.033333") // 2 minutes in hours
	check("peak_time/what-if", 11, "h")
	check("half_infected_time/what-if", 8, "2001-07-19T10:06:00Z")
	check("final_ever_infected/base", 5, "3")
	check("final_ever_infected/what-if", 4, "run")

	// compare.json: the same, with the folders.
	var doc2 struct {
		Reference string `json:"reference"`
		Folders   []struct {
			Label   string   `json:"label"`
			Kind    string   `json:"kind"`
			Seeds   []uint64 `json:"seeds"`
			Changes []struct {
				Key  string  `json:"key"`
				From *string `json:"from"`
				To   *string `json:"to"`
			} `json:"scenario_changes"`
		} `json:"folders"`
		Metrics []struct {
			Key    string `json:"key"`
			Values []struct {
				P50  any `json:"p50"`
				Diff any `json:"difference"`
			} `json:"values"`
		} `json:"metrics"`
	}
	b, _ := os.ReadFile(filepath.Join(out, "compare.json"))
	if err := json.Unmarshal(b, &doc2); err != nil {
		t.Fatal(err)
	}
	if doc2.Reference != "base" || len(doc2.Folders) != 2 || doc2.Folders[1].Kind != "run" || len(doc2.Metrics) != len(Metrics) {
		t.Errorf("compare.json: reference %q, %d folders, %d metrics", doc2.Reference, len(doc2.Folders), len(doc2.Metrics))
	}
	var keys []string
	for _, ch := range doc2.Folders[1].Changes {
		keys = append(keys, ch.Key)
	}
	if want := []string{"end", "population.patched", "worm.crv2.start"}; !slices.Equal(keys, want) {
		t.Errorf("compare.json scenario_changes keys %v, want %v", keys, want)
	}
	for _, m := range doc2.Metrics {
		if m.Values[0].Diff != nil {
			t.Errorf("compare.json %s: the reference's difference is %v, want null", m.Key, m.Values[0].Diff)
		}
		if m.Key == "peak_time" && m.Values[1].P50 != "2001-07-19T10:05:00Z" {
			t.Errorf("compare.json peak_time of the run: %v, want 2001-07-19T10:05:00Z", m.Values[1].P50)
		}
	}

	// A second Write to the same folder is refused and changes nothing.
	err = Write(out, c, nil, "test")
	var ce *Error
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), out) {
		t.Errorf("writing over %s: got %v, want an *Error naming it", out, err)
	}
	if again, _ := os.ReadFile(filepath.Join(out, "compare.html")); !bytes.Equal(again, h) {
		t.Errorf("a refused Write changed compare.html")
	}
}

func wellFormed(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	root := ""
	for {
		tok, err := d.Token()
		if err != nil {
			if err.Error() == "EOF" && root == "svg" {
				return nil
			}
			if root != "svg" {
				return fmt.Errorf("root element %q, want svg (%v)", root, err)
			}
			return err
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
}

func TestWriteText(t *testing.T) {
	t.Parallel()
	rd, wd := fixture(t)
	c, err := Load([]string{rd, wd}, []string{"baseline", "variant"})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := c.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^metric +folder +median +5%-95% over seeds +difference to baseline$`),
		regexp.MustCompile(`(?m)^hosts ever infected, at the end \(hosts\) +baseline +11 +\[11, 11\.9\] *$`),
		regexp.MustCompile(`(?m)^ +variant +12 +- +\+1 \(\+9\.1%\)$`),
		regexp.MustCompile(`(?m)^time of that peak \(start of its bin\) \(UTC\) +baseline +2001-07-19 10:03 +\[2001-07-19 10:02, 2001-07-19 10:04\] *$`),
		regexp.MustCompile(`(?m)^ +variant +2001-07-19 10:05 +- +\+2 min$`),
		regexp.MustCompile(`(?m)^ +variant +30 +- +-180 \(-85\.7%\)$`),
		regexp.MustCompile(`(?m)^  worm\.crv2\.start: 2001-07-19T10:00:00Z -> 2001-09-01T00:00:00Z$`),
		// The run starts two bins after the replay.
		regexp.MustCompile(`(?m)^The folders cover different spans: `),
	} {
		if !want.MatchString(out) {
			t.Errorf("the table does not match %s:\n%s", want, out)
		}
	}
}

func TestChanges(t *testing.T) {
	t.Parallel()
	a := `name = "x"
tags = ["a", "b"]
[space]
bits = 32
[[worm]]
name = "crv1"
seeds = 1
[[worm]]
seeds = 2
[[sensor]]
name = "t"
prefix = "44.0.0.0/8"
`
	b := `name = "x"
tags = ["a", "c"]
[space]
bits = 24
[[worm]]
name = "crv1"
seeds = 1
start = 2001-07-12T00:00:00Z
[[worm]]
seeds = 3
`
	c := &Comparison{Folders: []*Folder{{ScenarioTOML: []byte(a)}, {ScenarioTOML: []byte(b)}, {ScenarioTOML: []byte("not = toml = at all")}}}
	var got []string
	for _, ch := range c.Changes(1) {
		got = append(got, ch.String())
	}
	want := []string{
		"sensor.t.name: \"t\" -> (absent)",
		"sensor.t.prefix: \"44.0.0.0/8\" -> (absent)",
		"space.bits: 32 -> 24",
		"tags: [\"a\", \"b\"] -> [\"a\", \"c\"]",
		"worm.1.seeds: 2 -> 3",
		"worm.crv1.start: (absent) -> 2001-07-12T00:00:00Z",
	}
	if !slices.Equal(got, want) {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if ch := c.Changes(2); ch != nil {
		t.Errorf("changes against an unreadable scenario: %v, want none", ch)
	}
	if ch := c.Changes(0); ch != nil {
		t.Errorf("changes of the reference: %v, want none", ch)
	}
}

func TestLabels(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	var dirs []string
	for _, d := range []string{"x/run", "y/run", "z/other"} {
		p := filepath.Join(root, d)
		writeTimeseries(t, p, t0, time.Minute, run)
		dirs = append(dirs, p)
	}
	c, err := Load(append(dirs, dirs[2]), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range c.Folders {
		got = append(got, f.Label)
	}
	// Two share the base name "run", and "other" is given twice.
	want := []string{dirs[0], dirs[1], dirs[2], dirs[2] + " (2)"}
	if !slices.Equal(got, want) {
		t.Errorf("labels %q, want %q", got, want)
	}
	if !c.SameSpan() {
		t.Errorf("folders of the same bins: SameSpan is false")
	}
	// No sensor in common: no telescope figure.
	if len(c.Sensors) != 0 {
		t.Errorf("sensors %v, want none", c.Sensors)
	}
}

// TestBadInput checks that each kind of bad input gives an *Error naming
// the file or folder, and what is wrong.
func TestBadInput(t *testing.T) {
	t.Parallel()
	good := func(t *testing.T, dir string) string {
		writeTimeseries(t, dir, t0, time.Minute, run)
		return dir
	}
	header := "time,susceptible,infected,infected_scanning,infected_flooding,infected_dormant,patched,removed,new_infections,ever_infected,probes,syn_packets,bytes_on_wire,flood_bytes\n"
	row := func(tm string) string { return tm + ",0,1,1,0,0,0,0,1,1,5,0,0,0\n" }
	tests := []struct {
		name   string
		setup  func(t *testing.T, root string) []string // returns the folders
		labels []string
		want   []string // substrings of the error, besides the named path
		path   string   // the path the error must name, relative to root
	}{
		{"missing folder", func(t *testing.T, root string) []string {
			return []string{good(t, filepath.Join(root, "a")), filepath.Join(root, "nope")}
		}, nil, []string{"no such folder"}, "nope"},
		{"a file, not a folder", func(t *testing.T, root string) []string {
			writeFileT(t, filepath.Join(root, "f.csv"), "x")
			return []string{good(t, filepath.Join(root, "a")), filepath.Join(root, "f.csv")}
		}, nil, []string{"not a folder"}, "f.csv"},
		{"neither run nor replay", func(t *testing.T, root string) []string {
			writeFileT(t, filepath.Join(root, "e", "notes.txt"), "x")
			return []string{good(t, filepath.Join(root, "a")), filepath.Join(root, "e")}
		}, nil, []string{"neither a run folder", "timeseries.csv", "bands.csv"}, "e"},
		{"run --seeds folder", func(t *testing.T, root string) []string {
			good(t, filepath.Join(root, "many", "seed-0001"))
			return []string{good(t, filepath.Join(root, "a")), filepath.Join(root, "many")}
		}, nil, []string{"run --seeds", "bands.csv"}, "many"},
		{"replay without seed folders", func(t *testing.T, root string) []string {
			writeBands(t, filepath.Join(root, "r"), t0, time.Minute, 6, 0)
			return []string{filepath.Join(root, "r"), good(t, filepath.Join(root, "a"))}
		}, nil, []string{"no seed folders"}, "r"},
		{"seed folder without timeseries.csv", func(t *testing.T, root string) []string {
			writeBands(t, filepath.Join(root, "r"), t0, time.Minute, 6, 0)
			writeFileT(t, filepath.Join(root, "r", "seed-0001", "summary.json"), "{}")
			return []string{filepath.Join(root, "r"), good(t, filepath.Join(root, "a"))}
		}, nil, []string{"missing (a run folder needs it)"}, "r/seed-0001/timeseries.csv"},
		{"seed with other bins than bands.csv", func(t *testing.T, root string) []string {
			writeBands(t, filepath.Join(root, "r"), t0, time.Minute, 5, 0)
			good(t, filepath.Join(root, "r", "seed-0001"))
			return []string{filepath.Join(root, "r"), good(t, filepath.Join(root, "a"))}
		}, nil, []string{"6 bins of 1m0s", "5 bins of 1m0s", "same bins"}, "r/seed-0001/timeseries.csv"},
		{"bands.csv without a band", func(t *testing.T, root string) []string {
			writeFileT(t, filepath.Join(root, "r", "bands.csv"), "time,infected_p05,infected_p50,infected_p95\n2001-07-19T10:00:00Z,1,2,3\n")
			return []string{filepath.Join(root, "r"), good(t, filepath.Join(root, "a"))}
		}, nil, []string{"line 1", "column patched_p05: missing"}, "r/bands.csv"},
		{"empty timeseries.csv", func(t *testing.T, root string) []string {
			writeFileT(t, filepath.Join(root, "b", "timeseries.csv"), "")
			return []string{good(t, filepath.Join(root, "a")), filepath.Join(root, "b")}
		}, nil, []string{"empty"}, "b/timeseries.csv"},
		{"header only", func(t *testing.T, root string) []string {
			writeFileT(t, filepath.Join(root, "b", "timeseries.csv"), header)
			return []string{good(t, filepath.Join(root, "a")), filepath.Join(root, "b")}
		}, nil, []string{"no rows"}, "b/timeseries.csv"},
		{"first column not time", func(t *testing.T, root string) []string {
			writeFileT(t, filepath.Join(root, "b", "timeseries.csv"), "when,infected\n")
			return []string{good(t, filepath.Join(root, "a")), filepath.Join(root, "b")}
		}, nil, []string{"line 1", `"when"`, `want "time"`}, "b/timeseries.csv"},
		{"bad time", func(t *testing.T, root string) []string {
			writeFileT(t, filepath.Join(root, "b", "timeseries.csv"), header+row("2001-07-19T10:00:00Z")+row("19/07/2001 10:01"))
			return []string{good(t, filepath.Join(root, "a")), filepath.Join(root, "b")}
		}, nil, []string{"line 3", "column time", "RFC 3339"}, "b/timeseries.csv"},
		{"time going back", func(t *testing.T, root string) []string {
			writeFileT(t, filepath.Join(root, "b", "timeseries.csv"), header+row("2001-07-19T10:01:00Z")+row("2001-07-19T10:00:00Z"))
			return []string{good(t, filepath.Join(root, "a")), filepath.Join(root, "b")}
		}, nil, []string{"line 3", "not after"}, "b/timeseries.csv"},
		{"a gap in the bins", func(t *testing.T, root string) []string {
			writeFileT(t, filepath.Join(root, "b", "timeseries.csv"), header+row("2001-07-19T10:00:00Z")+row("2001-07-19T10:01:00Z")+row("2001-07-19T10:03:00Z"))
			return []string{good(t, filepath.Join(root, "a")), filepath.Join(root, "b")}
		}, nil, []string{"line 4", "2m0s after the previous row", "bins are 1m0s"}, "b/timeseries.csv"},
		{"negative count", func(t *testing.T, root string) []string {
			writeFileT(t, filepath.Join(root, "b", "timeseries.csv"), header+row("2001-07-19T10:00:00Z")+strings.Replace(row("2001-07-19T10:01:00Z"), ",5,", ",-5,", 1))
			return []string{good(t, filepath.Join(root, "a")), filepath.Join(root, "b")}
		}, nil, []string{"line 3", "column probes", `"-5"`}, "b/timeseries.csv"},
		{"not a number", func(t *testing.T, root string) []string {
			writeFileT(t, filepath.Join(root, "b", "timeseries.csv"), header+strings.Replace(row("2001-07-19T10:00:00Z"), ",1,1,5,", ",1,NaN,5,", 1))
			return []string{good(t, filepath.Join(root, "a")), filepath.Join(root, "b")}
		}, nil, []string{"line 2", "column ever_infected", `"NaN"`}, "b/timeseries.csv"},
		{"ragged row", func(t *testing.T, root string) []string {
			writeFileT(t, filepath.Join(root, "b", "timeseries.csv"), header+row("2001-07-19T10:00:00Z")+"2001-07-19T10:01:00Z,1,2\n")
			return []string{good(t, filepath.Join(root, "a")), filepath.Join(root, "b")}
		}, nil, []string{"line 3", "wrong number of fields"}, "b/timeseries.csv"},
		{"one row, no summary.json", func(t *testing.T, root string) []string {
			writeFileT(t, filepath.Join(root, "b", "timeseries.csv"), header+row("2001-07-19T10:00:00Z"))
			return []string{good(t, filepath.Join(root, "a")), filepath.Join(root, "b")}
		}, nil, []string{"single row", "bin_seconds"}, "b/timeseries.csv"},
		{"bad summary.json", func(t *testing.T, root string) []string {
			writeFileT(t, filepath.Join(root, "b", "summary.json"), "{not json")
			return []string{good(t, filepath.Join(root, "a")), good(t, filepath.Join(root, "b"))}
		}, nil, []string{"line 1", "not valid JSON"}, "b/summary.json"},
		{"sensor on other bins", func(t *testing.T, root string) []string {
			writeSensor(t, filepath.Join(root, "b"), "t", t0, time.Minute, []int64{1, 2})
			return []string{good(t, filepath.Join(root, "a")), good(t, filepath.Join(root, "b"))}
		}, nil, []string{"2 bins", "6 bins", "same bins"}, "b/sensors/t.csv"},
		{"different bin widths", func(t *testing.T, root string) []string {
			writeTimeseries(t, filepath.Join(root, "b"), t0, 2*time.Minute, run)
			return []string{good(t, filepath.Join(root, "a")), filepath.Join(root, "b")}
		}, nil, []string{"bins of 2m0s", "bins of 1m0s", "same bin width"}, "b"},
		{"bins that do not line up", func(t *testing.T, root string) []string {
			writeTimeseries(t, filepath.Join(root, "b"), t0.Add(30*time.Second), time.Minute, run)
			return []string{good(t, filepath.Join(root, "a")), filepath.Join(root, "b")}
		}, nil, []string{"10:00:30", "line up"}, "b"},
		{"too few labels", func(t *testing.T, root string) []string {
			return []string{good(t, filepath.Join(root, "a")), good(t, filepath.Join(root, "b"))}
		}, []string{"one"}, []string{"--labels", "1 labels for 2 folders"}, ""},
		{"the same label twice", func(t *testing.T, root string) []string {
			return []string{good(t, filepath.Join(root, "a")), good(t, filepath.Join(root, "b"))}
		}, []string{"x", "x"}, []string{"--labels", `"x" is given twice`}, ""},
		{"an empty label", func(t *testing.T, root string) []string {
			return []string{good(t, filepath.Join(root, "a")), good(t, filepath.Join(root, "b"))}
		}, []string{"x", " "}, []string{"--labels", "label 2 is empty"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			dirs := tc.setup(t, root)
			_, err := Load(dirs, tc.labels)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want an *Error", err)
			}
			msg := err.Error()
			if tc.path != "" && !strings.Contains(msg, filepath.Join(root, filepath.FromSlash(tc.path))) {
				t.Errorf("error %q does not name %s", msg, tc.path)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error %q spans several lines, want one", msg)
			}
		})
	}
}
