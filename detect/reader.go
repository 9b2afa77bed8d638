package detect

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
)

// Format is a log format.
type Format uint8

// The log formats.
const (
	Auto     Format = iota // chosen per input by looking at its first lines
	Combined               // Apache and nginx combined: common + "referer" "user agent"
	Common                 // NCSA common: host ident user [time] "request" status bytes
	W3C                    // IIS W3C extended, with #Fields headers
)

// FormatNames lists the values ParseFormat accepts.
const FormatNames = "auto, combined, common, nginx, iis"

// ParseFormat reads a --log-format value: auto, combined, common, nginx (the
// combined format, nginx's default) or iis (W3C extended; w3c is accepted
// too).
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "auto", "":
		return Auto, nil
	case "combined", "apache":
		return Combined, nil
	case "common", "clf":
		return Common, nil
	case "nginx":
		return Combined, nil
	case "iis", "w3c":
		return W3C, nil
	}
	return Auto, fmt.Errorf("unknown log format %q (allowed: %s)", s, FormatNames)
}

// String returns the format's name: auto, combined, common or iis.
func (f Format) String() string {
	switch f {
	case Combined:
		return "combined"
	case Common:
		return "common"
	case W3C:
		return "iis"
	}
	return "auto"
}

// DefaultMaxLine is the default cap on the length of a line. The WebDAV
// SEARCH overflow lines, the longest worm lines known, are about 8.25 KB.
const DefaultMaxLine = 64 << 10

// MinMaxLine is the smallest line length cap accepted.
const MinMaxLine = 256

// sniffLines and sniffBytes bound how much of an input is looked at to
// choose its format.
const (
	sniffLines = 100
	sniffBytes = 256 << 10
)

// ErrUnknownFormat is wrapped by the *InputError of an input whose format
// cannot be told from its first lines (with Format Auto).
var ErrUnknownFormat = errors.New("cannot tell the log format")

// InputError is a problem with an input as a whole: it cannot be opened or
// read, is not gzip although it says so, is in no format detect reads, or
// a header it needs is wrong. It names the input and, when known, the line.
type InputError struct {
	Name string // file name; "stdin" for standard input
	Line int64  // line number from 1; 0 when the problem is not on a line
	Err  error
}

// Error says "name: line N: problem", or "name: problem".
func (e *InputError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s: line %d: %v", e.Name, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Name, e.Err)
}

// Unwrap returns the underlying error.
func (e *InputError) Unwrap() error { return e.Err }

// Counts are the line counts of one input or of several.
type Counts struct {
	Lines      int64             // lines read, whatever became of them
	Parsed     int64             // lines normalised to a Record
	Directives int64             // IIS W3C directive lines (#Fields and the like)
	Skipped    [numReasons]int64 // lines skipped, by Reason
}

// SkippedTotal returns the number of lines skipped for any reason.
func (c *Counts) SkippedTotal() int64 {
	var n int64
	for _, v := range c.Skipped {
		n += v
	}
	return n
}

func (c *Counts) add(o *Counts) {
	c.Lines += o.Lines
	c.Parsed += o.Parsed
	c.Directives += o.Directives
	for i, v := range o.Skipped {
		c.Skipped[i] += v
	}
}

// ReaderOptions configure a Reader.
type ReaderOptions struct {
	Format  Format // Auto (the zero value) chooses from the first lines
	MaxLine int    // lines longer than this many bytes are skipped (TooLong); 0: DefaultMaxLine
}

// Reader reads the lines of one input and normalises them to Records. It
// reads through a fixed buffer of MaxLine bytes, so its memory does not
// grow with the input: a longer line is counted and skipped as it streams
// past, never held whole.
type Reader struct {
	name      string
	br        *bufio.Reader
	gz        *gzip.Reader
	format    Format
	needUA    bool
	w3c       *w3c
	tc        timeCache
	line      int64
	rec       Record
	counts    Counts
	firstSkip [numReasons]int64
	eof       bool
}

