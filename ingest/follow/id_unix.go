//go:build unix

package follow

import (
	"os"
	"syscall"
)

// idOf returns the device and inode of a file, from its stat (their
// integer types differ from one system to another).
func idOf(fi os.FileInfo) fileID {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}
	}
	return fileID{}
}
