//go:build !linux

package notify

import (
	"fmt"
	"os"
)

// folder is the notices folder being written: its root, where each file
// is synced as it is written (syncfs(2) does not exist here).
type folder struct{ root *os.Root }

// openFolder opens the folder of root.
func openFolder(root *os.Root) (*folder, error) { return &folder{root}, nil }

// create writes a new file name holding data, and syncs it.
func (f *folder) create(name string, data []byte) error {
	w, err := f.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if _, err = w.Write(data); err == nil {
		err = w.Sync()
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// sync has nothing left to do: each file was synced as it was written.
func (f *folder) sync() error { return nil }

// close closes nothing.
func (f *folder) close() error { return nil }
