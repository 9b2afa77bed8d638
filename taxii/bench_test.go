package taxii

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
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

// TestMain removes the benchmarks' database after the run; started as
// BenchmarkReaders' client process, it is that client instead.
func TestMain(m *testing.M) {
	if url := os.Getenv(readersClientEnv); url != "" {
		os.Exit(readersClient(url))
	}
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
