package serve

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"wormwatch/detect"
)

// The records of a batch (store.Batch.Records) are what detect's report
// counts of them, so that the analyzer can be rebuilt at start with
// AddMatched: each matched request (time, source, families), each attempt
// (time, source, transport, port), and the earliest and latest time of
// the requests that matched nothing (they move only the report's start and
// end). The encoding is a version byte, then entries of a tag byte and
// varints:
//
//	recMatched  time, len(source), source, count of families, families
//	recAttempt  time, len(source), source, transport, port
//	recSpan     earliest, latest
//
// times in Unix nanoseconds.
const (
	recVersion = 1
	recMatched = 1
	recAttempt = 2
	recSpan    = 3
)

// recordLog gathers the records of one batch.
type recordLog struct {
	buf            []byte
	spanLo, spanHi int64
	span           bool
	n              int // entries
}

// add appends a record that matched the families fams (none: it counts
// only in the span, unless it is an attempt).
func (l *recordLog) add(rec *detect.Record, fams []int) {
	t := rec.Time.UnixNano()
	if need := 32 + len(rec.Source) + 10*len(fams); cap(l.buf)-len(l.buf) < need {
		// doubling: append would grow the batch by a quarter at a time
		l.buf = slices.Grow(l.buf, max(need, len(l.buf), 64<<10))
	}
	switch {
	case rec.Attempt:
		l.head(recAttempt)
		l.buf = binary.AppendVarint(l.buf, t)
		l.buf = binary.AppendUvarint(l.buf, uint64(len(rec.Source)))
		l.buf = append(l.buf, rec.Source...)
		l.buf = append(l.buf, byte(rec.Transport))
		l.buf = binary.AppendUvarint(l.buf, uint64(rec.DstPort))
	case len(fams) > 0:
		l.head(recMatched)
		l.buf = binary.AppendVarint(l.buf, t)
		l.buf = binary.AppendUvarint(l.buf, uint64(len(rec.Source)))
		l.buf = append(l.buf, rec.Source...)
		l.buf = binary.AppendUvarint(l.buf, uint64(len(fams)))
		for _, f := range fams {
			l.buf = binary.AppendUvarint(l.buf, uint64(f))
		}
	case !l.span:
		l.spanLo, l.spanHi, l.span = t, t, true
	default:
		l.spanLo, l.spanHi = min(l.spanLo, t), max(l.spanHi, t)
	}
}

// head starts an entry.
func (l *recordLog) head(tag byte) {
	if len(l.buf) == 0 {
		l.buf = append(l.buf, recVersion)
	}
	l.buf = append(l.buf, tag)
	l.n++
}

// take returns the encoded records (nil for none) and empties the log.
func (l *recordLog) take() []byte {
	if l.span {
		l.head(recSpan)
		l.buf = binary.AppendVarint(l.buf, l.spanLo)
		l.buf = binary.AppendVarint(l.buf, l.spanHi)
	}
	out := l.buf
	*l = recordLog{}
	return out
}

// reuse gives the log the memory of records taken and committed (the
// store copied them), for the next batch, if it has none yet.
func (l *recordLog) reuse(buf []byte) {
	if l.buf == nil {
		l.buf = buf[:0]
	}
}

// errRecords is the error of records that cannot be decoded.
var errRecords = errors.New("stored records are damaged")

// decodeRecords calls add with each record of an encoded batch, in order:
// a span as two records of no family at its earliest and latest time.
func decodeRecords(data []byte, add func(rec *detect.Record, fams []int) error) error {
	if len(data) == 0 {
		return nil
	}
	if data[0] != recVersion {
		return fmt.Errorf("%w: version %d (this program reads %d)", errRecords, data[0], recVersion)
	}
	d := decoder{b: data[1:]}
	var rec detect.Record
	var fams []int
	for len(d.b) > 0 && d.err == nil {
		tag := d.byte()
		rec = detect.Record{Time: time.Unix(0, d.varint()).UTC()}
		fams = fams[:0]
		switch tag {
		case recMatched:
			rec.Source = d.bytes()
			for n := d.uvarint(); n > 0 && d.err == nil; n-- {
				fams = append(fams, int(d.uvarint()))
			}
		case recAttempt:
			rec.Source, rec.Attempt = d.bytes(), true
			rec.Transport, rec.DstPort = detect.Transport(d.byte()), uint16(d.uvarint())
		case recSpan:
			hi := d.varint()
			if d.err == nil {
				if err := add(&rec, nil); err != nil {
					return err
				}
				rec.Time = time.Unix(0, hi).UTC()
			}
		default:
			return fmt.Errorf("%w: tag %d", errRecords, tag)
		}
		if d.err != nil {
			break
		}
		if err := add(&rec, fams); err != nil {
			return err
		}
	}
	return d.err
}

// decoder reads varints and bytes, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = fmt.Errorf("%w: cut short", errRecords)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}
