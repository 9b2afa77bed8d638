package packet

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"wormwatch/detect"
)

// Fuzz targets: the capture reader on arbitrary bytes (FuzzCapture) and
// the HTTP request reader on arbitrary streams cut anywhere (FuzzHTTP).
// The seeds run with the ordinary tests; fuzz with, for example,
//
//	go test ./ingest/packet -run XXX -fuzz FuzzCapture -fuzztime 60s

// FuzzCapture reads arbitrary bytes as a capture: no panic, errors that
// name the capture (and the packet, past the header), records that hold
// together, counts that add up.
func FuzzCapture(f *testing.F) {
	E := layers.LinkTypeEthernet
	_, cr := codeRedRequest()
	syn := func(src string) []byte {
		return frame(f, E, tcpOpts{src: src, dst: "192.0.2.1", sport: 1, dport: 80, syn: true})
	}
	data := func(src string, seq uint32, p string) []byte {
		return frame(f, E, tcpOpts{src: src, dst: "192.0.2.1", sport: 1, dport: 80, ack: true, seq: seq, payload: []byte(p)})
	}
	pkts := []pkt{{t0, syn("10.0.0.1"), E}, {t0, data("10.0.0.1", 1, cr[:200]), E}, {t0, data("10.0.0.1", 201, cr[200:]), E},
		{t0, syn("2001:db8::1"), E}, {t0, ethernet(0x0800, udp(f, "10.0.0.2", "192.0.2.1", 53), []uint16{7}, true), E}}
	f.Add(writePcap(f, E, pkts))
	f.Add(writePcapng(f, append(pkts, pkt{t0, frame(f, layers.LinkTypeLinuxSLL, tcpOpts{src: "10.0.0.3", dst: "192.0.2.1", sport: 1, dport: 80, syn: true}), layers.LinkTypeLinuxSLL})))
	f.Add(writePcap(f, layers.LinkTypeRaw, []pkt{{t0, frame(f, layers.LinkTypeRaw, tcpOpts{src: "2001:db8::1", dst: "2001:db8::2", sport: 1, dport: 80, syn: true, ipv6ExtHopByHop: true}), 0}}))
	f.Add(writePcap(f, E, nil)[:20])
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader("fuzz", bytes.NewReader(data), Options{MaxRequest: detect.MinMaxLine, StreamTimeout: time.Second})
		if err != nil {
			var ie *detect.InputError
			if !errors.As(err, &ie) || ie.Name != "fuzz" || ie.Packet != 0 {
				t.Fatalf("error %v", err)
			}
			return
		}
		defer r.Close()
		var attempts, requests int64
		for {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				var ie *detect.InputError
				if !errors.As(err, &ie) || ie.Name != "fuzz" || ie.Packet != r.Input().Packets.Packets+1 {
					t.Fatalf("error %v after %d packets", err, r.Input().Packets.Packets)
				}
				return
			}
			if len(rec.Source) == 0 || rec.Transport != detect.TCP || rec.Pos < 1 || rec.Pos > r.Input().Packets.Packets {
				t.Fatalf("record %+v", rec)
			}
			if rec.Attempt {
				attempts++
			} else {
				requests++
				if len(rec.Method) == 0 || bytes.ContainsAny(rec.Target, "\r\n") {
					t.Fatalf("request %+v", rec)
				}
			}
		}
		p := r.Input().Packets
		if p.SYNs != attempts || p.Requests != requests || p.SYNs+p.Undecoded > p.Packets {
			t.Fatalf("counts %+v; %d attempts, %d requests read", p, attempts, requests)
		}
	})
}

// FuzzHTTP reads a client's stream of bytes cut in pieces at random
// (seed): the requests must be those read from it whole, whatever the
// cuts.
func FuzzHTTP(f *testing.F) {
	_, cr := codeRedRequest()
	f.Add([]byte(cr), uint64(1))
	f.Add([]byte("GET /scripts/root.exe?/c+dir HTTP/1.0\r\nHost: a\r\n\r\nGET /MSADC/root.exe HTTP/1.0\r\nUser-Agent: x\r\nReferer: y\r\n\r\n"), uint64(2))
	f.Add([]byte("\r\n\nPOST /x HTTP/1.1\nContent-Length: 5\n\nhelloGET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /lost HTTP/1.1\r\n\r\n"), uint64(3))
	f.Add([]byte("SEARCH /"+strings.Repeat("A", 400)+" HTTP/1.1\r\nHost: x"), uint64(4))
	f.Add([]byte("\x16\x03\x01\x00"), uint64(5))
	read := func(stream []byte, cuts *rand.Rand) string {
		r := &Reader{opt: Options{MaxRequest: detect.MinMaxLine}}
		s := &httpStream{r: r, seq: 1, src: []byte("10.0.0.1"), port: 80}
		at := func(off int) time.Time { return t0 }
		for rest := stream; len(rest) > 0; {
			n := len(rest)
			if cuts != nil {
				n = 1 + cuts.IntN(len(rest))
			}
			s.consume(rest[:n], at)
			rest = rest[n:]
		}
		s.ReassemblyComplete(nil)
		var out []string
		for i := range r.pending {
			rec := r.request(&r.pending[i])
			out = append(out, string(rec.Method)+" "+string(rec.Target)+" "+string(rec.Protocol)+"|"+string(rec.UserAgent)+"|"+string(rec.Referer))
		}
		return strings.Join(out, "\n")
	}
	f.Fuzz(func(t *testing.T, stream []byte, seed uint64) {
		whole := read(stream, nil)
		if cut := read(stream, rand.New(rand.NewPCG(seed, 3))); cut != whole {
			t.Fatalf("cut in pieces:\n%s\nwhole:\n%s", cut, whole)
		}
	})
}
