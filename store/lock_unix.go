//go:build unix

package store

import (
	"errors"
	"os"
	"syscall"
)

// lockDir opens and locks (flock, exclusive, not waiting) the lock file
// of a data folder; closing the file releases it, and so does the
// process's end, however it ends.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
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
