package demo

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
)

// The pace of a feed by default.
const (
	// DefaultSpeed is how many simulated seconds pass in one second of wall
	// time: 240 (an hour in 15 s). The honeynet's alarm fires about 64 s
	// after the feed starts, the outbreak's day (to 24:00) is fed in about
	// 3 min 10 s.
	DefaultSpeed = 240
	// DefaultLead is the simulated time between the start of the feed and
	// the log's first line: the quiet hours before are skipped.
	DefaultLead = 10 * time.Minute
	// DefaultBatch is the wall time between two writes.
	DefaultBatch = 50 * time.Millisecond
)

// FeedOptions set the pace of Feed. The zero value is the demo's.
type FeedOptions struct {
	// Speed is how many simulated seconds pass per second of wall time
	// (0: DefaultSpeed).
	Speed float64
	// Lead is how long (simulated) the feed starts before the log's first
	// line (0: DefaultLead; negative: none, the first line at once).
	Lead time.Duration
	// Batch is the wall time between writes (0: DefaultBatch).
	Batch time.Duration
	// Rotate, when positive, rotates dst whenever the simulated clock
	// passes a multiple of it (with 1h: on the hour): dst is renamed
	// dst-YYYYMMDD-HHMMSS (the stamp of that multiple, as logrotate's
	// dateext does) and created anew.
	Rotate time.Duration
	// Keep is how many rotated files to keep, the oldest removed
	// (0: all).
	Keep int
	// Loop starts the log again when it ends, its timestamps moved a
	// whole number of days later (at least its span plus two days, so
	// that an alarm of the watch's default settings has subsided and ended
	// in the gap, and each pass is a new outbreak); the gap is not waited
	// for.
	Loop bool
}

// withDefaults returns o with its zero values set.
func (o FeedOptions) withDefaults() FeedOptions {
	if o.Speed == 0 {
		o.Speed = DefaultSpeed
	}
	switch {
	case o.Lead == 0:
		o.Lead = DefaultLead
	case o.Lead < 0:
		o.Lead = 0
	}
	if o.Batch == 0 {
		o.Batch = DefaultBatch
	}
	return o
}

// check reports options that cannot be used.
func (o FeedOptions) check() error {
	switch {
	case !(o.Speed > 0) || math.IsInf(o.Speed, 0):
		return fmt.Errorf("demo: speed %v: want a positive number", o.Speed)
	case o.Batch < 0:
		return fmt.Errorf("demo: batch %v: want a positive duration", o.Batch)
	case o.Rotate < 0 || (o.Rotate > 0 && o.Rotate < time.Second):
		return fmt.Errorf("demo: rotate %v: want 0 (never) or at least 1s", o.Rotate)
	case o.Keep < 0:
		return fmt.Errorf("demo: keep %d: want 0 (all) or more", o.Keep)
	}
	return nil
}

// Offset is the pacing formula: it returns how long after the start of a
// feed with these options the line of time t is written, for a log whose
// first line is at first (on the first pass):
// (t - (first - Lead)) / Speed, written at the first batch at or after it.
func (o FeedOptions) Offset(first, t time.Time) time.Duration {
	o = o.withDefaults()
	return time.Duration(float64(t.Sub(first.Add(-o.Lead))) / o.Speed)
}

