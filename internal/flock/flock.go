// Package flock holds the lock file of a data store (serve's store, the
// TAXII server's database): one process at a time, released when the file
// is closed or the process ends, however it ends.
package flock

import "errors"

// ErrLocked is Lock's error when another process holds the lock.
var ErrLocked = errors.New("locked by another process")
