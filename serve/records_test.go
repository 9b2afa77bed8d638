package serve

import (
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"wormwatch/detect"
)

// encodeRecords1 encodes records as version 1 did (serve at 8f9c76a):
// what data folders made before version 2 hold.
func encodeRecords1(recs []detect.Record, fams [][]int) []byte {
	b := []byte{recVersion1}
	var lo, hi int64
	span := false
	for i := range recs {
		rec, t := &recs[i], recs[i].Time.UnixNano()
		switch {
		case rec.Attempt:
			b = append(b, recAttempt)
			b = binary.AppendVarint(b, t)
			b = binary.AppendUvarint(b, uint64(len(rec.Source)))
			b = append(b, rec.Source...)
			b = append(b, byte(rec.Transport))
			b = binary.AppendUvarint(b, uint64(rec.DstPort))
		case len(fams[i]) > 0:
			b = append(b, recMatched)
			b = binary.AppendVarint(b, t)
			b = binary.AppendUvarint(b, uint64(len(rec.Source)))
			b = append(b, rec.Source...)
			b = binary.AppendUvarint(b, uint64(len(fams[i])))
			for _, f := range fams[i] {
				b = binary.AppendUvarint(b, uint64(f))
			}
		case !span:
			lo, hi, span = t, t, true
		default:
			lo, hi = min(lo, t), max(hi, t)
		}
	}
	if span {
		b = append(b, recSpan)
		b = binary.AppendVarint(b, lo)
		b = binary.AppendVarint(b, hi)
	}
	return b
}

// decoded is a record as decodeRecords gives it.
type decoded struct {
	t       int64
	src     string
	attempt bool
	tr      detect.Transport
	port    uint16
	fams    []int
}

// decodeAll returns the records of encoded batches.
func decodeAll(t *testing.T, batches ...[]byte) []decoded {
	t.Helper()
	var out []decoded
	for _, b := range batches {
		if err := decodeRecords(b, func(rec *detect.Record, fams []int) error {
			out = append(out, decoded{rec.Time.UnixNano(), string(rec.Source), rec.Attempt, rec.Transport, rec.DstPort, slices.Clone(fams)})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestRecordsVersions: records of every form (sources that are canonical
// IPv4 addresses and others, whole and fractional seconds, times going
// back, families as bits and as a list, attempts, requests of no family)
// decode the same from version 1, as data folders made before hold them,
// and from version 2, also when two batches are joined (a failed commit's
// and the next); version 2 takes less than a third of the bytes of the usual ones.
func TestRecordsVersions(t *testing.T) {
	base := time.Date(2001, 7, 19, 12, 0, 0, 0, time.UTC)
	var recs []detect.Record
	var fams [][]int
	for i := range 3000 {
		rec := detect.Record{Time: base.Add(time.Duration(i/3) * time.Second), Source: []byte("10.1.2.3")}
		f := []int{1, 5}
		switch i % 10 {
		case 1:
			rec.Source = []byte("2001:db8::1")
		case 2:
			rec.Source = []byte("010.1.2.3") // not canonical: kept as text
		case 3:
			rec.Time = rec.Time.Add(-90 * time.Minute) // back in time
		case 4:
			rec.Time = rec.Time.Add(123456789 * time.Nanosecond)
		case 5:
			f = []int{70}
		case 6:
			f = nil // no family: only the span
		case 7:
			rec.Attempt, rec.Transport, rec.DstPort, f = true, detect.TCP, 445, nil
		case 8:
			f = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 63}
		}
		recs, fams = append(recs, rec), append(fams, f)
	}
	var l recordLog
	for i := range recs {
		l.add(&recs[i], fams[i])
	}
	v2 := l.take()
	v1 := encodeRecords1(recs, fams)
	want := decodeAll(t, v1)
	if got := decodeAll(t, v2); !slices.EqualFunc(got, want, equalDecoded) {
		t.Fatalf("version 2 decodes to %d records, version 1 to %d, or they differ", len(got), len(want))
	}
	// A web log's usual records: an IPv4 source, whole seconds, two
	// families.
	var usual []detect.Record
	var uf [][]int
	for i := range recs {
		if i%10 == 0 || i%10 == 9 {
			usual, uf = append(usual, recs[i]), append(uf, fams[i])
			l.add(&recs[i], fams[i])
		}
	}
	u1, u2 := encodeRecords1(usual, uf), l.take()
	if 3*len(u2) > len(u1) {
		t.Errorf("%d usual records: version 2 takes %d bytes, version 1 %d", len(usual), len(u2), len(u1))
	}
	t.Logf("%d records: version 1 %d bytes, version 2 %d; %d usual ones: %d and %d", len(recs), len(v1), len(v2), len(usual), len(u1), len(u2))
	// Two batches joined decode as the two one after the other.
	half := len(recs) / 2
	for i := range half {
		l.add(&recs[i], fams[i])
	}
	first := l.take()
	for i := half; i < len(recs); i++ {
		l.add(&recs[i], fams[i])
	}
	second := l.take()
	joined := joinRecords(slices.Clone(first), second)
	if got, want := decodeAll(t, joined), decodeAll(t, first, second); !slices.EqualFunc(got, want, equalDecoded) {
		t.Fatal("joined batches decode otherwise than the two")
	}
	if got := decodeAll(t, joinRecords(nil, second)); !slices.EqualFunc(got, decodeAll(t, second), equalDecoded) {
		t.Fatal("a batch joined to none changed")
	}
	for _, bad := range [][]byte{{3, 1}, {2, 1 | tagMask | 64}, {2, recSpan | tagIPv4, 0, 0}, {2, recAttempt | tagMask, 0, 1, 2, 3, 4, 6, 0}} {
		if err := decodeRecords(bad, func(*detect.Record, []int) error { return nil }); err == nil {
			t.Errorf("% x: no error", bad)
		}
	}
}

func equalDecoded(a, b decoded) bool {
	return a.t == b.t && a.src == b.src && a.attempt == b.attempt && a.tr == b.tr && a.port == b.port && slices.Equal(a.fams, b.fams)
}
