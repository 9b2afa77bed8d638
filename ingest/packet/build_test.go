package packet

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Captures for the tests are built here, packet by packet, with gopacket's
// layers (checksums and lengths computed) and pcapgo's writers.

var t0 = time.Date(2001, 7, 19, 12, 0, 0, 0, time.UTC)

// pkt is one packet to write: its time and link-layer bytes.
type pkt struct {
	at   time.Time
	data []byte
	link layers.LinkType // for pcapng: the interface's link type
}

// tcpOpts describe a TCP segment.
type tcpOpts struct {
	src, dst         string
	sport, dport     uint16
	syn, ack, rst    bool
	fin, psh         bool
	seq              uint32
	payload          []byte
	vlan             []uint16 // 802.1Q tags, outer first
	fragFirst        bool     // an IPv4 first fragment (more fragments)
	fragLater        bool     // an IPv4 later fragment
	ipv6ExtHopByHop  bool
	ethernetPadTo60  bool
	truncateCaptured int // keep only this many bytes of the frame (0: all)
}

// ipTCP returns the IP datagram of a TCP segment.
func ipTCP(t testing.TB, o tcpOpts) []byte {
	t.Helper()
	tcp := &layers.TCP{SrcPort: layers.TCPPort(o.sport), DstPort: layers.TCPPort(o.dport), SYN: o.syn, ACK: o.ack, RST: o.rst, FIN: o.fin, PSH: o.psh,
		Seq: o.seq, Window: 8192}
	if o.ack {
		tcp.Ack = 1
	}
	src, dst := net.ParseIP(o.src), net.ParseIP(o.dst)
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	var err error
	if v4 := src.To4(); v4 != nil {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 113, Protocol: layers.IPProtocolTCP, SrcIP: v4, DstIP: dst.To4()}
		if o.fragFirst {
			ip.Flags = layers.IPv4MoreFragments
		}
		if o.fragLater {
			ip.FragOffset = 100
		}
		tcp.SetNetworkLayerForChecksum(ip)
		err = gopacket.SerializeLayers(buf, opts, ip, tcp, gopacket.Payload(o.payload))
	} else {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: src, DstIP: dst}
		tcp.SetNetworkLayerForChecksum(ip)
		if o.ipv6ExtHopByHop {
			ip.NextHeader = layers.IPProtocolIPv6HopByHop
			hbh := &layers.IPv6HopByHop{}
			hbh.NextHeader = layers.IPProtocolTCP
			hbh.Options = []*layers.IPv6HopByHopOption{{OptionType: 1, OptionLength: 4, OptionData: []byte{0, 0, 0, 0}}}
			err = gopacket.SerializeLayers(buf, opts, ip, hbh, tcp, gopacket.Payload(o.payload))
		} else {
			err = gopacket.SerializeLayers(buf, opts, ip, tcp, gopacket.Payload(o.payload))
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(buf.Bytes())
}

// udp returns an IPv4 datagram of UDP.
func udp(t testing.TB, src, dst string, dport uint16) []byte {
	t.Helper()
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()}
	u := &layers.UDP{SrcPort: 1434, DstPort: layers.UDPPort(dport)}
	u.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, u, gopacket.Payload([]byte("x"))); err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(buf.Bytes())
}

// ethernet wraps an IP datagram (or another EtherType's payload) in an
// Ethernet frame, with VLAN tags.
func ethernet(et uint16, payload []byte, vlan []uint16, padTo60 bool) []byte {
	b := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	for _, id := range vlan {
		b = binary.BigEndian.AppendUint16(b, 0x8100)
		b = binary.BigEndian.AppendUint16(b, id)
	}
	b = binary.BigEndian.AppendUint16(b, et)
	b = append(b, payload...)
	for padTo60 && len(b) < 60 {
		b = append(b, 0)
	}
	return b
}

// etherType returns the EtherType of an IP datagram.
func etherType(ip []byte) uint16 {
	if ip[0]>>4 == 6 {
		return 0x86dd
	}
	return 0x0800
}

// frame wraps a TCP segment's datagram for a link type.
func frame(t testing.TB, link layers.LinkType, o tcpOpts) []byte {
	t.Helper()
	ip := ipTCP(t, o)
	var b []byte
	switch link {
	case layers.LinkTypeEthernet:
		b = ethernet(etherType(ip), ip, o.vlan, o.ethernetPadTo60)
	case layers.LinkTypeLinuxSLL:
		b = append([]byte{0, 0, 0, 1, 0, 6, 0, 1, 2, 3, 4, 5, 0, 0}, byte(etherType(ip)>>8), byte(etherType(ip)))
		b = append(b, ip...)
	case 276: // SLL2
		b = []byte{byte(etherType(ip) >> 8), byte(etherType(ip)), 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 0, 1, 2, 3, 4, 5, 0, 0}
		b = append(b, ip...)
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		b = ip
	case layers.LinkTypeNull:
		fam := uint32(2)
		if ip[0]>>4 == 6 {
			fam = 30
		}
		b = binary.LittleEndian.AppendUint32(nil, fam)
		b = append(b, ip...)
	default:
		t.Fatalf("link type %v", link)
	}
	if o.truncateCaptured > 0 {
		b = b[:o.truncateCaptured]
	}
	return b
}

// writePcap writes packets as a pcap of one link type, in microseconds.
func writePcap(t testing.TB, link layers.LinkType, pkts []pkt) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: p.at, CaptureLength: len(p.data), Length: len(p.data)}, p.data); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// writePcapng writes packets as a pcapng, an interface per link type.
func writePcapng(t testing.TB, pkts []pkt) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w *pcapgo.NgWriter
	ifaces := map[layers.LinkType]int{}
	for _, p := range pkts {
		id, ok := ifaces[p.link]
		var err error
		switch {
		case w == nil:
			w, err = pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{Name: "eth0", LinkType: p.link, SnapLength: 65535, TimestampResolution: 9}, pcapgo.DefaultNgWriterOptions)
			id, ifaces[p.link] = 0, 0
		case !ok:
			id, err = w.AddInterface(pcapgo.NgInterface{Name: "if" + p.link.String(), LinkType: p.link, SnapLength: 65535, TimestampResolution: 9})
			ifaces[p.link] = id
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: p.at, CaptureLength: len(p.data), Length: len(p.data), InterfaceIndex: id}, p.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
