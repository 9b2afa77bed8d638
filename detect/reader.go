package detect

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
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
	ZeekTSV                // Zeek's http.log or conn.log, tab-separated with a #fields header
	ZeekJSON               // Zeek's http.log or conn.log as JSON lines (LogAscii::use_json)
)

// FormatNames lists the values ParseFormat accepts.
const FormatNames = "auto, combined, common, nginx, iis, zeek, zeek-json"

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
	case "zeek", "zeek-tsv":
		return ZeekTSV, nil
	case "zeek-json":
		return ZeekJSON, nil
	}
	return Auto, fmt.Errorf("unknown log format %q (allowed: %s)", s, FormatNames)
}

// String returns the format's name: auto, combined, common, iis, zeek or
// zeek-json.
func (f Format) String() string {
	switch f {
	case ZeekTSV:
		return "zeek"
	case ZeekJSON:
		return "zeek-json"
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

// MaxMaxLine is the largest line length cap accepted, 64 MiB: a Reader
// holds a buffer of this size (two for gzip), so the cap bounds its memory.
// No log line a web server writes comes near it.
const MaxMaxLine = 64 << 20

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
// a header it needs is wrong. It names the input and, when known, the line
// (or, in a capture, the packet).
type InputError struct {
	Name   string // file name; "stdin" for standard input
	Line   int64  // line number from 1; 0 when the problem is not on a line
	Packet int64  // in a capture: the packet's number from 1; 0 when the problem is not on a packet
	Err    error
}

// Error says "name: line N: problem", "name: packet N: problem", or
// "name: problem".
func (e *InputError) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("%s: line %d: %v", e.Name, e.Line, e.Err)
	case e.Packet > 0:
		return fmt.Sprintf("%s: packet %d: %v", e.Name, e.Packet, e.Err)
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
	MaxLine int    // lines longer than this many bytes are skipped (TooLong); MinMaxLine to MaxMaxLine; 0: DefaultMaxLine

	// probe reads an input whose format could not be told, line by line:
	// each line as IIS W3C when a #Fields header came before it and it
	// fits, else as combined or common. It never fails on the format.
	probe bool
	// lines reads lines given to a LineReader: no gzip, and the format is
	// chosen by Next, once enough lines have come.
	lines bool
}

// maxLine returns the line length cap, DefaultMaxLine for 0.
func (o ReaderOptions) maxLine() int { return cmp.Or(o.MaxLine, DefaultMaxLine) }

// Opener reads inputs that are not text logs (package ingest/packet reads
// packet captures): Analyzer.Read (Options.Openers) asks each opener in
// turn whether it reads an input, from its first bytes, before reading the
// input as a log.
type Opener interface {
	// Sniff reports whether the opener reads an input that starts with
	// head: its first 16 bytes (fewer when the input is shorter), after
	// gzip is unpacked.
	Sniff(head []byte) bool
	// Open prepares to read the input r, called name in the report and in
	// errors.
	Open(name string, r io.Reader) (RecordReader, error)
}

// RecordReader is an input read record by record: a log (*Reader), or an
// input an Opener opened.
type RecordReader interface {
	InputSource
	// Next returns the next record, valid until the next call; io.EOF at
	// the end. Its other errors are *InputErrors naming the input and the
	// line or packet.
	Next() (*Record, error)
	// Close releases what the reader holds; it does not close the input.
	Close() error
}

// stream is an input's bytes, gzip unpacked, through a buffer of a line's
// length.
type stream struct {
	name string
	br   *bufio.Reader
	gz   *gzip.Reader
}

// openStream prepares to read r: it unpacks gzip (recognised by its magic
// bytes, whatever the name) and buffers maxLine+1 bytes (a line and its
// newline).
func openStream(name string, r io.Reader, maxLine int) (*stream, error) {
	if err := CheckMaxLine(maxLine); err != nil {
		return nil, &InputError{Name: name, Err: err}
	}
	st := &stream{name: name}
	size := maxLine + 1 // the line and its '\n'
	cr := &countReader{r: r}
	br := bufio.NewReaderSize(cr, size)
	magic, err := br.Peek(2)
	if err != nil && err != io.EOF {
		return nil, st.readError(err, 1)
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, &InputError{Name: name, Err: gzipError{err}}
		}
		gz.Multistream(false) // members one by one: see gzipMembers
		st.gz = gz
		br = bufio.NewReaderSize(&gzipMembers{src: br, count: cr, z: gz}, size)
	}
	st.br = br
	return st, nil
}

