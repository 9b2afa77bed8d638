package compare

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pelletier/go-toml/v2"

	"wormwatch/internal/thousands"
	"wormwatch/results"
)

// CSVColumns are the columns of compare.csv, in order.
var CSVColumns = []string{
	"metric", "unit", "label", "folder", "kind", "seeds", "n",
	"p05", "p50", "p95", "difference", "difference_unit", "relative_difference",
}

// WriteCSV writes the table as compare.csv: one row per metric and folder.
// Times (unit UTC) are RFC 3339 and their differences in hours; other
// values are plain numbers in the metric's unit. An empty field is a value
// that is undefined (no peak without infections) or, for the first folder,
// a difference.
func (c *Comparison) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVColumns); err != nil {
		return err
	}
	for _, r := range c.Rows {
		for i, v := range r.Values {
			f := c.Folders[i]
			dunit := r.Metric.Unit
			if r.Metric.Time {
				dunit = "h"
			}
			rec := []string{
				r.Metric.Key, r.Metric.Unit, f.Label, f.Path, string(f.Kind), strconv.Itoa(len(f.Outcomes)), strconv.Itoa(v.N),
				csvValue(r.Metric, v.P05), csvValue(r.Metric, v.P50), csvValue(r.Metric, v.P95),
				csvDiff(r.Metric, v.Diff), dunit, csvNumber(v.Rel),
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvNumber(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return ""
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

func csvValue(m Metric, x float64) string {
	if m.Time {
		if math.IsNaN(x) {
			return ""
		}
		return timeOf(x).Format(time.RFC3339)
	}
	return csvNumber(x)
}

func csvDiff(m Metric, d float64) string {
	if m.Time {
		return csvNumber(math.Round(d/3600*1e6) / 1e6)
	}
	return csvNumber(d)
}

// timeOf is the instant of Unix seconds x, to the second.
func timeOf(x float64) time.Time { return time.Unix(int64(math.Round(x)), 0).UTC() }

// jsonDoc is compare.json.
type jsonDoc struct {
	Reference string       `json:"reference"`
	Folders   []jsonFolder `json:"folders"`
	Metrics   []jsonMetric `json:"metrics"`
}

type jsonFolder struct {
	Label      string       `json:"label"`
	Path       string       `json:"path"`
	Kind       results.Kind `json:"kind"`
	Scenario   string       `json:"scenario"`
	Seeds      []uint64     `json:"seeds"`
	Start      time.Time    `json:"start"`
	End        time.Time    `json:"end"`
	BinSeconds float64      `json:"bin_seconds"`
	Sensors    []string     `json:"sensors"`
	Changes    []Change     `json:"scenario_changes"`
}

type jsonMetric struct {
	Key            string      `json:"key"`
	Title          string      `json:"title"`
	Unit           string      `json:"unit"`
	DifferenceUnit string      `json:"difference_unit"`
	Values         []jsonValue `json:"values"`
}

type jsonValue struct {
	Label string `json:"label"`
	N     int    `json:"n"`
	P05   any    `json:"p05"`
	P50   any    `json:"p50"`
	P95   any    `json:"p95"`
	Diff  any    `json:"difference"`
	Rel   any    `json:"relative_difference"`
}

// WriteJSON writes the table and the folders as compare.json: values as
// in compare.csv, undefined ones as null.
func (c *Comparison) WriteJSON(w io.Writer) error {
	doc := jsonDoc{Reference: c.Folders[0].Label}
	for i, f := range c.Folders {
		jf := jsonFolder{Label: f.Label, Path: f.Path, Kind: f.Kind, Scenario: f.Scenario, Seeds: f.Seeds(),
			Start: f.Times[0], End: f.End(), BinSeconds: f.Bin.Seconds(), Sensors: f.Sensors, Changes: c.Changes(i)}
		if jf.Sensors == nil {
			jf.Sensors = []string{}
		}
		if jf.Changes == nil {
			jf.Changes = []Change{}
		}
		doc.Folders = append(doc.Folders, jf)
	}
	for _, r := range c.Rows {
		m := r.Metric
		jm := jsonMetric{Key: m.Key, Title: m.Title, Unit: m.Unit, DifferenceUnit: m.Unit}
		if m.Time {
			jm.DifferenceUnit = "h"
		}
		for i, v := range r.Values {
			jv := jsonValue{Label: c.Folders[i].Label, N: v.N,
				P05: jsonValueOf(m, v.P05), P50: jsonValueOf(m, v.P50), P95: jsonValueOf(m, v.P95),
				Diff: nil, Rel: jsonNumber(v.Rel)}
			if m.Time {
				jv.Diff = jsonNumber(math.Round(v.Diff/3600*1e6) / 1e6)
			} else {
				jv.Diff = jsonNumber(v.Diff)
			}
			jm.Values = append(jm.Values, jv)
		}
		doc.Metrics = append(doc.Metrics, jm)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func jsonNumber(x float64) any {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return x
}

func jsonValueOf(m Metric, x float64) any {
	if m.Time {
		if math.IsNaN(x) {
			return nil
		}
		return timeOf(x).Format(time.RFC3339)
	}
	return jsonNumber(x)
}

// WriteText prints the table for a terminal: per metric, each folder's
// median, 5-95% over seeds, and difference to the first folder; then what
// each folder's scenario changes from the first's.
func (c *Comparison) WriteText(w io.Writer) error {
	ref := c.Folders[0].Label
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "metric\tfolder\tmedian\t5%%-95%% over seeds\tdifference to %s\n", ref)
	for _, r := range c.Rows {
		m := r.Metric
		for i, v := range r.Values {
			name := ""
			if i == 0 {
				name = m.Title
				if !m.Time {
					name += " (" + m.Unit + ")"
				} else {
					name += " (UTC)"
				}
			}
			spread := "-"
			if len(c.Folders[i].Outcomes) > 1 && v.N > 0 {
				spread = "[" + textValue(m, v.P05) + ", " + textValue(m, v.P95) + "]"
				if v.N < len(c.Folders[i].Outcomes) {
					spread += fmt.Sprintf(" (%d of %d seeds)", v.N, len(c.Folders[i].Outcomes))
				}
			}
			diff := ""
			if i > 0 {
				diff = textDiff(m, v)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, c.Folders[i].Label, textValue(m, v.P50), spread, diff)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !c.SameSpan() {
		fmt.Fprintf(w, "\n%s\n", spanNote)
	}
	for i := 1; i < len(c.Folders); i++ {
		ch := c.Changes(i)
		if len(ch) == 0 {
			continue
		}
		fmt.Fprintf(w, "\nScenario keys that %s changes from %s:\n", c.Folders[i].Label, ref)
		for k, x := range ch {
			if k == maxChanges {
				fmt.Fprintf(w, "  ... and %d more\n", len(ch)-k)
				break
			}
			fmt.Fprintf(w, "  %s\n", x)
		}
	}
	return nil
}

// maxChanges is the most scenario changes listed per folder in the
// terminal and the page.
const maxChanges = 20

// textValue formats a value for the terminal and the page.
func textValue(m Metric, x float64) string {
	switch {
	case math.IsNaN(x):
		return "-"
	case m.Time:
		return timeOf(x).Round(time.Minute).Format("2006-01-02 15:04")
	}
	return number(x)
}

// number formats a count: thousands separators, three significant digits
// above 10 million (1.04e+12), three below 100 when not whole.
func number(x float64) string {
	a := math.Abs(x)
	switch {
	case a >= 1e7:
		return strconv.FormatFloat(x, 'g', 3, 64)
	case a >= 100 || x == math.Round(x):
		return thousands.Round(x)
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}

// textDiff formats a difference to the first folder: "+12,345 (+3.5%)",
// "-7.0 d", "+2.5 h", "+12 min".
func textDiff(m Metric, v Value) string {
	if math.IsNaN(v.Diff) {
		return "-"
	}
	if m.Time {
		return durationDiff(time.Duration(math.Round(v.Diff)) * time.Second)
	}
	if v.Diff == 0 {
		return "0"
	}
	s := number(v.Diff)
	if v.Diff > 0 {
		s = "+" + s
	}
	switch pc := 100 * v.Rel; {
	case math.IsNaN(pc):
	case math.Abs(pc) < 1:
		s += fmt.Sprintf(" (%+.2f%%)", pc)
	default:
		s += fmt.Sprintf(" (%+.1f%%)", pc)
	}
	return s
}

func durationDiff(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	switch {
	case d == 0:
		return "0"
	case d < time.Minute:
		return fmt.Sprintf("%s%.0f s", sign, d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%s%.0f min", sign, d.Minutes())
	case d < 48*time.Hour:
		return fmt.Sprintf("%s%.1f h", sign, d.Hours())
	}
	return fmt.Sprintf("%s%.1f d", sign, d.Hours()/24)
}

// Change is one key of a folder's scenario that differs from the first
// folder's: "worm.crv2.start: 2001-07-19T10:00:00Z -> 2001-09-01T00:00:00Z".
type Change struct {
	Key      string `json:"key"`
	From, To string // "" where the key is absent
}

// MarshalJSON writes absent values as null.
func (ch Change) MarshalJSON() ([]byte, error) {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return json.Marshal(struct {
		Key  string  `json:"key"`
		From *string `json:"from"`
		To   *string `json:"to"`
	}{ch.Key, opt(ch.From), opt(ch.To)})
}

// String writes the change as "key: from -> to", "(absent)" for a
// missing value.
func (ch Change) String() string {
	from, to := ch.From, ch.To
	if from == "" {
		from = "(absent)"
	}
	if to == "" {
		to = "(absent)"
	}
	return ch.Key + ": " + from + " -> " + to
}

// Changes lists the keys of folder i's scenario (scenario.toml, resolved)
// that differ from the first folder's, sorted by key. Entries of an array
// of tables ([[worm]], [[defense.advisory]]) are named by their name key
// as --set names them (worm.crv2.start), or by their index. It is empty
// when either folder has no readable scenario.toml.
func (c *Comparison) Changes(i int) []Change {
	if i == 0 {
		return nil
	}
	a, b := flatTOML(c.Folders[0].ScenarioTOML), flatTOML(c.Folders[i].ScenarioTOML)
	if a == nil || b == nil {
		return nil
	}
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var out []Change
	for k := range keys {
		if a[k] != b[k] {
			out = append(out, Change{Key: k, From: a[k], To: b[k]})
		}
	}
	sort.Slice(out, func(x, y int) bool { return out[x].Key < out[y].Key })
	return out
}

// flatTOML reads a TOML document into dotted keys and text values, or nil.
func flatTOML(b []byte) map[string]string {
	if len(b) == 0 {
		return nil
	}
	var doc map[string]any
	if err := toml.Unmarshal(b, &doc); err != nil {
		return nil
	}
	out := map[string]string{}
	flatten("", doc, out)
	return out
}

func flatten(prefix string, v any, out map[string]string) {
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			flatten(join(k), e, out)
		}
	case []any:
		tables := len(x) > 0
		for _, e := range x {
			_, ok := e.(map[string]any)
			tables = tables && ok
		}
		if !tables {
			out[prefix] = tomlText(x)
			return
		}
		for i, e := range x {
			m := e.(map[string]any)
			id := strconv.Itoa(i)
			if n, ok := m["name"].(string); ok && n != "" {
				id = n
			}
			flatten(join(id), m, out)
		}
	default:
		out[prefix] = tomlText(x)
	}
}

// tomlText writes a value as a scenario file would.
func tomlText(v any) string {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case string:
		return strconv.Quote(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = tomlText(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v)
}
