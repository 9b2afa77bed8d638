package follow

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// benchLine is a combined-format access log line of a common length (153
// bytes).
const benchLine = `203.0.113.9 - - [19/Jul/2001:10:15:42 -0500] "GET /default.ida?NNNNNNNN%u9090 HTTP/1.0" 404 278 "-" "Mozilla/4.0 (compatible; MSIE 5.5; Windows NT 5.0)"` + "\n"

// BenchmarkFollowLive measures lines delivered per second while a writer
// appends to the file in 64 KiB writes, renaming it to PATH.1 every 64 MiB
// (so the follower also goes through rotations, and the disk use stays
// bounded). The writer keeps at most 32 MiB ahead of the follower.
func BenchmarkFollowLive(b *testing.B) {
	path := filepath.Join(b.TempDir(), "access.log")
	block := bytes.Repeat([]byte(benchLine), (64<<10)/len(benchLine))
	perBlock := len(block) / len(benchLine)
	const ahead, rotateAt = 32 << 20, 64 << 20
	f, err := New(context.Background(), path, Position{}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var read atomic.Int64
	done := make(chan error, 1)
	b.SetBytes(int64(len(benchLine)))
	b.ResetTimer()
	go func() {
		w, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			done <- err
			return
		}
		size := 0
		for written := 0; written < b.N; {
			for int64(written)-read.Load() > ahead/int64(len(benchLine)) {
				time.Sleep(50 * time.Microsecond)
			}
			n := min(perBlock, b.N-written)
			if _, err := w.Write(block[:n*len(benchLine)]); err != nil {
				done <- err
				return
			}
			written += n
			size += n * len(benchLine)
			if size >= rotateAt && written < b.N {
				w.Close()
				if err := os.Rename(path, path+".1"); err != nil {
					done <- err
					return
				}
				if w, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err != nil {
					done <- err
					return
				}
				size = 0
			}
		}
		done <- w.Close()
	}()
	ctx := context.Background()
	var got int64
	for got < int64(b.N) {
		c, err := f.Next(ctx)
		if err != nil {
			b.Fatal(err)
		}
		got += int64(c.N)
		read.Store(got)
	}
	b.StopTimer()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	if got != int64(b.N) {
		b.Fatalf("%d lines delivered, %d written", got, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkFollowBacklog measures lines delivered per second from a file
// written beforehand: the follower's own cost, catching up.
func BenchmarkFollowBacklog(b *testing.B) {
	path := filepath.Join(b.TempDir(), "access.log")
	w, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	for range b.N {
		bw.WriteString(benchLine)
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	w.Close()
	f, err := New(context.Background(), path, Position{}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.SetBytes(int64(len(benchLine)))
	b.ResetTimer()
	ctx := context.Background()
	for got := 0; got < b.N; {
		c, err := f.Next(ctx)
		if err != nil {
			b.Fatal(err)
		}
		got += c.N
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
