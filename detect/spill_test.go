package detect

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wormwatch/detect/internal/biglog"
)

// wormLog returns a synthetic log of worm lines from many sources, in
// bursts, out of order by up to 90 s (the event gap of Nimda and the rules
// is 60 s), with some lines no worm's.
func wormLog(t testing.TB, lines, sources int64, seed uint64) []byte {
	t.Helper()
	var b bytes.Buffer
	_, err := biglog.WriteWorms(&b, biglog.Worms{Lines: lines, Sources: sources, Seed: seed,
		Start: time.Date(2004, 8, 1, 0, 0, 0, 0, time.UTC), Step: 2 * time.Second, Jitter: 90 * time.Second, Noise: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// outputs returns every output of a report: the text with every source,
// each CSV table, the JSON and the series rows.
func outputs(t *testing.T, r *Report) map[string]string {
	t.Helper()
	out := map[string]string{}
	var b bytes.Buffer
	if err := r.WriteText(&b, 0); err != nil {
		t.Fatal(err)
	}
	out["text"] = b.String()
	b.Reset()
	if err := r.WriteText(&b, 7); err != nil {
		t.Fatal(err)
	}
	out["text top 7"] = b.String()
	for _, table := range strings.Split(Tables, ", ") {
		b.Reset()
		if err := r.WriteCSV(&b, Table(table)); err != nil {
			t.Fatal(err)
		}
		out[table] = b.String()
	}
	b.Reset()
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	out["json"] = b.String()
	b.Reset()
	if r.Series != nil {
		for row := range r.Series.Rows() {
			b.WriteString(row.Time.Format(time.RFC3339) + " " + strings.Join([]string{itoa(int(row.Probes)), itoa(int(row.Sources)),
				itoa(int(row.NewSources)), itoa(int(row.CumulativeSources))}, " ") + "\n")
		}
	}
	out["series"] = b.String()
	return out
}

// analyze reads the inputs with the options and returns the report, the
// number of chunks the per-source tables were spilled in, and whether the
// sources were sorted on disk.
func analyze(t *testing.T, inputs [][]byte, opt Options) (*Report, int, bool) {
	t.Helper()
	a, err := NewAnalyzer(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for i, in := range inputs {
		if err := a.Read(context.Background(), "in"+itoa(i+1), bytes.NewReader(in)); err != nil {
			t.Fatal(err)
		}
	}
	chunks := len(a.req.chunks)
	if a.req.tab.len() > 0 && chunks > 0 {
		chunks++
	}
	r, err := a.Report(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, chunks, r.Sources.file != nil
}

// TestSpill checks that the per-source tables give byte for byte the same
// output whether they stay in memory or are spilled to temporary files in
// many small chunks and merged (issue 7, item 7): on a log of many sources
// sending several families in bursts across chunk boundaries, out of
// order, read as two inputs, one gzip.
func TestSpill(t *testing.T) {
	t.Parallel()
	log := wormLog(t, 30_000, 2_500, 7)
	cut := bytes.IndexByte(log[len(log)/2:], '\n') + len(log)/2 + 1
	inputs := [][]byte{log[:cut], gzipped(t, log[cut:])}
	for _, ivl := range []time.Duration{0, 10 * time.Minute} {
		dir := t.TempDir()
		mem, chunks, onDisk := analyze(t, inputs, Options{SeriesInterval: ivl, TempDir: dir})
		if chunks != 0 || onDisk {
			t.Fatalf("the default memory spilled %d chunks (sorted on disk: %v)", chunks, onDisk)
		}
		want := outputs(t, mem)
		for _, budget := range []int64{1, 20_000, 200_000} {
			r, chunks, onDisk := analyze(t, inputs, Options{SeriesInterval: ivl, TempDir: dir, Memory: budget})
			if chunks < 3 || !onDisk {
				t.Fatalf("memory %d: %d chunks, sorted on disk %v; want several and true", budget, chunks, onDisk)
			}
			got := outputs(t, r)
			for name, w := range want {
				if got[name] != w {
					t.Errorf("interval %v, memory %d: the %s output differs from the one in memory:\n%s", ivl, budget, name, firstDiff(got[name], w))
				}
			}
		}
		// The temporary files are gone from the folder (removed as soon
		// as created where the system allows it, else by Close).
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("left in the temporary folder: %v", ents)
		}
	}
}

// firstDiff shows where two texts first differ.
func firstDiff(got, want string) string {
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(gl), len(wl)) {
		if gl[i] != wl[i] {
			return "line " + itoa(i+1) + ":\n got  " + gl[i] + "\n want " + wl[i]
		}
	}
	return "lengths " + itoa(len(gl)) + " and " + itoa(len(wl)) + " lines"
}

// TestSpillCounts checks the figures themselves against a plain count over
// the records (the algorithm before the tables were compact and spilled):
// per family lines, distinct sources and events (the gap measured in read
// order), per source lines and families, and the series' sources and new
// sources per interval.
func TestSpillCounts(t *testing.T) {
	t.Parallel()
	log := wormLog(t, 20_000, 1_500, 11)
	const ivl = 5 * time.Minute
	r, chunks, _ := analyze(t, [][]byte{log}, Options{SeriesInterval: ivl, TempDir: t.TempDir(), Memory: 50_000})
	if chunks < 3 {
		t.Fatalf("%d chunks", chunks)
	}
	recs, _, err := readAll(t, log, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := NewMatcher(Builtin())
	fams := m.Families()
	type sf struct {
		src string
		fam int
	}
	type famCount struct{ lines, events int64 }
	type srcCount struct {
		lines       int64
		first, last time.Time
		fams        map[int]bool
	}
	prev := map[sf]time.Time{}
	famN := make([]famCount, len(fams))
	famSrc := make([]map[string]bool, len(fams))
	srcs := map[string]*srcCount{}
	pairs := map[string]map[int64]bool{}
	for i := range recs {
		rec := &recs[i]
		matched := m.Match(rec, nil)
		if len(matched) == 0 {
			continue
		}
		src := string(rec.Source)
		s := srcs[src]
		if s == nil {
			s = &srcCount{first: rec.Time, last: rec.Time, fams: map[int]bool{}}
			srcs[src] = s
			pairs[src] = map[int64]bool{}
		}
		s.lines++
		if rec.Time.Before(s.first) {
			s.first = rec.Time
		}
		if rec.Time.After(s.last) {
			s.last = rec.Time
		}
		pairs[src][floorDiv(rec.Time.UnixNano(), int64(ivl))] = true
		for _, f := range matched {
			s.fams[f] = true
			famN[f].lines++
			if famSrc[f] == nil {
				famSrc[f] = map[string]bool{}
			}
			famSrc[f][src] = true
			p, seen := prev[sf{src, f}]
			gap := time.Duration(fams[f].EventGap)
			if d := rec.Time.Sub(p); !seen || gap == 0 || d > gap || -d > gap {
				famN[f].events++
			}
			prev[sf{src, f}] = rec.Time
		}
	}
	for i, f := range r.Families {
		if f.Lines != famN[i].lines || f.Sources != int64(len(famSrc[i])) || f.Events != famN[i].events {
			t.Errorf("%s: lines, sources, events %d %d %d; want %d %d %d", f.Name, f.Lines, f.Sources, f.Events, famN[i].lines, len(famSrc[i]), famN[i].events)
		}
	}
	got := sources(t, r)
	if len(got) != len(srcs) {
		t.Fatalf("%d sources, want %d", len(got), len(srcs))
	}
	for i, s := range got {
		w := srcs[s.Source]
		if w == nil || s.Lines != w.lines || !s.FirstSeen.Equal(w.first) || !s.LastSeen.Equal(w.last) || len(s.Families) != len(w.fams) {
			t.Fatalf("source %s: %+v, want %+v", s.Source, s, w)
		}
		if i > 0 {
			p := got[i-1]
			if c := cmp.Or(cmp.Compare(s.Lines, p.Lines), p.FirstSeen.Compare(s.FirstSeen), strings.Compare(p.Source, s.Source)); c >= 0 {
				t.Fatalf("sources %d and %d out of order: %+v, %+v", i-1, i, p, s)
			}
		}
	}
	wantSrc, wantNew := map[int64]int64{}, map[int64]int64{}
	for src, ivs := range pairs {
		for iv := range ivs {
			wantSrc[iv]++
		}
		wantNew[floorDiv(srcs[src].first.UnixNano(), int64(ivl))]++
	}
	var cum int64
	for row := range r.Series.Rows() {
		iv := row.Time.UnixNano() / int64(ivl)
		cum += wantNew[iv]
		if row.Sources != wantSrc[iv] || row.NewSources != wantNew[iv] || row.CumulativeSources != cum {
			t.Errorf("series at %v: %+v; want sources %d, new %d, cumulative %d", row.Time, row, wantSrc[iv], wantNew[iv], cum)
		}
	}
}

// TestSpillCancel checks that the merge of spilled tables stops when the
// context is done and that no temporary file is left behind.
func TestSpillCancel(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, err := NewAnalyzer(Options{Memory: 1, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Read(context.Background(), "log", bytes.NewReader(wormLog(t, 5000, 500, 3))); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Report(ctx); err != context.Canceled {
		t.Errorf("Report: %v, want context.Canceled", err)
	}
	if err := a.Close(); err != nil {
		t.Error(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
	// A temporary folder that does not exist: an error naming it and the
	// flags.
	a, _ = NewAnalyzer(Options{Memory: 1, TempDir: filepath.Join(dir, "none")})
	err = a.Read(context.Background(), "log", bytes.NewReader(wormLog(t, 100, 50, 3)))
	if err == nil || !strings.Contains(err.Error(), "none") || !strings.Contains(err.Error(), "--tmp-dir") {
		t.Errorf("no temporary folder: %v", err)
	}
	a.Close()
}

// BenchmarkSpill measures the analyzer on a log of many distinct sources,
// in memory and spilled.
func BenchmarkSpill(b *testing.B) {
	log := wormLog(b, 200_000, 100_000, 5)
	for _, mem := range []int64{0, 1 << 20} {
		name := "memory"
		if mem > 0 {
			name = "spilled"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(log)))
			for b.Loop() {
				a, err := NewAnalyzer(Options{Memory: mem, TempDir: b.TempDir(), SeriesInterval: time.Hour})
				if err != nil {
					b.Fatal(err)
				}
				if err := a.Read(context.Background(), "log", bytes.NewReader(log)); err != nil {
					b.Fatal(err)
				}
				r, err := a.Report(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				if err := r.WriteCSV(io.Discard, "sources"); err != nil {
					b.Fatal(err)
				}
				r.Close()
				a.Close()
			}
		})
	}
}
