package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"wormwatch/ipv4"
	"wormwatch/sensor"
	"wormwatch/worm"
)

var testStart = time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)

// someProbes returns n probes in space sp, some of them close enough for
// their retransmissions to interleave, to addresses of 44.0.0.0/8.
func someProbes(sp ipv4.Space, n int) []sensor.Probe {
	r, err := sp.ParsePrefix("44.0.0.0/8")
	if err != nil {
		panic(err)
	}
	out := make([]sensor.Probe, n)
	for i := range out {
		out[i] = sensor.Probe{
			Seconds: 0.4*float64(i) + 1e-4*float64(i%7), // 0.4 s apart: SYNs at +3 and +9 s interleave
			Src:     uint32((uint64(i)*2654435761 + 12345) % sp.Size()),
			Dst:     uint32(r.Lo + uint64(i*7919)%r.Len()),
			Variant: uint8(i % 2),
		}
	}
	return out
}

// TestWritePcap reads WritePcap's file back with pcapgo and checks every
// packet: an Ethernet frame with a 48-byte IPv4 TCP SYN to port 80 (valid
// IPv4 and TCP checksums, computed here by RFC 1071 rather than by the
// library that wrote them), from and to the probe's addresses, syns per
// probe at 0, 3 and 9 s from one source port and sequence number,
// timestamps in order.
func TestWritePcap(t *testing.T) {
	t.Parallel()
	cases := []struct {
		bits, n, syns, want int // want: SYNs written per probe
	}{
		{32, 40, 3, 3},
		{20, 40, 3, 3},
		{24, 10, 1, 1},
		{32, 5, 0, 1},  // at least one
		{32, 5, 7, 3},  // at most the three of Windows 2000
		{32, 0, 3, 3},  // no probes: a valid empty capture
		{16, 12, 2, 2}, // a space of 2^16: an address is a whole /16
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("bits=%d,n=%d,syns=%d", c.bits, c.n, c.syns), func(t *testing.T) {
			t.Parallel()
			sp := ipv4.Space{Bits: c.bits}
			probes := someProbes(sp, c.n)
			var buf bytes.Buffer
			if err := WritePcap(&buf, probes, sp, testStart, c.syns); err != nil {
				t.Fatal(err)
			}
			var again bytes.Buffer
			if err := WritePcap(&again, probes, sp, testStart, c.syns); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), again.Bytes()) {
				t.Error("two writes of the same probes differ")
			}
			pkts := readPcap(t, buf.Bytes())
			if len(pkts) != c.want*c.n {
				t.Fatalf("%d packets, want %d x %d probes", len(pkts), c.want, c.n)
			}
			// Expected packets, keyed by (source, destination, time).
			type key struct {
				src, dst netip.Addr
				us       int64
			}
			expect := map[key]int{}
			for _, p := range probes {
				for k := 0; k < c.want; k++ {
					us := testStart.Add(time.Duration((p.Seconds + []float64{0, 3, 9}[k]) * float64(time.Second))).UnixMicro()
					expect[key{sp.IPv4(p.Src), sp.IPv4(p.Dst), us}]++
				}
			}
			type conn struct {
				src, dst netip.Addr
				port     uint16
				seq      uint32
			}
			times := map[conn][]time.Time{}
			for i, pk := range pkts {
				if i > 0 && pk.ts.Before(pkts[i-1].ts) {
					t.Fatalf("packet %d at %v before packet %d at %v", i, pk.ts, i-1, pkts[i-1].ts)
				}
				k := key{pk.src, pk.dst, pk.ts.UnixMicro()}
				if expect[k] == 0 {
					t.Fatalf("packet %d: %v -> %v at %v: no probe sends it", i, pk.src, pk.dst, pk.ts)
				}
				expect[k]--
				id := conn{pk.src, pk.dst, pk.srcPort, pk.seq}
				times[id] = append(times[id], pk.ts)
			}
			if len(times) != c.n {
				t.Errorf("%d connections (source, destination, port, sequence), want one per probe: %d", len(times), c.n)
			}
			for cn, ts := range times {
				if len(ts) != c.want {
					t.Errorf("connection %v: %d SYNs, want %d", cn, len(ts), c.want)
					continue
				}
				for k := 1; k < len(ts); k++ {
					if d := ts[k].Sub(ts[0]).Seconds(); math.Abs(d-[]float64{0, 3, 9}[k]) > 2e-6 {
						t.Errorf("connection %v: SYN %d at +%.6f s, want +%g s", cn, k, d, []float64{0, 3, 9}[k])
					}
				}
			}
		})
	}
}

