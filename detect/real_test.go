package detect

import (
	"context"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The expected figures below were derived without detect, from the files in
// shared/data/logs:
//
//   - lines: the README's table (2,200 and 518); wc -l agrees.
//   - Code Red II lines: the README's table (5 and 12), and
//     grep -c 'GET /default.ida?XXXXXXXX' FILE.
//   - Code Red II sources: grep 'GET /default.ida?XXXXXXXX' FILE | awk '{print $1}' | sort -u | wc -l
//     (3 and 8).
//   - root.exe and cmd.exe lines: the README's "Nimda-style lines" (561 and
//     262), and grep -c -e root.exe -e cmd.exe FILE.
//   - Nimda lines: the 16 requests are all HTTP/1.0 GETs ending in
//     root.exe?/c+dir or cmd.exe?/c+dir (worm-signatures.md):
//     grep -c -E '"GET /[^ ]*(root|cmd)\.exe\?/c\+dir HTTP/1\.0"' FILE (493 and 241),
//     from 31 and 16 sources (the same grep | awk '{print $1}' | sort -u | wc -l);
//     by source, 30 full bursts of 16 and one of 13 in access_log.22, 15 of 16
//     and one single line in access_log.10, so one burst per source.
//
// The test also recomputes these figures with its own reading of the lines
// (a regular expression, not detect's parser) and its own grouping of the
// Nimda lines into bursts, and checks detect against both.
type realWant struct {
	file                                 string
	lines                                int64
	crIILines, crIISources               int64
	rootCmdLines                         int64
	nimdaLines, nimdaSources, nimdaBurst int64
}

var realLogs = []realWant{
	{"honeynet2004_access_log.22", 2200, 5, 3, 561, 493, 31, 31},
	{"honeynet2004_access_log.10", 518, 12, 8, 262, 241, 16, 16},
}

// lineRE reads a combined-format line independently of parseCLF.
var lineRE = regexp.MustCompile(`^(\S+) \S+ \S+ \[([^\]]+)\] "(.*)" (\d{3}) (\S+) "(.*)" "(.*)"$`)

var nimdaRE = regexp.MustCompile(`^GET /\S*(root|cmd)\.exe\?/c\+dir HTTP/1\.0$`)

type indep struct {
	crIILines, rootCmdLines, nimdaLines int64
	crIISources, nimdaSources           map[string]bool
	nimdaBursts                         int64
	crIIHours                           map[time.Time]int64
}

// independent computes the figures from the raw file.
func independent(t *testing.T, data string) indep {
	t.Helper()
	r := indep{crIISources: map[string]bool{}, nimdaSources: map[string]bool{}, crIIHours: map[time.Time]int64{}}
	nimdaTimes := map[string][]time.Time{}
	for _, line := range strings.Split(strings.TrimSuffix(data, "\n"), "\n") {
		m := lineRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("the test's own reader cannot read %q", line)
		}
		when, err := time.Parse("02/Jan/2006:15:04:05 -0700", m[2])
		if err != nil {
			t.Fatal(err)
		}
		src, req := m[1], m[3]
		if strings.Contains(req, "/default.ida?"+strings.Repeat("X", 224)) {
			r.crIILines++
			r.crIISources[src] = true
			r.crIIHours[when.UTC().Truncate(time.Hour)]++
		}
		if strings.Contains(line, "root.exe") || strings.Contains(line, "cmd.exe") {
			r.rootCmdLines++
		}
		if nimdaRE.MatchString(req) {
			r.nimdaLines++
			r.nimdaSources[src] = true
			nimdaTimes[src] = append(nimdaTimes[src], when)
		}
	}
	// Bursts: a source's Nimda lines, in time order, split where two are
	// more than 60 s apart.
	for _, ts := range nimdaTimes {
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
		r.nimdaBursts++
		for i := 1; i < len(ts); i++ {
			if ts[i].Sub(ts[i-1]) > 60*time.Second {
				r.nimdaBursts++
			}
		}
	}
	return r
}

