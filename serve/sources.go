package serve

import (
	"bufio"
	"compress/gzip"
	"context"
	"io"
	"os"
	"time"

	"wormwatch/detect"
	"wormwatch/ingest/follow"
	"wormwatch/ingest/packet"
)

// chunk is what an input's goroutine hands to the ingest loop: lines of a
// followed log with the position after them, or records of a capture with
// the reader's entry after them, or an error.
type chunk struct {
	src *source
	gen int // the input's generation when its goroutine started: chunks of an older one are dropped

	// a followed log
	lines []byte
	pos   follow.Position
	gap   *follow.Gap

	// a capture
	capture *capture // the capture the records come from (nil for a log)
	recs    []detect.Record
	entry   detect.Input // the reader's entry after them
	through int64        // records of the capture read after them
	done    bool         // the capture has been read to its end

	err error // the input cannot be read for now (or the capture failed)
}

// captureChunk is how many records a capture's chunk holds at most.
const captureChunk = 2048

// followInput follows a log from pos and sends its chunks to out until ctx
// is done (follow.Run, trying again while the log cannot be opened).
func followInput(ctx context.Context, src *source, gen int, pos follow.Position, opt follow.Options, out chan<- chunk) {
	follow.Run(ctx, follow.Input{Path: src.cfg.Path, From: pos}, opt, true, func(c follow.Chunk, err error) bool {
		ch := chunk{src: src, gen: gen, err: err}
		if err == nil {
			ch.lines, ch.pos, ch.gap = append(getChunkBuf(len(c.Lines)), c.Lines...), c.Pos, c.Gap
		}
		select {
		case out <- ch:
			return true
		case <-ctx.Done():
			return false
		}
	})
}

// sleep waits d or until ctx is done, and reports whether ctx is not done.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// capture is one capture file (or standard input) an input reads.
type capture struct {
	key  string
	name string // its name in reports: the path as detect names it; stdin for -
	path string
}

// readCapture reads one capture, passing over the records up to skip (the
// records counted before a restart), and sends its records in chunks; the
// last chunk has done set (or err). It returns false when ctx ended it.
func readCapture(ctx context.Context, c *capture, skip int64, opt packet.Options, stdin io.Reader, send func(chunk) bool) bool {
	var r io.Reader
	if c.path == "-" {
		r = stdin
	} else {
		f, err := os.Open(c.path)
		if err != nil {
			return send(chunk{capture: c, err: err, done: true})
		}
		defer f.Close()
		r = f
	}
	br := bufio.NewReaderSize(ctxReader{ctx, r}, 64<<10)
	gz := false
	if m, _ := br.Peek(2); len(m) == 2 && m[0] == 0x1f && m[1] == 0x8b {
		z, err := gzip.NewReader(br)
		if err != nil {
			return send(chunk{capture: c, err: &detect.InputError{Name: c.name, Err: err}, done: true})
		}
		defer z.Close()
		br, gz = bufio.NewReaderSize(z, 64<<10), true
	}
	rd, err := packet.NewReader(c.name, br, opt)
	if err != nil {
		return ctx.Err() == nil && send(chunk{capture: c, err: err, done: true})
	}
	defer rd.Close()
	entry := func() detect.Input {
		e := rd.Input()
		e.Gzip = gz
		return e
	}
	var recs []detect.Record
	var n int64
	started := time.Now()
	for {
		rec, err := rd.Next()
		if ctx.Err() != nil {
			return false
		}
		if err != nil {
			last := chunk{capture: c, recs: recs, entry: entry(), through: n, done: true}
			if err != io.EOF {
				last.err = err
			}
			return send(last)
		}
		if n++; n <= skip {
			continue
		}
		recs = append(recs, cloneRecord(rec))
		if len(recs) == captureChunk || c.path == "-" && time.Since(started) > 100*time.Millisecond {
			if !send(chunk{capture: c, recs: recs, entry: entry(), through: n}) {
				return false
			}
			recs, started = nil, time.Now()
		}
	}
}

// ctxReader is a reader that fails once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

// Read reads unless the context is done.
func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// cloneRecord returns a copy of rec whose bytes are its own (in one
// allocation).
func cloneRecord(rec *detect.Record) detect.Record {
	out := *rec
	n := len(rec.Source) + len(rec.Method) + len(rec.Target) + len(rec.Path) + len(rec.Query) + len(rec.Protocol) + len(rec.UserAgent) + len(rec.Referer)
	buf := make([]byte, 0, n)
	cp := func(b []byte) []byte {
		if b == nil {
			return nil
		}
		i := len(buf)
		buf = append(buf, b...)
		return buf[i:len(buf):len(buf)]
	}
	out.Source, out.Method, out.Target, out.Path = cp(rec.Source), cp(rec.Method), cp(rec.Target), cp(rec.Path)
	out.Query, out.Protocol, out.UserAgent, out.Referer = cp(rec.Query), cp(rec.Protocol), cp(rec.UserAgent), cp(rec.Referer)
	return out
}

// captureStable is how long a capture file must stay unchanged before it
// is read: a file still being written (tcpdump -w) is read once whole.
const captureStable = time.Second

// captureFiles lists the captures of a pcap input: the file itself, the
// files of a folder (recursively, in lexical order, as detect reads a
// folder), or standard input.
func captureFiles(cfg Input) ([]*capture, error) {
	if cfg.Path == "-" {
		return []*capture{{key: stdinKey, name: "stdin", path: "-"}}, nil
	}
	paths, err := detect.Expand([]string{cfg.Path})
	if err != nil {
		return nil, err
	}
	var out []*capture
	for _, p := range paths {
		in := Input{Kind: cfg.Kind, Path: p.Name}
		out = append(out, &capture{key: in.key(), name: p.Name, path: p.Name})
	}
	return out, nil
}

// stable reports whether the file at path has not changed for
// captureStable.
func stable(path string, now time.Time) bool {
	st, err := os.Stat(path)
	return err == nil && now.Sub(st.ModTime()) >= captureStable
}

// captureState is what the loop knows of a capture when a goroutine
// starts: the records counted, and whether it was read to its end.
type captureState struct {
	through int64
	done    bool
}

// readCaptures reads the captures of a pcap input: each file once, whole,
// once it is stable, and for a folder the files that appear later (looked
// for every poll). known are the captures' states by key.
func readCaptures(ctx context.Context, src *source, gen int, known map[string]captureState, opt packet.Options, poll time.Duration, stdin io.Reader, out chan<- chunk) {
	send := func(c chunk) bool {
		c.src, c.gen = src, gen
		select {
		case out <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	var last string
	for {
		files, err := captureFiles(src.cfg)
		if err != nil && err.Error() != last {
			if !send(chunk{err: err}) {
				return
			}
		}
		last = errText(err)
		for _, c := range files {
			st := known[c.key]
			if st.done || c.path != "-" && !stable(c.path, time.Now()) {
				continue
			}
			if !readCapture(ctx, c, st.through, opt, stdin, send) {
				return
			}
			known[c.key] = captureState{done: true}
		}
		if src.cfg.Path == "-" || !sleep(ctx, poll) {
			return
		}
	}
}

// errText is err's text, "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