// close releases the gzip reader, if any.
func (st *stream) close() error {
	if st.gz != nil {
		return st.gz.Close()
	}
	return nil
}

// openedReader is an input an Opener reads, on a stream.
type openedReader struct {
	RecordReader
	st *stream
}

// Input returns the opener's entry, saying whether the input was gzip.
func (o *openedReader) Input() Input {
	in := o.RecordReader.Input()
	in.Gzip = o.st.gz != nil
	return in
}

// Close closes the opener's reader and the stream.
func (o *openedReader) Close() error { return errors.Join(o.RecordReader.Close(), o.st.close()) }

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
	zeek      *zeekTSV
	zjson     *zeekJSON
	zeekKind  zeekKind // a Zeek TSV log's kind, from its first header
	tc        timeCache
	line      int64
	rec       Record
	counts    Counts
	firstSkip [numReasons]int64
	eof       bool
	probe     bool        // see ReaderOptions.probe
	sniffed   bool        // the format is chosen (or checked)
	settling  bool        // a LineReader's Settle: choose on the lines there are, if any can be log lines
	window    int         // sniff's window, kept while a LineReader waits for lines
	direct    *lineSource // a LineReader's bytes, read from without br when it is empty (readLine)
}

// NewReader prepares to read the input r, called name in errors. It
// unpacks gzip (recognised by its magic bytes, whatever the name) and, with
// Format Auto, chooses the format from the first lines; with a format
// given, it checks that the first lines are in it. Both give an
// *InputError naming the first line when they fail. An empty input is not
// an error here: Next returns io.EOF at once.
func NewReader(name string, r io.Reader, opt ReaderOptions) (*Reader, error) {
	st, err := openStream(name, r, opt.maxLine())
	if err != nil {
		return nil, err
	}
	return newReaderStream(name, st, opt)
}

// newReaderStream prepares to read the lines of a stream.
func newReaderStream(name string, st *stream, opt ReaderOptions) (*Reader, error) {
	rd := &Reader{name: name, format: opt.Format, probe: opt.probe, br: st.br, gz: st.gz}
	if rd.probe {
		rd.sniffed = true
		return rd, nil
	}
	if opt.lines {
		return rd, nil
	}
	if err := rd.sniff(); err != nil {
		return nil, err
	}
	rd.sniffed = true
	return rd, nil
}

// CheckMaxLine returns an error when n is not a line length cap a Reader
// accepts: MinMaxLine to MaxMaxLine bytes.
func CheckMaxLine(n int) error {
	if n < MinMaxLine || n > MaxMaxLine {
		return fmt.Errorf("line length cap %d: want %d to %d bytes (64 MiB)", n, MinMaxLine, MaxMaxLine)
	}
	return nil
}

// countReader counts the bytes read from r.
type countReader struct {
	r io.Reader
	n int64
}

// Read reads from the source and counts the bytes.
func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// gzipMembers unpacks the gzip members of a stream one after the other (as
// cat a.gz b.gz makes them), and accepts zero bytes after the last one: the
// padding tape drives and some tools add, which gzip(1) ignores too
// ("decompression OK, trailing zero bytes ignored"). Any other byte after a
// member is an error naming its offset in the compressed input.
type gzipMembers struct {
	src   *bufio.Reader // the compressed input
	count *countReader  // under src: the bytes read from the input
	z     *gzip.Reader  // the current member, Multistream off
	err   error
}

// TrailingGarbageError is a byte after the last gzip member that is neither
// the start of another member nor zero padding.
type TrailingGarbageError struct {
	Offset int64 // of the byte, from the start of the compressed input
}

// Error says where the garbage is.
func (e *TrailingGarbageError) Error() string {
	return fmt.Sprintf("trailing garbage at byte offset %d, after the last compressed member (only zero bytes may follow it)", e.Offset)
}

// Read reads uncompressed bytes.
func (g *gzipMembers) Read(p []byte) (int, error) {
	for g.err == nil {
		n, err := g.z.Read(p)
		if err == io.EOF {
			err = g.next()
		}
		if err != nil {
			g.err = err
		}
		if n > 0 || err != nil {
			return n, err
		}
	}
	return 0, g.err
}

