package biglog

import (
	"bufio"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"time"
)

// Worms describes a synthetic Apache combined log of worm requests from
// many sources (WriteWorms).
type Worms struct {
	Lines   int64         // lines to write
	Sources int64         // distinct sources; at least Lines: each line has a source of its own
	Seed    uint64        // of the random choices
	Start   time.Time     // time of the first line (before jitter)
	Step    time.Duration // time between lines (before jitter)
	Jitter  time.Duration // each line's time is moved by up to this much either way: the log is out of order
	Noise   float64       // fraction of lines that are no worm's (a page, an image)
}

// wormRequests are request lines and statuses of the built-in families
// (several match more than one: Code Red II also ida-idq, Nimda also
// root-exe or cmd-exe and unicode-traversal).
var wormRequests = []struct {
	req    string
	status int
}{
	{"GET /default.ida?" + repeat("X", 224) + "%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u9090%u8190%u00c3%u0003%u8b00%u531b%u53ff%u0078%u0000%u00=a HTTP/1.0", 404},
	{"GET /default.ida?" + repeat("N", 224) + "%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u9090%u8190%u00c3%u0003%u8b00%u531b%u53ff%u0078%u0000%u00=a HTTP/1.0", 404},
	{"GET /scripts/root.exe?/c+dir HTTP/1.0", 404},
	{"GET /MSADC/root.exe?/c+dir HTTP/1.0", 404},
	{"GET /scripts/..%c0%af../winnt/system32/cmd.exe?/c+dir HTTP/1.0", 404},
	{"GET /scripts/..%255c../winnt/system32/cmd.exe?/c+dir HTTP/1.0", 404},
	{"GET /c/winnt/system32/cmd.exe?/c+dir HTTP/1.0", 404},
	{"GET / HTTP/1.1", 400},
}

var noise = []string{"GET /index.html HTTP/1.1", "GET /images/logo.png HTTP/1.1", "GET /robots.txt HTTP/1.0"}

func repeat(s string, n int) string {
	b := make([]byte, 0, len(s)*n)
	for range n {
		b = append(b, s...)
	}
	return string(b)
}

// active is how many sources are sending at a time when sources are
// fewer than lines: each line comes from one of them, and one in five
// lines a new source replaces one, so that a source sends a burst of
// lines seconds apart (the event gap of Nimda and the rules is 60 s).
const active = 8

// WriteWorms writes the log and returns the number of lines. Source k is
// an IPv4 address when k < 2^32 (a bijection that scatters consecutive
// numbers), an IPv6 address above.
func WriteWorms(w io.Writer, o Worms) (int64, error) {
	if o.Lines < 0 || o.Sources < 1 || o.Step < 0 || o.Jitter < 0 || o.Noise < 0 || o.Noise > 1 {
		return 0, errors.New("biglog: bad Worms")
	}
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x5bd1e995))
	bw := bufio.NewWriterSize(w, 1<<20)
	var cur [active]int64
	for i := range cur {
		cur[i] = rng.Int64N(o.Sources)
	}
	var line []byte
	for i := range o.Lines {
		src := i
		if o.Sources < o.Lines {
			j := rng.IntN(active)
			if rng.IntN(5) == 0 {
				cur[j] = rng.Int64N(o.Sources)
			}
			src = cur[j]
		}
		t := o.Start.Add(time.Duration(i) * o.Step)
		if o.Jitter > 0 {
			t = t.Add(time.Duration(rng.Int64N(int64(2*o.Jitter)+1)) - o.Jitter)
		}
		req, status := "", 200
		if rng.Float64() < o.Noise {
			req = noise[rng.IntN(len(noise))]
		} else {
			r := wormRequests[rng.IntN(len(wormRequests))]
			req, status = r.req, r.status
		}
		line = appendAddr(line[:0], src)
		line = append(line, " - - ["...)
		line = t.UTC().AppendFormat(line, "02/Jan/2006:15:04:05 -0700")
		line = append(line, "] \""...)
		line = append(line, req...)
		line = append(line, "\" "...)
		line = strconv.AppendInt(line, int64(status), 10)
		line = append(line, " 283 \"-\" \"-\"\n"...)
		if _, err := bw.Write(line); err != nil {
			return i, err
		}
	}
	return o.Lines, bw.Flush()
}

// appendAddr appends the address of source k.
func appendAddr(b []byte, k int64) []byte {
	if k < 1<<32 {
		x := uint32(k)*2654435761 + 0x01000000 // odd multiplier: a bijection on 32 bits
		for i := 3; i >= 0; i-- {
			b = strconv.AppendUint(b, uint64(x>>(8*i)&0xff), 10)
			if i > 0 {
				b = append(b, '.')
			}
		}
		return b
	}
	b = append(b, "2001:db8::"...)
	return strconv.AppendUint(b, uint64(k), 16)
}
