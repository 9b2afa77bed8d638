package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestWrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "x.txt")
	if err := Write(path, func(w io.Writer) error { _, err := io.WriteString(w, "hello"); return err }); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "hello" {
		t.Fatalf("read %q, %v", b, err)
	}
	// A failing writer leaves the old file and no temporary file.
	boom := errors.New("boom")
	if err := Write(path, func(w io.Writer) error { io.WriteString(w, "partial"); return boom }); !errors.Is(err, boom) {
		t.Fatalf("error %v, want boom", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "hello" {
		t.Errorf("file is %q after a failed write, want the old content", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("folder holds %d entries, want only x.txt", len(ents))
	}
	var ce *CreateError
	if err := Write(filepath.Join(dir, "no", "such", "x"), func(io.Writer) error { return nil }); !errors.As(err, &ce) {
		t.Errorf("error %v, want a CreateError", err)
	}
}

// resetRegistry gives a test a fresh registry (Cleanup stops the package
// for good, as it does when the program exits).
func resetRegistry(t *testing.T) {
	t.Helper()
	reg.Lock()
	reg.temps, reg.claims, reg.stopped = map[string]bool{}, map[string]bool{}, false
	reg.Unlock()
}

func TestTempNameLength(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 120) // 240 bytes: a name close to the 255-byte limit
	name := TempName(long)
	if len(name) > 255 || !strings.HasPrefix(name, ".") || !strings.Contains(name, PartialInfix) || !utf8.ValidString(name) {
		t.Fatalf("TempName of a 240-byte name = %q (%d bytes)", name, len(name))
	}
	dir := t.TempDir()
	if err := Write(filepath.Join(dir, long), func(w io.Writer) error { _, err := io.WriteString(w, "x"); return err }); err != nil {
		t.Fatalf("writing a file with a 240-byte name: %v", err)
	}
}

// TestWriteDirStaysInside checks that names given to Create cannot leave
// the folder, and that a failed folder leaves nothing.
func TestWriteDirStaysInside(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	dir := filepath.Join(parent, "sub", "run")
	for _, name := range []string{"../escape", "../../escape", "/tmp/escape-abs"} {
		err := WriteDir(dir, func(root *os.Root) error {
			return Create(root, name, func(w io.Writer) error { _, err := io.WriteString(w, "x"); return err })
		})
		if err == nil {
			t.Errorf("Create(%q) succeeded, want it refused", name)
		}
	}
	var left []string
	filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
		if p != parent {
			left = append(left, strings.TrimPrefix(p, parent))
		}
		return nil
	})
	if !slices.Equal(left, []string{"/sub"}) {
		t.Errorf("left behind: %q, want only the parent created", left)
	}
	if _, err := os.Stat("/tmp/escape-abs"); err == nil {
		t.Error("/tmp/escape-abs was written")
	}
}

func TestWriteDirRefusesExisting(t *testing.T) {
	t.Parallel()
	dir := t.TempDir() // exists and is not claimed
	err := WriteDir(dir, func(root *os.Root) error { return nil })
	var ee *ExistsError
	if !errors.As(err, &ee) {
		t.Fatalf("error %v, want an ExistsError", err)
	}
}

// TestClaim checks the claim of a folder: exclusive, replaced whole by
// WriteDir, released when empty, kept when it holds something.
func TestClaim(t *testing.T) {
	resetRegistry(t)
	parent := t.TempDir()
	dir := filepath.Join(parent, "a", "out")
	if err := Claim(dir); err != nil {
		t.Fatal(err)
	}
	var ee *ExistsError
	if err := Claim(dir); !errors.As(err, &ee) {
		t.Fatalf("second claim: %v, want an ExistsError", err)
	}
	err := WriteDir(dir, func(root *os.Root) error {
		if err := MkdirAll(root, "sensors"); err != nil {
			return err
		}
		return Create(root, "sensors/x.csv", func(w io.Writer) error { _, err := io.WriteString(w, "a,b\n"); return err })
	})
	if err != nil {
		t.Fatalf("WriteDir into the claimed folder: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "sensors", "x.csv")); err != nil || string(b) != "a,b\n" {
		t.Fatalf("read %q, %v", b, err)
	}
	Release(dir) // holds results: kept
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("a released folder holding results was removed: %v", err)
	}

	empty := filepath.Join(parent, "empty")
	if err := Claim(empty); err != nil {
		t.Fatal(err)
	}
	Release(empty)
	if _, err := os.Stat(empty); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("an empty released claim stays: %v", err)
	}

	// ClaimNew picks the next free name.
	base := filepath.Join(parent, "runs", "x")
	a, err1 := ClaimNew(base)
	b, err2 := ClaimNew(base)
	if err1 != nil || err2 != nil || a != base || b != base+"-2" {
		t.Fatalf("ClaimNew twice: %q %v, %q %v", a, err1, b, err2)
	}
}

// TestCleanup checks that Cleanup removes tracked temporary paths and empty
// claims, keeps claims holding results, and stops later commits.
func TestCleanup(t *testing.T) {
	resetRegistry(t)
	defer resetRegistry(t)
	parent := t.TempDir()
	claimed := filepath.Join(parent, "claimed")
	kept := filepath.Join(parent, "kept")
	for _, d := range []string{claimed, kept} {
		if err := Claim(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(kept, "seed-0001"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	inWrite := make(chan string)
	release := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- WriteDir(filepath.Join(parent, "run"), func(root *os.Root) error {
			inWrite <- root.Name()
			<-release
			return nil
		})
	}()
	tmp := <-inWrite
	if left := Cleanup(); len(left) != 0 {
		t.Fatalf("Cleanup left %q", left)
	}
	close(release)
	if err := <-done; !errors.Is(err, ErrStopped) {
		t.Fatalf("WriteDir after Cleanup: %v, want ErrStopped", err)
	}
	for _, p := range []string{tmp, claimed, filepath.Join(parent, "run")} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s stays after Cleanup (%v)", p, err)
		}
	}
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("a claim holding results was removed: %v", err)
	}
	if err := Write(filepath.Join(parent, "f"), func(io.Writer) error { return nil }); !errors.Is(err, ErrStopped) {
		t.Errorf("Write after Cleanup: %v, want ErrStopped", err)
	}
}
