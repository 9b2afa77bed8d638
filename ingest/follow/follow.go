package follow

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// DefaultMaxLine is the default cap on a line's length, 64 KiB (detect's
// default --max-line).
const DefaultMaxLine = 64 << 10

// MaxMaxLine is the largest line cap accepted, 64 MiB (detect's too).
const MaxMaxLine = 64 << 20

// DefaultChunkSize is the default cap on the bytes of one Chunk's lines.
const DefaultChunkSize = 256 << 10

// MaxChunkSize is the largest ChunkSize accepted.
const MaxChunkSize = 256 << 20

// DefaultPoll is how often, by default, a Follower looks at its file and
// folder when no event came: 250 ms.
const DefaultPoll = 250 * time.Millisecond

// LongLines says what becomes of a line longer than Options.MaxLine.
type LongLines int

const (
	// Skip drops the line; it is counted in Chunk.Long.
	Skip LongLines = iota
	// Truncate delivers the line's first MaxLine bytes and a '\n'; it is
	// counted in Chunk.Long and Chunk.N.
	Truncate
)

// Start says where a Follower starts when it has no stored Position.
type Start int

const (
	// FromStart reads the file at the path from its first byte.
	FromStart Start = iota
	// FromEnd starts at the end of the file at the path, as it is when the
	// Follower first looks; a line in progress there is skipped. Files
	// that appear later are read from their first byte.
	FromEnd
)

// Options tune a Follower. The zero Options are the defaults.
type Options struct {
	MaxLine   int           // longest line delivered whole, in bytes without its '\n'; 1 to MaxMaxLine; 0: DefaultMaxLine
	Long      LongLines     // what becomes of a longer line: Skip (the zero value) or Truncate
	ChunkSize int           // most bytes of lines in one Chunk; 0: DefaultChunkSize; raised to MaxLine+1 when smaller
	Poll      time.Duration // how often the file is looked at without an event; 0: DefaultPoll
	Start     Start         // where to start without a stored Position: FromStart (the zero value) or FromEnd
	NoNotify  bool          // do not use fsnotify: look only every Poll (for file systems that deliver no events)
}

// resolve fills in the defaults and checks the bounds.
func (o Options) resolve() (Options, error) {
	if o.MaxLine == 0 {
		o.MaxLine = DefaultMaxLine
	}
	if o.ChunkSize == 0 {
		o.ChunkSize = DefaultChunkSize
	}
	if o.Poll == 0 {
		o.Poll = DefaultPoll
	}
	switch {
	case o.MaxLine < 1 || o.MaxLine > MaxMaxLine:
		return o, fmt.Errorf("follow: MaxLine %d: want 1 to %d bytes", o.MaxLine, MaxMaxLine)
	case o.ChunkSize < 1 || o.ChunkSize > MaxChunkSize:
		return o, fmt.Errorf("follow: ChunkSize %d: want 1 to %d bytes", o.ChunkSize, MaxChunkSize)
	case o.Poll < time.Millisecond:
		return o, fmt.Errorf("follow: Poll %v: want at least 1ms", o.Poll)
	case o.Long != Skip && o.Long != Truncate:
		return o, fmt.Errorf("follow: Long %d: want Skip or Truncate", o.Long)
	case o.Start != FromStart && o.Start != FromEnd:
		return o, fmt.Errorf("follow: Start %d: want FromStart or FromEnd", o.Start)
	}
	o.ChunkSize = max(o.ChunkSize, o.MaxLine+1)
	return o, nil
}

// Chunk is what Next delivers: whole lines of one file and the Position
// just after them.
type Chunk struct {
	// Lines holds N whole lines, each ending in '\n' (a rotated file's last
	// line, which had none, is given one), at most Options.ChunkSize
	// bytes. It is the Follower's buffer: valid until the next call of
	// Next or Close.
	Lines []byte
	N     int      // lines in Lines
	Long  int      // lines longer than MaxLine among those consumed: in Lines cut short (Truncate) or not at all (Skip)
	Pos   Position // just after the last line consumed; store it with what was made of the lines
	File  string   // the name the lines were read under: the path or a rotated sibling
	Gap   *Gap     // not nil: bytes that could not be read before these lines
}

