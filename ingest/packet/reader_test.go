package packet

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"wormwatch/detect"
)

// rec is a record read back, its bytes copied.
type rec struct {
	attempt            bool
	at                 time.Time
	src                string
	port               uint16
	method, target, ua string
	proto, ref         string
	pos                int64
}

// readAll reads a capture and returns its records and the input's entry.
func readAll(t *testing.T, data []byte, opt Options) ([]rec, detect.Input, error) {
	t.Helper()
	r, err := NewReader("cap", bytes.NewReader(data), opt)
	if err != nil {
		return nil, detect.Input{}, err
	}
	defer r.Close()
	var out []rec
	for {
		x, err := r.Next()
		if err == io.EOF {
			return out, r.Input(), nil
		}
		if err != nil {
			return out, r.Input(), err
		}
		if p := r.Position(); p.File != "cap" || p.Packet != x.Pos || p.Record != int64(len(out)+1) {
			t.Fatalf("position %+v after record %d at packet %d", p, len(out)+1, x.Pos)
		}
		out = append(out, rec{x.Attempt, x.Time, string(x.Source), x.DstPort, string(x.Method), string(x.Target), string(x.UserAgent),
			string(x.Protocol), string(x.Referer), x.Pos})
	}
}

const crTail = "%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u9090%u8190%u00c3%u0003%u8b00%u531b%u53ff%u0078%u0000%u00=a"

// codeRedRequest is Code Red II's request as it went on the wire: line,
// headers and a body of Content-Length bytes.
func codeRedRequest() (line, full string) {
	line = "GET /default.ida?" + strings.Repeat("X", 224) + crTail + " HTTP/1.0"
	body := strings.Repeat("\x90", 300)
	full = line + "\r\nContent-type: text/xml\r\nContent-length: 300 \r\n\r\n" + body
	return line, full
}

// TestAttempts checks what counts as an attempt: a SYN without ACK, over
// IPv4 and IPv6, tagged or not; not a SYN-ACK, ACK, RST, UDP, ARP or a
// later fragment; a packet cut short is counted as undecoded.
func TestAttempts(t *testing.T) {
	t.Parallel()
	E := layers.LinkTypeEthernet
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Millisecond) }
	syn := func(src, dst string, port uint16) tcpOpts {
		return tcpOpts{src: src, dst: dst, sport: 4000, dport: port, syn: true}
	}
	pkts := []pkt{
		{at(0), frame(t, E, syn("10.0.0.1", "192.0.2.1", 80)), E},
		{at(1), frame(t, E, tcpOpts{src: "192.0.2.1", dst: "10.0.0.1", sport: 80, dport: 4000, syn: true, ack: true}), E}, // SYN-ACK
		{at(2), frame(t, E, tcpOpts{src: "10.0.0.1", dst: "192.0.2.1", sport: 4000, dport: 80, ack: true}), E},
		{at(3), frame(t, E, tcpOpts{src: "10.0.0.2", dst: "192.0.2.1", sport: 4000, dport: 80, rst: true}), E},
		{at(4), ethernet(0x0800, udp(t, "10.0.0.3", "192.0.2.2", 1434), nil, false), E},
		{at(5), ethernet(0x0806, make([]byte, 28), nil, true), E}, // ARP
		{at(6), frame(t, E, tcpOpts{src: "10.0.0.4", dst: "192.0.2.3", sport: 1, dport: 445, syn: true, vlan: []uint16{10, 20}}), E},
		{at(7), frame(t, E, syn("2001:db8::1", "2001:db8::2", 80)), E},
		{at(8), frame(t, E, tcpOpts{src: "2001:db8::1", dst: "2001:db8::3", sport: 9, dport: 80, syn: true, ipv6ExtHopByHop: true}), E},
		{at(9), frame(t, E, tcpOpts{src: "10.0.0.5", dst: "192.0.2.4", sport: 9, dport: 135, syn: true, fragFirst: true}), E},
		{at(10), frame(t, E, tcpOpts{src: "10.0.0.6", dst: "192.0.2.4", sport: 9, dport: 135, syn: true, fragLater: true}), E},
		{at(11), frame(t, E, tcpOpts{src: "10.0.0.7", dst: "192.0.2.4", sport: 9, dport: 80, syn: true, truncateCaptured: 30}), E},
		{at(12), frame(t, E, tcpOpts{src: "10.0.0.1", dst: "192.0.2.9", sport: 4001, dport: 80, syn: true, ethernetPadTo60: true}), E},
	}
	for _, data := range [][]byte{writePcap(t, E, pkts), writePcapng(t, pkts)} {
		recs, in, err := readAll(t, data, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range recs {
			if !r.attempt {
				t.Errorf("%+v is not an attempt", r)
			}
			got = append(got, r.src+">"+itoa(r.port)+"@"+itoa(int(r.pos)))
		}
		want := []string{"10.0.0.1>80@1", "10.0.0.4>445@7", "2001:db8::1>80@8", "2001:db8::1>80@9", "10.0.0.5>135@10", "10.0.0.1>80@13"}
		if !slices.Equal(got, want) {
			t.Errorf("%s: attempts %v, want %v", in.Format, got, want)
		}
		if p := in.Packets; p == nil || p.Packets != 13 || p.SYNs != 6 || p.Undecoded != 1 || p.Requests != 0 {
			t.Errorf("%s: counts %+v", in.Format, p)
		}
		if !recs[0].at.Equal(at(0)) || !recs[5].at.Equal(at(12)) {
			t.Errorf("%s: times %v, %v", in.Format, recs[0].at, recs[5].at)
		}
	}
}

