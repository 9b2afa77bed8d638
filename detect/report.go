package detect

import (
	"iter"
	"slices"
	"time"
)

// Report is what an Analyzer found: plain data, for the writers of this
// package and for other packages (share writes it as STIX).
type Report struct {
	Inputs  []Input   // the inputs read, in order
	Ignored []Ignored // files found in folders and passed over: their format could not be told

	Counts                          // line counts over all inputs
	FirstSkipped [numReasons]string // where the first line skipped for each Reason was, "file:line"; "" if none
	Matched      int64              // lines (and requests from packets) that matched at least one family
	Packets      int64              // packets read from captures

	Start, End          time.Time // earliest and latest time of any parsed line; zero when none parsed
	FirstSeen, LastSeen time.Time // earliest and latest time of a matched line; zero when none matched

	Families []FamilyResult // every enabled family, in signature table order, matched or not
	Sources  *Sources       // every source of a matched line, by lines (most first), then first seen, then the source
	Hourly   []HourCounts   // hours (UTC) with a matched line, in time order
	Series   *Series        // the sensor series, when Options.SeriesInterval was set
	Attempts Attempts       // connection attempts: TCP SYNs in captures, unanswered connections in Zeek conn.logs
}

// Close removes the report's temporary file, if it has one (a source table
// larger than Options.Memory is kept in one). The report's sources cannot
// be read after it.
func (r *Report) Close() error { return r.Sources.close() }

// Input is one input read.
type Input struct {
	Name      string            // file name, "stdin" for standard input
	Format    string            // combined, common, iis, zeek-http, zeek-conn, zeek-json, pcap or pcapng; auto when the input was empty
	Gzip      bool              // the input was gzip-compressed
	Counts                      // its line counts (none for a capture)
	SkippedAt [numReasons]int64 // the line number of the first line skipped for each Reason; 0 if none
	Packets   *PacketCounts     // a capture's packet counts; nil for a log
}

// PacketCounts are what a capture held.
type PacketCounts struct {
	Packets   int64 // packets read
	SYNs      int64 // TCP SYNs (SYN without ACK): connection attempts
	Requests  int64 // HTTP requests reassembled from TCP payloads
	Undecoded int64 // packets whose headers could not be read: cut short, or of a link or network type not read (ARP, ...)
}

// Ignored is a file found in a folder and passed over.
type Ignored struct {
	Name   string
	Reason string
}

// FamilyResult is what was found of one family.
type FamilyResult struct {
	Family                        // the signature: name, kind, description, references, event gap, rules
	Lines               int64     // lines that matched the family
	Sources             int64     // distinct sources of those lines
	Events              int64     // events: bursts of lines from one source no more than EventGap apart (every line when EventGap is 0)
	FirstSeen, LastSeen time.Time // time of the first and last matched line; zero when none
}

// SourceResult is one source (client address) of matched lines.
type SourceResult struct {
	Source              string         // the address (or host name) as logged
	FirstSeen, LastSeen time.Time      // first and last matched line from it
	Lines               int64          // its matched lines
	Families            []SourceFamily // the families its lines matched, in table order
}

// SourceFamily is what one source sent of one family.
type SourceFamily struct {
	Name                string    // the family
	Lines               int64     // lines of the family from the source
	FirstSeen, LastSeen time.Time // the first and last of them
}

// FamilyNames returns the names of the source's families.
func (s *SourceResult) FamilyNames() []string {
	out := make([]string, len(s.Families))
	for i, f := range s.Families {
		out[i] = f.Name
	}
	return out
}

// HourCounts are the matched lines of one hour by family. Only the families
// with lines in the hour are held: a table of thousands of families costs
// no more than one of a few.
type HourCounts struct {
	Hour     time.Time // start of the hour, UTC
	Families []int     // the families with matched lines in the hour: indices into Report.Families, increasing
	Counts   []int64   // their lines, as Families
}

// Count returns the lines of family i (an index into Report.Families) in
// the hour.
func (h *HourCounts) Count(i int) int64 {
	if j, found := slices.BinarySearch(h.Families, i); found {
		return h.Counts[j]
	}
	return 0
}

// Series is a sensor series built from logs: worm requests per interval,
// in the schema of a simulated telescope (time, probes, sources,
// new_sources, cumulative_sources, size): one row per interval from the
// first with a matched line to the last, the empty ones included.
type Series struct {
	Interval time.Duration
	Attempts bool    // the rows count connection attempts (SeriesOf), not matched requests
	start    int64   // the first row's interval: its time in ns / Interval
	probes   []int64 // per row
	sources  []int64
	newSrc   []int64
}

// Len returns the number of rows: the intervals from the first with a
// matched line to the last, or 0 when no line matched.
func (s *Series) Len() int { return len(s.probes) }

// Rows yields the rows in time order: consecutive intervals from the first
// with a matched line to the last, the empty ones with zero counts and the
// cumulative sources carried over.
func (s *Series) Rows() iter.Seq[SeriesRow] {
	return func(yield func(SeriesRow) bool) {
		var cum int64
		for i := range s.probes {
			cum += s.newSrc[i]
			r := SeriesRow{Time: time.Unix(0, (s.start+int64(i))*int64(s.Interval)).UTC(), Probes: s.probes[i],
				Sources: s.sources[i], NewSources: s.newSrc[i], CumulativeSources: cum}
			if !yield(r) {
				return
			}
		}
	}
}

// SeriesRow is one interval of a Series.
type SeriesRow struct {
	Time              time.Time // start of the interval, UTC
	Probes            int64     // matched lines (worm requests) in the interval
	Sources           int64     // distinct sources of those lines
	NewSources        int64     // sources whose first matched line is in the interval
	CumulativeSources int64     // sources seen from the first interval to this one
}

// Family returns the result of the family with the given name, or nil.
func (r *Report) Family(name string) *FamilyResult {
	for i := range r.Families {
		if r.Families[i].Name == name {
			return &r.Families[i]
		}
	}
	return nil
}
