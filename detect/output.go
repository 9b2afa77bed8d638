package detect

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"wormwatch/internal/thousands"
)

// JSONSchema names the layout of WriteJSON's output (docs/detect.md).
const JSONSchema = "wormwatch-detect/1"

type jsonReport struct {
	Schema       string                `json:"schema"`
	Inputs       []jsonInput           `json:"inputs"`
	Ignored      []jsonIgnored         `json:"ignored"`
	Lines        int64                 `json:"lines"`
	Parsed       int64                 `json:"parsed"`
	Directives   int64                 `json:"directives"`
	Matched      int64                 `json:"matched"`
	Skipped      map[string]int64      `json:"skipped"`
	SkippedFirst map[string]string     `json:"skipped_first"`
	Start        *string               `json:"start"`
	End          *string               `json:"end"`
	FirstSeen    *string               `json:"first_seen"`
	LastSeen     *string               `json:"last_seen"`
	FamilyOrder  []string              `json:"family_order"`
	Families     map[string]jsonFamily `json:"families"`
	// "sources" and "hourly" follow, written one element at a time.
}

type jsonInput struct {
	Name       string       `json:"name"`
	Format     string       `json:"format"`
	Gzip       bool         `json:"gzip"`
	Lines      int64        `json:"lines"`
	Parsed     int64        `json:"parsed"`
	Directives int64        `json:"directives"`
	Skipped    int64        `json:"skipped"`
	Packets    *jsonPackets `json:"packets,omitempty"`
}

type jsonPackets struct {
	Packets   int64 `json:"packets"`
	SYNs      int64 `json:"syns"`
	Requests  int64 `json:"requests"`
	Undecoded int64 `json:"undecoded"`
}

type jsonAttempts struct {
	Count     int64   `json:"count"`
	Sources   int64   `json:"sources"`
	FirstSeen *string `json:"first_seen"`
	LastSeen  *string `json:"last_seen"`
	// "ports" follows, written one element at a time.
}

type jsonPort struct {
	Transport string `json:"transport"`
	Port      uint16 `json:"port"`
	Attempts  int64  `json:"attempts"`
	Sources   int64  `json:"sources"`
	FirstSeen string `json:"first_seen"`
	LastSeen  string `json:"last_seen"`
}

type jsonIgnored struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

type jsonFamily struct {
	Title           string      `json:"title"`
	Kind            string      `json:"kind"`
	Description     string      `json:"description"`
	References      []Reference `json:"references"`
	EventGapSeconds float64     `json:"event_gap_seconds"`
	STIXPattern     string      `json:"stix_pattern"`
	Lines           int64       `json:"lines"`
	Sources         int64       `json:"sources"`
	Events          int64       `json:"events"`
	FirstSeen       *string     `json:"first_seen"`
	LastSeen        *string     `json:"last_seen"`
}

type jsonSource struct {
	Source      string           `json:"source"`
	FirstSeen   string           `json:"first_seen"`
	LastSeen    string           `json:"last_seen"`
	Lines       int64            `json:"lines"`
	Families    []string         `json:"families"`
	FamilyLines map[string]int64 `json:"family_lines"`
}

// MarshalJSON gives Reference lowercase keys, as in a signatures file.
func (r Reference) MarshalJSON() ([]byte, error) {
	type ref struct {
		Source string `json:"source"`
		ID     string `json:"id"`
		URL    string `json:"url,omitempty"`
	}
	return json.Marshal(ref(r))
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func optTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := rfc3339(t)
	return &s
}

// WriteJSON writes the report as one indented JSON object, in the layout
// docs/detect.md documents (schema "wormwatch-detect/1").
func (r *Report) WriteJSON(w io.Writer) error {
	head, err := json.MarshalIndent(r.jsonHead(), "", "  ")
	if err != nil {
		return err
	}
	// Sources and hours can be many: write them one by one, one per line,
	// rather than build them all in memory first.
	ew := &errWriter{w: w}
	ew.Write(bytes.TrimRight(head[:len(head)-1], " \n")) // without the closing brace
	io.WriteString(ew, ",\n  \"sources\": [")
	if err := r.writeJSONSources(ew); err != nil {
		return err
	}
	io.WriteString(ew, ",\n  \"hourly\": [")
	r.writeJSONHourly(ew)
	if r.hasAttemptInputs() {
		if err := r.writeJSONAttempts(ew); err != nil {
			return err
		}
	}
	io.WriteString(ew, "\n}\n")
	return ew.err
}

