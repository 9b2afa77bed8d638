package follow

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// A sibling is a rotated file of the followed path, found by its name (see
// the package documentation for the patterns).
type sibling struct {
	name  string // full path
	gz    bool   // the name ends in .gz
	index int    // BASE.N: N (1 to 4 digits); -1 for a stamp
	stamp string // BASE-STAMP or BASE.STAMP: the stamp; "" for an index
}

// siblings lists the rotated files of path, oldest first: the stamped ones
// (BASE-20240131, BASE.2024-01-31, ...) by their stamp, then the numbered
// ones (BASE.3, BASE.2, BASE.1) from the largest number down. When both
// NAME and NAME.gz exist (gzip still writing), only NAME is listed. A
// folder that cannot be read has no siblings.
func siblings(path string) []sibling {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []sibling
	plain := map[string]bool{}
	for _, e := range ents {
		s, ok := parseSibling(base, e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		s.name = filepath.Join(dir, e.Name())
		if !s.gz {
			plain[s.name] = true
		}
		out = append(out, s)
	}
	out = slices.DeleteFunc(out, func(s sibling) bool {
		return s.gz && plain[strings.TrimSuffix(s.name, ".gz")]
	})
	slices.SortFunc(out, func(a, b sibling) int {
		if (a.index < 0) != (b.index < 0) {
			return cmp.Compare(a.index, b.index) // stamps (-1) before numbers
		}
		if c := cmp.Compare(a.stamp, b.stamp); c != 0 {
			return c
		}
		if c := cmp.Compare(b.index, a.index); c != 0 {
			return c
		}
		return cmp.Compare(a.name, b.name)
	})
	return out
}

// parseSibling tells whether name is a rotated file of base, and which.
func parseSibling(base, name string) (sibling, bool) {
	rest, ok := strings.CutPrefix(name, base)
	if !ok || len(rest) < 2 || (rest[0] != '.' && rest[0] != '-') {
		return sibling{}, false
	}
	s := sibling{index: -1}
	sep := rest[0]
	rest, s.gz = strings.CutSuffix(rest[1:], ".gz")
	if rest == "" {
		return sibling{}, false
	}
	digits, other := 0, false
	for _, c := range []byte(rest) {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '-' || c == '_':
		default:
			other = true
		}
	}
	switch {
	case other || rest[0] < '0' || rest[0] > '9':
		return sibling{}, false
	case sep == '.' && digits == len(rest) && digits <= 4:
		s.index, _ = strconv.Atoi(rest)
	case digits >= 6:
		s.stamp = rest
	default:
		return sibling{}, false
	}
	return s, true
}

// fileMatches reports whether the plain file f, of size size, can be the
// file of p: at least p.Offset and p.Head bytes long, and its first p.Head
// bytes have p's sum. With p.Head 0 nothing is known of the content, and
// every file long enough matches.
func fileMatches(f *os.File, size int64, p Position) bool {
	if size < p.Offset || size < int64(p.Head) {
		return false
	}
	if p.Head == 0 {
		return true
	}
	head := make([]byte, p.Head)
	if _, err := f.ReadAt(head, 0); err != nil {
		return false
	}
	return sha256.Sum256(head) == p.Sum
}

// gzipMatches reports whether the gzip file f unpacks to content whose
// first p.Head bytes have p's sum (p.Head must be above 0).
func gzipMatches(f *os.File, p Position) bool {
	zr, err := gzip.NewReader(io.NewSectionReader(f, 0, 1<<62))
	if err != nil {
		return false
	}
	head := make([]byte, p.Head)
	if _, err := io.ReadFull(zr, head); err != nil {
		return false
	}
	return sha256.Sum256(head) == p.Sum
}

// sameHead reports whether the file f still begins with head.
func sameHead(f *os.File, head []byte) bool {
	if len(head) == 0 {
		return true
	}
	var b [HeadSize]byte
	n, _ := f.ReadAt(b[:len(head)], 0)
	return bytes.Equal(b[:n], head)
}
