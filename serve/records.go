package serve

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"time"

	"wormwatch/detect"
	"wormwatch/internal/ipv4text"
)

// The records of a batch (store.Batch.Records) are what detect's report
// counts of them, so that the analyzer can be rebuilt at start with
// AddMatched: each matched request (time, source, families), each attempt
// (time, source, transport, port), and the earliest and latest time of
// the requests that matched nothing (they move only the report's start and
// end). The encoding is a version byte, then entries. Version 2 (written
// since December 2026): an entry is a tag byte, whose low three bits are
// its kind and whose other bits say how its fields are written, then its
// fields:
//
//	recMatched  time, source, families
//	recAttempt  time, source, transport (a byte), port (uvarint)
//	recSpan     earliest, latest (varints, Unix ns)
//	recBase     (nothing: the next time is from 0 again)
//
// A time is a varint difference from the time of the entry before (from
// 0 at the start and after a recBase, which joins the records of two
// batches); with tagSeconds, in whole seconds, else in nanoseconds. A
// source is four bytes with tagIPv4 (an address in canonical dotted form,
// which formats back to the same text), else a uvarint length and the
// text. Families are a uvarint of their bits with tagMask (when they
// increase and are below 64), else a uvarint count and as many uvarints.
// An entry is about 7 bytes where version 1 took about 25.
//
// Version 1 (read, no longer written) had the same kinds with tag bytes
// 1 to 3 and their fields in full: the time as a varint of Unix ns, the
// source as a uvarint length and its text, and families as a count and
// indices.
const (
	recVersion1 = 1
	recVersion  = 2
	recMatched  = 1
	recAttempt  = 2
	recSpan     = 3
	recBase     = 4

	tagKind    = 7
	tagIPv4    = 1 << 3
	tagSeconds = 1 << 4
	tagMask    = 1 << 5
)

// recordLog gathers the records of one batch.
type recordLog struct {
	buf            []byte
	prev           int64 // the time of the last entry, Unix ns
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
		l.entry(recAttempt, t, rec.Source, nil)
		l.buf = append(l.buf, byte(rec.Transport))
		l.buf = binary.AppendUvarint(l.buf, uint64(rec.DstPort))
	case len(fams) > 0:
		l.entry(recMatched, t, rec.Source, fams)
	case !l.span:
		l.spanLo, l.spanHi, l.span = t, t, true
	default:
		l.spanLo, l.spanHi = min(l.spanLo, t), max(l.spanHi, t)
	}
}

// entry appends an entry of kind at time t (Unix ns) from source, with
// fams when it is a match.
func (l *recordLog) entry(kind byte, t int64, source []byte, fams []int) {
	if len(l.buf) == 0 {
		l.buf = append(l.buf, recVersion)
	}
	at := len(l.buf)
	l.buf = append(l.buf, kind)
	l.n++
	d := t - l.prev // wraps as the decoder's sum does
	l.prev = t
	if d%1e9 == 0 {
		l.buf[at] |= tagSeconds
		d /= 1e9
	}
	l.buf = binary.AppendVarint(l.buf, d)
	if a, ok := ipv4text.Parse(source); ok {
		l.buf[at] |= tagIPv4
		l.buf = binary.BigEndian.AppendUint32(l.buf, a)
	} else {
		l.buf = binary.AppendUvarint(l.buf, uint64(len(source)))
		l.buf = append(l.buf, source...)
	}
	if kind != recMatched {
		return
	}
	if mask, ok := famMask(fams); ok {
		l.buf[at] |= tagMask
		l.buf = binary.AppendUvarint(l.buf, mask)
		return
	}
	l.buf = binary.AppendUvarint(l.buf, uint64(len(fams)))
	for _, f := range fams {
		l.buf = binary.AppendUvarint(l.buf, uint64(f))
	}
}

