package notify

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// folder is the notices folder being written: on Linux its descriptor,
// under which each file is made with three system calls (openat, write,
// close) instead of the five of an *os.File (which also asks fcntl and
// epoll about it), and made durable with one syncfs(2) of its file system
// rather than one fsync(2) per file: writing 100,000 notices, one fsync
// each (about 1 ms on a virtual disk) would take minutes.
type folder struct {
	dir *os.File
	fd  int
}

// openFolder opens the folder of root.
func openFolder(root *os.Root) (*folder, error) {
	d, err := root.Open(".")
	if err != nil {
		return nil, err
	}
	return &folder{dir: d, fd: int(d.Fd())}, nil
}

// create writes a new file name (one path element, made by Write) holding
// data. O_NOFOLLOW and O_EXCL: nothing that is there already is followed
// or written.
func (f *folder) create(name string, data []byte) error {
	fd, err := unix.Openat(f.fd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	for err == unix.EINTR {
		fd, err = unix.Openat(f.fd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, &os.PathError{Op: "openat", Path: name, Err: err})
	}
	for len(data) > 0 && err == nil {
		var n int
		n, err = unix.Write(fd, data)
		if err == unix.EINTR {
			err = nil
		}
		data = data[max(n, 0):]
	}
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, &os.PathError{Op: "write", Path: name, Err: err})
	}
	return nil
}

// sync flushes every file written in the folder to disk.
func (f *folder) sync() error {
	if err := unix.Syncfs(f.fd); err != nil {
		return &os.PathError{Op: "syncfs", Path: f.dir.Name(), Err: err}
	}
	return nil
}

// close closes the folder.
func (f *folder) close() error { return f.dir.Close() }
