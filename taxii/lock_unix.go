//go:build unix

package taxii

import (
	"errors"
	"os"
	"syscall"
)

// ErrLocked is wrapped by New's error when another process holds the
// database.
var ErrLocked = errors.New("the TAXII database is in use by another process")

// lockFile opens and locks (flock, exclusive, not waiting) a lock file;
// closing it releases the lock, and so does the process's end.
func lockFile(file string) (*os.File, error) {
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrLocked
		}
		return nil, err
	}
	return f, nil
}
