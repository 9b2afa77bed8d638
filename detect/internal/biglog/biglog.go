// Package biglog builds large Apache logs for benchmarks by repeating
// sample logs with shifted times.
package biglog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
)

const (
	layout = "02/Jan/2006:15:04:05 -0700"
	day    = 24 * time.Hour
)

type line struct {
	head, tail []byte    // the line before and after the bracketed time
	t          time.Time // its time, in the log's zone; zero: copied as is
}

// Write writes copies of a unit until at least size bytes are written and
// returns the number of lines. The unit is the samples one after the
// other, each moved by whole days to start less than a day after the
// previous one ends; copy k of the unit is moved by k times its span (whole
// days, so that times of day are kept), so the output is in time order when
// the samples are. The last year written must
// stay below 2200 (detect's bound on plausible times).
func Write(w io.Writer, samples [][]byte, size int64) (int64, error) {
	var unit []line
	var end time.Time // end of the unit so far
	for _, s := range samples {
		ls := split(s)
		first, last := bounds(ls)
		if first.IsZero() {
			return 0, errors.New("a sample has no line with a time")
		}
		var shift time.Duration
		if !end.IsZero() {
			shift = after(end, first)
		}
		for i := range ls {
			if !ls[i].t.IsZero() {
				ls[i].t = ls[i].t.Add(shift)
			}
		}
		end = last.Add(shift)
		unit = append(unit, ls...)
	}
	first, _ := bounds(unit)
	span := after(end, first)
	bw := bufio.NewWriterSize(w, 1<<20)
	var written, lines int64
	buf := make([]byte, 0, 64)
	for k := 0; written < size; k++ {
		shift := time.Duration(k) * span
		for _, l := range unit {
			n, _ := bw.Write(l.head)
			written += int64(n)
			if !l.t.IsZero() {
				t := l.t.Add(shift)
				if t.Year() >= 2200 {
					return lines, fmt.Errorf("copy %d reaches the year %d: ask for a smaller size", k, t.Year())
				}
				buf = t.AppendFormat(buf[:0], layout)
				n, _ = bw.Write(buf)
				written += int64(n)
			}
			n, _ = bw.Write(l.tail)
			written += int64(n)
			lines++
		}
	}
	return lines, bw.Flush()
}

// after returns the whole number of days that moves first to just after
// end (by less than a day).
func after(end, first time.Time) time.Duration {
	d := end.Sub(first)
	k := d / day
	if d < 0 && d%day != 0 {
		k-- // floor, not truncation
	}
	return (k + 1) * day
}

// split cuts a sample into lines (each with its newline) and finds their
// times.
func split(s []byte) []line {
	var out []line
	for len(s) > 0 {
		i := bytes.IndexByte(s, '\n')
		var l []byte
		if i < 0 {
			l, s = append(s[:len(s):len(s)], '\n'), nil
		} else {
			l, s = s[:i+1], s[i+1:]
		}
		lb, rb := bytes.IndexByte(l, '['), bytes.IndexByte(l, ']')
		if lb >= 0 && rb > lb {
			if t, err := time.Parse(layout, string(l[lb+1:rb])); err == nil {
				out = append(out, line{head: l[:lb+1], tail: l[rb:], t: t})
				continue
			}
		}
		out = append(out, line{head: l})
	}
	return out
}

func bounds(ls []line) (first, last time.Time) {
	for _, l := range ls {
		if l.t.IsZero() {
			continue
		}
		if first.IsZero() || l.t.Before(first) {
			first = l.t
		}
		if l.t.After(last) {
			last = l.t
		}
	}
	return first, last
}