func itoa[T int | uint16](n T) string { return strconv.Itoa(int(n)) }

// TestLinkTypes reads the same SYN under every link type read.
func TestLinkTypes(t *testing.T) {
	t.Parallel()
	for _, link := range []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, 276, layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, layers.LinkTypeNull} {
		src := "10.1.2.3"
		if link == layers.LinkTypeIPv6 {
			src = "2001:db8::9"
		}
		dst := "192.0.2.1"
		if link == layers.LinkTypeIPv6 {
			dst = "2001:db8::1"
		}
		data := writePcap(t, link, []pkt{{t0, frame(t, link, tcpOpts{src: src, dst: dst, sport: 1, dport: 80, syn: true}), link}})
		recs, in, err := readAll(t, data, Options{})
		if err != nil || len(recs) != 1 || recs[0].src != src || recs[0].port != 80 || in.Packets.Undecoded != 0 {
			t.Errorf("link type %d: %v, records %+v, input %+v", link, err, recs, in.Packets)
		}
	}
	// A link type not read: every packet counted as undecoded.
	data := writePcap(t, layers.LinkTypeIEEE80211Radio, []pkt{{t0, make([]byte, 60), 0}})
	if recs, in, err := readAll(t, data, Options{}); err != nil || len(recs) != 0 || in.Packets.Undecoded != 1 {
		t.Errorf("radiotap: %v, %v, %+v", err, recs, in.Packets)
	}
}