// hasAttemptInputs reports whether the report read an input that can hold
// connection attempts (a capture, a Zeek conn.log or JSON log), or counted
// attempts: its outputs then have the attempts' part, which the reports of
// web-server logs do not.
func (r *Report) hasAttemptInputs() bool {
	if r.Attempts.Count > 0 || r.Packets > 0 {
		return true
	}
	for _, in := range r.Inputs {
		if in.Packets != nil || in.Format == "zeek-conn" || in.Format == "zeek-json" {
			return true
		}
	}
	return false
}

// writeJSONAttempts writes the "attempts" key: the totals, then the ports
// one per line.
func (r *Report) writeJSONAttempts(w io.Writer) error {
	at := &r.Attempts
	head, err := json.Marshal(jsonAttempts{Count: at.Count, Sources: at.Sources, FirstSeen: optTime(at.FirstSeen), LastSeen: optTime(at.LastSeen)})
	if err != nil {
		return err
	}
	io.WriteString(w, ",\n  \"attempts\": ")
	w.Write(head[:len(head)-1])
	io.WriteString(w, `,"ports":[`)
	for i, p := range at.Ports {
		b, err := json.Marshal(jsonPort{Transport: p.Transport.String(), Port: p.Port, Attempts: p.Attempts, Sources: p.Sources,
			FirstSeen: rfc3339(p.FirstSeen), LastSeen: rfc3339(p.LastSeen)})
		if err != nil {
			return err
		}
		jsonElement(w, i, b)
	}
	jsonEnd(w, len(at.Ports))
	io.WriteString(w, "}")
	return nil
}

// jsonHead returns the keys of the JSON report before "sources": the
// totals, the inputs, the skipped lines and the families.
func (r *Report) jsonHead() jsonReport {
	j := jsonReport{
		Schema:       JSONSchema,
		Inputs:       []jsonInput{},
		Ignored:      []jsonIgnored{},
		Lines:        r.Lines,
		Parsed:       r.Parsed,
		Directives:   r.Directives,
		Matched:      r.Matched,
		Skipped:      map[string]int64{},
		SkippedFirst: map[string]string{},
		Start:        optTime(r.Start),
		End:          optTime(r.End),
		FirstSeen:    optTime(r.FirstSeen),
		LastSeen:     optTime(r.LastSeen),
		FamilyOrder:  []string{},
		Families:     map[string]jsonFamily{},
	}
	for _, in := range r.Inputs {
		ji := jsonInput{Name: in.Name, Format: in.Format, Gzip: in.Gzip, Lines: in.Lines,
			Parsed: in.Parsed, Directives: in.Directives, Skipped: in.SkippedTotal()}
		if p := in.Packets; p != nil {
			ji.Packets = &jsonPackets{Packets: p.Packets, SYNs: p.SYNs, Requests: p.Requests, Undecoded: p.Undecoded}
		}
		j.Inputs = append(j.Inputs, ji)
	}
	for _, ig := range r.Ignored {
		j.Ignored = append(j.Ignored, jsonIgnored(ig))
	}
	for _, why := range Reasons() {
		if listed(why, r.Skipped[why]) {
			j.Skipped[why.String()] = r.Skipped[why]
		}
		if at := r.FirstSkipped[why]; at != "" {
			j.SkippedFirst[why.String()] = at
		}
	}
	for _, f := range r.Families {
		refs := f.References
		if refs == nil {
			refs = []Reference{}
		}
		j.FamilyOrder = append(j.FamilyOrder, f.Name)
		j.Families[f.Name] = jsonFamily{Title: f.DisplayName(), Kind: f.Kind, Description: oneLine(f.Description), References: refs,
			EventGapSeconds: f.EventGap.Seconds(), STIXPattern: f.Pattern(), Lines: f.Lines, Sources: f.Sources,
			Events: f.Events, FirstSeen: optTime(f.FirstSeen), LastSeen: optTime(f.LastSeen)}
	}
	return j
}

