package detect

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// errNoData is what a LineReader's Reader meets when it has read every
// line given so far: not an end, a pause until more lines come.
var errNoData = errors.New("no more lines for now")

// LineReader reads a log given line by line rather than as a stream: the
// lines of a followed file (package ingest/follow), in chunks of whole
// lines. It is a Reader underneath, so it chooses the format from the
// first lines, parses every line and counts the skipped ones exactly as
// the batch reader (NewReader, Analyzer.Read) does on the same bytes: the
// records, the counts and the report are the same, live or batch.
//
// While the format is not chosen yet, the lines given are held (at most
// the bytes the batch reader looks at to choose: 100 lines, 256 KB) and no
// record comes out; Pending says how many bytes are held. The batch reader
// chooses on the first lines, or on fewer at the end of its input; a
// followed log may hold fewer for a long time, so Settle chooses on the
// lines there are, as the batch reader would on a file that ended there.
//
//	lr, err := detect.NewLineReader("access.log", detect.ReaderOptions{})
//	a.Track(lr)                  // the input's counts in a's reports
//	err = lr.Feed(chunk, a.Add)  // each chunk the follower gives
//	err = lr.Settle(a.Add)       // when the follower has caught up
//	rep, err := a.Snapshot(ctx)  // at any moment
//
// A LineReader is not safe for concurrent use.
type LineReader struct {
	rd  *Reader
	src *lineSource
}

// lineSource holds the bytes given to a LineReader that its Reader has not
// read yet.
type lineSource struct {
	buf    []byte // the unread bytes are buf[off:]; borrowed from the caller during Feed
	off    int
	own    []byte // the memory buf uses when bytes are held between calls
	ended  bool   // the input ended: End was called, or a chunk ended without a newline
	settle bool   // Settle: the end of what is there reads as the end of the input
}

// Read gives the bytes held; past them, io.EOF at the end of the input,
// else errNoData.
func (s *lineSource) Read(p []byte) (int, error) {
	if s.off == len(s.buf) {
		s.buf, s.off = nil, 0
		if s.ended || s.settle {
			return 0, io.EOF
		}
		return 0, errNoData
	}
	n := copy(p, s.buf[s.off:])
	s.off += n
	return n, nil
}

// line returns the next line of the bytes held, with its newline, as
// a bufio.Reader of size bytes over s with nothing buffered returns it
// (ReadSlice('\n')), without copying it; ok is false when there is no
// whole line among the first size bytes (ReadSlice then says what).
func (s *lineSource) line(size int) (line []byte, ok bool) {
	rest := s.buf[s.off:]
	if i := bytes.IndexByte(rest[:min(len(rest), size)], '\n'); i >= 0 {
		s.off += i + 1
		return rest[:i+1], true
	}
	return nil, false
}

// keep copies the unread bytes into memory of its own, so that the caller
// may reuse the chunk it gave.
func (s *lineSource) keep() {
	if s.off == len(s.buf) {
		s.buf, s.off = nil, 0
		return
	}
	if len(s.own) > 0 && &s.buf[0] == &s.own[0] {
		return // already in its own memory
	}
	s.own = append(s.own[:0], s.buf[s.off:]...)
	s.buf, s.off = s.own, 0
}

// NewLineReader returns a reader of the lines of the input called name
// (in errors and in reports), with the options of a Reader: the format
// (Auto: chosen from the first lines) and the line length cap. Lines are
// given plain: a LineReader does not unpack gzip.
func NewLineReader(name string, opt ReaderOptions) (*LineReader, error) {
	maxLine := opt.maxLine()
	if err := CheckMaxLine(maxLine); err != nil {
		return nil, &InputError{Name: name, Err: err}
	}
	opt.lines = true
	src := &lineSource{}
	rd, err := newReaderStream(name, &stream{name: name, br: bufio.NewReaderSize(src, maxLine+1)}, opt)
	if err != nil {
		return nil, err
	}
	rd.direct = src
	return &LineReader{rd: rd, src: src}, nil
}

// Feed reads a chunk of lines, each ending with a newline ("\r\n" too),
// and calls emit with the record of each line that parses, in order, once
// the format is chosen (the record is valid during the call only). A chunk
// whose last line has no newline ends the input: that line is read as the
// last line of a file (counted as truncated if it does not parse), and no
// line may be given after it. An error of emit stops the reading and is
// returned as an *InputError naming the input and the line; the lines
// after it in the chunk are not read.
func (lr *LineReader) Feed(chunk []byte, emit func(*Record) error) error {
	s := lr.src
	if s.ended {
		return &InputError{Name: lr.rd.name, Err: errors.New("lines given after the end of the input")}
	}
	if s.off == len(s.buf) {
		s.buf, s.off = chunk, 0
	} else {
		s.keep()
		s.own = append(s.own, chunk...)
		s.buf = s.own
	}
	if n := len(chunk); n > 0 && chunk[n-1] != '\n' {
		s.ended = true
	}
	err := lr.drain(emit)
	s.keep()
	return err
}

// Settle chooses the format, if it is not chosen yet, on the lines given
// so far, as the batch reader does at the end of a short input, and emits
// the records of the lines held. Call it when the follower has read all
// there is for now, so that a log that grows slowly is not held back. It
// does nothing while no line given can be a log line (all blank, or
// none): the choice waits for one. A mixed file whose later lines would
// have changed the choice (a Zeek or IIS header after lines of another
// format, within the first 100 lines) is read as the lines before said.
func (lr *LineReader) Settle(emit func(*Record) error) error {
	rd := lr.rd
	if !rd.sniffed && !lr.src.ended {
		lr.src.settle, rd.settling = true, true
		err := rd.sniff()
		lr.src.settle, rd.settling = false, false
		switch {
		case err == errNoData:
			lr.src.keep()
			return nil
		case err != nil:
			return err
		}
		rd.sniffed = true
	}
	err := lr.drain(emit)
	lr.src.keep()
	return err
}

// End ends the input: the lines held are read (the format chosen on them
// if it was not yet, as at the end of a batch input), their records
// emitted, and no more lines may be given.
func (lr *LineReader) End(emit func(*Record) error) error {
	lr.src.ended = true
	err := lr.drain(emit)
	lr.src.keep()
	return err
}

// drain reads the lines held and emits their records.
func (lr *LineReader) drain(emit func(*Record) error) error {
	for {
		rec, err := lr.rd.Next()
		switch {
		case err == errNoData || err == io.EOF:
			return nil
		case err != nil:
			return err
		}
		if err := emit(rec); err != nil {
			var ie *InputError
			if errors.As(err, &ie) {
				return err
			}
			return &InputError{Name: lr.rd.name, Line: rec.Pos, Err: err}
		}
	}
}

// Pending returns the bytes given whose lines are not read yet: held
// while the format is not chosen. A caller that records how far it has
// read (a follower's offset) must not count them as read.
func (lr *LineReader) Pending() int {
	return lr.rd.br.Buffered() + len(lr.src.buf) - lr.src.off
}

// Line returns the number of lines read so far (the line number of the
// last record emitted, or after it).
func (lr *LineReader) Line() int64 { return lr.rd.Line() }

// Format returns the format chosen; Auto while it is not chosen yet.
func (lr *LineReader) Format() Format { return lr.rd.Format() }

// Input returns the input's entry in a report: its name, format and line
// counts so far.
func (lr *LineReader) Input() Input { return lr.rd.Input() }