// Gap is a stretch of the stream that could not be read: a file truncated
// (copytruncate) before it was read to its end, and no copy of it found, or
// a stored Position whose file is found nowhere.
type Gap struct {
	After Position // the last position read before the bytes lost
	Bytes int64    // how many bytes were lost at least; -1 when not known
	Why   string   // what happened, for a log line
}

// String describes the gap.
func (g *Gap) String() string {
	n := "an unknown number of bytes"
	if g.Bytes >= 0 {
		n = fmt.Sprintf("at least %d bytes", g.Bytes)
	}
	return fmt.Sprintf("%s lost after %s: %s", n, g.After, g.Why)
}

// ErrClosed is returned by Next after Close.
var ErrClosed = errors.New("follow: follower closed")

// Follower follows one path as tail -F does (see the package
// documentation). It is not safe for concurrent use: one goroutine calls
// Next, then Close; cancel Next's context to stop a Next that waits.
type Follower struct {
	path string
	opt  Options
	from Position // the stored Position

	cur   *source   // the file being read; nil when there is none yet
	queue []*source // rotated files to read after cur, oldest first, before the path's file
	gap   *Gap      // to deliver with the next chunk

	buf  []byte // Options.ChunkSize bytes; buf[:n] read and not consumed
	n    int
	used int  // bytes at the front of buf consumed by the last chunk, shifted out at the next call
	skip bool // dropping the rest of a line longer than MaxLine
	keep int  // bytes of that line kept at buf[:keep] (Truncate)
	mute bool // the line skipped was cut by the start (FromEnd): not counted

	wake   *waker
	closed bool
}

// New returns a Follower of path that resumes at from (the Position of the
// last chunk whose results were kept), or starts as opt.Start says when
// from is the zero Position. It opens the file to read first now (finding
// the file of from, and unpacking a gzip'ed one up to from's offset, while
// ctx lasts); the path need not exist yet.
func New(ctx context.Context, path string, from Position, opt Options) (*Follower, error) {
	opt, err := opt.resolve()
	if err != nil {
		return nil, err
	}
	if path == "" {
		return nil, errors.New("follow: no path")
	}
	if err := from.check(); err != nil {
		return nil, fmt.Errorf("follow: stored position of %s: %w", path, err)
	}
	f := &Follower{
		path: path,
		opt:  opt,
		from: from,
		buf:  make([]byte, opt.ChunkSize),
		wake: newWaker(path, opt.Poll, !opt.NoNotify),
	}
	if err := f.start(ctx); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Path returns the followed path.
func (f *Follower) Path() string { return f.path }

// Next returns the next chunk: at least one whole line consumed (delivered,
// or skipped as too long), waiting for it as long as it takes. It returns
// ctx's error once ctx is done, ErrClosed after Close, and the error of a
// file that cannot be opened or read other than for not being there
// (Next may be called again after it: it tries again).
func (f *Follower) Next(ctx context.Context) (Chunk, error) {
	if f.closed {
		return Chunk{}, ErrClosed
	}
	if f.used > 0 {
		f.n = copy(f.buf, f.buf[f.used:f.n])
		f.used = 0
	}
	for {
		if err := ctx.Err(); err != nil {
			return Chunk{}, err
		}
		if f.cur != nil {
			if c, ok := f.cut(); ok {
				return c, nil
			}
			got, err := f.fill(ctx)
			if err != nil {
				return Chunk{}, err
			}
			if got {
				continue
			}
		}
		c, ok, moved, err := f.advance(ctx)
		if err != nil {
			return Chunk{}, err
		}
		if ok {
			return c, nil
		}
		if moved {
			continue
		}
		if err := f.wake.wait(ctx); err != nil {
			return Chunk{}, err
		}
	}
}

// Position returns the position just after the last chunk returned: the
// stored one before the first chunk when its file was found, and the zero
// Position when there is no file yet.
func (f *Follower) Position() Position {
	if f.cur == nil {
		return Position{}
	}
	return f.cur.position()
}

// Close releases the open files and the watch. Next returns ErrClosed after
// it; a second Close does nothing.
func (f *Follower) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	f.wake.close()
	var err error
	if f.cur != nil {
		err = f.cur.close()
		f.cur = nil
	}
	for _, s := range f.queue {
		err = errors.Join(err, s.close())
	}
	f.queue = nil
	return err
}

