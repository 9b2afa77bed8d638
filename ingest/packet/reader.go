package packet

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/gopacket/gopacket/reassembly"

	"wormwatch/detect"
)

// Options configure a Reader.
type Options struct {
	// HTTPPorts are the TCP ports whose streams are reassembled and read
	// as HTTP requests; nil: DefaultHTTPPorts.
	HTTPPorts []uint16
	// MaxRequest bounds the bytes of a request's line and headers that are
	// kept (a longer request is read up to there); 0: detect.DefaultMaxLine.
	MaxRequest int
	// StreamTimeout is how long a TCP stream may stay without a packet, in
	// the capture's time, before what it holds is read and it is closed;
	// 0: DefaultStreamTimeout.
	StreamTimeout time.Duration
}

// DefaultHTTPPorts are the ports whose streams are read as HTTP by
// default: the web server's and the usual proxies' and alternates'.
var DefaultHTTPPorts = []uint16{80, 8000, 8008, 8080, 8888}

// DefaultStreamTimeout is the default of Options.StreamTimeout.
const DefaultStreamTimeout = 2 * time.Minute

// Check returns an error for options a Reader refuses.
func (o Options) Check() error {
	switch {
	case o.MaxRequest != 0 && (o.MaxRequest < detect.MinMaxLine || o.MaxRequest > detect.MaxMaxLine):
		return fmt.Errorf("request size cap %d: want %d to %d bytes", o.MaxRequest, detect.MinMaxLine, detect.MaxMaxLine)
	case o.StreamTimeout < 0:
		return fmt.Errorf("stream timeout %v is negative", o.StreamTimeout)
	}
	return nil
}

// Position says where a record came from: the capture, the packet (from
// 1) and the record's number among the records of the capture (from 1).
// Records come out of a capture in an order that depends only on its
// bytes, so a live service that stored the position of the last record it
// counted resumes by reading the capture again and passing over the
// records up to that number.
type Position struct {
	File   string
	Packet int64
	Record int64
}

// Reader reads the records of one capture: an attempt for each TCP SYN,
// a request for each HTTP request reassembled. It is a detect.RecordReader.
type Reader struct {
	name    string
	format  string
	pcap    *pcapgo.Reader
	ng      *pcapgo.NgReader
	link    uint32
	counts  detect.PacketCounts
	rec     detect.Record
	seg     segment
	src     []byte // the source address of the current record, as text
	ports   [1024]uint64
	opt     Options
	records int64

	// The HTTP requests: the reassembler, the requests it gave for the
	// last packet (their bytes in arena), and when streams were last
	// flushed.
	asm       *reassembly.Assembler
	tcp       layers.TCP
	pending   []request
	head      int
	arena     []byte
	streams   int64
	lastFlush time.Time
	now       time.Time
	eof       bool
}

// IsCapture reports whether an input that starts with head (at least 4
// bytes; 12 for pcapng) is a capture: the magic number of pcap (either
// byte order, micro- or nanoseconds) or of a pcapng section header.
func IsCapture(head []byte) bool {
	if len(head) < 4 {
		return false
	}
	switch binary.LittleEndian.Uint32(head) {
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
		return true
	case 0x0a0d0d0a:
		return len(head) >= 12 && (binary.LittleEndian.Uint32(head[8:12]) == 0x1a2b3c4d || binary.BigEndian.Uint32(head[8:12]) == 0x1a2b3c4d)
	}
	return false
}

// NewReader prepares to read the capture r, called name in errors and in
// reports: pcap or pcapng, told by its magic number (gzip is unpacked by
// the caller; detect.Analyzer does).
func NewReader(name string, r io.Reader, opt Options) (*Reader, error) {
	if err := opt.Check(); err != nil {
		return nil, &detect.InputError{Name: name, Err: err}
	}
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	head, _ := br.Peek(12)
	if !IsCapture(head) {
		return nil, &detect.InputError{Name: name, Err: errors.New("not a pcap or pcapng capture (no magic number)")}
	}
	rd := &Reader{name: name, opt: opt}
	var err error
	if binary.LittleEndian.Uint32(head) == 0x0a0d0d0a {
		rd.format = "pcapng"
		rd.ng, err = pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
	} else {
		rd.format = "pcap"
		rd.pcap, err = pcapgo.NewReader(br)
		if err == nil {
			rd.link = uint32(rd.pcap.LinkType())
		}
	}
	if err != nil {
		return nil, &detect.InputError{Name: name, Err: fmt.Errorf("%s header: %w", rd.format, err)}
	}
	ports := opt.HTTPPorts
	if ports == nil {
		ports = DefaultHTTPPorts
	}
	for _, p := range ports {
		rd.ports[p/64] |= 1 << (p % 64)
	}
	return rd, nil
}

// httpPort reports whether p is one of the HTTP ports.
func (r *Reader) httpPort(p uint16) bool { return r.ports[p/64]&(1<<(p%64)) != 0 }

