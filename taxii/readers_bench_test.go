package taxii

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchReaders is how many clients BenchmarkReaders runs at once.
const benchReaders = 100

// BenchmarkReaders: 100 readers page concurrently through the objects
// endpoint of a collection of 1,000,000 objects, 1,000 a page, over
// loopback HTTP with bearer tokens, each from its own place in the
// collection. An iteration is one page; reported: the pages' latency
// percentiles and the CPU per page. The sub-benchmarks: the server writes
// pages in turns, first come first served (fifo, as it does), or all at
// once (at-once, as before turns); the readers are goroutines of this
// process (in-process) or of a second process (client-process, this test
// binary started again as the client), so that the CPU of the server and
// of its client are told apart.
func BenchmarkReaders(b *testing.B) {
	file := benchDB(b)
	t0 := time.Now()
	e := startAt(b, loadConfigFile(b, examplePath), file, false)
	load := time.Since(t0)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	fifo := e.s.turns
	url := e.ts.URL + objectsPath(collClear)
	for _, m := range []struct {
		name  string
		turns *turns
		proc  bool
	}{{"fifo/in-process", fifo, false}, {"at-once/in-process", nil, false},
		{"fifo/client-process", fifo, true}, {"at-once/client-process", nil, true}} {
		b.Run(m.name, func(b *testing.B) {
			e.s.turns = m.turns
			defer func() { e.s.turns = fifo }()
			var lat []time.Duration
			var client time.Duration
			var err error
			cpu0 := cpuTime()
			b.ResetTimer()
			if m.proc {
				lat, client, err = readPagesElsewhere(url, b.N)
			} else {
				lat, err = readPages(url, b.N)
			}
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			reportPages(b, lat, cpuTime()-cpu0, client)
			b.ReportMetric(load.Seconds(), "load-s")
			b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
		})
	}
}

// reportPages reports the latency percentiles of the pages and the CPU
// per page: this process's, and the client process's when there is one.
func reportPages(b *testing.B, lat []time.Duration, cpu, client time.Duration) {
	if len(lat) != b.N {
		b.Fatalf("%d pages read, want %d", len(lat), b.N)
	}
	perPage := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	if client > 0 {
		b.ReportMetric(perPage(cpu), "server-cpu-ms/page")
		b.ReportMetric(perPage(client), "client-cpu-ms/page")
	} else {
		b.ReportMetric(perPage(cpu), "cpu-ms/page")
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms/page")
	b.ReportMetric(q(0.99), "p99-ms/page")
}

// readPages has benchReaders readers page through the collection at url, each from
// its own place, until pages pages are read, and returns each page's
// latency.
func readPages(url string, pages int) ([]time.Duration, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: benchReaders, MaxConnsPerHost: benchReaders}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	var left atomic.Int64
	left.Store(int64(pages))
	lat := make([][]time.Duration, benchReaders)
	errs := make([]error, benchReaders)
	var wg sync.WaitGroup
	for r := range benchReaders {
		wg.Go(func() {
			next := strconv.Itoa(r * benchObjects / benchReaders)
			var buf bytes.Buffer
			for left.Add(-1) >= 0 {
				t := time.Now()
				more, n, err := benchPage(hc, url+"?limit=1000&next="+next, &buf)
				lat[r] = append(lat[r], time.Since(t))
				if err != nil {
					errs[r] = err
					return
				}
				next = n
				if !more {
					next = "0"
				}
			}
		})
	}
	wg.Wait()
	return slices.Concat(lat...), errors.Join(errs...)
}

// benchPage reads one page whole and returns its more and next, which
// the envelope's first bytes hold (the client a reader would be parses
// the objects; that work is the client's, not the server's, and on two
// cores shared with the server it would be measured as the server's).
func benchPage(hc *http.Client, url string, buf *bytes.Buffer) (bool, string, error) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept", MediaTAXII)
	req.Header.Set("Authorization", "Bearer east-test-token")
	resp, err := hc.Do(req)
	if err != nil {
		return false, "", err
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil || resp.StatusCode != 200 {
		return false, "", fmt.Errorf("status %d %v", resp.StatusCode, err)
	}
	b := buf.Bytes()
	if !bytes.HasPrefix(b, []byte(`{"more":true,"next":"`)) {
		return false, "", nil
	}
	b = b[len(`{"more":true,"next":"`):]
	end := bytes.IndexByte(b, '"')
	if end < 0 || !bytes.Contains(b[end:min(len(b), end+20)], []byte(`,"objects":[{`)) {
		return false, "", fmt.Errorf("not an envelope: %.100s", b)
	}
	return true, string(b[:end]), nil
}

// The environment of BenchmarkReaders' client process: the objects URL,
// and how many pages to read.
const (
	readersClientEnv = "TAXII_READERS_CLIENT_URL"
	readersPagesEnv  = "TAXII_READERS_CLIENT_PAGES"
)

// readPagesElsewhere runs readPages in a second process (this test
// binary, started again as the client) and returns the latencies it
// measured and the CPU it used.
func readPagesElsewhere(url string, pages int) ([]time.Duration, time.Duration, error) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), readersClientEnv+"="+url, readersPagesEnv+"="+strconv.Itoa(pages))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, 0, fmt.Errorf("the client process: %w", err)
	}
	var lat []time.Duration
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		us, err := strconv.ParseInt(strings.TrimSpace(sc.Text()), 10, 64)
		if err != nil {
			return nil, 0, fmt.Errorf("the client process wrote %q", sc.Text())
		}
		lat = append(lat, time.Duration(us)*time.Microsecond)
	}
	return lat, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

// readersClient is the client process: it reads the pages and writes
// their latencies, in microseconds, one a line.
func readersClient(url string) int {
	pages, err := strconv.Atoi(os.Getenv(readersPagesEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, readersPagesEnv+":", err)
		return 2
	}
	lat, err := readPages(url, pages)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	w := bufio.NewWriter(os.Stdout)
	for _, d := range lat {
		fmt.Fprintln(w, d.Microseconds())
	}
	if err := w.Flush(); err != nil {
		return 1
	}
	return 0
}
