// Package capture writes what sensors recorded probe by probe: a
// telescope's capture window as a pcap file, a web server's access log.
// It is apart from package sensor so that reading a scenario (which
// declares sensors) does not pull in the packet library.
package capture

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"sort"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"wormwatch/ipv4"
	"wormwatch/sensor"
)

// retransmit are the offsets of the SYNs of one unanswered connect by
// Windows 2000: at 0, 3 and 9 seconds (shared/reference/codered-2001.md).
var retransmit = []float64{0, 3, 9}

// WritePcap writes the SYN packets of probes to a telescope as a pcap file
// (Ethernet, microsecond timestamps) that tcpdump and tshark read. A
// telescope never answers, so each probe is a connect that gives up: syns
// SYNs at 0, 3 and 9 seconds (Windows 2000) from one source port. Packets
// are 48-byte IPv4 SYNs to port 80 with MSS, NOP, NOP and SACK-permitted
// options, as Windows 2000 sent them.
func WritePcap(w io.Writer, probes []sensor.Probe, sp ipv4.Space, start time.Time, syns int) error {
	if syns < 1 {
		syns = 1
	}
	if syns > len(retransmit) {
		syns = len(retransmit)
	}
	type pkt struct {
		t     float64
		probe int
		k     int
	}
	pkts := make([]pkt, 0, len(probes)*syns)
	for i, p := range probes {
		for k := 0; k < syns; k++ {
			pkts = append(pkts, pkt{p.Seconds + retransmit[k], i, k})
		}
	}
	sort.SliceStable(pkts, func(i, j int) bool { return pkts[i].t < pkts[j].t })
	bw := bufio.NewWriter(w)
	pw := pcapgo.NewWriter(bw)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return err
	}
	eth := &layers.Ethernet{
		SrcMAC:       net.HardwareAddr{0x02, 0, 0, 0, 0, 1},
		DstMAC:       net.HardwareAddr{0x02, 0, 0, 0, 0, 2},
		EthernetType: layers.EthernetTypeIPv4,
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	for _, k := range pkts {
		p := probes[k.probe]
		h := sensor.Mix(uint64(k.probe)<<1 | 1)
		src, dst := sp.IPv4(p.Src).As4(), sp.IPv4(p.Dst).As4()
		ip := &layers.IPv4{
			Version: 4, TTL: 113, Id: uint16(h>>16) + uint16(k.k), Flags: layers.IPv4DontFragment,
			Protocol: layers.IPProtocolTCP, SrcIP: net.IP(src[:]), DstIP: net.IP(dst[:]),
		}
		tcp := &layers.TCP{
			SrcPort: layers.TCPPort(1025 + h%3975), DstPort: 80, Seq: uint32(h >> 32), SYN: true, Window: 16384,
			Options: []layers.TCPOption{
				{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}},
				{OptionType: layers.TCPOptionKindNop},
				{OptionType: layers.TCPOptionKindNop},
				{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2},
			},
		}
		if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
			return err
		}
		if err := gopacket.SerializeLayers(buf, opts, eth, ip, tcp); err != nil {
			return err
		}
		ts := start.Add(time.Duration(k.t * float64(time.Second)))
		data := buf.Bytes()
		if err := pw.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: len(data)}, data); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// WriteAccessLog writes the probes a web server received as Apache
// combined log lines, the way an Apache server that is not vulnerable logs
// them: status 404, 283 bytes, no referer, no user agent. requests gives
// each variant's request line.
func WriteAccessLog(w io.Writer, probes []sensor.Probe, sp ipv4.Space, start time.Time, requests []string) error {
	bw := bufio.NewWriter(w)
	for _, p := range probes {
		req := "GET / HTTP/1.0"
		if int(p.Variant) < len(requests) {
			req = requests[p.Variant]
		}
		ts := start.Add(time.Duration(p.Seconds * float64(time.Second))).UTC()
		if _, err := fmt.Fprintf(bw, "%s - - [%s] \"%s\" 404 283 \"-\" \"-\"\n", sp.Format(p.Src), ts.Format("02/Jan/2006:15:04:05 -0700"), req); err != nil {
			return err
		}
	}
	return bw.Flush()
}