// writeJSONSources writes the elements of "sources", one per line, and
// the closing bracket.
func (r *Report) writeJSONSources(w io.Writer) error {
	i := 0
	for s, err := range r.Sources.All() {
		if err != nil {
			return err
		}
		fl := make(map[string]int64, len(s.Families))
		for _, f := range s.Families {
			fl[f.Name] = f.Lines
		}
		b, err := json.Marshal(jsonSource{Source: s.Source, FirstSeen: rfc3339(s.FirstSeen),
			LastSeen: rfc3339(s.LastSeen), Lines: s.Lines, Families: s.FamilyNames(), FamilyLines: fl})
		if err != nil {
			return err
		}
		jsonElement(w, i, b)
		i++
	}
	jsonEnd(w, i)
	return nil
}

// writeJSONHourly writes the elements of "hourly", one per line, and the
// closing bracket: per hour with matches, the lines of each family with
// lines in it, by family name (the order of JSON object keys
// encoding/json writes).
func (r *Report) writeJSONHourly(w io.Writer) {
	var cols []int // the families with lines, by name
	for i, f := range r.Families {
		if f.Lines > 0 {
			cols = append(cols, i)
		}
	}
	slices.SortFunc(cols, func(a, b int) int { return strings.Compare(r.Families[a].Name, r.Families[b].Name) })
	keys := make([][]byte, len(r.Families)) // their names as JSON strings
	for _, c := range cols {
		keys[c], _ = json.Marshal(r.Families[c].Name)
	}
	var line []byte
	for i, h := range r.Hourly {
		line = append(line[:0], `{"hour":"`...)
		line = h.Hour.UTC().AppendFormat(line, time.RFC3339Nano)
		line = append(line, `","counts":{`...)
		n := 0
		for _, c := range cols {
			if v := h.Count(c); v > 0 {
				if n > 0 {
					line = append(line, ',')
				}
				line = append(line, keys[c]...)
				line = append(line, ':')
				line = strconv.AppendInt(line, v, 10)
				n++
			}
		}
		line = append(line, "}}"...)
		jsonElement(w, i, line)
	}
	jsonEnd(w, len(r.Hourly))
}

// jsonElement writes element i of a JSON array on a line of its own.
func jsonElement(w io.Writer, i int, b []byte) {
	if i > 0 {
		io.WriteString(w, ",")
	}
	io.WriteString(w, "\n    ")
	w.Write(b)
}

// jsonEnd closes a JSON array of n elements.
func jsonEnd(w io.Writer, n int) {
	if n > 0 {
		io.WriteString(w, "\n  ")
	}
	io.WriteString(w, "]")
}

// OutputFormat is a format the report is written in (Write).
type OutputFormat string

// The output formats.
const (
	TextOutput OutputFormat = "text" // WriteText
	CSVOutput  OutputFormat = "csv"  // WriteCSV, one table
	JSONOutput OutputFormat = "json" // WriteJSON
)

// OutputFormats lists the output formats, for messages.
const OutputFormats = "text, csv, json"

// Known reports whether f is one of the output formats.
func (f OutputFormat) Known() bool { return f == TextOutput || f == CSVOutput || f == JSONOutput }

// Table is a table WriteCSV writes.
type Table string

// The tables of WriteCSV.
const (
	TableFamilies Table = "families"
	TableSources  Table = "sources"
	TableHourly   Table = "hourly"
	TableSkipped  Table = "skipped"
	TableAttempts Table = "attempts"
)

// Tables lists the tables WriteCSV writes.
const Tables = "families, sources, hourly, skipped, attempts"

// Known reports whether t is one of the tables.
func (t Table) Known() bool {
	return t == TableFamilies || t == TableSources || t == TableHourly || t == TableSkipped || t == TableAttempts
}

// Write writes the report in format: for people (WriteText, with the top
// sources), as CSV (WriteCSV, the table) or as JSON (WriteJSON).
func (r *Report) Write(w io.Writer, format OutputFormat, table Table, top int) error {
	switch format {
	case JSONOutput:
		return r.WriteJSON(w)
	case CSVOutput:
		return r.WriteCSV(w, table)
	}
	return r.WriteText(w, top)
}

