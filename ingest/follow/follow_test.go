package follow

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAppendInChunks appends lines in pieces cut anywhere (inside lines
// too) and reads back exactly the whole lines so far after each piece.
func TestAppendInChunks(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			path := logPath(t)
			w := create(t, path)
			opt := m.opt
			opt.ChunkSize = 512
			r := open(t, path, Position{}, opt)
			all := lines("a", 2000)
			rng := rand.New(rand.NewPCG(1, 2))
			for at := 0; at < len(all); {
				n := min(len(all)-at, 1+rng.IntN(700))
				w.write(all[at : at+n])
				at += n
				r.until(all[:strings.LastIndexByte(all[:at], '\n')+1])
			}
			if r.lines != 2000 || r.long != 0 || len(r.gaps) != 0 {
				t.Errorf("%d lines, %d long, gaps %v; want 2000, 0, none", r.lines, r.long, r.gaps)
			}
			if r.last.Offset != int64(len(all)) {
				t.Errorf("last position %v, want offset %d", r.last, len(all))
			}
		})
	}
}

// TestHalfLineHeld: a line without its '\n' is not delivered until the
// '\n' comes, and then whole.
func TestHalfLineHeld(t *testing.T) {
	path := logPath(t)
	w := create(t, path)
	r := open(t, path, Position{}, Options{})
	w.write("first\nsec")
	r.until("first\n")
	r.idle() // "sec" was read (Next reads before it waits) and is held
	w.write("ond\nthi")
	r.until("first\nsecond\n")
	if r.last.Offset != int64(len("first\nsecond\n")) {
		t.Errorf("position %v, want offset %d: after the last whole line", r.last, len("first\nsecond\n"))
	}
}

// TestRenameCreate rotates by rename and create while following; the
// writer goes on writing to the old file after the rename and after the
// new file is created (before it reopens), ending with a line without
// '\n'; all of it comes before the new file's lines.
func TestRenameCreate(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			path := logPath(t)
			old := create(t, path)
			r := open(t, path, Position{}, m.opt)
			a := lines("a", 50)
			old.write(a)
			r.until(a)
			rename(t, path, path+".1")
			b1 := lines("b1", 20)
			old.write(b1)
			r.until(a + b1)
			nw := create(t, path) // empty: the writer may still write to the old file
			b2 := lines("b2", 20)
			old.write(b2 + "no newline")
			r.until(a + b1 + b2)
			r.idle() // "no newline" is held: the old file is still the one written
			c := lines("c", 30)
			nw.write(c)
			r.until(a + b1 + b2 + "no newline\n" + c)
			if r.last.Offset != int64(len(c)) {
				t.Errorf("position %v, want offset %d in the new file", r.last, len(c))
			}
			fi, _ := os.Stat(path)
			if !sameID(fi, r.last) {
				t.Errorf("position %v is not the new file's", r.last)
			}
		})
	}
}

// TestDeleteRecreate: the file is deleted while the writer still holds
// it, then made anew.
func TestDeleteRecreate(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			path := logPath(t)
			old := create(t, path)
			r := open(t, path, Position{}, m.opt)
			a := lines("a", 40)
			old.write(a)
			r.until(a)
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			b := lines("b", 40)
			old.write(b)
			r.until(a + b)
			old.close()
			c := lines("c", 40)
			create(t, path).write(c)
			r.until(a + b + c)
		})
	}
}

// TestCopytruncate: the file is copied to PATH.1 and truncated while
// lines of it were not read yet; they are read from the copy, then the
// file again from its start.
func TestCopytruncate(t *testing.T) {
	for _, m := range modes {
		for _, shorter := range []bool{true, false} {
			name := m.name + "/rewritten-longer"
			if shorter {
				name = m.name + "/shorter"
			}
			t.Run(name, func(t *testing.T) {
				path := logPath(t)
				w := create(t, path)
				r := open(t, path, Position{}, m.opt)
				a := lines("a", 30)
				w.write(a)
				r.until(a)
				b := lines("b", 30) + "half"
				w.write(b) // not read yet
				copyTruncate(t, path, path+".1")
				c := lines("c", 5)
				if !shorter {
					c = lines("c", 100) // past where the Follower stood: found by the first bytes
				}
				w.write(c)
				r.until(a + b + "\n" + c)
				if len(r.gaps) != 0 {
					t.Errorf("gaps %v, want none", r.gaps)
				}
			})
		}
	}
}

