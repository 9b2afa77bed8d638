package infile

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadAll(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "f.toml")
	if err := os.WriteFile(p, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	// At the cap: read whole.
	if b, err := ReadAll(p, "scenario file", 10); err != nil || string(b) != "0123456789" {
		t.Errorf("at the cap: %q, %v", b, err)
	}
	// Past it: an error naming the file, the cap and the kind of file.
	_, err := ReadAll(p, "scenario file", 9)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), p+" is larger than 9 bytes, the most a scenario file may be") {
		t.Errorf("past the cap: %v", err)
	}
	if _, err := ReadAll(dir, "scenario file", 9); err == nil || !strings.Contains(err.Error(), "is a folder") {
		t.Errorf("a folder: %v", err)
	}
	if _, err := ReadAll(filepath.Join(dir, "none"), "scenario file", 9); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}

// TestRefusesDevices checks that /dev/zero, which never ends, is refused
// before anything is read.
func TestRefusesDevices(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	_, err := ReadAll("/dev/zero", "scenario file", 1<<20)
	if err == nil || err.Error() != "/dev/zero is a device, not a scenario file (want a regular file)" {
		t.Errorf("/dev/zero: %v", err)
	}
}

func TestSocketAndFIFO(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sock := filepath.Join(dir, "s")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Skip("no unix sockets:", err)
	}
	defer l.Close()
	if _, err := ReadAll(sock, "population file", 10); err == nil || !strings.Contains(err.Error(), "is a socket") {
		t.Errorf("socket: %v", err)
	}
	// A FIFO is read (a shell's <(...) gives one), through the same cap.
	fifo := filepath.Join(dir, "p")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs:", err)
	}
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		io.WriteString(w, "hello, world")
		w.Close()
	}()
	_, err = ReadAll(fifo, "population file", 5)
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("FIFO past the cap: %v", err)
	}
}

func TestSize(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{16 << 20: "16 MiB", 2 << 30: "2 GiB", 1536: "1536 bytes", 4096: "4 KiB", 7: "7 bytes"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}