// Feed appends the lines of the log src (plain, or gzip'ed as Generate
// writes it) to dst in accelerated time: with t0 the time of src's first
// line less opt.Lead, a line of time t is written when the wall clock
// reaches the start of the feed plus (t - t0) / opt.Speed (Offset), in
// whole lines, one write every opt.Batch. Lines keep their timestamps
// (those of 2001 for the demo), moved only by whole days when looping. A
// line's time is read from its Apache common or combined log timestamp
// ([19/Jul/2001:10:47:12 +0000]); a line without one goes with the line
// before it. A last line without a newline is given one.
//
// dst is opened for appending (created if need be) and rotated as
// opt.Rotate says. Feed returns nil at the end of src (unless opt.Loop),
// or the context's error when ctx is done: what it wrote then ends with a
// whole line.
func Feed(ctx context.Context, src, dst string, opt FeedOptions) error {
	opt = opt.withDefaults()
	if err := opt.check(); err != nil {
		return err
	}
	in, err := openSource(src) // before dst is made: a source that cannot be read is refused
	if err != nil {
		return err
	}
	in.Close()
	f := &feeder{opt: opt, dst: dst}
	if err := f.open(); err != nil {
		return err
	}
	wall := time.Now()
	var shift time.Duration
	for {
		p, err := f.pass(ctx, src, wall, shift)
		if err != nil || !opt.Loop || p.lines == 0 {
			if cerr := f.out.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("demo: %w", cerr)
			}
			return err
		}
		wall = wall.Add(p.span)
		shift += loopShift(p.span)
	}
}

// loopShift is how much later the next pass's timestamps are: whole days,
// at least the span of a pass plus two days.
func loopShift(span time.Duration) time.Duration {
	const day = 24 * time.Hour
	return (span + 2*day + day - 1).Truncate(day)
}

// feeder is one feed's state.
type feeder struct {
	opt  FeedOptions
	dst  string
	out  *os.File
	buf  []byte    // lines due, not written yet
	next time.Time // the next rotation (zero: none yet)
}

// passStats is what one pass through the log did.
type passStats struct {
	lines int64
	span  time.Duration // wall time from the pass's start to its last line
}

// pass writes the log once, its timestamps moved by shift, paced from
// wall.
func (f *feeder) pass(ctx context.Context, src string, wall time.Time, shift time.Duration) (passStats, error) {
	var p passStats
	in, err := openSource(src)
	if err != nil {
		return p, err
	}
	defer in.Close()
	lr := &lineSource{r: bufio.NewReaderSize(in, 256<<10), shift: shift}
	if err := lr.advance(); err != nil || lr.eof {
		return p, err
	}
	var t0 time.Time // the first timestamp less Lead; lines before it are due at once
	if !lr.t.IsZero() {
		t0 = lr.t.Add(-f.opt.Lead)
	}
	tick := time.NewTicker(f.opt.Batch)
	defer tick.Stop()
	for {
		elapsed := time.Duration(float64(time.Since(wall)) * f.opt.Speed)
		for !lr.eof && (lr.t.IsZero() || !lr.t.After(t0.Add(elapsed))) {
			if err := f.add(lr.line, lr.t); err != nil {
				return p, err
			}
			p.lines++
			p.span = time.Duration(float64(lr.t.Sub(t0)) / f.opt.Speed)
			if err := lr.advance(); err != nil {
				return p, err
			}
			if t0.IsZero() && !lr.t.IsZero() {
				t0 = lr.t.Add(-f.opt.Lead)
			}
		}
		if err := f.flush(); err != nil || lr.eof {
			return p, err
		}
		select {
		case <-ctx.Done():
			return p, ctx.Err()
		case <-tick.C:
		}
	}
}

// add appends a line of time t to the batch, rotating dst first if t has
// reached the next rotation, and writes the batch when it is large.
func (f *feeder) add(line []byte, t time.Time) error {
	if r := f.opt.Rotate; r > 0 && !t.IsZero() {
		if f.next.IsZero() {
			f.next = t.Truncate(r).Add(r)
		} else if !t.Before(f.next) {
			if err := f.rotate(f.next); err != nil {
				return err
			}
			f.next = t.Truncate(r).Add(r)
		}
	}
	f.buf = append(f.buf, line...)
	if len(f.buf) >= 1<<20 {
		return f.flush()
	}
	return nil
}

