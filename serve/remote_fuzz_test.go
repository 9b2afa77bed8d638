package serve

import (
	"slices"
	"testing"
	"time"

	"wormwatch/forecast"
	"wormwatch/store"
	"wormwatch/watch"
)

// FuzzRemoteTake gives a remote series any sequence of pushes of rows of
// one series (each a run of its rows from anywhere, perhaps with a row
// received before changed; the first push from the series' first row):
// it never panics, a push is taken whole or not at all, the rows held are
// always the series' first rows, and a changed row or a gap is refused.
func FuzzRemoteTake(f *testing.F) {
	f.Add([]byte{0, 5, 0, 3, 10, 0, 12, 4, 1})
	f.Add([]byte{0, 40, 0, 0, 40, 1, 39, 2, 0})
	f.Add([]byte{2, 3, 0})
	t0 := time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)
	var series []store.Row
	var cum int64
	for i := range 48 {
		n := int64(i % 5)
		cum += n
		series = append(series, store.Row{Time: t0.Add(time.Duration(i) * time.Minute), Probes: 2*n + int64(i%3), Sources: n + int64(i%3)/2, NewSources: n, CumulativeSources: cum})
	}
	f.Fuzz(func(t *testing.T, ops []byte) {
		rs, err := watch.NewRowSeries("far", 65536, time.Minute, watch.DefaultSettings, forecast.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rem := &remoteSeries{key: store.SeriesKey{Key: "far", Sensor: "far", Kind: "all", Size: 65536, Interval: time.Minute, Origin: "remote"}, rs: rs}
		for len(ops) >= 3 {
			from, n, change := int(ops[0])%len(series), 1+int(ops[1])%20, ops[2]
			ops = ops[3:]
			held := len(rem.rs.Rows())
			if held == 0 {
				from = 0 // the series starts at its first row
			}
			push := slices.Clone(series[from:min(from+n, len(series))])
			changed := change%4 == 1 && from < held
			if changed {
				push[0].Probes++ // still a sensor row, but not the one received
			}
			added, same, err := rem.take(push)
			now := len(rem.rs.Rows())
			switch {
			case changed || from > held:
				if err == nil || now != held || added != 0 {
					t.Fatalf("push of %d rows from %d (changed %v) onto %d held: taken (%d added, %v)", len(push), from, changed, held, added, err)
				}
			default:
				if err != nil || added != max(from+len(push)-held, 0) || same != min(len(push), max(held-from, 0)) || now != max(held, from+len(push)) {
					t.Fatalf("push of %d rows from %d onto %d held: %d added, %d same, %d now, %v", len(push), from, held, added, same, now, err)
				}
			}
			if got := rem.rs.Rows(); !slices.Equal(got, slices.Clip(toForecast(series[:len(got)]))) {
				t.Fatalf("the rows held are not the series' first %d", len(got))
			}
		}
	})
}

// toForecast converts store rows.
func toForecast(rows []store.Row) []forecast.Row {
	out := make([]forecast.Row, len(rows))
	for i, r := range rows {
		out[i] = forecast.Row(r)
	}
	return out
}