// NewReader prepares to read the input r, called name in errors. It
// unpacks gzip (recognised by its magic bytes, whatever the name) and, with
// Format Auto, chooses the format from the first lines; with a format
// given, it checks that the first lines are in it. Both give an
// *InputError naming the first line when they fail. An empty input is not
// an error here: Next returns io.EOF at once.
func NewReader(name string, r io.Reader, opt ReaderOptions) (*Reader, error) {
	maxLine := opt.MaxLine
	if maxLine == 0 {
		maxLine = DefaultMaxLine
	}
	if maxLine < MinMaxLine {
		return nil, &InputError{Name: name, Err: fmt.Errorf("line length cap %d is below the minimum %d", maxLine, MinMaxLine)}
	}
	rd := &Reader{name: name, format: opt.Format}
	size := maxLine + 1 // the line and its '\n'
	br := bufio.NewReaderSize(r, size)
	magic, err := br.Peek(2)
	if err != nil && err != io.EOF {
		return nil, rd.readError(err)
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, &InputError{Name: name, Err: fmt.Errorf("gzip: %w", err)}
		}
		rd.gz = gz
		br = bufio.NewReaderSize(gz, size)
	}
	rd.br = br
	if err := rd.sniff(min(size, sniffBytes)); err != nil {
		return nil, err
	}
	return rd, nil
}

// sniff looks at the first lines to choose or check the format.
func (rd *Reader) sniff(n int) error {
	data, err := rd.br.Peek(n)
	atEOF := false
	switch {
	case err == io.EOF:
		atEOF = true
	case err != nil && err != bufio.ErrBufferFull && len(data) == 0:
		return rd.readError(err)
	}
	// On another read error, the lines read so far are looked at; reading
	// on meets the error again, with its line number.
	type cand struct {
		no   int64
		line []byte
	}
	var lines []cand
	var no int64
	for len(data) > 0 && len(lines) < sniffLines {
		i := bytes.IndexByte(data, '\n')
		var line []byte
		switch {
		case i >= 0:
			line, data = data[:i], data[i+1:]
		case atEOF:
			line, data = data, nil
		default:
			data = nil
			continue // a line cut by the window
		}
		no++
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if isBlank(line) {
			continue
		}
		lines = append(lines, cand{no, line})
	}
	if len(lines) == 0 {
		if atEOF {
			return nil // empty: Next returns io.EOF
		}
		if rd.format != Auto { // a first line longer than the window: nothing to check the format on
			rd.needUA = rd.format == Combined
			if rd.format == W3C {
				rd.w3c = newW3C()
			}
			return nil
		}
		return &InputError{Name: rd.name, Line: no + 1, Err: fmt.Errorf(
			"%w: the line is longer than the line length cap (%d bytes); raise --max-line or give --log-format (%s)",
			ErrUnknownFormat, rd.br.Size()-1, FormatNames)}
	}
	if rd.format == W3C || rd.format == Auto {
		for _, c := range lines {
			if isW3CDirective(c.line) {
				rd.format = W3C
				rd.w3c = newW3C()
				return nil
			}
		}
		if rd.format == W3C {
			return &InputError{Name: rd.name, Line: lines[0].no, Err: fmt.Errorf(
				"not an IIS W3C log: no #Software, #Version, #Date or #Fields directive in the first lines; choose another --log-format (%s)", FormatNames)}
		}
	}
	var rec Record
	var first Reason = ok
	for _, c := range lines {
		rec.reset()
		if ctrl, high := scanBytes(c.line); ctrl || high && !utf8.Valid(c.line) {
			continue
		}
		why := parseCLF(c.line, &rec, rd.format == Combined, nil)
		if why == ok {
			if rd.format == Auto {
				rd.format = Common
				if rec.hasUA {
					rd.format = Combined
				}
			}
			rd.needUA = rd.format == Combined
			return nil
		}
		if first == ok {
			first = why
		}
	}
	if first == ok {
		first = Binary
	}
	if rd.format == Auto {
		return &InputError{Name: rd.name, Line: lines[0].no, Err: fmt.Errorf(
			"%w: the first lines are neither Apache/nginx combined or common (%s) nor IIS W3C (no #Fields header); give --log-format (%s)",
			ErrUnknownFormat, first.Describe(), FormatNames)}
	}
	return &InputError{Name: rd.name, Line: lines[0].no, Err: fmt.Errorf(
		"not a %s log: %s in the first lines; choose another --log-format (%s)", rd.format, first.Describe(), FormatNames)}
}

var w3cDirectives = []string{"#software:", "#version:", "#date:", "#fields:", "#remark:", "#start-date:", "#end-date:"}

func isW3CDirective(line []byte) bool {
	if len(line) == 0 || line[0] != '#' {
		return false
	}
	head := strings.ToLower(string(line[:min(len(line), 12)]))
	for _, d := range w3cDirectives {
		if strings.HasPrefix(head, d) {
			return true
		}
	}
	return false
}