// packet is what the tests read from one captured frame.
type packet struct {
	ts       time.Time
	src, dst netip.Addr
	srcPort  uint16
	seq      uint32
}

// readPcap reads a pcap with pcapgo, checks each frame at the byte level
// and returns its fields.
func readPcap(t *testing.T, data []byte) []packet {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("pcapgo cannot read the file: %v", err)
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		t.Fatalf("link type %v, want Ethernet", r.LinkType())
	}
	if r.Resolution() != gopacket.TimestampResolutionMicrosecond {
		t.Errorf("timestamp resolution %v, want microseconds", r.Resolution())
	}
	var out []packet
	for i := 0; ; i++ {
		frame, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if ci.CaptureLength != len(frame) || ci.Length != len(frame) {
			t.Fatalf("packet %d: capture length %d, length %d, data %d bytes", i, ci.CaptureLength, ci.Length, len(frame))
		}
		p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
		if el := p.ErrorLayer(); el != nil {
			t.Fatalf("packet %d does not decode: %v", i, el.Error())
		}
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if ip == nil || tcp == nil {
			t.Fatalf("packet %d: layers %v, want Ethernet, IPv4, TCP", i, p.Layers())
		}
		raw := frame[14:]
		hdr := raw[:int(raw[0]&0x0f)*4]
		switch {
		case len(frame) != 14+48:
			t.Fatalf("packet %d: %d bytes, want 62 (Ethernet + 48-byte IPv4 SYN)", i, len(frame))
		case ip.Version != 4 || ip.Protocol != layers.IPProtocolTCP || int(ip.Length) != 48:
			t.Fatalf("packet %d: IP version %d, protocol %v, length %d", i, ip.Version, ip.Protocol, ip.Length)
		case checksum(hdr) != 0xffff:
			t.Fatalf("packet %d: IPv4 header checksum %#04x does not verify", i, ip.Checksum)
		case tcpChecksum(hdr, raw[len(hdr):]) != 0xffff:
			t.Fatalf("packet %d: TCP checksum %#04x does not verify", i, tcp.Checksum)
		case !tcp.SYN || tcp.ACK || tcp.RST || tcp.FIN || tcp.PSH:
			t.Fatalf("packet %d: flags SYN %v ACK %v RST %v FIN %v PSH %v, want SYN only", i, tcp.SYN, tcp.ACK, tcp.RST, tcp.FIN, tcp.PSH)
		case tcp.DstPort != 80:
			t.Fatalf("packet %d: destination port %d, want 80", i, tcp.DstPort)
		case tcp.SrcPort < 1025 || tcp.SrcPort > 5000:
			t.Fatalf("packet %d: source port %d, want an ephemeral port of Windows 2000 (1025-5000)", i, tcp.SrcPort)
		case len(tcp.Payload) != 0:
			t.Fatalf("packet %d: %d bytes of payload, want none", i, len(tcp.Payload))
		}
		opts := make([]layers.TCPOptionKind, len(tcp.Options))
		for k, o := range tcp.Options {
			opts[k] = o.OptionType
		}
		wantOpts := []layers.TCPOptionKind{layers.TCPOptionKindMSS, layers.TCPOptionKindNop, layers.TCPOptionKindNop, layers.TCPOptionKindSACKPermitted}
		if fmt.Sprint(opts) != fmt.Sprint(wantOpts) || binary.BigEndian.Uint16(tcp.Options[0].OptionData) != 1460 {
			t.Fatalf("packet %d: TCP options %v, want MSS 1460, NOP, NOP, SACK permitted", i, tcp.Options)
		}
		src, _ := netip.AddrFromSlice(ip.SrcIP)
		dst, _ := netip.AddrFromSlice(ip.DstIP)
		out = append(out, packet{ts: ci.Timestamp, src: src, dst: dst, srcPort: uint16(tcp.SrcPort), seq: tcp.Seq})
	}
}

// checksum returns the ones' complement sum of b (RFC 1071): 0xffff for
// data that holds its own valid checksum. Written here, not taken from
// gopacket, so that the check does not share code with the writer.
func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// tcpChecksum sums the TCP segment with its IPv4 pseudo-header.
func tcpChecksum(ipHdr, seg []byte) uint16 {
	pseudo := make([]byte, 0, 12+len(seg))
	pseudo = append(pseudo, ipHdr[12:20]...) // source and destination
	pseudo = append(pseudo, 0, byte(layers.IPProtocolTCP), byte(len(seg)>>8), byte(len(seg)))
	return checksum(append(pseudo, seg...))
}

