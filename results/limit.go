package results

import (
	"fmt"
	"io"
)

// CapError is a cap of a LimitReader reached: What (a description of the
// cap, "line longer than 64 KiB") on line Line.
type CapError struct {
	Line int
	What string
}

// Error returns What.
func (e *CapError) Error() string { return e.What }

// LimitReader reads at most max bytes from r in all and at most lineMax
// bytes on one line (0: no line cap; a newline inside double quotes, as in
// a quoted CSV field, does not end the line, so that a CSV record is
// capped too). Past a cap, Read returns what comes before it and then
// fails with a *CapError, never truncating silently.
type LimitReader struct {
	r       io.Reader // io.LimitReader(source, max+1)
	max     int64
	lineMax int
	n       int64 // bytes returned so far
	line    int   // the line being read, from 1
	lineLen int   // bytes of it so far
	quoted  bool  // inside double quotes
	err     error // the cap reached, returned from then on
}

// NewLimitReader caps r: see LimitReader.
func NewLimitReader(r io.Reader, max int64, lineMax int) *LimitReader {
	return &LimitReader{r: io.LimitReader(r, max+1), max: max, lineMax: lineMax, line: 1}
}

// Read reads from the source within the caps.
func (c *LimitReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	ok, sizeHit := n, false // bytes within the caps
	if c.n+int64(n) > c.max {
		ok, sizeHit = int(c.max-c.n), true
	}
	for i, b := range p[:ok] {
		switch b {
		case '"':
			c.quoted = !c.quoted
		case '\n':
			c.line++
			if !c.quoted {
				c.lineLen = 0
				continue
			}
		}
		c.lineLen++
		if c.lineMax > 0 && c.lineLen > c.lineMax {
			ok = i
			c.err = &CapError{Line: c.line, What: "line longer than " + ByteText(int64(c.lineMax))}
			break
		}
	}
	if sizeHit && c.err == nil {
		c.err = &CapError{Line: c.line, What: "larger than " + ByteText(c.max)}
	}
	c.n += int64(ok)
	switch {
	case c.err != nil && ok == 0:
		return 0, c.err
	case c.err != nil:
		return ok, nil // the error comes with the next read
	}
	return n, err
}

// ByteText writes a byte count in KiB or MiB when it is a whole number of
// them ("64 KiB", "256 MiB", "1000 bytes").
func ByteText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
