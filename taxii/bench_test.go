package taxii

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// benchObjects is how many objects BenchmarkReaders stores.
const benchObjects = 1_000_000

var (
	benchOnce sync.Once
	benchDir  string
	benchErr  error
)

// TestMain removes the benchmarks' database after the run.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// benchDB builds, once per process, a database of benchObjects indicators
// posted by isp-south to the example's CLEAR collection, written straight
// to the store (the POST path is BenchmarkPost's).
func benchDB(b *testing.B) string {
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "taxii-bench-")
		if benchErr != nil {
			return
		}
		file := filepath.Join(benchDir, "taxii.db")
		d, err := openDB(context.Background(), file)
		if err != nil {
			benchErr = err
			return
		}
		defer d.close()
		start := time.Date(2001, 7, 19, 0, 0, 0, 0, time.UTC).UnixMicro()
		const batch = 20_000
		for lo := 0; lo < benchObjects; lo += batch {
			rows := make([]objRow, 0, batch)
			for i := lo; i < lo+batch; i++ {
				id := fmt.Sprintf("indicator--%08x-0000-4000-8000-%012x", i, i)
				rows = append(rows, objRow{seq: int64(i + 1), collection: collClear, id: id, version: "2001-07-19T00:00:00.000Z",
					versionNS: day.UnixNano(), added: start + int64(i), typ: "indicator", tlp: Clear, poster: "isp-south",
					data: stix(id, day, map[string]any{"description": "GET /default.ida?NNNN from 198.51.100.3"})})
			}
			st := statusRow{id: fmt.Sprint("bench-", lo), poster: "isp-south", collection: collClear, body: []byte("{}")}
			if benchErr = d.commitPost(context.Background(), rows, st, auditRow{action: "add"}); benchErr != nil {
				return
			}
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return filepath.Join(benchDir, "taxii.db")
}

// BenchmarkReaders: 100 readers page concurrently through the objects
// endpoint of a collection of 1,000,000 objects, 1,000 a page, over
// loopback HTTP with bearer tokens, each from its own place in the
// collection. An iteration is one page; reported: the pages' latency
// percentiles, and the load of the database into memory.
func BenchmarkReaders(b *testing.B) {
	file := benchDB(b)
	t0 := time.Now()
	e := startAt(b, loadConfigFile(b, examplePath), file, false)
	load := time.Since(t0)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	const readers = 100
	tr := &http.Transport{MaxIdleConnsPerHost: readers, MaxConnsPerHost: readers}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	var left atomic.Int64
	left.Store(int64(b.N))
	lat := make([][]time.Duration, readers)
	b.ResetTimer()
	cpu0 := cpuTime()
	var wg sync.WaitGroup
	for r := range readers {
		wg.Go(func() {
			next := fmt.Sprint(r * benchObjects / readers)
			var buf bytes.Buffer
			for left.Add(-1) >= 0 {
				t := time.Now()
				more, n, err := benchPage(hc, e.ts.URL+objectsPath(collClear)+"?limit=1000&next="+next, &buf)
				lat[r] = append(lat[r], time.Since(t))
				if err != nil {
					b.Error(err)
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
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/page")
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	q := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms/page")
	b.ReportMetric(q(0.99), "p99-ms/page")
	b.ReportMetric(load.Seconds(), "load-s")
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
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

// BenchmarkPost: clients POST envelopes of 1,000 new indicators each
// (about 600 bytes apiece) over loopback HTTP; every object is validated
// against the STIX 2.1 schema and stored. An iteration is one object;
// reported: objects/s.
func BenchmarkPost(b *testing.B) {
	e := start(b, loadConfigFile(b, examplePath))
	const per = 1000
	envs := (b.N + per - 1) / per
	bodies := make([][]byte, envs)
	for i := range bodies {
		objs := make([][]byte, per)
		for j := range objs {
			// Distinct ids and times, as real objects have.
			at := day.Add(time.Duration(i*per+j) * time.Millisecond)
			objs[j] = stix(newID(), at, map[string]any{"created": at.Format("2006-01-02T15:04:05.000Z"),
				"description": fmt.Sprintf("GET /default.ida?NNNN from 198.51.%d.%d", j/256, j%256)})
		}
		bodies[i] = envelopeOf(objs...)
	}
	var next atomic.Int64
	b.ResetTimer()
	t0, cpu0 := time.Now(), cpuTime()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(envs) {
					return
				}
				req, _ := http.NewRequest("POST", e.ts.URL+objectsPath(collClear), bytesReader(bodies[i]))
				req.Header.Set("Accept", MediaTAXII)
				req.Header.Set("Content-Type", MediaTAXII)
				req.Header.Set("Authorization", "Bearer north-test-token")
				resp, err := e.ts.Client().Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				var st statusResource
				json.NewDecoder(resp.Body).Decode(&st)
				resp.Body.Close()
				if resp.StatusCode != 202 || st.SuccessCount != per {
					b.Errorf("status %d, %d stored of %d", resp.StatusCode, st.SuccessCount, per)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(envs*per)/time.Since(t0).Seconds(), "objects/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(envs*per), "cpu-us/object")
}

// cpuTime is the CPU time the process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
