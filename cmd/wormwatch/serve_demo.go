package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"wormwatch/demo"
	"wormwatch/serve"
	"wormwatch/store"
)

// The demo's folder under the data folder, and what wormwatch puts there.
const (
	demoFolder = "demo"            // DATA/demo: the demo's log and store
	demoStore  = "store"           // DATA/demo/store: the demo's own data folder, made afresh at each start
	demoMarker = ".wormwatch-demo" // in DATA/demo: the folder is the demo's
)

// demoAlarmAfter is the simulated time from the start of the demo's feed
// to the record that raises the honeynet's alarm with the default
// settings (the default lead, 600 s, and 14,750 s from the first line:
// docs/serve.md, Demo).
const demoAlarmAfter = 15350 * time.Second

// maxDemoSpeed bounds --demo-speed: at 100,000 the day is fed in 0.5 s.
const maxDemoSpeed = 100_000

// demoStoreFiles are the only names the demo's store folder may hold: the
// store's files (store.FileName and SQLite's companions) and its lock.
var demoStoreFiles = []string{store.FileName, store.FileName + "-wal", store.FileName + "-shm", store.FileName + "-journal", "lock"}

// setUpDemo prepares wormwatch serve --demo: it checks that the
// configuration reads nothing else, claims DATA/demo, removes the store
// an earlier demo left there (only if it holds nothing but a store's
// files, and no demo runs on it), points the data folder at it, writes
// the honeynet's log (demo.Generate) and adds its live file as the one
// input. The demo's feed is started by runDemoFeed.
func setUpDemo(ctx context.Context, cfg *serve.Config, speed float64) (*demo.Log, error) {
	if math.IsNaN(speed) || speed <= 0 || speed > maxDemoSpeed {
		return nil, usagef("--demo-speed %v: want simulated seconds per second of wall time, more than 0 and at most %d (default %d)", speed, maxDemoSpeed, demo.DefaultSpeed)
	}
	if len(cfg.Inputs) > 0 || len(cfg.Remotes) > 0 {
		return nil, usagef("--demo reads the demo's own log only: give no --follow, --zeek, --pcap, [[input]] or [[remote]] with it (the demo's store is made afresh at each start)")
	}
	dir := filepath.Join(cfg.Service.Data, demoFolder)
	if err := claimDemoFolder(dir); err != nil {
		return nil, err
	}
	storeDir := filepath.Join(dir, demoStore)
	if err := removeDemoStore(ctx, storeDir); err != nil {
		return nil, err
	}
	log, err := demo.Generate(ctx, dir, demo.Config{})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	cfg.Service.Data = storeDir
	cfg.Inputs = append(cfg.Inputs, serve.Input{Kind: "log", Path: log.Live, Name: log.Sensor, Sensor: log.Sensor, Size: log.Size, Format: "combined"})
	return log, nil
}

// claimDemoFolder makes DATA/demo with its marker, or checks that an
// existing one is the demo's: a folder (not a link) that holds the marker,
// or nothing.
func claimDemoFolder(dir string) error {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	case err != nil:
		return fmt.Errorf("demo: %w", err)
	case !fi.IsDir():
		return usagef("--demo: %s is not a folder (it is the demo's folder in the data folder): give another --data", dir)
	default:
		if _, err := os.Stat(filepath.Join(dir, demoMarker)); err == nil {
			return nil
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if len(entries) > 0 {
			return usagef("--demo: %s holds files that wormwatch serve --demo did not make (no %s in it): it is left alone; give another --data", dir, demoMarker)
		}
	}
	return os.WriteFile(filepath.Join(dir, demoMarker), []byte("made by wormwatch serve --demo: its log and its store, made afresh at each start\n"), 0o640)
}

// removeDemoStore removes the store an earlier demo left in dir, file by
// file: only when dir is a folder holding nothing but a store's files, and
// no service holds its lock (a demo running on it).
func removeDemoStore(ctx context.Context, dir string) error {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || !fi.IsDir() {
		return usagef("--demo: %s is not the demo's store folder (not a folder): it is left alone; give another --data", dir)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !slices.Contains(demoStoreFiles, e.Name()) {
			return usagef("--demo: %s holds %s, which is not a file of the demo's store: the folder is left alone; remove it yourself or give another --data", dir, e.Name())
		}
	}
	if st, err := store.Open(ctx, dir); errors.Is(err, store.ErrLocked) {
		return usageError{fmt.Errorf("--demo: %w", err)}
	} else if err == nil {
		st.Close()
	}
	for _, name := range demoStoreFiles {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("demo: %w", err)
		}
	}
	return os.Remove(dir)
}

// runDemoFeed feeds the demo's log until ctx is done, logging where the
// demo writes and where its page is, and how the feed ended.
func runDemoFeed(ctx context.Context, log *slog.Logger, l *demo.Log, page string, speed float64) {
	dir := filepath.Dir(l.Live)
	log.Info("demo: a simulated Code Red honeynet (a /16) is fed live; open the page", "page", page,
		"alarm_in", (time.Duration(float64(demoAlarmAfter) / speed)).Round(time.Second).String(), "speed", speed,
		"log", l.Live, "store", filepath.Join(dir, demoStore), "lines", l.Lines)
	err := demo.Feed(ctx, l.Source, l.Live, demo.FeedOptions{Speed: speed, Rotate: time.Hour, Keep: 2})
	switch {
	case ctx.Err() != nil:
	case err != nil:
		log.Error("demo: the feed stopped", "error", err)
	default:
		log.Info("demo: the whole day (19 July 2001) is fed; the service goes on until stopped")
	}
}
