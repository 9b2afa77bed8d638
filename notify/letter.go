package notify

import (
	"cmp"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Letter is what every notice of a run shares: who writes, how to answer,
// the advisory, and what detections said of the families. Its methods
// may be called from several goroutines; its fields must not change once
// one was called (what it writes of each set of families is kept).
type Letter struct {
	Org      string            // who writes: "Example CERT"; "wormwatch" when empty
	Contact  string            // where owners answer and opt out (an e-mail address or URL); "" says "reply to this message"
	Advisory string            // a link to the writer's own advisory (wormwatch advisory), put first among the links
	Window   time.Duration     // an address is reported at most once per Window (said in the text); 0 says nothing
	Guide    *Guide            // the advice; nil: BuiltinGuide
	Families map[string]Family // what detections said of the families (titles, descriptions, references)
	Listed   int               // the addresses listed in the text, at most; 0: DefaultListed (the CSV holds every one)

	once sync.Once
	memo *memo
}

// memo keeps what a Letter wrote of each set of families: a notice's
// advice and links (wrapped once, not once per notice), and a source's
// titles, names and CVE ids.
type memo struct {
	guide  *Guide
	mu     sync.Mutex
	blocks map[string][]byte
	sets   map[setID]*setInfo
}

// setID names a slice of names by its memory: the sources' family and
// reporter sets are shared slices (interner), so a few ids cover a run.
type setID struct {
	p *string
	n int
}

// setInfo is what is written of one set of names.
type setInfo struct {
	joined string // the names, ";"-separated
	field  string // joined as a CSV field
	comma  string // the names, ", "-separated (text)
	titles string // the titles, ", "-separated (text)
	and    string // the titles as "a, b and c" (text)
	cves   string // the CVE ids of their advice, ";"-separated (CSV)
}

// m returns the letter's memo, made at the first call.
func (l *Letter) m() *memo {
	l.once.Do(func() {
		l.memo = &memo{guide: l.Guide, blocks: map[string][]byte{}, sets: map[setID]*setInfo{}}
		if l.memo.guide == nil {
			l.memo.guide = BuiltinGuide()
		}
	})
	return l.memo
}

// set returns what is written of a set of family names (or of reporters:
// only joined is used).
func (l *Letter) set(names []string) *setInfo {
	m := l.m()
	var id setID
	if len(names) > 0 {
		id = setID{&names[0], len(names)}
	}
	m.mu.Lock()
	si := m.sets[id]
	m.mu.Unlock()
	if si != nil {
		return si
	}
	titles := l.titleList(names)
	joined := strings.Join(names, ";")
	si = &setInfo{joined: joined, field: string(appendField(nil, joined)), comma: strings.Join(names, ", "), titles: strings.Join(titles, ", "), and: joinAnd(titles), cves: strings.Join(l.cves(names), ";")}
	m.mu.Lock()
	m.sets[id] = si
	m.mu.Unlock()
	return si
}

// DefaultListed is how many addresses the text lists by default.
const DefaultListed = 200

// TextWidth is the width the text is wrapped to.
const TextWidth = 72

// shadowTime is the time format of Shadowserver's reports (UTC).
const shadowTime = "2006-01-02 15:04:05"

// org returns the writer's name.
func (l *Letter) org() string { return cmp.Or(l.Org, "wormwatch") }

// guide returns the guide in use.
func (l *Letter) guide() *Guide { return l.m().guide }

// Subject returns the subject line of a notice.
func (l *Letter) Subject(n *Notice) string {
	return fmt.Sprintf("Infected machines in your network: %s of %s (%s)",
		plural(len(n.Sources), "address", "addresses"), n.Owner.Name, l.titles(n.Families))
}

// titles returns the families' titles joined for people.
func (l *Letter) titles(fams []string) string { return l.set(fams).titles }

// plural writes n and the noun, singular or plural.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// WriteText writes the notice for a person: to whom and why, what was
// seen (the addresses, most listed, with first and last seen, requests and
// families), what it means, how to clean and patch, the advisory and
// references, and how to answer or opt out.
func (l *Letter) WriteText(w io.Writer, n *Notice) error {
	_, err := w.Write(l.render().text(nil, n))
	return err
}

// adviceBlock returns what the text says of a set of families: per
// advice what it means, how to clean and patch, then the advisory and
// references, each once. It is written once per set and kept.
func (l *Letter) adviceBlock(fams []string) []byte {
	m := l.m()
	k := strings.Join(fams, "\x00")
	m.mu.Lock()
	b, ok := m.blocks[k]
	m.mu.Unlock()
	if ok {
		return b
	}
	var buf []byte
	var links []string
	if l.Advisory != "" {
		links = append(links, l.Advisory)
	}
	written := map[string]bool{}
	for _, a := range l.guide().For(fams, l.Families) {
		buf = section(buf, "What it means: "+a.Title, a.Means, written)
		buf = section(buf, "How to clean the machine", a.Clean, written)
		buf = section(buf, "How to patch it", a.Patch, written)
		links = append(links, a.Links...)
	}
	if links = dedup(links); len(links) > 0 {
		buf = append(buf, "Advisory and references\n"...)
		for _, u := range links {
			buf = append(append(append(buf, "  "...), u...), '\n')
		}
		buf = append(buf, '\n')
	}
	m.mu.Lock()
	m.blocks[k] = buf
	m.mu.Unlock()
	return buf
}

// titleList returns the families' titles.
func (l *Letter) titleList(fams []string) []string {
	t := make([]string, len(fams))
	for i, f := range fams {
		t[i] = l.guide().title(f, l.Families)
	}
	return t
}

// joinAnd joins words as "a, b and c".
func joinAnd(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// dedup returns the strings without repeats, in their first order.
func dedup(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// section appends a heading and its paragraph, or "As above." for a
// paragraph written already.
func section(b []byte, head, text string, written map[string]bool) []byte {
	if text == "" {
		return b
	}
	b = append(append(b, head...), '\n')
	if written[text] {
		text = "As above."
	}
	written[text] = true
	b = wrap(b, text, "  ", TextWidth)
	return append(b, '\n')
}

// window writes a duration for people: 24 hours, 7 days, 90 minutes.
func window(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0 && d >= 48*time.Hour:
		return plural(int(d/(24*time.Hour)), "day", "days")
	case d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour", "hours")
	case d%time.Minute == 0:
		return plural(int(d/time.Minute), "minute", "minutes")
	}
	return d.String()
}
