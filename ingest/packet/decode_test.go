package packet

import (
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// BenchmarkDecode compares, on the same Ethernet frames of TCP SYNs over
// IPv4 and IPv6, the hand decoder of the SYN path with gopacket's
// DecodingLayerParser (layers preallocated, as its documentation advises
// for speed): the comment at the top of decode.go gives the figures.
func BenchmarkDecode(b *testing.B) {
	E := layers.LinkTypeEthernet
	var frames [][]byte
	for i := range 64 {
		src, dst := "10.0.0.1", "192.0.2.1"
		if i%16 == 0 {
			src, dst = "2001:db8::1", "2001:db8::2"
		}
		frames = append(frames, frame(b, E, tcpOpts{src: src, dst: dst, sport: uint16(1000 + i), dport: 80, syn: true, ethernetPadTo60: true}))
	}
	b.Run("hand", func(b *testing.B) {
		var s segment
		syns := 0
		for i := 0; b.Loop(); i++ {
			if decode(1, frames[i%len(frames)], &s) == tcpSeg && len(s.tcp) >= 14 && s.tcp[13]&0x12 == 0x02 {
				syns++
			}
		}
		if syns != b.N {
			b.Fatalf("%d SYNs of %d", syns, b.N)
		}
	})
	b.Run("DecodingLayerParser", func(b *testing.B) {
		var eth layers.Ethernet
		var ip4 layers.IPv4
		var ip6 layers.IPv6
		var tcp layers.TCP
		var payload gopacket.Payload
		p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &ip6, &tcp, &payload)
		p.IgnoreUnsupported = true
		decoded := make([]gopacket.LayerType, 0, 8)
		syns := 0
		for i := 0; b.Loop(); i++ {
			_ = p.DecodeLayers(frames[i%len(frames)], &decoded)
			for _, lt := range decoded {
				if lt == layers.LayerTypeTCP && tcp.SYN && !tcp.ACK {
					syns++
				}
			}
		}
		if syns != b.N {
			b.Fatalf("%d SYNs of %d", syns, b.N)
		}
	})
}

// TestDecodeHeaders checks the hand decoder on malformed headers: nothing
// read past the bytes there are, every outcome one of the three.
func TestDecodeHeaders(t *testing.T) {
	t.Parallel()
	E := layers.LinkTypeEthernet
	good := frame(t, E, tcpOpts{src: "10.0.0.1", dst: "192.0.2.1", sport: 1, dport: 80, syn: true})
	var s segment
	if decode(1, good, &s) != tcpSeg || len(s.tcp) != 20 || string(s.src) != "\x0a\x00\x00\x01" {
		t.Fatalf("a good frame: %+v", s)
	}
	for n := range len(good) {
		st := decode(1, good[:n], &s)
		if n < 14+20 && st != undecoded {
			t.Errorf("cut to %d bytes: %d, want undecoded", n, st)
		}
	}
	bad := append([]byte(nil), good...)
	bad[14] = 0x43 // IHL 3: shorter than a header
	if decode(1, bad, &s) != undecoded {
		t.Error("IHL 3 decoded")
	}
	bad[14] = 0x45
	bad[14+2], bad[14+3] = 0, 10 // total length under the header's
	if decode(1, bad, &s) != undecoded {
		t.Error("total length 10 decoded")
	}
}
