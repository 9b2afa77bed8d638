//go:build unix

package packet

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"wormwatch/detect"
)

// telescope writes a capture of n packets, such as a network telescope
// sees (fixed seed): SYNs from a pool of sources to a few ports, over IPv4
// and some over IPv6; with mixed, also SYN-ACKs, ACKs, RSTs, UDP and ARP.
// It returns how many of the packets are SYNs (without ACK), how many of
// those are over IPv6, and how many SYN-ACKs there are.
// The frames are patched from templates, so that a few million are
// written in a second or two.
func telescope(t testing.TB, w io.Writer, n int, mixed bool, seed uint64) (syns, v6, synacks int) {
	return telescopeV6(t, w, n, mixed, 5, seed)
}

// telescopeV6 is telescope with v6 percent of the packets over IPv6 (5 in
// telescope).
func telescopeV6(t testing.TB, w io.Writer, n int, mixed bool, v6share int, seed uint64) (syns, v6, synacks int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	bw := bufio.NewWriterSize(w, 1<<20)
	var hdr [24]byte
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 65535)
	binary.LittleEndian.PutUint32(hdr[20:], 1) // Ethernet
	bw.Write(hdr[:])
	syn4 := frame(t, 1, tcpOpts{src: "10.0.0.1", dst: "192.0.2.1", sport: 4000, dport: 80, syn: true, ethernetPadTo60: true})
	syn6 := frame(t, 1, tcpOpts{src: "2001:db8::1", dst: "2001:db8::2", sport: 4000, dport: 80, syn: true})
	udp4 := ethernet(0x0800, udp(t, "10.0.0.1", "192.0.2.1", 1434), nil, true)
	arp := ethernet(0x0806, make([]byte, 28), nil, true)
	ports := []uint16{80, 80, 80, 80, 445, 135, 1433, 22}
	buf := make([]byte, 0, 128)
	var rec [16]byte
	ts := time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC).UnixMicro()
	for range n {
		ts += int64(rng.IntN(2000))
		src := uint32(0x0a000000) | uint32(rng.IntN(100_000))
		port := ports[rng.IntN(len(ports))]
		kind := 0 // a SYN over IPv4
		if r := rng.IntN(100); r < v6share {
			kind = 1 // over IPv6
		} else if mixed && r < 20+v6share {
			kind = 2 + r%5 // SYN-ACK, ACK, RST, UDP, ARP
		}
		switch kind {
		case 1:
			buf = append(buf[:0], syn6...)
			binary.BigEndian.PutUint32(buf[14+8+12:], src) // the last 4 bytes of the source
			binary.BigEndian.PutUint16(buf[14+40+2:], port)
			syns++
			v6++
		case 5:
			buf = append(buf[:0], udp4...)
		case 6:
			buf = append(buf[:0], arp...)
		default:
			buf = append(buf[:0], syn4...)
			binary.BigEndian.PutUint32(buf[14+12:], src)
			binary.BigEndian.PutUint16(buf[14+20+2:], port)
			switch kind {
			case 0:
				syns++
			case 2:
				buf[14+20+13] = 0x12 // SYN-ACK
				synacks++
			case 3:
				buf[14+20+13] = 0x10 // ACK
			case 4:
				buf[14+20+13] = 0x04 // RST
			}
		}
		binary.LittleEndian.PutUint32(rec[0:], uint32(ts/1e6))
		binary.LittleEndian.PutUint32(rec[4:], uint32(ts%1e6))
		binary.LittleEndian.PutUint32(rec[8:], uint32(len(buf)))
		binary.LittleEndian.PutUint32(rec[12:], uint32(len(buf)))
		bw.Write(rec[:])
		bw.Write(buf)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	return syns, v6, synacks
}

// tcpdumpPath finds tcpdump: on the PATH, or in /usr/sbin, where Debian
// puts it outside a user's PATH.
func tcpdumpPath() (string, error) {
	if p, err := exec.LookPath("tcpdump"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/tcpdump"); err != nil {
		return "", err
	}
	return "/usr/sbin/tcpdump", nil
}

// tcpdumpCount runs tcpdump -nn -r file filter and counts the lines it
// prints (tcpdump ... | wc -l).
func tcpdumpCount(t testing.TB, bin, file, filter string) int {
	t.Helper()
	n, _ := tcpdumpCountCPU(t, bin, file, filter)
	return n
}