// start opens the file to read first: where the stored Position is, or the
// path's file at its start or end.
func (f *Follower) start(ctx context.Context) error {
	if !f.from.IsZero() {
		return f.resume(ctx, f.from)
	}
	file, fi, err := openPath(f.path)
	if err != nil || file == nil {
		return err
	}
	at := int64(0)
	if f.opt.Start == FromEnd {
		at = fi.Size()
	}
	s, err := openPlain(f.path, file, fi, at)
	if err != nil {
		return err
	}
	f.cur = s
	if at > 0 {
		var last [1]byte
		if _, err := file.ReadAt(last[:], at-1); err == nil && last[0] != '\n' {
			f.skip, f.mute = true, true
		}
	}
	return nil
}

// openPath opens the path, or returns a nil file when it is not there.
func openPath(path string) (*os.File, os.FileInfo, error) {
	file, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	fi, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, nil, err
	}
	return file, fi, nil
}

// cut takes the whole lines at the front of buf[:n] as a chunk; it reports
// false when there is none yet (and starts dropping a partial line that
// has grown past MaxLine).
func (f *Follower) cut() (Chunk, bool) {
	buf := f.buf[:f.n]
	maxLine, trunc := f.opt.MaxLine, f.opt.Long == Truncate
	out, i, lines, long := 0, 0, 0, 0
	if f.skip {
		j := bytes.IndexByte(buf[f.keep:], '\n')
		if j < 0 {
			f.n = f.keep
			return Chunk{}, false
		}
		i = f.keep + j + 1
		if !f.mute {
			long++
			if trunc {
				buf[f.keep] = '\n'
				out = f.keep + 1
				lines++
			}
		}
		f.skip, f.mute, f.keep = false, false, 0
	}
	if i == 0 {
		// Most chunks have no line past the cap: their whole lines are
		// taken as they are, counted at once.
		if last := bytes.LastIndexByte(buf, '\n'); last >= 0 && withinCap(buf[:last+1], maxLine) {
			i, out, lines = last+1, last+1, bytes.Count(buf[:last+1], []byte{'\n'})
		}
	}
	for i < len(buf) {
		j := bytes.IndexByte(buf[i:], '\n')
		if j < 0 {
			break
		}
		switch {
		case j <= maxLine:
			if out != i {
				copy(buf[out:], buf[i:i+j+1])
			}
			out += j + 1
			lines++
		case trunc:
			copy(buf[out:], buf[i:i+maxLine])
			buf[out+maxLine] = '\n'
			out += maxLine + 1
			lines++
			long++
		default:
			long++
		}
		i += j + 1
	}
	if i == 0 {
		if len(buf) > maxLine {
			f.skip = true
			if trunc {
				f.keep = maxLine
			}
			f.n = f.keep
		}
		return Chunk{}, false
	}
	f.cur.pos = f.cur.rd - int64(len(buf)-i)
	f.used = i
	return f.chunk(buf[:out:out], lines, long), true
}

// withinCap reports whether every line of b, which ends with a newline,
// is at most maxLine bytes long (without its newline). It looks for the
// last newline of each stretch of maxLine+1 bytes from a line's start
// (which holds that line's newline if the line is within the cap), so it
// reads about a line per stretch, not every line.
func withinCap(b []byte, maxLine int) bool {
	for p := 0; p < len(b); {
		k := bytes.LastIndexByte(b[p:min(p+maxLine+1, len(b))], '\n')
		if k < 0 {
			return false
		}
		p += k + 1
	}
	return true
}

// chunk makes a Chunk of lines consumed from cur.
func (f *Follower) chunk(lines []byte, n, long int) Chunk {
	c := Chunk{Lines: lines, N: n, Long: long, Pos: f.cur.position(), File: f.cur.name, Gap: f.gap}
	f.gap = nil
	return c
}

// fill reads more of cur into buf. It reports false at cur's end (and
// when cur was found truncated and replaced: the caller then asks again).
func (f *Follower) fill(ctx context.Context) (bool, error) {
	s := f.cur
	room := f.buf[f.n:]
	m, err := s.read(room)
	if errors.Is(err, errTruncated) {
		return true, f.truncated(ctx)
	}
	if errors.Is(err, errBadGzip) {
		f.n += m
		f.gap = &Gap{After: s.position(), Bytes: -1, Why: err.Error() + " (the rest of it is skipped)"}
		return m > 0, nil
	}
	if err != nil {
		return false, err
	}
	f.n += m
	return m > 0, nil
}