// WriteCSV writes one table of the report as CSV with a header line:
//
//	families  family,kind,lines,sources,events,first_seen,last_seen
//	sources   source,first_seen,last_seen,lines,families (families joined with ";")
//	hourly    hour, then one column per family (lines in the hour)
//	skipped   reason,lines,first_at
//	attempts  transport,port,attempts,sources,first_seen,last_seen
func (r *Report) WriteCSV(w io.Writer, table Table) error {
	cw := csv.NewWriter(w)
	i64 := func(n int64) string { return strconv.FormatInt(n, 10) }
	opt := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return rfc3339(t)
	}
	switch table {
	case TableFamilies:
		cw.Write([]string{"family", "kind", "lines", "sources", "events", "first_seen", "last_seen"})
		for _, f := range r.Families {
			cw.Write([]string{f.Name, f.Kind, i64(f.Lines), i64(f.Sources), i64(f.Events), opt(f.FirstSeen), opt(f.LastSeen)})
		}
	case TableSources:
		cw.Write([]string{"source", "first_seen", "last_seen", "lines", "families"})
		for s, err := range r.Sources.All() {
			if err != nil {
				return err
			}
			cw.Write([]string{s.Source, rfc3339(s.FirstSeen), rfc3339(s.LastSeen), i64(s.Lines), strings.Join(s.FamilyNames(), ";")})
		}
	case TableHourly:
		head := []string{"hour"}
		for _, f := range r.Families {
			head = append(head, f.Name)
		}
		cw.Write(head)
		row := make([]string, 0, len(head))
		for _, h := range r.Hourly {
			row = append(row[:0], rfc3339(h.Hour))
			k := 0
			for i := range r.Families {
				var n int64
				if k < len(h.Families) && h.Families[k] == i {
					n, k = h.Counts[k], k+1
				}
				row = append(row, i64(n))
			}
			cw.Write(row)
		}
	case TableSkipped:
		cw.Write([]string{"reason", "lines", "first_at"})
		for _, why := range Reasons() {
			if listed(why, r.Skipped[why]) {
				cw.Write([]string{why.String(), i64(r.Skipped[why]), r.FirstSkipped[why]})
			}
		}
	case TableAttempts:
		cw.Write([]string{"transport", "port", "attempts", "sources", "first_seen", "last_seen"})
		for _, p := range r.Attempts.Ports {
			cw.Write([]string{p.Transport.String(), strconv.Itoa(int(p.Port)), i64(p.Attempts), i64(p.Sources), rfc3339(p.FirstSeen), rfc3339(p.LastSeen)})
		}
	default:
		return fmt.Errorf("unknown table %q (allowed: %s)", table, Tables)
	}
	cw.Flush()
	return cw.Error()
}

// WriteText writes the report for people: totals, the per-family summary,
// skipped lines, the top sources (all when top is 0) and the hours with
// matches.
func (r *Report) WriteText(w io.Writer, top int) error {
	ew := &errWriter{w: w}
	r.textTotals(ew)
	r.textFamilies(ew)
	if r.hasAttemptInputs() {
		r.textAttempts(ew, top)
	}
	r.textSkipped(ew)
	if err := r.textSources(ew, top); err != nil {
		return err
	}
	r.textHourly(ew)
	return ew.err
}

// textTotals writes what was read and what matched, and the files passed
// over.
func (r *Report) textTotals(w io.Writer) {
	span := ""
	if !r.Start.IsZero() {
		span = fmt.Sprintf(", %s to %s UTC", textTime(r.Start), textTime(r.End))
	}
	var read []string
	var pk PacketCounts
	captures := 0
	for _, in := range r.Inputs {
		if p := in.Packets; p != nil {
			captures++
			pk.Packets, pk.SYNs, pk.Requests, pk.Undecoded = pk.Packets+p.Packets, pk.SYNs+p.SYNs, pk.Requests+p.Requests, pk.Undecoded+p.Undecoded
		}
	}
	if captures < len(r.Inputs) {
		read = append(read, fmt.Sprintf("%s lines: %s parsed, %s skipped%s", thousands.Int(r.Lines),
			thousands.Int(r.Parsed), thousands.Int(r.SkippedTotal()), r.directives()))
	}
	if captures > 0 {
		read = append(read, fmt.Sprintf("%s: %s, %s%s", plural(pk.Packets, "packet"), plural(pk.SYNs, "TCP SYN"),
			plural(pk.Requests, "HTTP request"), undecoded(pk.Undecoded)))
	}
	fmt.Fprintf(w, "Read %s (%s)%s\n", plural(int64(len(r.Inputs)), "input"), strings.Join(read, "; "), span)
	for _, ig := range r.Ignored {
		fmt.Fprintf(w, "Passed over %s: %s\n", ig.Name, ig.Reason)
	}
	what := "line"
	if captures > 0 {
		what = "request"
	}
	if r.Matched == 0 {
		fmt.Fprintf(w, "No %s matched a worm signature.\n", what)
	} else {
		fmt.Fprintf(w, "%s matched worm signatures, from %s, %s to %s UTC\n", plural(r.Matched, what),
			plural(r.Sources.Len(), "source"), textTime(r.FirstSeen), textTime(r.LastSeen))
	}
	fmt.Fprintf(w, "\n")
}

