package follow

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// shift renames PATH.N and PATH.N.gz to PATH.N+1 and PATH.N+1.gz, from the
// highest N down, as logrotate does before it rotates.
func shift(t *testing.T, path string) {
	t.Helper()
	for n := 98; n >= 1; n-- {
		for _, ext := range []string{"", ".gz"} {
			from := fmt.Sprintf("%s.%d%s", path, n, ext)
			if _, err := os.Stat(from); err == nil {
				rename(t, from, fmt.Sprintf("%s.%d%s", path, n+1, ext))
			}
		}
	}
}

// rotateRename rotates by rename to PATH.1 (the new file is the caller's
// to create), gzip'ing PATH.1 when compress.
func rotateRename(t *testing.T, path string, compress bool) {
	t.Helper()
	shift(t, path)
	rename(t, path, path+".1")
	if compress {
		gzipTo(t, path+".1", path+".1.gz")
	}
}

// rotateCopy rotates by copytruncate to PATH.1, gzip'ing it when compress.
func rotateCopy(t *testing.T, path string, compress bool) {
	t.Helper()
	shift(t, path)
	copyTruncate(t, path, path+".1")
	if compress {
		gzipTo(t, path+".1", path+".1.gz")
	}
}

// history makes rotated files from before the Follower ever ran: they must
// never be read. dated: named as logrotate's dateext names them.
func history(t *testing.T, path string, dated bool) {
	t.Helper()
	if dated {
		for _, d := range []string{"20251230", "20251231"} {
			if err := os.WriteFile(path+"-"+d, []byte(lines("history"+d, 20)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		gzipTo(t, path+"-20251230", path+"-20251230.gz")
		return
	}
	if err := os.WriteFile(path+".2", []byte(lines("history2", 20)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".tmp", []byte(lines("history-tmp", 20)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".1", []byte(lines("history1", 20)), 0o644); err != nil {
		t.Fatal(err)
	}
	gzipTo(t, path+".1", path+".1.gz")
}

// TestRestart stops a Follower, changes the files as a rotation would while
// it is down, and starts one again from the stored Position: what the two
// deliver is what was written, each line once (a rotated file's last line
// given its '\n'), and a Gap when the stored file is gone.
func TestRestart(t *testing.T) {
	type down func(t *testing.T, path string, w *appender) (live *appender, want string)
	renamed := func(compress bool) down {
		return func(t *testing.T, path string, w *appender) (*appender, string) {
			rotateRename(t, path, false)
			w.write(lines("b", 5)) // the writer has not reopened yet
			nw := create(t, path)
			c := lines("c", 20)
			nw.write(c)
			if compress {
				gzipTo(t, path+".1", path+".1.gz")
			}
			return nw, "tail" + lines("b", 5) + c
		}
	}
	copied := func(compress bool) down {
		return func(t *testing.T, path string, w *appender) (*appender, string) {
			rotateCopy(t, path, compress)
			c := lines("c", 100)
			w.write(c)
			return w, "tail\n" + c
		}
	}
	for _, tc := range []struct {
		name  string
		down  down
		gap   bool
		dated bool
	}{
		{"no rotation", func(t *testing.T, path string, w *appender) (*appender, string) {
			b := lines("b", 10)
			w.write(" end\n" + b)
			return w, "tail end\n" + b
		}, false, false},
		{"rename", renamed(false), false, false},
		{"rename gzip", renamed(true), false, false},
		{"copytruncate", copied(false), false, false},
		{"copytruncate gzip", copied(true), false, false},
		{"rename twice gzip", func(t *testing.T, path string, w *appender) (*appender, string) {
			rotateRename(t, path, false)
			nw := create(t, path)
			c := lines("c", 20)
			nw.write(c + "c-tail")
			rotateRename(t, path, true) // the first one is now PATH.2, the second PATH.1.gz
			gzipTo(t, path+".2", path+".2.gz")
			nw2 := create(t, path)
			d := lines("d", 20)
			nw2.write(d)
			return nw2, "tail\n" + c + "c-tail\n" + d
		}, false, false},
		{"copytruncate twice gzip", func(t *testing.T, path string, w *appender) (*appender, string) {
			rotateCopy(t, path, true)
			c := lines("c", 20)
			w.write(c)
			rotateCopy(t, path, true)
			d := lines("d", 3)
			w.write(d)
			return w, "tail\n" + c + d
		}, false, false},
		{"dateext gzip", func(t *testing.T, path string, w *appender) (*appender, string) {
			rename(t, path, path+"-20260102")
			gzipTo(t, path+"-20260102", path+"-20260102.gz")
			nw := create(t, path)
			c := lines("c", 20)
			nw.write(c)
			return nw, "tail\n" + c
		}, false, true},
		{"deleted", func(t *testing.T, path string, w *appender) (*appender, string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			nw := create(t, path)
			c := lines("c", 20)
			nw.write(c)
			return nw, c
		}, true, false},
		{"rotated and deleted", func(t *testing.T, path string, w *appender) (*appender, string) {
			rotateRename(t, path, true)
			if err := os.Remove(path + ".1.gz"); err != nil {
				t.Fatal(err)
			}
			nw := create(t, path)
			c := lines("c", 20)
			nw.write(c)
			return nw, c
		}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := logPath(t)
			history(t, path, tc.dated)
			w := create(t, path)
			a1 := lines("a1", 40)
			w.write(a1)
			r := open(t, path, Position{}, Options{})
			r.until(a1)
			stored := r.last
			r.f.Close()
			a2 := lines("a2", 30)
			w.write(a2 + "tail") // never read before the stop

			live, rest := tc.down(t, path, w)

			r2 := open(t, path, stored, Options{})
			want := a2 + rest
			if tc.gap {
				want = rest // a2 was in the file lost
			}
			r2.until(want)
			z := lines("z", 10)
			live.write(z)
			r2.until(want + z)
			if got := len(r2.gaps); got != map[bool]int{false: 0, true: 1}[tc.gap] {
				t.Fatalf("gaps %v, want %v", r2.gaps, tc.gap)
			}
			if tc.gap {
				if g := r2.gaps[0]; g.After != stored || g.Bytes != -1 {
					t.Errorf("gap %v, want one of an unknown size after %v", g, stored)
				}
				t.Log(r2.gaps[0])
			}
		})
	}
}

// TestRestartAnywhere writes, rotates in every way (rename, copytruncate,
// gzip'ed or not, numbered or dated names) while the Follower runs or while
// it is down, restarts it from its last Position after any chunk, and
// checks that what all the Followers delivered, end to end, is what was
// written, each line once. Lines are written ending anywhere, and the
// chunks are small, so that files span several chunks.
func TestRestartAnywhere(t *testing.T) {
	for _, dated := range []bool{false, true} {
		for seed := range uint64(4) {
			t.Run(fmt.Sprintf("dated=%v/seed=%d", dated, seed), func(t *testing.T) {
				restartAnywhere(t, seed, dated)
			})
		}
	}
}

func restartAnywhere(t *testing.T, seed uint64, dated bool) {
	rng := rand.New(rand.NewPCG(seed, 99))
	path := logPath(t)
	opt := Options{MaxLine: 200, ChunkSize: 300}
	w := create(t, path)
	var want, got strings.Builder
	var last Position
	var r *reader // nil while down
	gen, stamp := 0, 20260101
	up := func() {
		r = open(t, path, last, opt)
	}
	stop := func() {
		got.WriteString(r.got.String())
		last = r.last
		r.f.Close()
		r = nil
	}
	complete := func() string { // what can be delivered now
		s := want.String()
		return s[:strings.LastIndexByte(s, '\n')+1]
	}
	drain := func() {
		done := got.Len()
		r.until(complete()[done:])
	}
	write := func(full bool) {
		s := lines(fmt.Sprintf("g%d-%d", gen, rng.IntN(1e6)), rng.IntN(8))
		if !full || rng.IntN(3) == 0 {
			s += fmt.Sprintf("partial-%d", rng.IntN(1e6))
		}
		if full {
			s += lines(fmt.Sprintf("g%d-full", gen), 1)
		}
		w.write(s)
		want.WriteString(s)
	}
	rotate := func() {
		compress := rng.IntN(2) == 0
		copyMode := rng.IntN(2) == 0
		if copyMode && r != nil {
			drain() // a generation truncated before any of it was read is not noticed
		}
		if s := want.String(); len(s) > 0 && s[len(s)-1] != '\n' {
			want.WriteByte('\n') // the rotated file's last line is given its '\n'
		}
		to := path + ".1"
		if dated {
			stamp++
			to = fmt.Sprintf("%s-%d", path, stamp)
		} else {
			shift(t, path)
		}
		if copyMode {
			copyTruncate(t, path, to)
		} else {
			rename(t, path, to)
			w.close()
			w = create(t, path)
		}
		if compress {
			gzipTo(t, to, to+".gz")
		}
		gen++
		write(true) // the new file has a line: the old one is finished
	}
	up()
	for range 120 {
		switch k := rng.IntN(10); {
		case k < 4:
			write(false)
		case k < 6:
			rotate()
		case k < 7 && r != nil:
			drain()
		case k < 8 && r != nil:
			if got.Len()+r.got.Len() < len(complete()) {
				ctx, cancel := context.WithTimeout(context.Background(), patience)
				if err := r.next(ctx); err != nil {
					t.Fatal(err)
				}
				cancel()
			}
		case k < 9 && r != nil:
			stop()
			if rng.IntN(2) == 0 {
				up()
			}
		case r == nil:
			up()
		}
	}
	write(true)
	if r == nil {
		up()
	}
	drain()
	stop()
	if got.String() != want.String() {
		t.Fatalf("delivered %d bytes, wrote %d:\n%s", got.Len(), want.Len(), firstDiff(got.String(), want.String()))
	}
	t.Logf("%d generations, %d bytes", gen, want.Len())
}

// firstDiff shows where two strings part.
func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-200)
	return fmt.Sprintf("at byte %d:\ngot  %q\nwant %q", i, a[from:min(len(a), i+200)], b[from:min(len(b), i+200)])
}
