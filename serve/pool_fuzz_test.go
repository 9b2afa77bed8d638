package serve

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"wormwatch/forecast"
	"wormwatch/internal/param"
	"wormwatch/serve/servetest"
	"wormwatch/store"
)

// FuzzPoolAdvance pushes the rows of three remote members of a pool in
// any cutting and order (each member's series starting at its own
// interval), with a lag of 0 to 3 intervals, and checks after each push
// that the pool's rows are those of a plain model of the rule: interval
// k closes when every member has its row, or (with a lag) when a member
// has a row at k + lag or later; a row is the sum of the members' rows
// present, its cumulative sources the first row's sum grown by the new
// sources, the members not present counted absent; the pool starts when every member has pushed, at the latest
// first row (lag 0) or the earliest (a lag). The bytes: the lag, three
// first intervals, then pairs (member, rows to push).
func FuzzPoolAdvance(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 10, 1, 10, 2, 10})
	f.Add([]byte{2, 3, 0, 7, 0, 20, 2, 4, 1, 1, 1, 30, 2, 30})
	f.Add([]byte{1, 0, 5, 2, 1, 3, 0, 1, 2, 9, 0, 40, 1, 40})
	cfg := loadConfig(f, "", nil, servetest.Sets(filepath.Join(f.TempDir(), "data")))
	t0 := time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)
	members := []string{"m1", "m2", "m3"}
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) < 4 {
			return
		}
		lag, first := int(ops[0]%4), []int{int(ops[1] % 8), int(ops[2] % 8), int(ops[3] % 8)}
		l, p := fuzzPool(cfg, members, lag)
		series := make([][]store.Row, len(members))
		for i := range members {
			series[i] = fuzzSeries(t0, first[i], i)
		}
		m := &poolModel{lag: lag, first: first, pushed: make([]int, len(members)), absent: map[string]int64{}}
		for ops = ops[4:]; len(ops) >= 2; ops = ops[2:] {
			i, n := int(ops[0])%len(members), 1+int(ops[1])%12
			from := m.pushed[i]
			to := min(from+n, len(series[i]))
			if from == to {
				continue
			}
			rem := l.remote.byName[members[i]]
			if rem == nil { // a first push, as pushRows takes it
				var err error
				if rem, err = l.newRemote(store.SeriesKey{Sensor: members[i], Size: 65536, Interval: time.Minute}); err != nil {
					t.Fatal(err)
				}
				l.addRemoteSeries(rem)
			}
			if _, _, err := rem.take(series[i][from:to]); err != nil {
				t.Fatal(err)
			}
			m.pushed[i] = to
			l.advancePool(p)
			want := m.rows(series)
			var got []forecast.Row
			if p.rs != nil {
				got = p.rs.Rows()
			}
			if p.err != "" || !slices.Equal(got, want) || !maps.Equal(p.abs.Absent, m.absent) {
				t.Fatalf("lag %d, first rows %v, pushed %v: the pool's rows (error %q, absent %v)\n%v\nthe model's (absent %v)\n%v", lag, first, m.pushed, p.err, p.abs.Absent, got, m.absent, want)
			}
		}
	})
}

// fuzzPool returns a loop with the remote members (none pushed yet) and
// their pool of the lag given, in intervals.
func fuzzPool(base *Config, members []string, lag int) (*loop, *rowPool) {
	cfg := *base
	cfg.Remotes, cfg.Pools = nil, []Pool{{Name: "p", Sensors: members, Lag: param.Duration(time.Duration(lag) * time.Minute)}}
	for _, m := range members {
		cfg.Remotes = append(cfg.Remotes, Remote{Sensor: m})
	}
	l := &loop{cfg: &cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	l.newRowPools()
	return l, l.pools[0]
}

// fuzzSeries returns member i's 40 rows from interval first after t0.
func fuzzSeries(t0 time.Time, first, i int) []store.Row {
	var rows []store.Row
	var cum int64
	for k := range 40 {
		n := int64((k*(i+2) + i) % 5)
		cum += n
		rows = append(rows, store.Row{Time: t0.Add(time.Duration(first+k) * time.Minute), Probes: 3*n + int64(k%4), Sources: n + int64(k%4)/2, NewSources: n, CumulativeSources: cum + int64(i)})
	}
	return rows
}

// poolModel is the pool's rule, plainly: the members' first intervals,
// their rows pushed, and the pool's rows made (a row, once made, stays).
type poolModel struct {
	lag    int
	first  []int
	pushed []int
	out    []forecast.Row
	absent map[string]int64 // rows made without each member
}

// rows makes the pool's rows that the rule closes now, and returns them
// all.
func (m *poolModel) rows(series [][]store.Row) []forecast.Row {
	for _, n := range m.pushed {
		if n == 0 {
			return nil // a member's size is not known yet
		}
	}
	k := slices.Max(m.first)
	if m.lag > 0 {
		k = slices.Min(m.first)
	}
	for k += len(m.out); ; k++ {
		var row forecast.Row
		row.Time = series[0][0].Time.Add(time.Duration(k-m.first[0]) * time.Minute)
		var absent []string
		ahead := false
		for i, s := range series {
			if j := k - m.first[i]; j >= 0 && j < m.pushed[i] {
				r := s[j]
				row.Probes, row.Sources, row.NewSources, row.CumulativeSources = row.Probes+r.Probes, row.Sources+r.Sources, row.NewSources+r.NewSources, row.CumulativeSources+r.CumulativeSources
			} else {
				absent = append(absent, fmt.Sprintf("m%d", i+1))
			}
			ahead = ahead || m.first[i]+m.pushed[i]-1 >= k+m.lag
		}
		if len(absent) > 0 && (m.lag == 0 || !ahead) {
			return m.out
		}
		for _, a := range absent {
			m.absent[a]++
		}
		if len(m.out) > 0 {
			row.CumulativeSources = m.out[len(m.out)-1].CumulativeSources + row.NewSources
		}
		m.out = append(m.out, row)
	}
}
