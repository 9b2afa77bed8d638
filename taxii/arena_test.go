package taxii

import (
	"bytes"
	"fmt"
	"testing"
)

// TestArenaSpans: copies made one after another follow each other in the
// arena, comma between, until a chunk is full; a span over them is their
// bytes joined by commas; a large copy, kept apart, follows nothing and
// nothing follows it.
func TestArenaSpans(t *testing.T) {
	var a arena
	var copies [][]byte
	for i, total := 0, 0; total < arenaChunk*3/2; i++ {
		b := fmt.Appendf(nil, `{"id":"x--%d","pad":"%0*d"}`, i, 1+i%2000, 0)
		copies = append(copies, a.copy(b))
		total += len(b) + 1
		if !bytes.Equal(copies[i], b) || cap(copies[i]) != len(b)+2 {
			t.Fatalf("copy %d: %q, cap %d", i, copies[i], cap(copies[i]))
		}
	}
	chunks := 1
	run, want := copies[0], bytes.NewBuffer(bytes.Clone(copies[0]))
	for i := 1; i < len(copies); i++ {
		if !follows(copies[i-1], copies[i]) {
			chunks++
			if !bytes.Equal(run, want.Bytes()) {
				t.Fatalf("span before copy %d: %d bytes, want %d", i, len(run), want.Len())
			}
			run, want = copies[i], bytes.NewBuffer(bytes.Clone(copies[i]))
			continue
		}
		run = span(run, copies[i])
		want.WriteByte(',')
		want.Write(copies[i])
	}
	if !bytes.Equal(run, want.Bytes()) {
		t.Fatalf("last span: %d bytes, want %d", len(run), want.Len())
	}
	if chunks < 2 {
		t.Fatalf("%d copies (%d bytes) in one chunk: the test wants them across two", len(copies), len(a.chunk))
	}
	big := a.copy(make([]byte, arenaChunk/4+1))
	after := a.copy([]byte(`{}`))
	if cap(big) != len(big) || follows(copies[len(copies)-1], big) || follows(big, after) {
		t.Fatalf("a large copy: cap %d of %d; follows the last: %v; followed: %v", cap(big), len(big),
			follows(copies[len(copies)-1], big), follows(big, after))
	}
}
