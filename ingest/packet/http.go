package packet

import (
	"bytes"
	"cmp"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"

	"wormwatch/detect"
)

// HTTP requests are read from the reassembled client-to-server bytes by
// hand, not with net/http's ReadRequest: ReadRequest refuses what worms
// send (Nimda's "..%%35c" and Code Red's "%u9090" are not valid escapes;
// it parses the target as a URL), allocates a Request and a header map per
// request, and would need the body read or discarded through it. What
// detect needs is the request line as sent, User-Agent and Referer, and
// Content-Length to step over a body to the next request.

// assemble gives a TCP segment with payload, to an HTTP port, to the
// reassembler.
func (r *Reader) assemble(s *segment, ci gopacket.CaptureInfo) {
	if r.asm == nil {
		pool := reassembly.NewStreamPool(&streamFactory{r})
		r.asm = reassembly.NewAssembler(pool)
		r.asm.MaxBufferedPagesPerConnection = 256 // about 480 KiB waiting for a missing segment
		r.asm.MaxBufferedPagesTotal = 16 << 10    // about 30 MiB
		r.lastFlush = r.now
	}
	if err := r.tcp.DecodeFromBytes(s.tcp, gopacket.NilDecodeFeedback); err != nil {
		return
	}
	et := layers.EndpointIPv4
	if len(s.src) == 16 {
		et = layers.EndpointIPv6
	}
	ctx := assemblerContext{ci}
	r.asm.AssembleWithContext(gopacket.NewFlow(et, s.src, s.dst), &r.tcp, &ctx)
	if r.now.Sub(r.lastFlush) > r.timeout()/2 {
		r.flush()
	}
}

// assemblerContext gives the reassembler the packet's capture time.
type assemblerContext struct{ ci gopacket.CaptureInfo }

// GetCaptureInfo returns the packet's capture information.
func (c *assemblerContext) GetCaptureInfo() gopacket.CaptureInfo { return c.ci }

// streamFactory makes a stream for each new TCP connection to an HTTP port.
type streamFactory struct{ r *Reader }

// New returns the stream of a connection.
func (f *streamFactory) New(netFlow, tcpFlow gopacket.Flow, tcp *layers.TCP, _ reassembly.AssemblerContext) reassembly.Stream {
	f.r.streams++
	return &httpStream{r: f.r, seq: f.r.streams, src: appendAddr(nil, netFlow.Src().Raw()), port: uint16(tcp.DstPort)}
}

// httpStream reads the HTTP requests of one client-to-server stream.
type httpStream struct {
	r     *Reader
	seq   int64
	src   []byte
	port  uint16
	buf   []byte    // the request being read: its line and headers so far
	start time.Time // the time of its first byte
	body  int64     // body bytes still to step over
	done  bool      // not HTTP, or a body that cannot be stepped over (chunked): the rest is not read
}

// Accept takes every segment, starting a stream without its SYN (a
// capture that began in the middle of it).
func (s *httpStream) Accept(_ *layers.TCP, _ gopacket.CaptureInfo, _ reassembly.TCPFlowDirection, _ reassembly.Sequence, start *bool, _ reassembly.AssemblerContext) bool {
	*start = true
	return true
}

// ReassembledSG reads the next bytes of the stream.
func (s *httpStream) ReassembledSG(sg reassembly.ScatterGather, _ reassembly.AssemblerContext) {
	if s.done {
		return
	}
	n, _ := sg.Lengths()
	if _, _, _, skip := sg.Info(); skip > 0 {
		// Bytes are missing: the request being read is lost; read on
		// from a request line.
		s.buf, s.body = s.buf[:0], 0
	}
	s.consume(sg.Fetch(n), func(off int) time.Time { return sg.CaptureInfo(off).Timestamp })
}

// ReassemblyComplete reads what is left at the end of the stream: a
// request cut short after its request line counts.
func (s *httpStream) ReassemblyComplete(_ reassembly.AssemblerContext) bool {
	if !s.done && bytes.IndexByte(s.buf, '\n') >= 0 {
		s.emit(s.buf)
	}
	s.buf, s.done = nil, true
	return true
}

