// Package infile opens input files the way every reader of the scenario
// side does: only regular files and FIFOs (a device such as /dev/zero, a
// folder or a socket is refused before anything is read), and never more
// than a documented number of bytes (past it, reading fails with a clear
// error instead of filling memory).
package infile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrTooLarge is wrapped by the error of a read past a file's cap.
var ErrTooLarge = errors.New("file too large")

// Open opens the file at path, described as what in errors ("scenario
// file"), for reading at most max bytes: reading past them fails with an
// error wrapping ErrTooLarge. A path that is not a regular file or a FIFO
// is refused before it is opened.
func Open(path, what string, max int64) (io.ReadCloser, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := kind(fi, path, what); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	// Stat again through the open file: the path may have been replaced
	// between the two calls.
	if fi, err = f.Stat(); err != nil {
		f.Close()
		return nil, err
	}
	if err := kind(fi, path, what); err != nil {
		f.Close()
		return nil, err
	}
	return &capped{f: f, left: max, max: max, path: path, what: what}, nil
}

// ReadAll reads the whole file at path (see Open).
func ReadAll(path, what string, max int64) ([]byte, error) {
	r, err := Open(path, what, max)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// kind refuses what is neither a regular file nor a FIFO.
func kind(fi fs.FileInfo, path, what string) error {
	m := fi.Mode()
	switch {
	case m.IsRegular(), m&fs.ModeNamedPipe != 0:
		return nil
	case m.IsDir():
		return fmt.Errorf("%s is a folder, not a %s", path, what)
	case m&fs.ModeDevice != 0:
		return fmt.Errorf("%s is a device, not a %s (want a regular file)", path, what)
	case m&fs.ModeSocket != 0:
		return fmt.Errorf("%s is a socket, not a %s (want a regular file)", path, what)
	}
	return fmt.Errorf("%s is not a regular file (want a %s)", path, what)
}

// capped reads at most max bytes of f.
type capped struct {
	f          *os.File
	left, max  int64
	path, what string
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One byte more tells a file of exactly max bytes from a longer one.
		var one [1]byte
		n, err := c.f.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("%s is larger than %s, the most a %s may be: %w", c.path, Size(c.max), c.what, ErrTooLarge)
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.f.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *capped) Close() error { return c.f.Close() }

// Size words a byte count for messages: "16 MiB".
func Size(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
