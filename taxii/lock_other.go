//go:build !unix

package taxii

import (
	"errors"
	"os"
)

// ErrLocked is wrapped by New's error when another process holds the
// database (never, without flock).
var ErrLocked = errors.New("the TAXII database is in use by another process")

// lockFile opens the lock file; without flock it does not keep a second
// process out.
func lockFile(file string) (*os.File, error) {
	return os.OpenFile(file, os.O_RDWR|os.O_CREATE, 0o640)
}