// TestRequests reassembles HTTP requests: Code Red II split over three
// segments out of order with its body, Nimda's requests pipelined in one
// segment, a stream seen from its middle, TLS on port 80 and a request to
// a port that is not an HTTP port.
func TestRequests(t *testing.T) {
	t.Parallel()
	E := layers.LinkTypeEthernet
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	crLine, cr := codeRedRequest()
	seg := func(src string, sport, dport uint16, seq uint32, payload string) tcpOpts {
		return tcpOpts{src: src, dst: "192.0.2.80", sport: sport, dport: dport, ack: true, psh: true, seq: seq, payload: []byte(payload)}
	}
	nimda := "GET /scripts/root.exe?/c+dir HTTP/1.0\r\nHost: www\r\nConnnection: close\r\n\r\n" +
		"GET /MSADC/root.exe?/c+dir HTTP/1.0\r\nHost: www\r\nUser-Agent: Nimda\r\nReferer: http://x/\r\n\r\n"
	a, b := 100, 350
	pkts := []pkt{
		{at(0), frame(t, E, tcpOpts{src: "10.0.0.1", dst: "192.0.2.80", sport: 3000, dport: 80, syn: true, seq: 999}), E},
		{at(10), frame(t, E, seg("10.0.0.1", 3000, 80, 1000, cr[:a])), E},
		{at(30), frame(t, E, seg("10.0.0.1", 3000, 80, 1000+uint32(b), cr[b:])), E}, // ahead of its turn
		{at(20), frame(t, E, seg("10.0.0.1", 3000, 80, 1000+uint32(a), cr[a:b])), E},
		{at(40), frame(t, E, seg("10.0.0.2", 3001, 8080, 5000, nimda)), E},
		{at(50), frame(t, E, seg("10.0.0.3", 3002, 80, 7000, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")), E}, // TLS
		{at(60), frame(t, E, seg("10.0.0.4", 3003, 25, 8000, "GET /default.ida?NNNN HTTP/1.0\r\n\r\n")), E},       // SMTP port
		{at(70), frame(t, E, seg("2001:db8::5", 3004, 80, 9000, "\r\nSEARCH / HTTP/1.1\r\nHost: x")), E},          // cut short, no SYN seen
	}
	recs, in, err := readAll(t, writePcap(t, E, pkts), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if in.Packets.Requests != 4 || in.Packets.SYNs != 1 {
		t.Errorf("counts %+v", in.Packets)
	}
	var reqs []rec
	for _, r := range recs {
		if !r.attempt {
			reqs = append(reqs, r)
		}
	}
	if len(reqs) != 4 {
		t.Fatalf("requests %+v", reqs)
	}
	if r := reqs[0]; r.method != "GET" || "GET "+r.target+" HTTP/1.0" != crLine || r.proto != "HTTP/1.0" || r.src != "10.0.0.1" || r.port != 80 ||
		!r.at.Equal(at(10)) || r.pos != 4 {
		t.Errorf("Code Red II: %+v", r)
	}
	if r := reqs[1]; r.target != "/scripts/root.exe?/c+dir" || r.ua != "" || r.port != 8080 || !r.at.Equal(at(40)) {
		t.Errorf("Nimda 1: %+v", r)
	}
	if r := reqs[2]; r.target != "/MSADC/root.exe?/c+dir" || r.ua != "Nimda" || r.ref != "http://x/" || !r.at.Equal(at(40)) || r.pos != 5 {
		t.Errorf("Nimda 2: %+v", r)
	}
	if r := reqs[3]; r.method != "SEARCH" || r.src != "2001:db8::5" || r.pos != 8 { // read at the end of the capture
		t.Errorf("cut short: %+v", r)
	}
	// The same capture through detect: the signatures match.
	a2, err := detect.NewAnalyzer(detect.Options{Openers: []detect.Opener{Opener(Options{})}})
	if err != nil {
		t.Fatal(err)
	}
	defer a2.Close()
	if err := a2.Read(context.Background(), "cap.pcap", bytes.NewReader(writePcap(t, E, pkts))); err != nil {
		t.Fatal(err)
	}
	rep, err := a2.Report(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	if rep.Family("codered2").Lines != 1 || rep.Family("nimda").Lines != 2 || rep.Attempts.Count != 1 || rep.Packets != 8 {
		t.Errorf("report: codered2 %d, nimda %d, attempts %+v, packets %d", rep.Family("codered2").Lines, rep.Family("nimda").Lines, rep.Attempts, rep.Packets)
	}
}

// TestDetectReadsCaptures reads captures as detect's inputs: gzip'ed, in a
// folder beside a log, on standard input; and a capture cut short.
func TestDetectReadsCaptures(t *testing.T) {
	t.Parallel()
	E := layers.LinkTypeEthernet
	var pkts []pkt
	for i := range 50 {
		src := "10.0.0." + itoa(i%7+1)
		pkts = append(pkts, pkt{t0.Add(time.Duration(i) * time.Minute), frame(t, E, tcpOpts{src: src, dst: "192.0.2.1", sport: uint16(1000 + i), dport: []uint16{80, 445}[i%2], syn: true}), E})
	}
	capture := writePcap(t, E, pkts)
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(capture)
	zw.Close()
	if err := os.WriteFile(filepath.Join(dir, "a.pcap.gz"), gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b.pcapng"), writePcapng(t, pkts), 0o644); err != nil {
		t.Fatal(err)
	}
	opt := detect.Options{Openers: []detect.Opener{Opener(Options{})}, SeriesInterval: 10 * time.Minute, SeriesOf: detect.SeriesOf{Kind: detect.SeriesAuto}}
	r, err := detect.Analyze(context.Background(), []string{dir}, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if len(r.Inputs) != 2 || !r.Inputs[0].Gzip || r.Inputs[0].Format != "pcap" || r.Inputs[1].Format != "pcapng" ||
		r.Attempts.Count != 100 || r.Attempts.Sources != 7 || len(r.Attempts.Ports) != 2 || r.Packets != 100 {
		t.Errorf("inputs %+v, attempts %+v", r.Inputs, r.Attempts)
	}
	if !r.Series.Attempts || r.Series.Len() != 5 {
		t.Errorf("series: attempts %v, %d rows", r.Series.Attempts, r.Series.Len())
	}
	var text bytes.Buffer
	if err := r.WriteText(&text, 20); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Read 2 inputs (100 packets: 100 TCP SYNs, 0 HTTP requests)", "No request matched a worm signature.",
		"Connection attempts (TCP SYNs, unanswered connections in Zeek conn.logs): 100 from 7 sources to 2 ports", "   80/tcp        50"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	// Standard input.
	opt.Stdin = bytes.NewReader(capture)
	r2, err := detect.Analyze(context.Background(), []string{"-"}, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if r2.Inputs[0].Name != "stdin" || r2.Attempts.Count != 50 {
		t.Errorf("stdin: %+v, %+v", r2.Inputs, r2.Attempts)
	}
	// Cut short in the middle of packet 50: an error naming it.
	opt.Stdin = bytes.NewReader(capture[:len(capture)-10])
	_, err = detect.Analyze(context.Background(), []string{"-"}, opt)
	var ie *detect.InputError
	if !errors.As(err, &ie) || ie.Packet != 50 || err.Error() != "stdin: packet 50: the capture is cut short in the middle of the packet" {
		t.Errorf("cut short: %v", err)
	}
	// A header cut short.
	if _, err := NewReader("h", bytes.NewReader(capture[:20]), Options{}); err == nil || !strings.Contains(err.Error(), "h: pcap header") {
		t.Errorf("header cut short: %v", err)
	}
}

func TestIsCapture(t *testing.T) {
	t.Parallel()
	E := layers.LinkTypeEthernet
	if !IsCapture(writePcap(t, E, nil)) || !IsCapture(writePcapng(t, []pkt{{t0, make([]byte, 14), E}})) {
		t.Error("a capture not recognised")
	}
	for _, s := range []string{"", "\xd4\xc3", "1.2.3.4 - - [", "\n\r\r\nGET / HTTP/1.0\r\n", "#separator \\x09"} {
		if IsCapture([]byte(s)) {
			t.Errorf("%q taken for a capture", s)
		}
	}
}