// Next returns the next record: an attempt (a TCP SYN) or a request (an
// HTTP request reassembled), valid until the next call; io.EOF at the end
// of the capture. A capture cut short or corrupt is an *detect.InputError
// naming the capture and the packet.
func (r *Reader) Next() (*detect.Record, error) {
	for {
		if r.head < len(r.pending) {
			r.head++
			return r.request(&r.pending[r.head-1]), nil
		}
		if r.eof {
			return nil, io.EOF
		}
		r.pending, r.head, r.arena = r.pending[:0], 0, r.arena[:0]
		var data []byte
		var ci gopacket.CaptureInfo
		var err error
		if r.pcap != nil {
			data, ci, err = r.pcap.ZeroCopyReadPacketData()
		} else {
			data, ci, err = r.ng.ZeroCopyReadPacketData()
			if err == nil && len(ci.AncillaryData) > 0 {
				if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
					r.link = uint32(lt)
				}
			}
		}
		if err == io.EOF {
			r.eof = true
			if r.asm != nil {
				r.asm.FlushAll()
				r.sortPending()
			}
			continue
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = errors.New("the capture is cut short in the middle of the packet")
			}
			return nil, &detect.InputError{Name: r.name, Packet: r.counts.Packets + 1, Err: err}
		}
		r.counts.Packets++
		r.now = ci.Timestamp
		s := &r.seg
		switch decode(r.link, data, s) {
		case undecoded:
			r.counts.Undecoded++
			continue
		case other:
			continue
		}
		t := s.tcp
		if len(t) < 14 {
			r.counts.Undecoded++
			continue
		}
		flags, dport := t[13], binary.BigEndian.Uint16(t[2:4])
		hl := int(t[12]>>4) * 4
		payload := hl >= 20 && hl < len(t) && !s.frag
		if payload && r.httpPort(dport) {
			r.assemble(s, ci)
		} else if r.asm != nil && r.now.Sub(r.lastFlush) > r.timeout()/2 {
			r.flush()
		}
		if flags&0x12 != 0x02 { // not a SYN, or a SYN-ACK
			continue
		}
		r.counts.SYNs++
		rec := &r.rec
		rec.Reset()
		r.src = appendAddr(r.src[:0], s.src)
		rec.Time, rec.Source, rec.Attempt, rec.Transport, rec.DstPort, rec.Pos = ci.Timestamp, r.src, true, detect.TCP, dport, r.counts.Packets
		r.records++
		return rec, nil
	}
}

// timeout returns the stream timeout.
func (r *Reader) timeout() time.Duration { return cmp.Or(r.opt.StreamTimeout, DefaultStreamTimeout) }

// Position returns where the last record returned came from.
func (r *Reader) Position() Position {
	return Position{File: r.name, Packet: r.rec.Pos, Record: r.records}
}

// Input returns the capture's entry in a report: its name, format and
// packet counts so far.
func (r *Reader) Input() detect.Input {
	c := r.counts
	return detect.Input{Name: r.name, Format: r.format, Packets: &c}
}

// Close releases the streams still open.
func (r *Reader) Close() error {
	r.asm, r.pending = nil, nil
	return nil
}

// request is an HTTP request the reassembler gave, waiting to be returned.
type request struct {
	time          time.Time
	stream        int64  // the stream's number: streams in order of their first packet
	src           []byte // the client's address as text
	port          uint16
	packet        int64
	line, ua, ref [2]int // the request line, user agent and referer: start and end in arena; ua and ref {-1, -1} when absent
}

// request returns the record of a pending request.
func (r *Reader) request(q *request) *detect.Record {
	rec := &r.rec
	rec.Reset()
	rec.Time, rec.Source, rec.Transport, rec.DstPort, rec.Pos = q.time, q.src, detect.TCP, q.port, q.packet
	rec.SetRequest(r.arena[q.line[0]:q.line[1]])
	if q.ua[0] >= 0 {
		rec.UserAgent = r.arena[q.ua[0]:q.ua[1]]
	}
	if q.ref[0] >= 0 {
		rec.Referer = r.arena[q.ref[0]:q.ref[1]]
	}
	r.records++
	r.counts.Requests++
	return rec
}

// sortPending puts the requests given by several streams at once (when
// streams are flushed) in an order that depends only on the capture: by
// time, then stream.
func (r *Reader) sortPending() {
	slices.SortStableFunc(r.pending, func(a, b request) int {
		return cmp.Or(a.time.Compare(b.time), cmp.Compare(a.stream, b.stream))
	})
}

// flush reads and closes the streams without a packet for the timeout.
func (r *Reader) flush() {
	r.lastFlush = r.now
	r.asm.FlushCloseOlderThan(r.now.Add(-r.timeout()))
	r.sortPending()
}

// Opener returns the opener of captures for detect.Options.Openers: detect
// then reads captures (files, in folders, on standard input) as it reads
// logs.
func Opener(opt Options) detect.Opener { return opener{opt} }

type opener struct{ opt Options }

// Sniff reports whether the input is a capture.
func (o opener) Sniff(head []byte) bool { return IsCapture(head) }

// Open prepares to read a capture.
func (o opener) Open(name string, r io.Reader) (detect.RecordReader, error) {
	return NewReader(name, r, o.opt)
}