// TestPcapTools checks that tcpdump and tshark read the capture and see
// the same SYNs: one per line, to port 80, with valid checksums. The tools
// are required (.ci/run installs them).
func TestPcapTools(t *testing.T) {
	t.Parallel()
	sp := ipv4.Space{Bits: 32}
	probes := someProbes(sp, 25)
	path := filepath.Join(t.TempDir(), "capture.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := WritePcap(f, probes, sp, testStart, 3); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	want := 3 * len(probes)
	tool := func(t *testing.T, name string, args ...string) []string {
		t.Helper()
		bin, err := exec.LookPath(name)
		if err != nil {
			// Debian put tcpdump in /usr/sbin, outside a user's PATH.
			if _, serr := os.Stat("/usr/sbin/" + name); serr != nil {
				t.Fatalf("%s is not installed; the pcap test needs it (apt-get install -y %s; .ci/run installs it)", name, name)
			}
			bin = "/usr/sbin/" + name
		}
		cmd := exec.Command(bin, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
		}
		return strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	}
	t.Run("tcpdump", func(t *testing.T) {
		t.Parallel()
		lines := tool(t, "tcpdump", "-tt", "-nr", path)
		if len(lines) != want {
			t.Fatalf("tcpdump -nr shows %d packets, want %d", len(lines), want)
		}
		for i, l := range lines {
			if !strings.Contains(l, ".80: Flags [S],") || !strings.Contains(l, "options [mss 1460,nop,nop,sackOK], length 0") {
				t.Fatalf("tcpdump line %d is not a SYN to port 80 with Windows 2000 options: %s", i+1, l)
			}
		}
		// With -vv tcpdump verifies the TCP checksum of each packet.
		v := tool(t, "tcpdump", "-vv", "-nr", path)
		if n := strings.Count(strings.Join(v, "\n"), "(correct)"); n != want {
			t.Errorf("tcpdump -vv: %d checksums correct, want %d", n, want)
		}
		if strings.Contains(strings.Join(v, "\n"), "incorrect") {
			t.Error("tcpdump -vv reports an incorrect checksum")
		}
	})
	t.Run("tshark", func(t *testing.T) {
		t.Parallel()
		lines := tool(t, "tshark", "-r", path, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
			"-T", "fields", "-E", "separator=,", "-e", "frame.time_epoch", "-e", "ip.src", "-e", "ip.dst", "-e", "tcp.dstport",
			"-e", "tcp.flags.syn", "-e", "tcp.flags.ack", "-e", "ip.checksum.status", "-e", "tcp.checksum.status")
		if len(lines) != want {
			t.Fatalf("tshark -r shows %d packets, want %d", len(lines), want)
		}
		type pk struct {
			us       int64
			src, dst string
		}
		var exp []pk
		for _, p := range probes {
			for _, d := range []float64{0, 3, 9} {
				exp = append(exp, pk{testStart.Add(time.Duration((p.Seconds + d) * float64(time.Second))).UnixMicro(), sp.Format(p.Src), sp.Format(p.Dst)})
			}
		}
		sort.SliceStable(exp, func(i, j int) bool { return exp[i].us < exp[j].us })
		for i, l := range lines {
			f := strings.Split(l, ",")
			if len(f) != 8 {
				t.Fatalf("tshark line %d: %q", i+1, l)
			}
			sec, err := strconv.ParseFloat(f[0], 64)
			if err != nil {
				t.Fatalf("tshark line %d: time %q: %v", i+1, f[0], err)
			}
			// Status 1: "Good" (0 is bad, 2 unverified).
			if math.Abs(sec*1e6-float64(exp[i].us)) > 1 || f[1] != exp[i].src || f[2] != exp[i].dst || f[3] != "80" || f[4] != "1" || f[5] != "0" || f[6] != "1" || f[7] != "1" {
				t.Fatalf("tshark line %d: %q, want time %d us, %s -> %s port 80, SYN without ACK, checksums good (1,1)", i+1, l, exp[i].us, exp[i].src, exp[i].dst)
			}
		}
	})
}

// combined is the Apache combined log format: host, ident, user, [time],
// "request", status, bytes, "referer", "user agent".
var combined = regexp.MustCompile(`^(\d{1,3}(?:\.\d{1,3}){3}) (\S+) (\S+) \[(\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "([^"]*)" (\d{3}) (\d+|-) "([^"]*)" "([^"]*)"$`)

// TestWriteAccessLog checks the web server's log: Apache combined lines
// with the source address, the probe's time to the second, the variant's
// request line, 404 283 and no referer or user agent. Code Red's request
// line is 388 characters, its target 375 ("GET /default.ida?" + 224 N or
// X + the encoded tail).
func TestWriteAccessLog(t *testing.T) {
	t.Parallel()
	var requests []string
	for _, kind := range []worm.Request{worm.RequestCodeRed, worm.RequestCodeRed2, worm.RequestGet} {
		v := &worm.Variant{}
		v.P.Wire.Request = kind
		requests = append(requests, v.RequestLine())
	}
	for i, pad := range []string{"N", "X"} {
		r := requests[i]
		target := strings.TrimSuffix(strings.TrimPrefix(r, "GET "), " HTTP/1.0")
		switch {
		case len(r) != 388:
			t.Errorf("request %d: %d characters, want 388", i, len(r))
		case len(target) != 375:
			t.Errorf("request %d: target of %d characters, want 375", i, len(target))
		case !strings.HasPrefix(target, "/default.ida?"+strings.Repeat(pad, 224)+"%u9090"):
			t.Errorf("request %d: target %.60q..., want /default.ida? then 224 %s then %%u9090", i, target, pad)
		case !strings.HasSuffix(target, "%u00=a"):
			t.Errorf("request %d: target ends %q, want %%u00=a", i, target[len(target)-10:])
		}
	}
	cases := []struct {
		name string
		bits int
	}{{"ipv4", 32}, {"scaled", 20}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			sp := ipv4.Space{Bits: c.bits}
			probes := someProbes(sp, 30)
			for i := range probes {
				probes[i].Variant = uint8(i % 4) // 3: no request line given
				probes[i].Seconds += 86400 * float64(i%3)
			}
			var buf bytes.Buffer
			if err := WriteAccessLog(&buf, probes, sp, testStart, requests); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(&buf)
			sc.Buffer(nil, 1<<20)
			i := 0
			for ; sc.Scan(); i++ {
				line := sc.Text()
				m := combined.FindStringSubmatch(line)
				if m == nil {
					t.Fatalf("line %d is not in Apache combined format: %q", i+1, line)
				}
				p := probes[i]
				ts, err := time.Parse("02/Jan/2006:15:04:05 -0700", m[4])
				if err != nil {
					t.Fatalf("line %d: time %q: %v", i+1, m[4], err)
				}
				wantTS := testStart.Add(time.Duration(math.Floor(p.Seconds)) * time.Second)
				wantReq := "GET / HTTP/1.0"
				if int(p.Variant) < len(requests) {
					wantReq = requests[p.Variant]
				}
				switch {
				case m[1] != sp.Format(p.Src):
					t.Fatalf("line %d: host %s, want %s", i+1, m[1], sp.Format(p.Src))
				case m[2] != "-" || m[3] != "-":
					t.Fatalf("line %d: ident %q user %q, want - -", i+1, m[2], m[3])
				case !ts.Equal(wantTS) || !strings.HasSuffix(m[4], "+0000"):
					t.Fatalf("line %d: time %s, want %s in UTC", i+1, m[4], wantTS.Format(time.RFC3339))
				case m[5] != wantReq:
					t.Fatalf("line %d: request %.40q..., want %.40q...", i+1, m[5], wantReq)
				case m[6] != "404" || m[7] != "283" || m[8] != "-" || m[9] != "-":
					t.Fatalf("line %d: %s %s %q %q, want 404 283 \"-\" \"-\"", i+1, m[6], m[7], m[8], m[9])
				}
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
			if i != len(probes) {
				t.Fatalf("%d lines, want %d", i, len(probes))
			}
		})
	}
}

// failWriter fails after n bytes.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

// TestWritersReportErrors checks that a failing writer's error comes back.
func TestWritersReportErrors(t *testing.T) {
	t.Parallel()
	sp := ipv4.Space{Bits: 32}
	probes := someProbes(sp, 500)
	for _, n := range []int{0, 10, 5000} {
		if err := WritePcap(&failWriter{n}, probes, sp, testStart, 3); err == nil {
			t.Errorf("WritePcap to a writer failing after %d bytes: no error", n)
		}
		if err := WriteAccessLog(&failWriter{n}, probes, sp, testStart, []string{"GET / HTTP/1.0"}); err == nil {
			t.Errorf("WriteAccessLog to a writer failing after %d bytes: no error", n)
		}
	}
}