// undecoded says how many packets could not be read, if any.
func undecoded(n int64) string {
	if n == 0 {
		return ""
	}
	return ", " + thousands.Int(n) + " not decoded"
}

// textAttempts writes the connection attempts: the totals and the ports
// with the most (all when top is 0).
func (r *Report) textAttempts(w io.Writer, top int) {
	at := &r.Attempts
	if at.Count == 0 {
		fmt.Fprintf(w, "\nNo connection attempt (TCP SYN, or unanswered connection in a Zeek conn.log).\n")
		return
	}
	fmt.Fprintf(w, "\nConnection attempts (TCP SYNs, unanswered connections in Zeek conn.logs): %s from %s to %s, %s to %s UTC\n",
		thousands.Int(at.Count), plural(at.Sources, "source"), plural(int64(len(at.Ports)), "port"), textTime(at.FirstSeen), textTime(at.LastSeen))
	ports := at.Ports
	if top > 0 && top < len(ports) {
		ports = ports[:top]
		fmt.Fprintf(w, "Top %d ports (by attempts):\n", top)
	}
	t := newTextTable(w, []string{"port", "attempts", "sources", "first seen (UTC)", "last seen (UTC)"}, []bool{true, true, true, false, false})
	cells := func(p PortResult) []string {
		return []string{strconv.Itoa(int(p.Port)) + "/" + p.Transport.String(), thousands.Int(p.Attempts), thousands.Int(p.Sources), textTime(p.FirstSeen), textTime(p.LastSeen)}
	}
	for _, p := range ports {
		t.widen(cells(p)...)
	}
	t.header()
	for _, p := range ports {
		t.row(cells(p)...)
	}
}

// textFamilies writes the table of families.
func (r *Report) textFamilies(w io.Writer) {
	t := newTextTable(w, []string{"family", "kind", "lines", "sources", "events", "first seen (UTC)", "last seen (UTC)"},
		[]bool{false, false, true, true, true, false, false})
	for _, f := range r.Families {
		t.widen(f.Name, f.Kind, thousands.Int(f.Lines), thousands.Int(f.Sources), thousands.Int(f.Events), textTime(f.FirstSeen), textTime(f.LastSeen))
	}
	t.header()
	for _, f := range r.Families {
		t.row(f.Name, f.Kind, thousands.Int(f.Lines), thousands.Int(f.Sources), thousands.Int(f.Events), textTime(f.FirstSeen), textTime(f.LastSeen))
	}
}

// textSkipped writes the table of skipped lines by reason, if any were.
func (r *Report) textSkipped(w io.Writer) {
	if r.SkippedTotal() == 0 {
		return
	}
	fmt.Fprintf(w, "\nSkipped lines:\n")
	t := newTextTable(w, []string{"reason", "lines", "first at", "what it means"}, []bool{false, true, false, false})
	for _, why := range Reasons() {
		if n := r.Skipped[why]; n > 0 {
			t.widen(why.String(), thousands.Int(n), r.FirstSkipped[why], why.Describe())
		}
	}
	t.header()
	for _, why := range Reasons() {
		if n := r.Skipped[why]; n > 0 {
			t.row(why.String(), thousands.Int(n), r.FirstSkipped[why], why.Describe())
		}
	}
}