// TestTruncateWithoutCopy: a truncation with no copy to be found is a Gap
// of the bytes seen and not read, and the file is read from its start.
func TestTruncateWithoutCopy(t *testing.T) {
	path := logPath(t)
	w := create(t, path)
	r := open(t, path, Position{}, Options{})
	a := lines("a", 10)
	w.write(a)
	r.until(a)
	w.write("seen, never finished")
	r.idle()
	before := r.last
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	c := lines("c", 3)
	w.write(c)
	r.until(a + c)
	if len(r.gaps) != 1 || r.gaps[0].Bytes != int64(len("seen, never finished")) || r.gaps[0].After.Offset != before.Offset || r.gaps[0].After.Ino != before.Ino {
		t.Fatalf("gaps %v, want one of %d bytes after %v", r.gaps, len("seen, never finished"), before)
	}
	t.Log(r.gaps[0])
}

// TestLateAppearance: the file, and even its folder, appear after the
// Follower started.
func TestLateAppearance(t *testing.T) {
	for _, m := range modes {
		for _, folder := range []bool{false, true} {
			name := m.name + "/file"
			if folder {
				name = m.name + "/folder"
			}
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				if folder {
					dir = filepath.Join(dir, "later")
				}
				path := filepath.Join(dir, "access.log")
				r := open(t, path, Position{}, m.opt)
				r.idle()
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				a := lines("a", 10)
				create(t, path).write(a)
				r.until(a)
			})
		}
	}
}

// TestFromEnd starts at the end of the existing file, skipping the line in
// progress there.
func TestFromEnd(t *testing.T) {
	path := logPath(t)
	w := create(t, path)
	w.write(lines("old", 10) + "in progress")
	r := open(t, path, Position{}, Options{Start: FromEnd})
	r.idle()
	w.write(" ends\n")
	b := lines("new", 5)
	w.write(b)
	r.until(b)
	if r.long != 0 {
		t.Errorf("%d long lines, want 0: the line cut by the start is not one", r.long)
	}
}

// TestLongLines cuts or skips lines longer than MaxLine, whether they fit
// a read or span many, and a rotated file's long last line.
func TestLongLines(t *testing.T) {
	long := strings.Repeat("L", 1000) // far more than the ChunkSize
	input := "short\n" + strings.Repeat("x", 16) + "\n" + strings.Repeat("y", 17) + "\nok\n" + long + "\nafter\n"
	for _, tc := range []struct {
		mode LongLines
		want string
	}{
		{Skip, "short\n" + strings.Repeat("x", 16) + "\nok\nafter\n" + "c\n"},
		{Truncate, "short\n" + strings.Repeat("x", 16) + "\n" + strings.Repeat("y", 16) + "\nok\n" + strings.Repeat("L", 16) + "\nafter\n" + strings.Repeat("T", 16) + "\nc\n"},
	} {
		t.Run([]string{"skip", "truncate"}[tc.mode], func(t *testing.T) {
			path := logPath(t)
			w := create(t, path)
			r := open(t, path, Position{}, Options{MaxLine: 16, ChunkSize: 40, Long: tc.mode})
			w.write(input[:100])
			w.write(input[100:] + strings.Repeat("T", 300)) // a long last line, never ended
			rename(t, path, path+".1")
			create(t, path).write("c\n")
			r.until(tc.want)
			if r.long != 3 {
				t.Errorf("%d long lines, want 3", r.long)
			}
		})
	}
}

// TestCancel: Next waiting returns the context's error when it is
// cancelled, and at once with a context already done.
func TestCancel(t *testing.T) {
	path := logPath(t)
	create(t, path).write("a\n")
	r := open(t, path, Position{}, Options{})
	r.until("a\n")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := r.f.Next(ctx)
		errc <- err
	}()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Next: %v, want context.Canceled", err)
		}
	case <-time.After(patience):
		t.Fatal("Next did not return after its context was cancelled")
	}
	if _, err := r.f.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next with a cancelled context: %v", err)
	}
	r.f.Close()
	if _, err := r.f.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after Close: %v, want ErrClosed", err)
	}
}

// TestOptions refuses bounds out of range.
func TestOptions(t *testing.T) {
	for _, o := range []Options{{MaxLine: -1}, {MaxLine: MaxMaxLine + 1}, {ChunkSize: -5}, {Poll: time.Microsecond}, {Long: 7}, {Start: 3}} {
		if _, err := New(context.Background(), "x", Position{}, o); err == nil {
			t.Errorf("New accepted %+v", o)
		}
	}
	if _, err := New(context.Background(), "x", Position{Offset: 5}, Options{}); err == nil {
		t.Error("New accepted a position whose fingerprint covers less than its offset")
	}
	f, err := New(context.Background(), "x", Position{}, Options{MaxLine: 1000, ChunkSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.opt.ChunkSize != 1001 {
		t.Errorf("ChunkSize %d, want it raised to MaxLine+1", f.opt.ChunkSize)
	}
}
