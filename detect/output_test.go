package detect

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"wormwatch/internal/thousands"
)

func sampleReport(t *testing.T) *Report {
	t.Helper()
	r, err := Analyze(context.Background(), []string{filepath.Join(sampleDir, "honeynet2004_access_log.10")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	r := sampleReport(t)
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var j struct {
		Schema   string           `json:"schema"`
		Lines    int64            `json:"lines"`
		Matched  int64            `json:"matched"`
		Skipped  map[string]int64 `json:"skipped"`
		Order    []string         `json:"family_order"`
		Families map[string]struct {
			Lines, Sources, Events int64
			FirstSeen              *time.Time `json:"first_seen"`
			STIXPattern            string     `json:"stix_pattern"`
		} `json:"families"`
		Sources []struct {
			Source      string           `json:"source"`
			Lines       int64            `json:"lines"`
			Families    []string         `json:"families"`
			FamilyLines map[string]int64 `json:"family_lines"`
		} `json:"sources"`
		Hourly []struct {
			Hour   time.Time        `json:"hour"`
			Counts map[string]int64 `json:"counts"`
		} `json:"hourly"`
	}
	if err := json.Unmarshal(b.Bytes(), &j); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if j.Schema != JSONSchema || j.Lines != 518 || j.Matched != r.Matched || !slices.Equal(j.Order, wantFamilies) {
		t.Errorf("head: %+v", j)
	}
	for _, why := range Reasons() {
		// The reasons of web-server logs are always there; Zeek's only
		// when they have lines, so that this report is as it was before.
		if v, ok := j.Skipped[why.String()]; ok != (why < numAlways) || v != 0 {
			t.Errorf("skipped[%s] = %d, %v; want 0, present: %v", why, v, ok, why < numAlways)
		}
	}
	for _, name := range wantFamilies {
		f, ok := j.Families[name]
		rf := r.Family(name)
		if !ok || f.Lines != rf.Lines || f.Sources != rf.Sources || f.Events != rf.Events || f.STIXPattern == "" || (f.Lines > 0) != (f.FirstSeen != nil) {
			t.Errorf("families[%s] = %+v, want %+v", name, f, rf)
		}
	}
	srcs := sources(t, r)
	if len(j.Sources) != len(srcs) || j.Sources[0].Source != srcs[0].Source || j.Sources[0].Lines != srcs[0].Lines {
		t.Errorf("sources: %d, first %+v", len(j.Sources), j.Sources[0])
	}
	for _, s := range j.Sources {
		var sum int64
		for _, n := range s.FamilyLines {
			sum += n
		}
		if len(s.FamilyLines) != len(s.Families) || sum < s.Lines {
			t.Errorf("source %s: families %v, family lines %v, lines %d", s.Source, s.Families, s.FamilyLines, s.Lines)
		}
	}
	var nimda int64
	for _, h := range j.Hourly {
		nimda += h.Counts["nimda"]
		if h.Counts["codered1"] != 0 {
			t.Errorf("hour %v: codered1 %d", h.Hour, h.Counts["codered1"])
		}
	}
	if len(j.Hourly) != len(r.Hourly) || nimda != r.Family("nimda").Lines {
		t.Errorf("hourly: %d hours, nimda %d", len(j.Hourly), nimda)
	}
}

func TestWriteCSV(t *testing.T) {
	t.Parallel()
	r := sampleReport(t)
	tests := []struct {
		table Table
		head  []string
		rows  int
	}{
		{"families", []string{"family", "kind", "lines", "sources", "events", "first_seen", "last_seen"}, len(wantFamilies)},
		{"sources", []string{"source", "first_seen", "last_seen", "lines", "families"}, int(r.Sources.Len())},
		{"hourly", append([]string{"hour"}, wantFamilies...), len(r.Hourly)},
		{"skipped", []string{"reason", "lines", "first_at"}, int(numAlways)}, // the reasons of web-server logs; the others have no lines
	}
	for _, tc := range tests {
		var b bytes.Buffer
		if err := r.WriteCSV(&b, tc.table); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&b).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", tc.table, err)
		}
		if !slices.Equal(recs[0], tc.head) || len(recs)-1 != tc.rows {
			t.Errorf("%s: header %v and %d rows, want %v and %d", tc.table, recs[0], len(recs)-1, tc.head, tc.rows)
		}
	}
	if err := r.WriteCSV(&bytes.Buffer{}, "people"); err == nil || !strings.Contains(err.Error(), Tables) {
		t.Errorf("unknown table: %v", err)
	}
}

func TestWriteText(t *testing.T) {
	t.Parallel()
	r := sampleReport(t)
	var b bytes.Buffer
	if err := r.WriteText(&b, 5); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Read 1 input (518 lines: 518 parsed, 0 skipped)",
		"274 lines matched worm signatures, from 25 sources",
		"Top 5 of 25 sources",
		"Matched lines per hour",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	// The family rows: name, kind, lines, sources, events.
	for _, name := range wantFamilies {
		f := r.Family(name)
		fields := []string{f.Name, f.Kind, thousands.Int(f.Lines), thousands.Int(f.Sources), thousands.Int(f.Events)}
		found := false
		for _, line := range strings.Split(out, "\n") {
			if slices.Equal(strings.Fields(line)[:min(5, len(strings.Fields(line)))], fields) {
				found = true
			}
		}
		if !found {
			t.Errorf("no row %v", fields)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasSuffix(line, " ") {
			t.Errorf("trailing space: %q", line)
		}
	}
}

func TestComma(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", -1234567: "-1,234,567", 100000: "100,000"} {
		if got := thousands.Int(n); got != want {
			t.Errorf("thousands.Int(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestFormatsAndTables: the lists in messages name exactly the known
// formats and tables.
func TestFormatsAndTables(t *testing.T) {
	t.Parallel()
	for _, f := range strings.Split(OutputFormats, ", ") {
		if !OutputFormat(f).Known() {
			t.Errorf("format %q listed but not known", f)
		}
	}
	for _, tb := range strings.Split(Tables, ", ") {
		if !Table(tb).Known() {
			t.Errorf("table %q listed but not known", tb)
		}
	}
	if OutputFormat("xml").Known() || Table("people").Known() {
		t.Error("an unknown format or table is known")
	}
}
