package forecast

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"wormwatch/results"
)

// readCapped reads data through the capped reader forecast uses
// (results.LimitReader) with the caps, feeding it
// one byte at a time when oneByte is set.
func readCapped(data string, max int64, lineMax int, oneByte bool) ([]byte, error) {
	var r io.Reader = strings.NewReader(data)
	if oneByte {
		r = iotest.OneByteReader(r)
	}
	return io.ReadAll(results.NewLimitReader(r, max, lineMax))
}

// TestInputReader: the size cap and the line cap deliver what comes before
// them, then an error naming the cap and the line; a newline inside
// double quotes does not end a line.
func TestInputReader(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		in      string
		max     int64
		lineMax int
		out     string
		line    int
		what    string // "" for no error
	}{
		{"within", "ab\ncd\n", 6, 2, "ab\ncd\n", 0, ""},
		{"size", "ab\ncd\nef", 7, 0, "ab\ncd\ne", 3, "larger than 7 bytes"},
		{"size 1 MiB", strings.Repeat("a", 1<<20+1), 1 << 20, 0, strings.Repeat("a", 1<<20), 1, "larger than 1 MiB"},
		{"line", "ab\ncde\n", 100, 2, "ab\ncd", 2, "line longer than 2 bytes"},
		{"line of 64 KiB", strings.Repeat("a", 64<<10) + "\n" + strings.Repeat("b", 64<<10+1), 1 << 20, 64 << 10, strings.Repeat("a", 64<<10) + "\n" + strings.Repeat("b", 64<<10), 2, "line longer than 64 KiB"},
		{"quoted newline", "ab\n\"c\nd\"\n", 100, 5, "ab\n\"c\nd\"\n", 0, ""},
		{"quoted newline too long", "ab\n\"c\nde\"\n", 100, 5, "ab\n\"c\nde", 3, "line longer than 5 bytes"},
		{"crlf", "ab\r\ncd\r\n", 100, 3, "ab\r\ncd\r\n", 0, ""},
	} {
		for _, oneByte := range []bool{false, true} {
			out, err := readCapped(tc.in, tc.max, tc.lineMax, oneByte)
			if string(out) != tc.out {
				t.Errorf("%s (one byte %v): read %q, want %q", tc.name, oneByte, clip(string(out)), clip(tc.out))
			}
			var ce *results.CapError
			switch {
			case tc.what == "" && err != nil:
				t.Errorf("%s (one byte %v): error %v", tc.name, oneByte, err)
			case tc.what != "" && (!errors.As(err, &ce) || ce.Line != tc.line || ce.What != tc.what):
				t.Errorf("%s (one byte %v): error %v, want %q on line %d", tc.name, oneByte, err, tc.what, tc.line)
			}
		}
	}
}

// FuzzInputReader: whatever the input and the caps, and however the reads
// are cut, the reader delivers a prefix of the input, the whole of it
// when there is no error, and stops exactly at the first byte past a cap.
func FuzzInputReader(f *testing.F) {
	f.Add([]byte("ab\ncd\n"), int64(4), 2, false)
	f.Add([]byte("a\"b\nc\"d\n\"\"e\n"), int64(100), 3, true)
	f.Add([]byte("time,probes\n2001-07-19T10:00:00Z,3\n"), int64(20), 0, false)
	f.Fuzz(func(t *testing.T, data []byte, max int64, lineMax int, oneByte bool) {
		if max < 0 || max > 1<<20 || lineMax < 0 || lineMax > 1<<20 {
			return
		}
		out, err := readCapped(string(data), max, lineMax, oneByte)
		// The reference: walk the bytes.
		stop, line, lineLen, quoted, what := len(data), 1, 0, false, ""
		for i, b := range data {
			if int64(i) >= max {
				stop, what = i, "larger than "+results.ByteText(max)
				break
			}
			if b == '"' {
				quoted = !quoted
			}
			if b == '\n' {
				line++
				if !quoted {
					lineLen = 0
					continue
				}
			}
			lineLen++
			if lineMax > 0 && lineLen > lineMax {
				stop, what = i, "line longer than "+results.ByteText(int64(lineMax))
				break
			}
		}
		if !bytes.Equal(out, data[:stop]) {
			t.Fatalf("read %d bytes, want the first %d of %d", len(out), stop, len(data))
		}
		var ce *results.CapError
		switch {
		case what == "" && err != nil:
			t.Fatalf("error %v on input within the caps", err)
		case what != "" && (!errors.As(err, &ce) || ce.What != what || ce.Line != line):
			t.Fatalf("error %v, want %q on line %d", err, what, line)
		}
	})
}