// textSources writes the table of the top sources (all when top is 0), if
// any matched.
func (r *Report) textSources(w io.Writer, top int) error {
	if r.Sources.Len() == 0 {
		return nil
	}
	n := r.Sources.Len()
	if top > 0 && int64(top) < n {
		n = int64(top)
		fmt.Fprintf(w, "\nTop %d of %s (by matched lines):\n", n, plural(r.Sources.Len(), "source"))
	} else {
		fmt.Fprintf(w, "\nSources:\n")
	}
	// Two passes over the first n sources: widths, then rows (the
	// table may be larger than memory, and is read again).
	t := newTextTable(w, []string{"source", "lines", "first seen (UTC)", "last seen (UTC)", "families"}, []bool{false, true, false, false, false})
	for pass := range 2 {
		if pass == 1 {
			t.header()
		}
		k := int64(0)
		for s, err := range r.Sources.All() {
			if err != nil {
				return err
			}
			if k++; k > n {
				break
			}
			if pass == 0 {
				t.widen(s.Source, thousands.Int(s.Lines), textTime(s.FirstSeen), textTime(s.LastSeen), "")
			} else {
				t.row(s.Source, thousands.Int(s.Lines), textTime(s.FirstSeen), textTime(s.LastSeen), strings.Join(s.FamilyNames(), ", "))
			}
		}
	}
	return nil
}

// textHourly writes the matched lines per hour and family with lines, for
// the hours with matches.
func (r *Report) textHourly(w io.Writer) {
	if len(r.Hourly) == 0 {
		return
	}
	var cols []int
	head, right := []string{"hour (UTC)"}, []bool{false}
	for i, f := range r.Families {
		if f.Lines > 0 {
			cols = append(cols, i)
			head, right = append(head, f.Name), append(right, true)
		}
	}
	fmt.Fprintf(w, "\nMatched lines per hour, hours with matches:\n")
	t := newTextTable(w, head, right)
	cells := make([]string, len(head))
	t.widen("2006-01-02 15:04")
	for i, c := range cols {
		cells[i+1] = thousands.Int(r.Families[c].Lines) // no hour holds more than the total
	}
	t.widen(cells...)
	t.header()
	for _, h := range r.Hourly {
		cells[0] = h.Hour.UTC().Format("2006-01-02 15:04")
		for i, c := range cols {
			cells[i+1] = thousands.Int(h.Count(c))
		}
		t.row(cells...)
	}
}

// textTable writes an aligned table one row at a time: its column widths
// are settled first (widen), so that no row needs to be held, unlike with
// text/tabwriter.
type textTable struct {
	w      io.Writer
	head   []string
	right  []bool
	widths []int
}

func newTextTable(w io.Writer, head []string, right []bool) *textTable {
	t := &textTable{w: w, head: head, right: right, widths: make([]int, len(head))}
	t.widen(head...)
	return t
}

func (t *textTable) widen(cells ...string) {
	for i, c := range cells {
		t.widths[i] = max(t.widths[i], utf8.RuneCountInString(c))
	}
}

func (t *textTable) header() { t.row(t.head...) }

func (t *textTable) row(cells ...string) {
	var b strings.Builder
	b.WriteString("  ")
	for i, c := range cells {
		pad := strings.Repeat(" ", max(t.widths[i]-utf8.RuneCountInString(c), 0))
		switch {
		case t.right[i]:
			b.WriteString(pad + c)
		case i == len(cells)-1:
			b.WriteString(c)
		default:
			b.WriteString(c + pad)
		}
		if i < len(cells)-1 {
			b.WriteString("  ")
		}
	}
	b.WriteString("\n")
	io.WriteString(t.w, b.String())
}

type errWriter struct {
	w   io.Writer
	err error
}

// Write writes b unless an earlier write failed, and keeps the first error.
func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}

// directives says how many directive lines were read: IIS directives
// and Zeek header lines.
func (r *Report) directives() string {
	if r.Directives == 0 {
		return ""
	}
	var zeek int64
	for _, in := range r.Inputs {
		if strings.HasPrefix(in.Format, "zeek") {
			zeek += in.Directives
		}
	}
	switch zeek {
	case 0:
		return ", " + thousands.Int(r.Directives) + " IIS directives"
	case r.Directives:
		return ", " + thousands.Int(r.Directives) + " Zeek header lines"
	}
	return ", " + thousands.Int(r.Directives) + " IIS directives and Zeek header lines"
}

func textTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

func plural(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return thousands.Int(n) + " " + word + "s"
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
