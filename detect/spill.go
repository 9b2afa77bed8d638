package detect

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"
)

// DefaultMemory is the default of Options.Memory: the bytes the per-source
// tables may take before they are spilled to temporary files. The
// program's peak memory is about four times that (the arrays grow by
// doubling, Go's collector lets the heap reach twice what is live, and the
// sorted result is built while the last table is freed): 1.1 GB on 50
// million distinct sources.
const DefaultMemory = 256 << 20

// MinMemory is the smallest Options.Memory accepted from the command line
// (ParseBytes does not check it; tests use less to force spills).
const MinMemory = 16 << 20

// tempFile is a temporary file of the per-source tables. It is removed
// from its folder as soon as it is created where the system allows it
// (Unix), so that it disappears whatever ends the program; otherwise when
// it is closed.
type tempFile struct {
	f    *os.File
	name string // to remove at close; "" once removed
	w    *bufio.Writer
	end  int64 // bytes written
}

// section is a part of a temporary file.
type section struct{ off, n int64 }

func createTemp(dir string) (*tempFile, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.CreateTemp(dir, "wormwatch-detect-*.tmp")
	if err != nil {
		return nil, tempError(dir, err)
	}
	t := &tempFile{f: f, name: f.Name(), w: bufio.NewWriterSize(f, 1<<20)}
	if os.Remove(t.name) == nil {
		t.name = ""
	}
	return t, nil
}

// tempError says what a temporary file was for, and the options that bound
// it.
func tempError(dir string, err error) error {
	return fmt.Errorf("temporary file of the per-source tables in %s (--tmp-dir; past --memory the tables are kept there): %w", dir, err)
}

func (t *tempFile) write(b []byte) error {
	n, err := t.w.Write(b)
	t.end += int64(n)
	if err != nil {
		return tempError(dirOf(t.f.Name()), err)
	}
	return nil
}

// flush writes what is buffered, so that it can be read.
func (t *tempFile) flush() error {
	if err := t.w.Flush(); err != nil {
		return tempError(dirOf(t.f.Name()), err)
	}
	return nil
}

// reader returns a buffered reader of a section.
func (t *tempFile) reader(s section, size int) *bufio.Reader {
	return bufio.NewReaderSize(io.NewSectionReader(t.f, s.off, s.n), size)
}

func (t *tempFile) close() error {
	if t == nil || t.f == nil {
		return nil
	}
	err := t.f.Close()
	if t.name != "" {
		os.Remove(t.name)
	}
	t.f = nil
	return err
}

func dirOf(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		return name[:i]
	}
	return "."
}

// bufSize returns the buffer size of each of n readers sharing budget
// bytes: from 4 KiB to 1 MiB.
func bufSize(budget int64, n int) int {
	return int(min(max(budget/int64(4*max(n, 1)), 4<<10), 1<<20))
}

// minHeap is a binary heap of n items ordered by less, for the k-way
// merges of sorted chunks and runs (container/heap, without interfaces).
type minHeap[T any] struct {
	items []T
	less  func(a, b T) bool
}

func (h *minHeap[T]) push(x T) {
	h.items = append(h.items, x)
	h.up(len(h.items) - 1)
}

// fix restores the order after the least item changed.
func (h *minHeap[T]) fix() { h.down(0) }

// pop removes the least item.
func (h *minHeap[T]) pop() {
	n := len(h.items) - 1
	h.items[0] = h.items[n]
	h.items = h.items[:n]
	if n > 0 {
		h.down(0)
	}
}

func (h *minHeap[T]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(h.items[i], h.items[p]) {
			return
		}
		h.items[i], h.items[p] = h.items[p], h.items[i]
		i = p
	}
}

func (h *minHeap[T]) down(i int) {
	n := len(h.items)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(h.items[r], h.items[l]) {
			m = r
		}
		if !h.less(h.items[m], h.items[i]) {
			return
		}
		h.items[i], h.items[m] = h.items[m], h.items[i]
		i = m
	}
}

// ParseBytes reads a size in bytes as --memory takes it: a whole number,
// optionally followed by a unit: B, KiB, MiB, GiB, TiB (powers of 1024) or
// KB, MB, GB, TB (powers of 1000); K, M, G and T are the binary units.
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return !unicode.IsDigit(r) })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	units := map[string]int64{"": 1, "b": 1,
		"k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gib": 1 << 30, "t": 1 << 40, "tib": 1 << 40,
		"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12}
	mul, ok := units[strings.ToLower(unit)]
	n, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || n > (1<<62)/mul {
		return 0, fmt.Errorf("%q is not a size (want a whole number of bytes, or with a unit: 512MiB, 2GiB, 1500MB)", s)
	}
	return n * mul, nil
}
