package serve

import "sync"

// chunkBufs holds the memory of followed logs' chunks that the loop has
// read, for the inputs' goroutines to copy their next chunks into: a
// chunk is up to 256 KiB, and a new one each time is garbage to collect.
var chunkBufs sync.Pool

// getChunkBuf returns an empty slice with room for n bytes.
func getChunkBuf(n int) []byte {
	if p, ok := chunkBufs.Get().(*[]byte); ok && cap(*p) >= n {
		return (*p)[:0]
	}
	return make([]byte, 0, max(n, 64<<10))
}

// putChunkBuf gives back the memory of a chunk no longer used.
func putChunkBuf(b []byte) {
	if cap(b) > 0 {
		chunkBufs.Put(&b)
	}
}
