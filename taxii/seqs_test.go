package taxii

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPackSeqs: increasing seqs, in runs and apart, come back from
// unpackSeqs as they went into packSeqs; a page of consecutive seqs packs
// into a few bytes; the deltas written before runs still read.
func TestPackSeqs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		var seqs []int64
		x := rng.Int64N(1e9)
		for range 1 + rng.IntN(2000) {
			seqs = append(seqs, x)
			if rng.IntN(10) == 0 {
				x += 2 + rng.Int64N(1e6)
			} else {
				x++
			}
		}
		got, err := unpackSeqs(seqs[0], packSeqs(seqs))
		if err != nil || !slices.Equal(got, seqs) {
			t.Fatalf("%d seqs from %d: got %d back, %v", len(seqs), seqs[0], len(got), err)
		}
	}
	page := make([]int64, 1000)
	for i := range page {
		page[i] = 5000 + int64(i)
	}
	if b := packSeqs(page); len(b) > 4 {
		t.Errorf("a page of 1,000 consecutive seqs packs into %d bytes", len(b))
	}
	old := []byte{seqsDeltas}
	for _, d := range []uint64{1, 1, 300, 1} {
		old = binary.AppendUvarint(old, d)
	}
	if got, err := unpackSeqs(10, old); err != nil || !slices.Equal(got, []int64{10, 11, 12, 312, 313}) {
		t.Errorf("deltas: %v, %v", got, err)
	}
	for _, bad := range [][]byte{{7, 0}, {seqsRuns, 0}, {seqsRuns, 0, 0xff}, {seqsRuns, 0, 0xff, 0xff, 0xff, 0x7f}} {
		if got, err := unpackSeqs(1, bad); err == nil {
			t.Errorf("%x: %v, no error", bad, got)
		}
	}
}