func (rd *Reader) readError(err error) error {
	if rd.gz != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = errors.New("gzip: the compressed stream is truncated")
		} else {
			err = fmt.Errorf("gzip: %w", err)
		}
	}
	return &InputError{Name: rd.name, Line: rd.line + 1, Err: err}
}

// Format returns the input's format (after NewReader, never Auto unless the
// input is empty).
func (rd *Reader) Format() Format { return rd.format }

// Gzip reports whether the input is gzip-compressed.
func (rd *Reader) Gzip() bool { return rd.gz != nil }

// Line returns the number of lines read so far.
func (rd *Reader) Line() int64 { return rd.line }

// Counts returns the line counts so far.
func (rd *Reader) Counts() Counts { return rd.counts }

// FirstSkipped returns the line number of the first line skipped for the
// reason, 0 if none was.
func (rd *Reader) FirstSkipped(r Reason) int64 { return rd.firstSkip[r] }

// Close releases the gzip reader, if any. It does not close the input.
func (rd *Reader) Close() error {
	if rd.gz != nil {
		return rd.gz.Close()
	}
	return nil
}

func (rd *Reader) skip(r Reason) {
	rd.counts.Skipped[r]++
	if rd.firstSkip[r] == 0 {
		rd.firstSkip[r] = rd.line
	}
}

// Next returns the next line that parses, normalised; the Record and its
// slices are valid until the next call. Lines that do not parse are
// counted (Counts) and passed over. It returns io.EOF at the end of the
// input, and an *InputError when reading fails (including a corrupt or
// truncated gzip stream) or an IIS #Fields header lacks a field detect
// needs.
func (rd *Reader) Next() (*Record, error) {
	for {
		if rd.eof {
			return nil, io.EOF
		}
		b, err := rd.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// Too long: let the rest of the line stream past.
			rd.line++
			rd.counts.Lines++
			rd.skip(TooLong)
			for err == bufio.ErrBufferFull {
				_, err = rd.br.ReadSlice('\n')
			}
			if err == io.EOF {
				rd.eof = true
				continue
			}
			if err != nil {
				return nil, rd.readError(err)
			}
			continue
		}
		terminated := err == nil
		if err != nil {
			if err != io.EOF {
				return nil, rd.readError(err)
			}
			rd.eof = true
			if len(b) == 0 {
				return nil, io.EOF
			}
		}
		rd.line++
		rd.counts.Lines++
		if n := len(b); n > 0 && b[n-1] == '\n' {
			b = b[:n-1]
		}
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
		if isBlank(b) {
			rd.skip(Empty)
			continue
		}
		if ctrl, high := scanBytes(b); ctrl {
			rd.skip(Binary)
			continue
		} else if high && !utf8.Valid(b) {
			rd.skip(InvalidUTF8)
			continue
		}
		rec := &rd.rec
		rec.reset()
		var why Reason
		if rd.format == W3C {
			if b[0] == '#' {
				rd.counts.Directives++
				if err := rd.w3c.directive(b); err != nil {
					return nil, &InputError{Name: rd.name, Line: rd.line, Err: err}
				}
				continue
			}
			why = rd.w3c.parse(b, rec)
		} else {
			why = parseCLF(b, rec, rd.needUA, &rd.tc)
		}
		if why != ok {
			if !terminated {
				why = Truncated
			}
			rd.skip(why)
			continue
		}
		rd.counts.Parsed++
		return rec, nil
	}
}

// isBlank reports whether a line holds nothing but spaces and tabs.
func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// scanBytes reports whether b holds control bytes other than tab, and
// whether it holds bytes of 0x80 and above (so that UTF-8 must be checked).
// It tests eight bytes at a time, sixteen per round, and looks at single
// bytes only when a word holds one below 0x20: this runs on every line.
func scanBytes(b []byte) (ctrl, high bool) {
	var hi, lo uint64
	i := 0
	for ; i+16 <= len(b); i += 16 {
		x := binary.LittleEndian.Uint64(b[i:])
		y := binary.LittleEndian.Uint64(b[i+8:])
		hi |= x | y
		lo |= (x-ones*0x20)&^x | (y-ones*0x20)&^y // high bit set in a byte below 0x20 (exact where the first is)
	}
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		hi |= x
		lo |= (x - ones*0x20) &^ x
	}
	for _, c := range b[i:] {
		hi |= uint64(c)
		if c < 0x20 {
			lo |= highs
		}
	}
	if lo&highs != 0 { // some byte below 0x20: a tab, or a control byte
		for _, c := range b {
			if c < 0x20 && c != '\t' {
				return true, false
			}
		}
	}
	return false, hi&highs != 0
}
