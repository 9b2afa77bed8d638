package outpath

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func write(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

// TestRefused checks every kind of path the rules refuse, and that none of
// them is changed.
func TestRefused(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "in.log")
	os.WriteFile(log, []byte("GET /default.ida?NNNN\n"), 0o644)
	hard := filepath.Join(dir, "hard.log")
	os.Link(log, hard)
	soft := filepath.Join(dir, "soft.log")
	os.Symlink(log, soft)
	logs := filepath.Join(dir, "logs")
	os.Mkdir(logs, 0o755)
	inner := filepath.Join(logs, "a.log")
	os.WriteFile(inner, []byte("x\n"), 0o644)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "s.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	existing := filepath.Join(dir, "old.txt")
	os.WriteFile(existing, []byte("old"), 0o644)
	dangling := filepath.Join(dir, "dangling")
	os.Symlink(filepath.Join(dir, "nothing"), dangling)
	toDev := filepath.Join(dir, "to-null")
	os.Symlink("/dev/null", toDev)

	var in Inputs
	in.Add(log, logs, "-")
	cases := []struct {
		path, want string
		force      bool
	}{
		{log, "is an input of this command", true},
		{hard, "is an input of this command", true},
		{soft, "is an input of this command", true},
		{inner, "is an input of this command", true},
		{"/dev/null", "device or system path", true},
		{"/dev/stdout", "device or system path", true},
		{"/proc/self/fd/1", "device or system path", true},
		{toDev, "device", true},
		{fifo, "is a FIFO", true},
		{sock, "is a socket", true},
		{logs, "is a folder", true},
		{existing, "exists; give --force", false},
		{dangling, "symbolic link to nothing", true},
		{filepath.Join(dir, "no", "such", "out.txt"), "does not exist", true},
	}
	for _, c := range cases {
		o := Output{"--out", c.path}
		err := Check([]Output{o}, &in, false, c.force)
		var oe *Error
		if !errors.As(err, &oe) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check(%s) = %v, want an *Error containing %q", c.path, err, c.want)
		}
		if err := Write(o, &in, c.force, io.Discard, write("report")); err == nil {
			t.Errorf("Write(%s) succeeded", c.path)
		}
	}
	if b, _ := os.ReadFile(log); string(b) != "GET /default.ida?NNNN\n" {
		t.Errorf("the input changed: %q", b)
	}
	if b, _ := os.ReadFile(existing); string(b) != "old" {
		t.Errorf("an existing file was replaced without --force: %q", b)
	}
	if fi, err := os.Lstat("/dev/null"); err != nil || fi.Mode().IsRegular() {
		t.Errorf("/dev/null is now %v (%v)", fi.Mode(), err)
	}
}

func TestStdoutAndDuplicates(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.json")
	if err := Check([]Output{{"--out", "-"}, {"--stix", "-"}}, nil, false, false); err == nil || !strings.Contains(err.Error(), "standard output already carries --out") {
		t.Errorf("two outputs on stdout: %v", err)
	}
	if err := Check([]Output{{"--stix", "-"}}, nil, true, false); err == nil {
		t.Error("an output on stdout beside the command's result was accepted")
	}
	if err := Check([]Output{{"--out", a}, {"--stix", filepath.Join(dir, ".", "a.json")}}, nil, false, false); err == nil || !strings.Contains(err.Error(), "same file as --out") {
		t.Errorf("two outputs on one file: %v", err)
	}
	var buf bytes.Buffer
	if err := Write(Output{"--out", "-"}, nil, false, &buf, write("to stdout")); err != nil || buf.String() != "to stdout" {
		t.Errorf("writing -: %q, %v", buf.String(), err)
	}
}

// TestForce checks that --force replaces a regular file by rename, and
// follows a symbolic link to its target.
func TestForce(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.txt")
	os.WriteFile(target, []byte("old"), 0o644)
	link := filepath.Join(dir, "link.txt")
	os.Symlink(target, link)
	if err := Write(Output{"--out", link}, nil, true, nil, write("new")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", fi.Mode(), err)
	}
	if b, _ := os.ReadFile(target); string(b) != "new" {
		t.Errorf("target holds %q, want new", b)
	}
	fresh := filepath.Join(dir, "fresh.txt")
	if err := Write(Output{"--out", fresh}, nil, false, nil, write("x")); err != nil {
		t.Fatalf("a new file: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 3 {
		t.Errorf("folder holds %d entries, want 3 (no temporary file left)", len(ents))
	}
}