// flush writes the batch: whole lines, in one write.
func (f *feeder) flush() error {
	if len(f.buf) == 0 {
		return nil
	}
	_, err := f.out.Write(f.buf)
	f.buf = f.buf[:0]
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// open opens dst for appending.
func (f *feeder) open() error {
	out, err := os.OpenFile(f.dst, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	f.out = out
	return nil
}

// openSource opens the log src, unpacking it if it is gzip'ed.
func openSource(src string) (io.ReadCloser, error) {
	in, err := os.Open(src)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	br := bufio.NewReader(in)
	magic, _ := br.Peek(2)
	if !bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		return readCloser{br, in}, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		in.Close()
		return nil, fmt.Errorf("demo: %s: %w", src, err)
	}
	return readCloser{zr, in}, nil
}

// readCloser reads from one reader and closes a file.
type readCloser struct {
	io.Reader
	f *os.File
}

func (r readCloser) Close() error { return r.f.Close() }

// lineSource reads the lines of a log and their times.
type lineSource struct {
	r     *bufio.Reader
	shift time.Duration // added to every timestamp
	line  []byte        // the current line, with its newline
	t     time.Time     // its time
	eof   bool
}

// advance reads the next line (eof when there is none).
func (l *lineSource) advance() error {
	l.line = l.line[:0]
	for {
		part, err := l.r.ReadSlice('\n')
		l.line = append(l.line, part...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			if len(l.line) == 0 {
				l.eof = true
				return nil
			}
			l.line = append(l.line, '\n')
		} else if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		break
	}
	if t, ok := stamp(l.line, l.shift); ok {
		l.t = t
	}
	return nil
}

// clfLayout is the timestamp of Apache's common and combined log formats.
const clfLayout = "02/Jan/2006:15:04:05 -0700"

// stamp returns the time of a log line, its timestamp moved by shift and
// rewritten in place when shift is not zero.
func stamp(line []byte, shift time.Duration) (time.Time, bool) {
	i := bytes.IndexByte(line, '[')
	if i < 0 || len(line) < i+1+len(clfLayout)+1 || line[i+1+len(clfLayout)] != ']' {
		return time.Time{}, false
	}
	ts := line[i+1 : i+1+len(clfLayout)]
	t, err := time.Parse(clfLayout, string(ts))
	if err != nil {
		return time.Time{}, false
	}
	if shift != 0 {
		t = t.Add(shift)
		if s := t.AppendFormat(nil, clfLayout); len(s) == len(ts) {
			copy(ts, s)
		}
	}
	return t, true
}

// stampLayout is the stamp of a rotated file's name.
const stampLayout = "20060102-150405"

// rotate renames dst to dst-STAMP (the stamp of at) and creates it anew,
// then removes the oldest rotated files beyond Keep.
func (f *feeder) rotate(at time.Time) error {
	if err := f.flush(); err != nil {
		return err
	}
	err := os.Rename(f.dst, f.dst+"-"+at.UTC().Format(stampLayout))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("demo: rotating: %w", err)
	}
	old := f.out
	if err := f.open(); err != nil {
		old.Close()
		return err
	}
	if err := old.Close(); err != nil {
		return fmt.Errorf("demo: rotating: %w", err)
	}
	return f.prune()
}

// prune removes the oldest of dst's rotated files (dst-STAMP) beyond Keep.
func (f *feeder) prune() error {
	if f.opt.Keep == 0 {
		return nil
	}
	rotated, err := Rotated(f.dst)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	for len(rotated) > f.opt.Keep {
		if err := os.Remove(rotated[0]); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("demo: %w", err)
		}
		rotated = rotated[1:]
	}
	return nil
}

// Rotated returns the files Feed rotated dst to (dst-YYYYMMDD-HHMMSS),
// oldest first.
func Rotated(dst string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Dir(dst))
	if err != nil {
		return nil, err
	}
	base := filepath.Base(dst) + "-"
	var out []string
	for _, e := range ents {
		st, ok := strings.CutPrefix(e.Name(), base)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		if _, err := time.Parse(stampLayout, st); err == nil && len(st) == len(stampLayout) {
			out = append(out, filepath.Join(filepath.Dir(dst), e.Name()))
		}
	}
	slices.Sort(out)
	return out, nil
}