// consume reads bytes of the stream: requests (line and headers) and the
// bodies between them.
func (s *httpStream) consume(data []byte, at func(off int) time.Time) {
	limit := cmp.Or(s.r.opt.MaxRequest, detect.DefaultMaxLine)
	for off := 0; off < len(data) && !s.done; {
		if s.body > 0 {
			n := min(s.body, int64(len(data)-off))
			s.body -= n
			off += int(n)
			continue
		}
		if len(s.buf) == 0 {
			for off < len(data) && (data[off] == '\r' || data[off] == '\n') {
				off++ // empty lines before a request line (RFC 9112, 2.2)
			}
			if off == len(data) {
				return
			}
			if !tokenByte(data[off]) {
				s.done = true // not HTTP: TLS, binary junk
				return
			}
			s.start = at(off)
		}
		old := len(s.buf)
		take := min(len(data)-off, limit-old)
		s.buf = append(s.buf, data[off:off+take]...)
		end := headerEnd(s.buf, max(old-3, 0))
		if end < 0 {
			off += take
			if len(s.buf) >= limit { // too long: read what there is, and stop
				if bytes.IndexByte(s.buf, '\n') >= 0 {
					s.emit(s.buf)
				}
				s.done = true
			}
			continue
		}
		off += end - old
		s.emit(s.buf[:end])
		s.buf = s.buf[:0]
	}
}

// tokenByte reports whether c may start a method (an HTTP token).
func tokenByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), c) >= 0
}

// headerEnd returns the index after the empty line that ends the headers
// in b ("\r\n\r\n", or "\n\n" from clients that end lines with "\n"),
// looking from from on; -1 if there is none yet.
func headerEnd(b []byte, from int) int {
	for i := from; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		switch {
		case i < len(b) && b[i] == '\n':
			return i + 1
		case i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n':
			return i + 2
		}
	}
}

// emit queues the request whose line and headers are req, and sets the
// body to step over.
func (s *httpStream) emit(req []byte) {
	r := s.r
	nl := bytes.IndexByte(req, '\n')
	if nl < 0 {
		return
	}
	line := bytes.TrimSuffix(req[:nl], []byte("\r"))
	if sp := bytes.IndexByte(line, ' '); sp <= 0 || sp > 32 {
		s.done = true // not a request line
		return
	}
	q := request{time: s.start, stream: s.seq, src: s.src, port: s.port, packet: r.counts.Packets, ua: [2]int{-1, -1}, ref: [2]int{-1, -1}}
	keep := func(b []byte) [2]int {
		start := len(r.arena)
		r.arena = append(r.arena, b...)
		return [2]int{start, len(r.arena)}
	}
	q.line = keep(line)
	chunked := false
	for rest := req[nl+1:]; len(rest) > 0; {
		h := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			h, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		name, val, found := bytes.Cut(bytes.TrimSuffix(h, []byte("\r")), []byte(":"))
		if !found {
			continue
		}
		val = bytes.TrimSpace(val)
		switch {
		case asciiEqualFold(name, "user-agent"):
			q.ua = keep(val)
		case asciiEqualFold(name, "referer"):
			q.ref = keep(val)
		case asciiEqualFold(name, "content-length"):
			if n, good := number(val); good {
				s.body = n
			}
		case asciiEqualFold(name, "transfer-encoding"):
			chunked = !bytes.EqualFold(val, []byte("identity"))
		}
	}
	if chunked {
		s.done = true // the body's end cannot be found without decoding its chunks: stop at this request
	}
	r.pending = append(r.pending, q)
}

// asciiEqualFold reports whether b equals the lower-case name, ignoring
// case.
func asciiEqualFold(b []byte, name string) bool {
	if len(b) != len(name) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != name[i] {
			return false
		}
	}
	return true
}

// number reads a Content-Length.
func number(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