// tcpdumpCountCPU is tcpdumpCount, also returning the CPU time tcpdump
// used.
func tcpdumpCountCPU(t testing.TB, bin, file, filter string) (int, time.Duration) {
	t.Helper()
	cmd := exec.Command(bin, "-nn", "-r", file, filter)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := 0
	br := bufio.NewReaderSize(out, 1<<20)
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 && chunk[len(chunk)-1] == '\n' {
			n++
		}
		if err == io.EOF {
			break
		}
		if err != nil && err != bufio.ErrBufferFull {
			t.Fatal(err)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("tcpdump: %v\n%s", err, stderr.String())
	}
	return n, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// synFilter is tcpdump's filter for what this package counts as an
// attempt: SYN set and ACK not, over IPv4, or over IPv6 without extension
// headers (libpcap's tcp[] reaches only IPv4; ip6[53] is the TCP flags
// byte after a 40-byte IPv6 header).
const synFilter = "(tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn) or (ip6 and ip6[6] == 6 and ip6[53] & 0x12 == 0x02)"

// TestSYNsAsTcpdump counts the SYNs of a capture of telescope traffic mixed
// with SYN-ACKs, ACKs, RSTs, UDP and ARP, and compares with tcpdump's
// count. tcpdump is required (.ci/run installs it): the test fails without
// it.
func TestSYNsAsTcpdump(t *testing.T) {
	t.Parallel()
	bin, err := tcpdumpPath()
	if err != nil {
		t.Fatal("tcpdump is not installed; this test needs it (apt-get install -y tcpdump; .ci/run installs it)")
	}
	file := filepath.Join(t.TempDir(), "telescope.pcap")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	syns, v6, synacks := telescope(t, f, 20_000, true, 7)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	want := tcpdumpCount(t, bin, file, synFilter)
	if want != syns {
		t.Fatalf("tcpdump counts %d SYNs, the capture was written with %d", want, syns)
	}
	// The filter counts SYN-ACKs too, and reaches IPv4 only.
	if all := tcpdumpCount(t, bin, file, "tcp[tcpflags] & tcp-syn != 0"); all != syns-v6+synacks {
		t.Errorf("tcpdump's 'tcp-syn != 0' counts %d; SYNs over IPv4 and SYN-ACKs are %d", all, syns-v6+synacks)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, in, err := readAll(t, data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if in.Packets.SYNs != int64(want) || in.Packets.Packets != 20_000 || in.Packets.Undecoded != 0 {
		t.Errorf("read %+v; tcpdump counts %d SYNs", in.Packets, want)
	}
}

// BenchmarkSYNs measures the packets read a second, counting SYNs from a
// file of 2,000,000 packets of telescope traffic over IPv4 (SYNs from
// 100,000 sources to 6 ports): the reader alone, and detect's whole
// analysis (per port: attempts and distinct sources) on one core; and, in
// the same run on the same file, tcpdump -nn -r FILE 'tcp[tcpflags] &
// tcp-syn != 0' | wc -l, whose count must equal ours (the file has no
// IPv6, which tcp[] does not reach). Besides packets a second of wall
// time, each reports its CPU time per packet (tcpdump's own, as a child
// process) and packets per CPU second: the machine may be shared. It
// skips the tcpdump part, with a message, when tcpdump is not installed.
// tcpdump prints a line per packet, which takes minutes on 2,000,000: run
// it once,
//
//	go test ./ingest/packet -run XXX -bench SYNs -benchtime 1x -cpu 1
func BenchmarkSYNs(b *testing.B) {
	const n = 2_000_000
	file := filepath.Join(b.TempDir(), "telescope.pcap")
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	syns, _, _ := telescopeV6(b, f, n, false, 0, 11)
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("reader", func(b *testing.B) {
		cpu0 := cpuTime()
		for b.Loop() {
			if got := countSYNs(b, data); got != syns {
				b.Fatalf("%d SYNs, want %d", got, syns)
			}
		}
		reportPackets(b, n, cpuTime()-cpu0)
	})
	b.Run("detect", func(b *testing.B) {
		cpu0 := cpuTime()
		for b.Loop() {
			if got := analyzeSYNs(b, file); got != int64(syns) {
				b.Fatalf("%d attempts, want %d", got, syns)
			}
		}
		reportPackets(b, n, cpuTime()-cpu0)
	})
	b.Run("tcpdump", func(b *testing.B) {
		bin, err := tcpdumpPath()
		if err != nil {
			b.Skip("tcpdump is not installed: no comparison (apt-get install -y tcpdump)")
		}
		var cpu time.Duration
		for b.Loop() {
			got, used := tcpdumpCountCPU(b, bin, file, "tcp[tcpflags] & tcp-syn != 0")
			if got != syns {
				b.Fatalf("tcpdump counts %d SYNs, we count %d", got, syns)
			}
			cpu += used
		}
		reportPackets(b, n, cpu)
	})
}

// countSYNs reads a capture with the reader alone and counts its records.
func countSYNs(b *testing.B, data []byte) int {
	r, err := NewReader("telescope.pcap", bytes.NewReader(data), Options{})
	if err != nil {
		b.Fatal(err)
	}
	got := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			return got
		}
		if err != nil {
			b.Fatal(err)
		}
		got++
	}
}

// analyzeSYNs reads a capture file through detect's analysis and returns
// the attempts counted.
func analyzeSYNs(b *testing.B, file string) int64 {
	a, err := detect.NewAnalyzer(detect.Options{Openers: []detect.Opener{Opener(Options{})}})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	f, err := os.Open(file)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := a.Read(context.Background(), "telescope.pcap", f); err != nil {
		b.Fatal(err)
	}
	r, err := a.Report(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	return r.Attempts.Count
}

// reportPackets reports packets a second of wall time, CPU time per packet
// and packets per CPU second, for n packets a round.
func reportPackets(b *testing.B, n int, cpu time.Duration) {
	total := float64(n) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/total, "cpu-ns/packet")
	b.ReportMetric(total/cpu.Seconds(), "packets/cpu-s")
}

// cpuTime returns the CPU time the process has used (all its threads).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
