package follow

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// HeadSize is how many bytes at the start of a file its fingerprint covers
// at most: 1 KiB, enough to hold the first lines of a log and with them a
// time stamp that tells one generation of a file from the next.
const HeadSize = 1 << 10

// Position is where a Follower stands in the stream of a followed path: the
// file (by device and inode, and by a fingerprint of its first bytes) and
// the byte offset just after the last line delivered. The zero Position
// means "no stored position": New then starts as Options.Start says.
//
// The fingerprint is the SHA-256 of the file's first Head bytes (Head is at
// most HeadSize, and at least min(Offset, HeadSize)): it recognises the
// file after a restart, after a rename (with the inode), after a copy
// (copytruncate's rotated copy has another inode) and after gzip (by
// decompressing), and tells a truncated and rewritten file from the one
// that was read. A Position is comparable with ==.
type Position struct {
	Dev    uint64   // device of the file; 0 when not known (read from a gzip'ed rotated copy)
	Ino    uint64   // inode of the file; 0 when not known
	Offset int64    // bytes of the file consumed: the offset just after the last line delivered
	Head   int      // bytes the fingerprint covers, 0 to HeadSize
	Sum    [32]byte // SHA-256 of the file's first Head bytes
}

// IsZero reports whether p is the zero Position (no stored position).
func (p Position) IsZero() bool { return p == Position{} }

// String is the text form of p, as MarshalText writes it.
func (p Position) String() string {
	b, _ := p.MarshalText()
	return string(b)
}

// positionPrefix starts the text form, so that a later form can be told
// apart.
const positionPrefix = "v1"

// MarshalText writes p as "v1:DEV:INO:OFFSET:HEAD:SUM" (decimal numbers,
// SUM in hex), a form a store can keep in a text column and
// UnmarshalText reads back exactly.
func (p Position) MarshalText() ([]byte, error) {
	return fmt.Appendf(nil, "%s:%d:%d:%d:%d:%s", positionPrefix, p.Dev, p.Ino, p.Offset, p.Head, hex.EncodeToString(p.Sum[:])), nil
}

// UnmarshalText reads the form MarshalText writes.
func (p *Position) UnmarshalText(text []byte) error {
	q, err := ParsePosition(string(text))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// ParsePosition reads the form Position.String writes.
func ParsePosition(s string) (Position, error) {
	bad := func(why string) (Position, error) {
		return Position{}, fmt.Errorf("follow: position %q: %s", s, why)
	}
	f := strings.Split(s, ":")
	if len(f) != 6 || f[0] != positionPrefix {
		return bad(`want "v1:DEV:INO:OFFSET:HEAD:SUM"`)
	}
	var p Position
	var err error
	if p.Dev, err = strconv.ParseUint(f[1], 10, 64); err != nil {
		return bad("device: " + err.Error())
	}
	if p.Ino, err = strconv.ParseUint(f[2], 10, 64); err != nil {
		return bad("inode: " + err.Error())
	}
	if p.Offset, err = strconv.ParseInt(f[3], 10, 64); err != nil || p.Offset < 0 {
		return bad("offset: not a byte offset")
	}
	head, err := strconv.Atoi(f[4])
	if err != nil || head < 0 || head > HeadSize {
		return bad(fmt.Sprintf("head: want 0 to %d", HeadSize))
	}
	p.Head = head
	sum, err := hex.DecodeString(f[5])
	if err != nil || len(sum) != len(p.Sum) {
		return bad("sum: want 64 hex digits")
	}
	copy(p.Sum[:], sum)
	if err := p.check(); err != nil {
		return bad(err.Error())
	}
	return p, nil
}

// check reports a Position no Follower could have made.
func (p Position) check() error {
	switch {
	case p.Offset < 0:
		return errors.New("negative offset")
	case p.Head < 0 || p.Head > HeadSize:
		return fmt.Errorf("head %d: want 0 to %d", p.Head, HeadSize)
	case int64(p.Head) < min(p.Offset, HeadSize):
		return fmt.Errorf("head %d covers less than the offset %d read", p.Head, p.Offset)
	case p.Head == 0 && p.Sum != [32]byte{}:
		return errors.New("a sum without a head")
	}
	return nil
}

// fileID is a file's device and inode.
type fileID struct{ dev, ino uint64 }

// fingerprint returns the head and sum of a Position for a file whose
// first bytes are head.
func fingerprint(head []byte) (int, [32]byte) {
	if len(head) == 0 {
		return 0, [32]byte{}
	}
	return len(head), sha256.Sum256(head)
}