// next moves past the end of a member: to the next member, over zero
// padding to the end (io.EOF), or fails on anything else.
func (g *gzipMembers) next() error {
	head, err := g.src.Peek(2)
	if len(head) == 0 {
		return err // io.EOF: the input ends with the member
	}
	if len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		if err := g.z.Reset(g.src); err != nil {
			return err
		}
		g.z.Multistream(false)
		return nil
	}
	for {
		buf, err := g.src.Peek(max(g.src.Buffered(), 1))
		for i, c := range buf {
			if c != 0 {
				return &TrailingGarbageError{Offset: g.count.n - int64(g.src.Buffered()) + int64(i)}
			}
		}
		g.src.Discard(len(buf))
		if err != nil {
			return err // io.EOF after zeros only: the end
		}
	}
}

// gzipError is an error of the gzip layer, said once as "gzip: ...".
type gzipError struct{ err error }

// Error returns the gzip layer's error, said once to be gzip's.
func (e gzipError) Error() string { return "gzip: " + strings.TrimPrefix(e.err.Error(), "gzip: ") }

// Unwrap returns the gzip layer's error.
func (e gzipError) Unwrap() error { return e.err }

// sniff looks at the first lines to choose or check the format: the first
// sniffLines lines that can be read as log lines (not blank, binary, invalid
// UTF-8 or longer than the cap), within the first sniffBytes bytes after
// them. Lines that cannot be log lines whatever the format are read,
// counted and skipped on the way (so a log whose first line is longer than
// the cap is still read); the others are left for Next.
func (rd *Reader) sniff() error {
	if rd.window == 0 {
		rd.window = min(rd.br.Size(), sniffBytes)
	}
	for {
		window := rd.window
		data, err := rd.br.Peek(window)
		atEOF, waiting := false, false
		var readErr error
		switch {
		case err == errNoData:
			// A LineReader has fewer bytes than the window: it chooses
			// when they hold enough lines, else waits for more lines (or
			// for Settle).
			waiting = true
		case err == io.EOF:
			atEOF = true
		case err != nil && len(data) == 0:
			return rd.readError(err)
		case err != nil:
			// The lines read so far are looked at; reading on meets the
			// error again, with its line number.
			readErr = err
		}
		var lines []sniffLine
		junk := 0                     // complete lines at the start of data that cannot be log lines
		badAt, badWhy := int64(0), ok // the first of them that is not blank, and why
		no := rd.line
		for rest := data; len(rest) > 0 && len(lines) < sniffLines; {
			i := bytes.IndexByte(rest, '\n')
			var line []byte
			switch {
			case i >= 0:
				line, rest = rest[:i], rest[i+1:]
			case atEOF:
				line, rest = rest, nil
			default:
				rest = nil
				continue // a line cut by the window
			}
			no++
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			if why := lineJunk(line); why != ok {
				if len(lines) == 0 && i >= 0 {
					junk++
				}
				if why != Empty && badAt == 0 {
					badAt, badWhy = no, why
				}
				continue
			}
			lines = append(lines, sniffLine{no, line})
		}
		if waiting && len(lines) < sniffLines {
			return errNoData
		}
		if len(lines) > 0 {
			return rd.choose(lines)
		}
		if atEOF && rd.settling {
			return errNoData // nothing to choose on yet: a LineReader waits for more lines
		}
		if atEOF {
			return rd.noLogLine(badAt, badWhy)
		}
		// Nothing to look at in the window: read past the lines that cannot
		// be log lines, then past a line longer than the cap, and look again.
		for range junk {
			b, _ := rd.br.ReadSlice('\n')
			b = bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r"))
			rd.line++
			rd.counts.Lines++
			rd.skip(lineJunk(b))
		}
		if readErr != nil {
			return rd.readError(readErr)
		}
		if junk > 0 {
			continue
		}
		if window < rd.br.Size() {
			rd.window = rd.br.Size() // a long line that may still fit under the cap
			continue
		}
		if err := rd.skipLong(); err != nil {
			return err
		}
		rd.window = min(rd.br.Size(), sniffBytes)
	}
}

// sniffLine is a line sniff looks at, with its number.
type sniffLine struct {
	no   int64
	line []byte
}

// lineJunk returns why a line cannot be a log line in any format (Empty,
// Binary, InvalidUTF8), or ok.
func lineJunk(b []byte) Reason {
	if isBlank(b) {
		return Empty
	}
	if ctrl, high := scanBytes(b); ctrl {
		return Binary
	} else if high && !utf8.Valid(b) {
		return InvalidUTF8
	}
	return ok
}

// skipLong reads past a line longer than the cap, counting it.
func (rd *Reader) skipLong() error {
	rd.line++
	rd.counts.Lines++
	rd.skip(TooLong)
	for {
		_, err := rd.br.ReadSlice('\n')
		switch err {
		case bufio.ErrBufferFull:
			continue
		case nil:
			return nil
		case io.EOF:
			rd.eof = true
			return nil
		}
		return rd.readError(err)
	}
}

