package serve

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"wormwatch/ingest/packet"
	"wormwatch/serve/servetest"
)

// telescopeCapture returns a pcap of a telescope's traffic: TCP SYNs from
// n sources to ports 80 and 445 (a third of them retried), SYN-ACKs (not
// attempts), and a Code Red request in full to port 80, in time order
// from start.
func telescopeCapture(t *testing.T, n int, start time.Time, seed uint64) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 5))
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	at := start
	write := func(src string, dport uint16, syn, ack bool, seq uint32, payload []byte) {
		at = at.Add(time.Duration(rng.IntN(2000)) * time.Millisecond)
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{0, 1, 2, 3, 4, 5}, DstMAC: net.HardwareAddr{0, 1, 2, 3, 4, 6}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 113, Protocol: layers.IPProtocolTCP, SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP("44.1.2.3").To4()}
		tcp := &layers.TCP{SrcPort: 3300, DstPort: layers.TCPPort(dport), SYN: syn, ACK: ack, PSH: len(payload) > 0, Seq: seq, Window: 8192}
		tcp.SetNetworkLayerForChecksum(ip)
		sb := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(sb, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
			t.Fatal(err)
		}
		data := sb.Bytes()
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(data), Length: len(data)}, data); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		src := fmt.Sprintf("10.%d.%d.%d", seed, i/250, i%250+1)
		port := uint16(80)
		if i%3 == 1 {
			port = 445
		}
		write(src, port, true, false, 1000, nil)
		if i%3 == 0 {
			write(src, port, true, false, 1000, nil) // a retry: another attempt of the same source
		}
		if i%5 == 0 {
			write(src, port, true, true, 1000, nil) // SYN-ACK: no attempt
		}
	}
	req := "GET /default.ida?" + strings.Repeat("N", 224) + "%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u9090%u8190%u00c3%u0003%u8b00%u531b%u53ff%u0078%u0000%u00=a HTTP/1.0\r\nContent-type: text/xml\r\nContent-length: 3379\r\n\r\n"
	write("10.9.9.9", 80, true, false, 5000, nil)
	write("10.9.9.9", 80, false, true, 5001, []byte(req))
	return buf.Bytes()
}

// TestCaptureEqualsDetect reads a capture file and a folder of captures
// (one gzip'ed, one more that appears while the service runs) as pcap
// inputs: /api/v1/detect is byte for byte detect's JSON of the same
// paths, and the port series count the attempts.
func TestCaptureEqualsDetect(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	t0 := time.Date(2001, 7, 19, 12, 0, 0, 0, time.UTC)
	file := filepath.Join(dir, "one.pcap")
	folder := filepath.Join(dir, "dark")
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, file, telescopeCapture(t, 300, t0, 1))
	writeFile(t, filepath.Join(folder, "a.pcap"), telescopeCapture(t, 200, t0, 2))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(telescopeCapture(t, 100, t0.Add(time.Hour), 3))
	zw.Close()
	writeFile(t, filepath.Join(folder, "b.pcap.gz"), gz.Bytes())
	old := time.Now().Add(-time.Hour) // captures stable since long ago are read at once
	for _, p := range []string{file, filepath.Join(folder, "a.pcap"), filepath.Join(folder, "b.pcap.gz")} {
		os.Chtimes(p, old, old)
	}
	pin := func(v string) Input {
		in, err := ParseInputFlag("pcap", v)
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	cfg := testConfig(t, filepath.Join(dir, "data"), []Input{pin(file + ",name=one,sensor=tel,size=65536"), pin(folder + ",name=dark,sensor=tel,size=65536")})
	r := start(t, cfg, Options{})
	waitCaptures := func(n int) {
		servetest.WaitFor(t, "the captures read", func() bool {
			done := 0
			for _, in := range r.status(t).Inputs {
				if strings.HasSuffix(in.Position, ":done") {
					done++
				}
			}
			return done == n
		})
	}
	waitCaptures(3)
	later := filepath.Join(folder, "c.pcap")
	writeFile(t, later, telescopeCapture(t, 50, t0.Add(2*time.Hour), 4))
	waitCaptures(4) // read once it has not changed for a second
	code, got := r.get(t, "/api/v1/detect")
	want := batchDetect(t, []string{file, folder}, packet.Opener(packet.Options{}))
	if code != 200 || !bytes.Equal(got, want) {
		t.Fatalf("/api/v1/detect (%d) differs from detect's JSON %s", code, firstDiff(string(got), string(want)))
	}
	_, list := r.get(t, "/api/v1/series")
	for _, key := range []string{`"tel"`, `"tel/port/tcp/80"`, `"tel/port/tcp/445"`} {
		if !bytes.Contains(list, []byte(`"key": `+key)) {
			t.Errorf("no series %s in %s", key, list)
		}
	}
}

// writeFile writes a file.
func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
