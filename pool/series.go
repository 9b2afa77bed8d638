package pool

import (
	"fmt"
	"math"
	"time"
)

// Sum returns the union's series estimated from the sensors' series
// alone (one slice of rows per sensor, every slice over the same
// intervals): each column the sum over the sensors. The probes are exact
// for disjoint blocks; sources, new sources and cumulative sources are
// upper bounds of the union's (see the package comment), and the rows
// are a sensor series (new <= sources <= probes, cumulative grown by new).
// Sums held at math.MaxInt64 when they would pass it.
func Sum(series ...[]Row) ([]Row, error) {
	if err := aligned(series); err != nil {
		return nil, err
	}
	out := make([]Row, len(series[0]))
	for i := range out {
		out[i].Time = series[0][i].Time
		for _, s := range series {
			r := s[i]
			out[i].Probes = add(out[i].Probes, r.Probes)
			out[i].Sources = add(out[i].Sources, r.Sources)
			out[i].NewSources = add(out[i].NewSources, r.NewSources)
			out[i].CumulativeSources = add(out[i].CumulativeSources, r.CumulativeSources)
		}
	}
	return out, nil
}

// Lower returns the lower bound of the union's series matching Sum:
// probes summed (exact), and per interval the most sources and cumulative
// sources any one sensor saw (the union saw at least those); its new
// sources are the growth of that cumulative count (not a bound of the
// union's new sources in each interval, but they make the rows a sensor
// series whose cumulative sources are a bound).
func Lower(series ...[]Row) ([]Row, error) {
	if err := aligned(series); err != nil {
		return nil, err
	}
	out := make([]Row, len(series[0]))
	for i := range out {
		out[i].Time = series[0][i].Time
		for _, s := range series {
			r := s[i]
			out[i].Probes = add(out[i].Probes, r.Probes)
			out[i].Sources = max(out[i].Sources, r.Sources)
			out[i].CumulativeSources = max(out[i].CumulativeSources, r.CumulativeSources)
		}
		if i == 0 {
			out[i].NewSources = maxNew(series, 0)
		} else {
			out[i].NewSources = out[i].CumulativeSources - out[i-1].CumulativeSources
		}
	}
	return out, nil
}

// maxNew returns, among the sensors whose cumulative sources are the
// largest in row i, the most new sources: the growth of the largest
// cumulative count into row 0 is that sensor's.
func maxNew(series [][]Row, i int) int64 {
	var top, n int64 = -1, 0
	for _, s := range series {
		switch r := s[i]; {
		case r.CumulativeSources > top:
			top, n = r.CumulativeSources, r.NewSources
		case r.CumulativeSources == top:
			n = max(n, r.NewSources)
		}
	}
	return n
}

// aligned checks that there is at least one series, that all have the
// same number of rows (at least one), and that their rows' times agree.
func aligned(series [][]Row) error {
	if len(series) == 0 || len(series[0]) == 0 {
		return fmt.Errorf("no series to pool")
	}
	n := len(series[0])
	for j, s := range series {
		if len(s) != n {
			return fmt.Errorf("series %d has %d rows, series 1 has %d: pooled series must cover the same intervals", j+1, len(s), n)
		}
		for i, r := range s {
			if !r.Time.Equal(series[0][i].Time) {
				return fmt.Errorf("series %d, row %d: time %s, series 1's is %s: pooled series must cover the same intervals", j+1, i+1, r.Time.Format(time.RFC3339), series[0][i].Time.Format(time.RFC3339))
			}
		}
	}
	return nil
}

// add adds two counts, held at math.MaxInt64.
func add(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