// noLogLine is the end of sniffing an input that holds no line that can be
// a log line: an empty or blank input is fine (Next returns io.EOF), and so
// is one of lines that cannot be read when the format was given; with Auto,
// the format cannot be told. at and why are the first line of the last
// window that is not blank, if any (not read yet), and why it cannot be read.
func (rd *Reader) noLogLine(at int64, why Reason) error {
	for _, r := range []Reason{TooLong, Binary, InvalidUTF8} {
		if n := rd.firstSkip[r]; n > 0 && (at == 0 || n < at) {
			at, why = n, r
		}
	}
	if at == 0 || rd.format != Auto {
		rd.setFormat(rd.format)
		return nil
	}
	return &InputError{Name: rd.name, Line: at, Err: fmt.Errorf(
		"%w: no line of it can be read as a log line (the first: %s); raise --max-line (now %d bytes) or give --log-format (%s)",
		ErrUnknownFormat, why.Describe(), rd.br.Size()-1, FormatNames)}
}

// setFormat sets the format and what reading it needs.
func (rd *Reader) setFormat(f Format) {
	rd.format = f
	rd.needUA = f == Combined
	if f == W3C && rd.w3c == nil {
		rd.w3c = newW3C()
	}
	if f == ZeekTSV && rd.zeek == nil {
		rd.zeek = newZeekTSV()
	}
	if f == ZeekJSON && rd.zjson == nil {
		rd.zjson = &zeekJSON{}
	}
}