// famMask returns the bits of fams, if they increase and are below 64.
func famMask(fams []int) (uint64, bool) {
	var mask uint64
	prev := -1
	for _, f := range fams {
		if f <= prev || f >= 64 {
			return 0, false
		}
		mask |= 1 << f
		prev = f
	}
	return mask, true
}

// take returns the encoded records (nil for none) and empties the log.
func (l *recordLog) take() []byte {
	if l.span {
		if len(l.buf) == 0 {
			l.buf = append(l.buf, recVersion)
		}
		l.buf = append(l.buf, recSpan)
		l.buf = binary.AppendVarint(l.buf, l.spanLo)
		l.buf = binary.AppendVarint(l.buf, l.spanHi)
		l.n++
	}
	out := l.buf
	*l = recordLog{}
	return out
}

// joinRecords appends the encoded records of a later batch, more, to
// recs (of a batch whose commit failed), as one batch's records.
func joinRecords(recs, more []byte) []byte {
	switch {
	case len(recs) == 0:
		return more
	case len(more) == 0:
		return recs
	}
	return append(append(recs, recBase), more[1:]...) // after the version byte
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
	switch data[0] {
	case recVersion1:
		return decodeRecords1(data[1:], add)
	case recVersion:
	default:
		return fmt.Errorf("%w: version %d (this program reads versions %d and %d: a newer wormwatch wrote them?)", errRecords, data[0], recVersion1, recVersion)
	}
	d := decoder{b: data[1:]}
	var rec detect.Record
	var fams []int
	var text [15]byte
	var prev int64
	for len(d.b) > 0 && d.err == nil {
		tag := d.byte()
		kind := tag & tagKind
		switch {
		case kind == recSpan || kind == recBase:
			if tag != kind {
				return fmt.Errorf("%w: tag %d", errRecords, tag)
			}
			if kind == recBase {
				prev = 0
			} else if err := d.span(&rec, add); err != nil {
				return err
			}
			continue
		case kind != recMatched && kind != recAttempt, kind == recAttempt && tag&tagMask != 0:
			return fmt.Errorf("%w: tag %d", errRecords, tag)
		}
		dt := d.varint()
		if tag&tagSeconds != 0 {
			dt *= 1e9
		}
		prev += dt
		rec = detect.Record{Time: time.Unix(0, prev).UTC()}
		if tag&tagIPv4 != 0 {
			rec.Source = ipv4text.Append(text[:0], d.uint32())
		} else {
			rec.Source = d.bytes()
		}
		fams = fams[:0]
		switch {
		case kind == recAttempt:
			rec.Attempt = true
			rec.Transport, rec.DstPort = detect.Transport(d.byte()), uint16(d.uvarint())
		case tag&tagMask != 0:
			for mask := d.uvarint(); mask != 0; mask &= mask - 1 {
				fams = append(fams, bits.TrailingZeros64(mask))
			}
		default:
			for n := d.uvarint(); n > 0 && d.err == nil; n-- {
				fams = append(fams, int(d.uvarint()))
			}
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

// span reads a span's times and adds them as two records of no family.
func (d *decoder) span(rec *detect.Record, add func(rec *detect.Record, fams []int) error) error {
	lo, hi := d.varint(), d.varint()
	if d.err != nil {
		return nil
	}
	*rec = detect.Record{Time: time.Unix(0, lo).UTC()}
	if err := add(rec, nil); err != nil {
		return err
	}
	*rec = detect.Record{Time: time.Unix(0, hi).UTC()}
	return add(rec, nil)
}

// decodeRecords1 is decodeRecords for version 1 (data after the version
// byte).
func decodeRecords1(data []byte, add func(rec *detect.Record, fams []int) error) error {
	d := decoder{b: data}
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

func (d *decoder) uint32() uint32 {
	if len(d.b) < 4 {
		d.fail()
		return 0
	}
	v := binary.BigEndian.Uint32(d.b)
	d.b = d.b[4:]
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
