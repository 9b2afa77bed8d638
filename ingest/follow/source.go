package follow

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// errTruncated says that the file being read is shorter than what was
// read of it, or no longer begins with the bytes it began with.
var errTruncated = errors.New("truncated")

// errBadGzip wraps a gzip'ed rotated file that cannot be read to its end.
var errBadGzip = errors.New("cannot unpack")

// source is one file being read: the path's file, a rotated sibling, or a
// gzip'ed rotated sibling read through a decompressor.
type source struct {
	name    string
	f       *os.File
	fi      os.FileInfo  // the open file's own stat, to tell it from the path's file
	zr      *gzip.Reader // not nil: a gzip'ed file
	id      fileID       // the identity its Positions carry
	rotated bool         // known not to be the path's file: not checked for truncation
	behind  bool         // the last read filled the buffer: more is surely there
	eof     bool         // gzip: read to its end
	pos     int64        // offset just after the last line consumed
	rd      int64        // offset of the next byte to read
	size    int64        // plain: the largest size seen; gzip: the size once read to the end, else -1
	head    []byte       // the first bytes, up to HeadSize, as far as read
	sumLen  int          // len(head) when sum was computed
	sum     [32]byte
}

// openPlain makes a source of the open plain file f, to be read from at.
// The first bytes are read now when at is past them.
func openPlain(name string, f *os.File, fi os.FileInfo, at int64) (*source, error) {
	s := &source{name: name, f: f, fi: fi, id: idOf(fi), pos: at, rd: at, size: fi.Size()}
	s.head = make([]byte, min(fi.Size(), at, HeadSize), HeadSize)
	if len(s.head) > 0 {
		if _, err := f.ReadAt(s.head, 0); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return s, nil
}

// openGzip makes a source of the gzip'ed file f, carrying id in its
// Positions, read from the uncompressed offset at (the bytes before it
// are unpacked and dropped, watching ctx).
func openGzip(ctx context.Context, name string, f *os.File, fi os.FileInfo, id fileID, at int64) (*source, error) {
	zr, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w: %w", name, errBadGzip, err)
	}
	s := &source{name: name, f: f, fi: fi, zr: zr, id: id, rotated: true, size: -1, head: make([]byte, 0, HeadSize)}
	var scratch [64 << 10]byte
	for s.rd < at {
		if err := ctx.Err(); err != nil {
			_ = s.close()
			return nil, err
		}
		n, err := s.read(scratch[:min(int64(len(scratch)), at-s.rd)])
		if err != nil {
			_ = s.close()
			return nil, err
		}
		if n == 0 && s.eof {
			_ = s.close()
			return nil, fmt.Errorf("%s: %w: %d bytes unpacked, shorter than the stored offset %d", name, errBadGzip, s.rd, at)
		}
	}
	s.pos = at
	return s, nil
}

// read reads from the file at rd into p, and reports 0 bytes at its end
// (for now). For the path's file it first checks for a truncation: the
// file shorter than rd, or other first bytes (looked at only when the
// last read came to the end of what there was).
func (s *source) read(p []byte) (int, error) {
	var n int
	if s.zr != nil {
		if s.eof {
			return 0, nil
		}
		var err error
		for n == 0 && err == nil {
			n, err = s.zr.Read(p)
		}
		s.note(p[:n])
		if err == io.EOF {
			s.eof, s.size = true, s.rd
			return n, nil
		}
		if err != nil {
			s.eof = true
			return n, fmt.Errorf("%s: %w: %w", s.name, errBadGzip, err)
		}
		return n, nil
	}
	fi, err := s.f.Stat()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", s.name, err)
	}
	size := fi.Size()
	if !s.rotated && (size < s.rd || (!s.behind && !sameHead(s.f, s.head))) {
		return 0, errTruncated
	}
	s.size = max(s.size, size)
	if size <= s.rd {
		s.behind = false
		return 0, nil
	}
	n, err = s.f.ReadAt(p, s.rd)
	if err != nil && err != io.EOF {
		return 0, fmt.Errorf("%s: %w", s.name, err)
	}
	s.behind = n == len(p)
	s.note(p[:n])
	return n, nil
}

// note records that p was read at rd: it extends the head while it is
// shorter than HeadSize, and advances rd.
func (s *source) note(p []byte) {
	h := int64(len(s.head))
	if h < HeadSize && s.rd <= h && s.rd+int64(len(p)) > h {
		from := h - s.rd
		s.head = append(s.head, p[from:min(int64(len(p)), from+HeadSize-h)]...)
	}
	s.rd += int64(len(p))
}

// position returns the Position after the last line consumed.
func (s *source) position() Position {
	if s.sumLen != len(s.head) {
		s.sumLen, s.sum = fingerprint(s.head)
	}
	return Position{Dev: s.id.dev, Ino: s.id.ino, Offset: s.pos, Head: s.sumLen, Sum: s.sum}
}

// restart reads the file again from its start (after a truncation).
func (s *source) restart() {
	s.pos, s.rd, s.size, s.behind = 0, 0, 0, false
	s.head = s.head[:0]
	s.sumLen, s.sum = 0, [32]byte{}
}

// close closes the file.
func (s *source) close() error {
	if s.zr != nil {
		_ = s.zr.Close()
	}
	return s.f.Close()
}
