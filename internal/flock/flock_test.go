//go:build unix

package flock

import (
	"errors"
	"path/filepath"
	"testing"
)

// TestLock: a second Lock of a held file is ErrLocked, and closing the
// first releases it.
func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	f, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock: %v, want ErrLocked", err)
	}
	f.Close()
	g, err := Lock(path)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	g.Close()
}
