package notify

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncfs says that the files of a folder are made durable with one
// syncfs(2) of its file system rather than one fsync(2) per file: writing
// 100,000 notices, one fsync each (about 1 ms on a virtual disk) would
// take minutes.
const syncfs = true

// syncAll flushes every file written under root to disk.
func syncAll(root *os.Root) error {
	d, err := root.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return &os.PathError{Op: "syncfs", Path: d.Name(), Err: err}
	}
	return nil
}