func TestRealLogs(t *testing.T) {
	t.Parallel()
	for _, w := range realLogs {
		t.Run(w.file, func(t *testing.T) {
			t.Parallel()
			data := string(sample(t, w.file))
			in := independent(t, data)
			// The independent reading agrees with the documented figures.
			if in.crIILines != w.crIILines || int64(len(in.crIISources)) != w.crIISources || in.rootCmdLines != w.rootCmdLines ||
				in.nimdaLines != w.nimdaLines || int64(len(in.nimdaSources)) != w.nimdaSources || in.nimdaBursts != w.nimdaBurst {
				t.Fatalf("the test's own count %+v disagrees with the documented %+v", in, w)
			}
			r, err := Analyze(context.Background(), []string{filepath.Join(sampleDir, w.file)}, Options{SeriesInterval: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			if r.Lines != w.lines || r.Parsed != w.lines || r.SkippedTotal() != 0 || len(r.Inputs) != 1 || r.Inputs[0].Format != "combined" {
				t.Errorf("read %d lines, %d parsed, %d skipped, inputs %+v; want %d, all parsed", r.Lines, r.Parsed, r.SkippedTotal(), r.Inputs, w.lines)
			}
			check := func(name string, lines, sources, events int64) {
				t.Helper()
				f := r.Family(name)
				if f == nil || f.Lines != lines || f.Sources != sources || f.Events != events {
					t.Errorf("%s: %+v; want lines %d, sources %d, events %d", name, f, lines, sources, events)
				}
			}
			check("codered2", w.crIILines, w.crIISources, w.crIILines)
			check("ida-idq", w.crIILines, w.crIISources, w.crIILines)
			check("codered1", 0, 0, 0)
			check("nimda", w.nimdaLines, w.nimdaSources, w.nimdaBurst)
			if n := r.Family("root-exe").Lines + r.Family("cmd-exe").Lines; n != w.rootCmdLines {
				t.Errorf("root-exe and cmd-exe lines %d, want %d (no line holds both)", n, w.rootCmdLines)
			}
			// Hourly counts: Code Red II by hour as counted independently,
			// and every family's hours add up to its lines.
			ci := slices.IndexFunc(r.Families, func(f FamilyResult) bool { return f.Name == "codered2" })
			got := map[time.Time]int64{}
			sums := make([]int64, len(r.Families))
			for _, h := range r.Hourly {
				if h.Count(ci) > 0 {
					got[h.Hour] = h.Count(ci)
				}
				for k, i := range h.Families {
					sums[i] += h.Counts[k]
				}
			}
			if len(got) != len(in.crIIHours) {
				t.Errorf("Code Red II in %d hours, want %d", len(got), len(in.crIIHours))
			}
			for h, n := range in.crIIHours {
				if got[h] != n {
					t.Errorf("Code Red II in the hour %v: %d, want %d", h, got[h], n)
				}
			}
			for i, f := range r.Families {
				if sums[i] != f.Lines {
					t.Errorf("%s: hourly counts add up to %d, want %d", f.Name, sums[i], f.Lines)
				}
			}
			// The series: worm requests per hour add up to the matched
			// lines, the cumulative sources to the sources of the table.
			var probes int64
			var last SeriesRow
			n := 0
			for row := range r.Series.Rows() {
				probes += row.Probes
				last = row
				n++
			}
			if n != r.Series.Len() || !last.Time.Equal(r.LastSeen.Truncate(time.Hour)) {
				t.Errorf("series: %d rows (Len %d), last at %v", n, r.Series.Len(), last.Time)
			}
			if probes != r.Matched || last.CumulativeSources != r.Sources.Len() {
				t.Errorf("series: %d probes, %d sources at the end; want %d and %d", probes, last.CumulativeSources, r.Matched, r.Sources.Len())
			}
		})
	}
}
