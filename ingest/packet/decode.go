package packet

import (
	"encoding/binary"
	"net/netip"
	"strconv"
)

// The headers a SYN is found under are decoded here by hand, not with
// gopacket's DecodingLayerParser: BenchmarkDecode (decode_test.go) runs
// both on the same packets. On the machine this was written on (2 cores of
// an Intel Xeon, Go 1.26) the hand decoder took about 6 ns a packet, the
// DecodingLayerParser (Ethernet, IPv4, IPv6, TCP layers preallocated)
// about 170 ns: it parses every field of every layer (TCP options
// included), and calls through interfaces. At the 2,000,000 packets a
// second per core the issue asks for, 500 ns is all a packet may cost,
// reading included, so the parser alone would take a third of it. The
// packets that carry a payload to an HTTP port are decoded again with
// gopacket's layers.TCP, which the reassembler needs.

// Link types (the LINKTYPE_ values of pcap and pcapng).
const (
	linkNull     = 0   // BSD loopback: a 4-byte address family in host order
	linkEthernet = 1   // Ethernet II
	linkRawOld   = 12  // raw IP (DLT_RAW as some systems number it)
	linkRawOld2  = 14  // raw IP (OpenBSD's DLT_RAW)
	linkRaw      = 101 // raw IP
	linkLoop     = 108 // OpenBSD loopback: the family in network order
	linkSLL      = 113 // Linux cooked capture
	linkIPv4     = 228 // raw IPv4
	linkIPv6     = 229 // raw IPv6
	linkSLL2     = 276 // Linux cooked capture v2
)

// The outcome of decoding a packet.
const (
	other     = iota // not a TCP segment over IP (ARP, UDP, ICMP, a later fragment): passed over
	undecoded        // headers cut short, malformed, or a link type not read
	tcpSeg           // a TCP segment
)

// segment is what decode finds in a TCP packet.
type segment struct {
	src, dst []byte // the IP addresses, 4 or 16 bytes
	tcp      []byte // the TCP header and payload, within the IP datagram
	frag     bool   // the first fragment of a fragmented datagram: its payload is not whole
}

// linkPayload returns the network layer of a frame of the link type, and
// its EtherType (0x0800 IPv4, 0x86DD IPv6; 0 for raw IP, told by the
// version).
func linkPayload(link uint32, b []byte) ([]byte, uint16, int) {
	switch link {
	case linkEthernet:
		if len(b) < 14 {
			return nil, 0, undecoded
		}
		et := binary.BigEndian.Uint16(b[12:14])
		b = b[14:]
		for et == 0x8100 || et == 0x88a8 || et == 0x9100 { // VLAN tags
			if len(b) < 4 {
				return nil, 0, undecoded
			}
			et = binary.BigEndian.Uint16(b[2:4])
			b = b[4:]
		}
		return b, et, tcpSeg
	case linkSLL:
		if len(b) < 16 {
			return nil, 0, undecoded
		}
		return b[16:], binary.BigEndian.Uint16(b[14:16]), tcpSeg
	case linkSLL2:
		if len(b) < 20 {
			return nil, 0, undecoded
		}
		return b[20:], binary.BigEndian.Uint16(b[0:2]), tcpSeg
	case linkRaw, linkRawOld, linkRawOld2, linkIPv4, linkIPv6:
		return b, 0, tcpSeg
	case linkNull, linkLoop:
		if len(b) < 4 {
			return nil, 0, undecoded
		}
		return b[4:], 0, tcpSeg // the IP version tells the family, whatever the byte order
	}
	return nil, 0, undecoded
}

// decode finds the TCP segment of a frame of the link type.
func decode(link uint32, b []byte, s *segment) int {
	ip, et, st := linkPayload(link, b)
	if st != tcpSeg {
		return st
	}
	switch et {
	case 0:
		if len(ip) == 0 {
			return undecoded
		}
		switch ip[0] >> 4 {
		case 4:
			return ipv4(ip, s)
		case 6:
			return ipv6(ip, s)
		}
		return undecoded
	case 0x0800:
		return ipv4(ip, s)
	case 0x86dd:
		return ipv6(ip, s)
	}
	return other
}

// ipv4 reads an IPv4 header.
func ipv4(b []byte, s *segment) int {
	if len(b) < 20 || b[0]>>4 != 4 {
		return undecoded
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:4]))
	if ihl < 20 || len(b) < ihl {
		return undecoded
	}
	if b[9] != 6 {
		return other
	}
	flags := binary.BigEndian.Uint16(b[6:8])
	if flags&0x1fff != 0 {
		return other // a later fragment: no TCP header
	}
	end := len(b)
	switch {
	case total == 0: // large segments offloaded to the card are captured with length 0
	case total < ihl:
		return undecoded
	case total < end:
		end = total // Ethernet padding after the datagram
	}
	s.src, s.dst, s.tcp, s.frag = b[12:16], b[16:20], b[ihl:end], flags&0x2000 != 0
	return tcpSeg
}

// ipv6 reads an IPv6 header and its extension headers.
func ipv6(b []byte, s *segment) int {
	if len(b) < 40 || b[0]>>4 != 6 {
		return undecoded
	}
	plen := int(binary.BigEndian.Uint16(b[4:6]))
	next := b[6]
	s.src, s.dst, s.frag = b[8:24], b[24:40], false
	p := b[40:]
	if plen > 0 && plen < len(p) {
		p = p[:plen] // padding after the datagram
	}
	for {
		switch next {
		case 6:
			s.tcp = p
			return tcpSeg
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(p) < 8 {
				return undecoded
			}
			n := (int(p[1]) + 1) * 8
			if len(p) < n {
				return undecoded
			}
			next, p = p[0], p[n:]
		case 44: // fragment
			if len(p) < 8 {
				return undecoded
			}
			if binary.BigEndian.Uint16(p[2:4])>>3 != 0 {
				return other // a later fragment
			}
			s.frag = s.frag || p[3]&1 != 0
			next, p = p[0], p[8:]
		case 51: // authentication header
			if len(p) < 8 {
				return undecoded
			}
			n := (int(p[1]) + 2) * 4
			if len(p) < n {
				return undecoded
			}
			next, p = p[0], p[n:]
		default:
			return other
		}
	}
}

// appendAddr appends an IP address as text: dotted quad, or IPv6 in the
// form of RFC 5952 (as Zeek and web servers log it).
func appendAddr(dst, ip []byte) []byte {
	if len(ip) == 4 {
		for i, c := range ip {
			if i > 0 {
				dst = append(dst, '.')
			}
			dst = strconv.AppendUint(dst, uint64(c), 10)
		}
		return dst
	}
	return netip.AddrFrom16([16]byte(ip)).AppendTo(dst)
}
