//go:build unix

package forecast_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"wormwatch/forecast"
)

// mkfifo makes a FIFO in a temporary folder. At the end of the test it
// opens it for writing without waiting, so that a reader still waiting in
// open (abandoned on a cancelled context) gets its file and closes it.
func mkfifo(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skip("no FIFO:", err)
	}
	t.Cleanup(func() {
		if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	return path
}

// TestReadSeriesFIFO: a FIFO is read like a file (a shell's process
// substitution gives one).
func TestReadSeriesFIFO(t *testing.T) {
	t.Parallel()
	path := mkfifo(t, "s.csv")
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		f.WriteString(goodCSV)
		f.Close()
	}()
	s, err := forecast.ReadSeriesFile(t.Context(), path)
	if err != nil || len(s.Rows) != 4 {
		t.Fatalf("FIFO: %v", err)
	}
}

// TestReadFIFOCancel: a FIFO without a writer, and one whose writer stalls,
// do not hold the readers past their context.
func TestReadFIFOCancel(t *testing.T) {
	t.Parallel()
	// No writer: open(2) waits for one.
	for name, read := range map[string]func(ctx context.Context, path string) error{
		"series": func(ctx context.Context, path string) error {
			_, err := forecast.ReadSeriesFile(ctx, path)
			return err
		},
		"state": func(ctx context.Context, path string) error {
			_, err := forecast.ReadState(ctx, path, forecast.DefaultReemergence)
			return err
		},
		"time series": func(ctx context.Context, path string) error {
			_, err := forecast.StateFromTimeseriesFile(ctx, path, forecast.DefaultReemergence.Now, forecast.DefaultReemergence)
			return err
		},
	} {
		if err := read(cancelled(), mkfifo(t, "in")); !errors.Is(err, context.Canceled) {
			t.Errorf("%s, no writer: error %v, want context.Canceled", name, err)
		}
	}
	// A writer that sends the header and a row, then nothing.
	path := mkfifo(t, "stalled.csv")
	wrote, done := make(chan struct{}), make(chan struct{})
	defer close(done)
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			close(wrote)
			return
		}
		defer f.Close()
		f.WriteString(goodCSV[:70])
		close(wrote)
		<-done
	}()
	ctx, cancel := context.WithCancel(t.Context())
	res := make(chan error, 1)
	go func() {
		_, err := forecast.ReadSeriesFile(ctx, path)
		res <- err
	}()
	<-wrote
	cancel()
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Errorf("stalled writer: error %v, want context.Canceled", err)
	}
}
