//go:build !unix

package flock

import "os"

// Lock opens (creating it) the file at path; without flock it does not
// keep a second process out.
func Lock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
}
