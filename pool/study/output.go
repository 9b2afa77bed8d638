package study

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"wormwatch/internal/atomicfile"
	"wormwatch/internal/thousands"
)

// The files of a study's folder.
const (
	// CSVFile holds one row per series and time after its alarm (CSVColumns).
	CSVFile = "pool.csv"
	// JSONFile holds the study: what ran, each seed's members and truth,
	// and the table's lines.
	JSONFile = "pool.json"
	// TextFile holds the table as printed.
	TextFile = "pool.txt"
)

// CSVColumns are the columns of CSVFile: the seed, the pool (its count
// of members and index), the series (pool: the exact union; pool-sum:
// the members' series summed; member: one member's own, with its index),
// its size, its own alarm (empty without) and the infected share then;
// then, at each time after the pool's alarm, the series' estimates and
// the truth. A pool without an alarm has one row per series, its
// estimate columns empty; so are estimates past the run's end or that
// the filter does not have. A pool of one member is the member: its
// three series are the same.
var CSVColumns = []string{"seed", "count", "pool", "series", "member", "size", "alarm", "alarm_hours", "infected_at_alarm",
	"after_hours", "time", "n", "n_low", "n_high", "true_n", "k_per_hour", "true_k_per_hour", "infected"}

// Write writes the study's folder dir (which must not exist, or be a
// folder claimed empty: atomicfile.WriteDir): CSVFile, JSONFile and
// TextFile, whole or not at all.
func Write(dir string, s *Study) error {
	return atomicfile.WriteDir(dir, func(root *os.Root) error {
		for _, f := range []struct {
			name  string
			write func(io.Writer) error
		}{{CSVFile, s.WriteCSV}, {JSONFile, s.WriteJSON}, {TextFile, s.WriteText}} {
			if err := atomicfile.Create(root, f.name, f.write); err != nil {
				return err
			}
		}
		return nil
	})
}

// WriteJSON writes the study as JSON (JSONFile); figures that are not
// numbers (no alarm) are null.
func (s *Study) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// MarshalJSON writes a Spread with null for a figure that is not a
// number.
func (s Spread) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, `{"n":%d,"missing":%d,"median":%s,"min":%s,"max":%s}`, s.N, s.Missing, num(s.Median), num(s.Min), num(s.Max)), nil
}

// num formats x for JSON and CSV: "null" (JSON) for NaN and infinities.
func num(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "null"
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// cell formats x for the CSV: empty for NaN and infinities.
func cell(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return ""
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// WriteCSV writes one row per series of each pool and time after the
// pool's alarm (CSVFile).
func (s *Study) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write(CSVColumns)
	for _, seed := range s.Seeds {
		for i := range seed.Pools {
			p := &seed.Pools[i]
			head := []string{strconv.FormatUint(seed.Seed, 10), strconv.Itoa(p.Count), strconv.Itoa(p.Index)}
			s.csvRows(cw, append(head, "pool", ""), &p.Exact)
			s.csvRows(cw, append(head, "pool-sum", ""), &p.Summed)
			for j := range p.Members {
				s.csvRows(cw, append(head, "member", strconv.Itoa(p.Index*p.Count+j)), &p.Members[j])
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvRows writes a series' rows: one per estimate, or one with empty
// estimate columns when the pool has none.
func (s *Study) csvRows(cw *csv.Writer, head []string, x *Outcome) {
	head = append(head, strconv.FormatUint(x.Size, 10), "", "", cell(x.Infected))
	if x.Alarmed {
		head[len(head)-3], head[len(head)-2] = x.Alarm.Format(time.RFC3339), cell(s.hours(x))
	}
	if len(x.Estimates) == 0 {
		cw.Write(append(head, make([]string, len(CSVColumns)-len(head))...))
		return
	}
	for _, e := range x.Estimates {
		row := append(slices.Clone(head), cell(e.After.Hours()), e.Time.Format(time.RFC3339),
			cell(e.N), cell(e.NLow), cell(e.NHigh), cell(e.TrueN), cell(e.K), cell(e.TrueK), cell(e.Infected))
		cw.Write(row)
	}
}

// WriteText writes the tables, for people.
func (s *Study) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "Pooled sensors: %s, %d members per run, each a /16 and %d /24s (%s addresses), %d seeds, intervals of %s\n",
		s.Scenario, s.Members, s.Slash24, thousands.Int(int64(s.Size)), len(s.Seeds), s.Interval)
	fmt.Fprintf(w, "A pool of n members is the union of their telescopes (exact, from their probes); 'summed' pools their series alone (pool.Sum).\n")
	fmt.Fprintf(w, "Median [min, max] over the pools (or members) of all seeds.\n\n")
	fmt.Fprintf(w, "Alarms (UTC):\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "members\tpools\tpooled alarm\town alarm\tpooled earlier by (min)\tsummed alarm\tinfected at pooled alarm\tat own alarm\t")
	for _, l := range s.Lines {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", l.Count, l.Pools, s.clock(l.PoolAlarm), s.clock(l.MemberAlarm),
			plain(l.Earlier, 0), s.clock(l.SumAlarm), percent(l.PoolInfected), percent(l.MemberInfected))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nEstimates at and after each pool's alarm, relative error (estimate / truth - 1): the pool's, its members' own then, its summed series' then:\n")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "members\tafter\tN pooled\tN members\tN summed\tK pooled\tK members\tK summed\t")
	for _, l := range s.Lines {
		for _, e := range l.Estimates {
			fmt.Fprintf(tw, "%d\t+%gh\t%s\t%s\t%s\t%s\t%s\t%s\t\n", l.Count, e.AfterHours, percent(e.PoolN), percent(e.MemberN), percent(e.SumN),
				percent(e.PoolK), percent(e.MemberK), percent(e.SumK))
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
	var errs []error
	for _, seed := range s.Seeds {
		_, err := fmt.Fprintf(w, "seed %d: N %s vulnerable hosts, K %.3f/h (%.3f probes/s per scanning host)\n", seed.Seed, thousands.Int(int64(seed.Truth.N)), seed.Truth.K, seed.Truth.Rate)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// clock formats a spread of hours after the start as UTC clock times
// (with the date when the run is longer than a day).
func (s *Study) clock(sp Spread) string {
	layout := "15:04"
	if s.End.Sub(s.Start) > 24*time.Hour {
		layout = "01-02 15:04"
	}
	at := func(h float64) string {
		return s.Start.Add(time.Duration(math.Round(h*3600)) * time.Second).Format(layout)
	}
	return format(sp, at)
}

// plain formats a spread of numbers with the given decimals.
func plain(sp Spread, decimals int) string {
	return format(sp, func(x float64) string { return strconv.FormatFloat(x, 'f', decimals, 64) })
}

// percent formats a spread of fractions as percentages.
func percent(sp Spread) string {
	return format(sp, func(x float64) string {
		d := 0
		if math.Abs(x) < 0.1 {
			d = 1
		}
		if math.Abs(x) < 0.01 {
			d = 2
		}
		return strconv.FormatFloat(100*x, 'f', d, 64) + "%"
	})
}

// format writes "median [min, max]", and the missing figures.
func format(sp Spread, f func(float64) string) string {
	out := "-"
	if sp.N > 0 {
		out = fmt.Sprintf("%s [%s, %s]", f(sp.Median), f(sp.Min), f(sp.Max))
	}
	if sp.Missing > 0 {
		out += fmt.Sprintf(" (%d of %d none)", sp.Missing, sp.N+sp.Missing)
	}
	return out
}
