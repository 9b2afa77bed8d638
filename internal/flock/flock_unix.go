//go:build unix

package flock

import (
	"errors"
	"os"
	"syscall"
)

// Lock opens (creating it) and locks the file at path: flock, exclusive,
// not waiting; ErrLocked when another process holds it. Closing the file
// releases the lock.
func Lock(path string) (*os.File, error) {
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
