package notify

import (
	"cmp"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// render writes notices into byte slices for one goroutine: it keeps
// what it asked the Letter's memo for in maps of its own, so that the
// writers of a folder share no lock per row.
type render struct {
	l       *Letter
	sets    map[setID]*setInfo
	advice  map[setID][]byte
	scratch []byte
}

// render returns a renderer of the letter's notices.
func (l *Letter) render() *render {
	return &render{l: l, sets: map[setID]*setInfo{}, advice: map[setID][]byte{}}
}

// idOf names a set of names by its memory (setID).
func idOf(names []string) setID {
	if len(names) == 0 {
		return setID{}
	}
	return setID{&names[0], len(names)}
}

// set is Letter.set, kept.
func (r *render) set(names []string) *setInfo { return kept(r.sets, names, r.l.set) }

// adviceBlock is Letter.adviceBlock, kept.
func (r *render) adviceBlock(fams []string) []byte { return kept(r.advice, fams, r.l.adviceBlock) }

// kept returns build(names), built once for each set of names in m.
func kept[V any](m map[setID]V, names []string, build func([]string) V) V {
	id := idOf(names)
	v, ok := m[id]
	if !ok {
		v = build(names)
		m[id] = v
	}
	return v
}

// text appends the text of a notice (Letter.WriteText) to b.
func (r *render) text(b []byte, n *Notice) []byte {
	l := r.l
	b = append(append(append(b, "To the abuse team of "...), n.Owner.Name...), ",\n\n"...)
	r.scratch = fmt.Appendf(r.scratch[:0], "Between %s and %s UTC, %s in your network sent worm requests (%s) to the sensors of %s and its partners: %s in all. "+
		"Each of these addresses is very likely a machine infected by a worm. Please find who uses these machines "+
		"and have them cleaned and patched, as said below.",
		n.FirstSeen.UTC().Format("2006-01-02 15:04"), n.LastSeen.UTC().Format("2006-01-02 15:04"),
		plural(len(n.Sources), "address", "addresses"), r.set(n.Families).and, l.org(),
		plural(int(min(n.Count, 1<<31)), "request", "requests"))
	b = append(wrap(b, r.scratch, "", TextWidth), '\n')
	b = r.table(b, n)
	b = append(b, r.adviceBlock(n.Families)...)
	return r.footer(b, n)
}

// table appends the addresses seen.
func (r *render) table(b []byte, n *Notice) []byte {
	listed := min(len(n.Sources), cmp.Or(r.l.Listed, DefaultListed))
	width := len("address")
	for i := range listed {
		width = max(width, addrLen(n.Sources[i].Addr))
	}
	b = append(b, "What was seen (times in UTC)\n\n"...)
	b = fmt.Appendf(b, "  %-*s  %-19s  %-19s  %8s  %s\n", width, "address", "first seen", "last seen", "requests", "worms")
	for i := range listed {
		s := &n.Sources[i]
		b = append(b, "  "...)
		start := len(b)
		b = s.Addr.AppendTo(b)
		b = append(b, pad[:width-(len(b)-start)+2]...)
		b = appendTime(b, s.FirstSeen)
		b = append(b, "  "...)
		b = appendTime(b, s.LastSeen)
		var num [20]byte
		c := strconv.AppendInt(num[:0], s.Count, 10)
		b = append(b, pad[:2+max(0, 8-len(c))]...)
		b = append(b, c...)
		b = append(b, "  "...)
		b = append(b, r.set(s.Families).titles...)
		b = append(b, '\n')
	}
	if more := len(n.Sources) - listed; more > 0 {
		b = fmt.Appendf(b, "  ... and %d more: the attached CSV lists every address.\n", more)
	}
	return append(b, '\n')
}

// addrLen returns the length of an address's text.
func addrLen(a netip.Addr) int {
	var buf [64]byte
	return len(a.AppendTo(buf[:0]))
}

// pad is spaces to pad the table's columns with.
var pad = strings.Repeat(" ", 64)

// footer appends why the owner receives the notice and how to answer.
func (r *render) footer(b []byte, n *Notice) []byte {
	l := r.l
	answer := "reply to this message"
	if l.Contact != "" {
		answer = "write to " + l.Contact
	}
	p := append(r.scratch[:0], "Seen by: "...)
	p = append(append(p, r.set(n.Reporters).comma...), ". "...)
	if n.Owner.Contact != "" {
		p = fmt.Appendf(p, "You receive this notice as the abuse contact of %s for these addresses. ", n.Owner.Name)
	}
	if l.Window > 0 {
		p = fmt.Appendf(p, "An address is reported at most once in %s. ", window(l.Window))
	}
	p = fmt.Appendf(p, "The attached CSV file lists every address, one a row, in the columns of Shadowserver's Honeypot HTTP Scanner Events report. "+
		"For questions, or to receive no more of these notices, %s.", answer)
	r.scratch = p
	b = wrap(b, p, "", TextWidth)
	sig := l.org()
	if sig != "wormwatch" {
		sig += ", with wormwatch"
	}
	return append(append(append(b, "\n-- \n"...), sig...), '\n')
}

// wrap appends text as lines of at most width bytes (a longer word alone
// on its line), each starting with indent. Words are split where
// strings.Fields splits them (Unicode white space), without making them
// strings.
func wrap[T string | []byte](b []byte, text T, indent string, width int) []byte {
	n := 0
	for i := 0; i < len(text); {
		// Skip white space, then take a word.
		if c := text[i]; c < utf8.RuneSelf {
			if asciiSpace[c] {
				i++
				continue
			}
		} else if r, size := utf8.DecodeRune([]byte(text[i:min(i+utf8.UTFMax, len(text))])); unicode.IsSpace(r) {
			i += size
			continue
		}
		j := i
		for j < len(text) {
			if c := text[j]; c < utf8.RuneSelf {
				if asciiSpace[c] {
					break
				}
				j++
			} else if r, size := utf8.DecodeRune([]byte(text[j:min(j+utf8.UTFMax, len(text))])); unicode.IsSpace(r) {
				break
			} else {
				j += size
			}
		}
		word := text[i:j]
		switch {
		case n == 0:
			b = append(b, indent...)
			n = len(indent)
		case n+1+len(word) > width:
			b = append(append(b, '\n'), indent...)
			n = len(indent)
		default:
			b = append(b, ' ')
			n++
		}
		b = append(b, word...)
		n += len(word)
		i = j
	}
	if n > 0 {
		b = append(b, '\n')
	}
	return b
}

// asciiSpace are the ASCII bytes strings.Fields splits at.
var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// csv appends the CSV of a notice (Letter.WriteCSV) to b.
func (r *render) csv(b []byte, n *Notice) []byte {
	b = append(b, csvHeader...)
	r.scratch = appendField(r.scratch[:0], n.Owner.Name)
	owner := r.scratch
	for i := range n.Sources {
		s := &n.Sources[i]
		b = appendTime(b, s.LastSeen)
		b = append(b, ",tcp,"...)
		b = s.Addr.AppendTo(b)
		b = append(b, ",,"...)
		if n.ASNs[i] != 0 {
			b = strconv.AppendUint(b, uint64(n.ASNs[i]), 10)
		}
		b = append(b, ',')
		b = append(b, n.Owner.Country...)
		b = append(b, ',')
		if s.Port != 0 {
			b = strconv.AppendUint(b, uint64(s.Port), 10)
		}
		b = append(b, ',')
		b = append(b, r.set(s.Reporters).field...)
		b = append(b, ",http-scan,"...)
		fs := r.set(s.Families)
		b = append(b, fs.field...)
		b = append(b, ',')
		b = append(b, fs.cves...)
		b = append(b, ',')
		b = appendTime(b, s.FirstSeen)
		b = append(b, ',')
		b = strconv.AppendInt(b, s.Count, 10)
		b = append(b, ',')
		b = append(b, owner...)
		b = append(b, '\n')
	}
	return b
}

// csvHeader is the CSV's first line.
var csvHeader = strings.Join(CSVColumns, ",") + "\n"