// advance is called at the end of cur (or with no file yet). When cur is
// no longer the path's file (renamed, deleted), it moves on to the next
// file: the next rotated file queued, else the rotated siblings newer than
// cur (rotations that came while cur was read), else the new file at the
// path once it has its first byte (until then the writer may still write
// to the old one, as after logrotate's create and before the server
// reopens). Leaving a file whose last line has no '\n' delivers that line
// (ok). moved says that there is a new file to read; neither: wait.
func (f *Follower) advance(ctx context.Context) (c Chunk, ok, moved bool, err error) {
	if f.cur != nil && len(f.queue) > 0 {
		c, ok = f.leave()
		f.cur, f.queue = f.queue[0], f.queue[1:]
		return c, ok, true, nil
	}
	fi, err := os.Stat(f.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Chunk{}, false, false, err
	}
	if f.cur != nil && fi != nil && os.SameFile(fi, f.cur.fi) {
		return Chunk{}, false, false, nil
	}
	if f.cur != nil {
		newer, err := f.newer(ctx, f.cur.position())
		if err != nil {
			return Chunk{}, false, false, err
		}
		if len(newer) > 0 {
			c, ok = f.leave()
			f.cur, f.queue = newer[0], newer[1:]
			return c, ok, true, nil
		}
		if fi == nil || fi.Size() == 0 {
			return Chunk{}, false, false, nil
		}
	}
	file, nfi, err := openPath(f.path)
	if err != nil || file == nil {
		return Chunk{}, false, false, err
	}
	if f.cur != nil && (os.SameFile(nfi, f.cur.fi) || nfi.Size() == 0) {
		file.Close() // the path changed again between the two looks
		return Chunk{}, false, false, nil
	}
	s, err := openPlain(f.path, file, nfi, 0)
	if err != nil {
		return Chunk{}, false, false, err
	}
	if f.cur != nil {
		c, ok = f.leave()
	}
	f.cur = s
	return c, ok, true, nil
}

// leave closes cur, delivering its last line if it had no '\n': the file
// is left for good, so the line is whole.
func (f *Follower) leave() (c Chunk, ok bool) {
	s := f.cur
	if f.skip || f.n > 0 {
		s.pos = s.rd
		switch {
		case f.skip && f.mute: // the start cut it: not a line
		case f.skip && f.opt.Long == Skip:
			c, ok = f.chunk(nil, 0, 1), true
		case f.skip:
			f.buf[f.keep] = '\n'
			f.n = f.keep + 1
			c, ok = f.chunk(f.buf[:f.n:f.n], 1, 1), true
		default:
			f.buf[f.n] = '\n'
			f.n++
			c, ok = f.chunk(f.buf[:f.n:f.n], 1, 0), true
		}
		f.used = f.n
		f.skip, f.mute, f.keep = false, false, 0
	}
	_ = s.close()
	f.cur = nil
	return c, ok
}

// truncated handles cur found shorter than what was read of it, or with
// other first bytes: a copytruncate. What was not yet read is looked for in
// a rotated copy with cur's fingerprint (copytruncate copies, then
// truncates); found, it is read from where cur stood, then any newer
// rotated copies, then the path's file from its start. Not found, the
// bytes seen of cur beyond its position are a Gap, and cur is read again
// from its start. When ctx is done, nothing has changed.
func (f *Follower) truncated(ctx context.Context) error {
	s := f.cur
	at := s.position()
	f.cur = nil
	found, err := f.rotatedFrom(ctx, at)
	if err != nil {
		f.cur = s
		return err
	}
	f.n, f.used, f.skip, f.mute, f.keep = 0, 0, false, false, 0
	if found {
		if c := f.cur; c.zr == nil && c.pos == at.Offset && c.size < s.size {
			f.gap = cmp.Or(f.gap, &Gap{After: at, Bytes: s.size - c.size, Why: fmt.Sprintf("%s was truncated; its copy %s is shorter than what was seen of it", f.path, c.name)})
		}
		_ = s.close()
		return nil
	}
	f.cur = s
	if s.size > at.Offset {
		f.gap = cmp.Or(f.gap, &Gap{After: at, Bytes: s.size - at.Offset, Why: fmt.Sprintf("%s was truncated before it was read to its end, and no rotated copy of it was found", f.path)})
	}
	s.restart()
	return nil
}
