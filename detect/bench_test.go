package detect

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"wormwatch/detect/internal/biglog"
)

// bigLog is the sample logs repeated with shifted times to about 64 MB,
// built once.
var bigLog = sync.OnceValues(func() ([]byte, error) {
	var samples [][]byte
	for _, name := range []string{"honeynet2004_access_log.22", "honeynet2004_access_log.10"} {
		b, err := os.ReadFile(filepath.Join(sampleDir, name))
		if err != nil {
			return nil, err
		}
		samples = append(samples, b)
	}
	var buf bytes.Buffer
	_, err := biglog.Write(&buf, samples, 64<<20)
	return buf.Bytes(), err
})

// BenchmarkAnalyze measures detect's throughput (MB/s) on one core, from
// reading lines to the report, on the sample logs repeated to 64 MB.
func BenchmarkAnalyze(b *testing.B) {
	data, err := bigLog()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		a, err := NewAnalyzer(Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := a.Read(context.Background(), "big", bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
		r, err := a.Report(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}

// BenchmarkRead measures the log reader alone.
func BenchmarkRead(b *testing.B) {
	data, err := bigLog()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rd, err := NewReader("big", bytes.NewReader(data), ReaderOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := rd.Next(); err != nil {
				break
			}
		}
	}
}