// choose chooses the format from the lines sniff found (or checks the one
// given): a W3C directive among them means IIS; otherwise the first that
// parses as a common-format line decides, combined if it has a referer and
// user agent.
func (rd *Reader) choose(lines []sniffLine) error {
	if rd.format == ZeekTSV || rd.format == Auto {
		for _, c := range lines {
			if zeekHeader(c.line) {
				return rd.chooseZeek(lines)
			}
		}
		if rd.format == ZeekTSV {
			return &InputError{Name: rd.name, Line: lines[0].no, Err: fmt.Errorf(
				"not a Zeek TSV log: no #separator, #path or #fields header in the first lines; choose another --log-format (%s)", FormatNames)}
		}
	}
	if rd.format == ZeekJSON || rd.format == Auto {
		for i, c := range lines {
			if isZeekJSON(c.line) {
				rd.setFormat(ZeekJSON)
				return nil
			}
			if i == 0 && rd.format == Auto {
				break // with auto, the first line decides
			}
		}
		if rd.format == ZeekJSON {
			return &InputError{Name: rd.name, Line: lines[0].no, Err: fmt.Errorf(
				"not a Zeek JSON log: no line of the first is a JSON object with ts and id.orig_h; choose another --log-format (%s)", FormatNames)}
		}
	}
	if rd.format == W3C || rd.format == Auto {
		for _, c := range lines {
			if isW3CDirective(c.line) {
				rd.setFormat(W3C)
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
		why := parseCLF(c.line, &rec, rd.format == Combined, nil)
		if why == ok {
			f := rd.format
			if f == Auto {
				f = Common
				if rec.hasUA {
					f = Combined
				}
			}
			rd.setFormat(f)
			return nil
		}
		if first == ok {
			first = why
		}
	}
	if rd.format == Auto {
		return &InputError{Name: rd.name, Line: lines[0].no, Err: fmt.Errorf(
			"%w: the first lines are neither Apache/nginx combined or common (%s) nor IIS W3C (no #Fields header); give --log-format (%s)",
			ErrUnknownFormat, first.Describe(), FormatNames)}
	}
	return &InputError{Name: rd.name, Line: lines[0].no, Err: fmt.Errorf(
		"not a %s log: %s in the first lines; choose another --log-format (%s)", rd.format, first.Describe(), FormatNames)}
}

// chooseZeek checks the header of a Zeek TSV log among the first lines:
// a log other than http.log and conn.log is a format detect cannot read.
func (rd *Reader) chooseZeek(lines []sniffLine) error {
	z := newZeekTSV()
	for _, c := range lines {
		if len(c.line) > 0 && c.line[0] == '#' {
			if err := z.directive(c.line); err != nil {
				return &InputError{Name: rd.name, Line: c.no, Err: err}
			}
		}
	}
	if z.kind == zeekOther && (z.pathSeen || z.n > 0) {
		return &InputError{Name: rd.name, Line: lines[0].no, Err: fmt.Errorf(
			"%w: a Zeek log, but not http.log or conn.log (the only Zeek logs detect reads)", ErrUnknownFormat)}
	}
	rd.setFormat(ZeekTSV)
	rd.zeekKind = z.kind
	return nil
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
	st := stream{name: rd.name, gz: rd.gz}
	return st.readError(err, rd.line+1)
}

// readError names the input and the line of a read error; a gzip error
// says so.
func (st *stream) readError(err error, line int64) error {
	if st.gz != nil {
		var tg *TrailingGarbageError
		switch {
		case errors.As(err, &tg):
			return &InputError{Name: st.name, Err: gzipError{err}} // not on a line: after the last one
		case errors.Is(err, io.ErrUnexpectedEOF):
			err = errors.New("gzip: the compressed stream is truncated")
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		default:
			err = gzipError{err}
		}
	}
	return &InputError{Name: st.name, Line: line, Err: err}
}

// Format returns the input's format (after NewReader, never Auto unless the
// input is empty).
func (rd *Reader) Format() Format { return rd.format }

// FormatName returns the input's format as a report names it: the
// format's name, and for a Zeek TSV log which log it is: zeek-http or
// zeek-conn.
func (rd *Reader) FormatName() string {
	if rd.format == ZeekTSV {
		switch rd.zeekKind {
		case zeekHTTP:
			return "zeek-http"
		case zeekConn:
			return "zeek-conn"
		}
	}
	return rd.format.String()
}

// Gzip reports whether the input is gzip-compressed.
func (rd *Reader) Gzip() bool { return rd.gz != nil }

// Line returns the number of lines read so far.
func (rd *Reader) Line() int64 { return rd.line }

// Input returns the input's entry in a report: its name, format, whether
// it is gzip, and its line counts so far.
func (rd *Reader) Input() Input {
	return Input{Name: rd.name, Format: rd.FormatName(), Gzip: rd.Gzip(), Counts: rd.counts, SkippedAt: rd.firstSkip}
}

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
	if !rd.sniffed {
		if err := rd.sniff(); err != nil {
			return nil, err
		}
		rd.sniffed = true
	}
	for {
		if rd.eof {
			return nil, io.EOF
		}
		b, err := rd.readLine()
		if err == errNoData && len(b) == 0 {
			return nil, errNoData // a LineReader has no more lines for now
		}
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
		if rd.probe {
			if isW3CDirective(b) {
				rd.counts.Directives++
				if rd.w3c == nil {
					rd.w3c = newW3C()
				}
				_ = rd.w3c.directive(b) // a #Fields header detect cannot read leaves no header
				continue
			}
			why = BadTime
			if rd.w3c != nil {
				why = rd.w3c.parse(b, rec)
			}
			if why != ok {
				rec.reset()
				why = parseCLF(b, rec, false, nil)
			}
		} else if rd.format <= Common {
			why = parseCLF(b, rec, rd.needUA, &rd.tc)
		} else if rd.format == W3C {
			if b[0] == '#' {
				rd.counts.Directives++
				if err := rd.w3c.directive(b); err != nil {
					return nil, &InputError{Name: rd.name, Line: rd.line, Err: err}
				}
				continue
			}
			why = rd.w3c.parse(b, rec)
		} else if rd.format == ZeekTSV {
			if b[0] == '#' {
				rd.counts.Directives++
				if err := rd.zeek.directive(b); err != nil {
					return nil, &InputError{Name: rd.name, Line: rd.line, Err: err}
				}
				continue
			}
			why = rd.zeek.parse(b, rec)
		} else {
			why = rd.zjson.parse(b, rec)
		}
		if why == passed {
			rd.counts.Parsed++
			continue
		}
		if why != ok {
			if !terminated {
				why = Truncated
			}
			rd.skip(why)
			continue
		}
		rd.counts.Parsed++
		rec.Pos = rd.line
		return rec, nil
	}
}

// readLine returns the next line, with its newline, as
// br.ReadSlice('\n') does: a LineReader's whole lines are taken from the
// chunk it was given, without copying them into br, while br holds
// nothing.
func (rd *Reader) readLine() ([]byte, error) {
	if rd.direct != nil && rd.br.Buffered() == 0 {
		if b, ok := rd.direct.line(rd.br.Size()); ok {
			return b, nil
		}
	}
	return rd.br.ReadSlice('\n')
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
