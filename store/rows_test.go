package store

import (
	"reflect"
	"testing"
	"time"
)

// TestManyRows commits more rows than one statement inserts, some times
// given twice (within a statement's rows and across statements, and again
// in a later batch): each time stored once, as its last row gave it, as
// one statement a row would have left them.
func TestManyRows(t *testing.T) {
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	key := SeriesKey{Key: "web", Sensor: "web", Kind: "all", Size: 1, Interval: time.Minute}
	want := map[int64]Row{}
	var rows []Row
	add := func(min, probes int64) {
		r := Row{Time: time.Unix(60*min, 0).UTC(), Probes: probes, Sources: probes % 7, NewSources: probes % 3, CumulativeSources: probes * 2}
		rows = append(rows, r)
		want[min] = r
	}
	for i := range int64(3*rowsPerInsert + 5) {
		add(i, i+1)
		if i%50 == 7 {
			add(i-3, 1000+i) // within the statement
		}
		if i == rowsPerInsert+2 {
			add(1, 5000) // a row of the first statement
		}
	}
	later := Row{Time: time.Unix(60*4, 0).UTC(), Probes: 9999}
	for _, b := range []*Batch{{Series: []SeriesRows{{Series: key, Rows: rows}}}, {Series: []SeriesRows{{Series: key, Rows: []Row{later}}}}} {
		if err := s.Commit(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	want[4] = later
	got, err := s.Rows(ctx, "web", time.Time{}, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows stored, want %d", len(got), len(want))
	}
	for i, r := range got {
		if w := want[int64(i)]; !reflect.DeepEqual(r, w) {
			t.Errorf("row %d: %+v, want %+v", i, r, w)
		}
	}
}
