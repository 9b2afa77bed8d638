package follow

import (
	"context"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// waker wakes a Follower waiting at the end of its file: at an fsnotify
// event on a file of the folder whose name starts with the followed base
// name (the file, its rotated siblings), and every poll interval whatever
// happens, because some file systems (NFS, FUSE, some container overlays)
// deliver no events. Nothing is read on the strength of an event: an event
// only ends the wait early.
type waker struct {
	fs   *fsnotify.Watcher // nil: polling only
	dir  string
	kick chan struct{} // one pending wake-up at most
	tick *time.Ticker
	done chan struct{} // closed when the event goroutine has ended
}

// newWaker watches the folder of path (when notify is true and the system
// lets it: without inotify, or past its limits, it only polls).
func newWaker(path string, poll time.Duration, notify bool) *waker {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	w := &waker{dir: dir, kick: make(chan struct{}, 1), tick: time.NewTicker(poll)}
	if !notify {
		return w
	}
	fs, err := fsnotify.NewWatcher()
	if err != nil {
		return w
	}
	w.fs = fs
	w.done = make(chan struct{})
	_ = fs.Add(dir) // a folder that is not there yet is watched from the tick after it appears
	go w.events(base)
	return w
}

// events turns the watcher's events and errors into wake-ups, until the
// watcher is closed. An error (a queue overflow, say) wakes too: events
// may have been lost.
func (w *waker) events(base string) {
	defer close(w.done)
	for {
		select {
		case ev, ok := <-w.fs.Events:
			if !ok {
				return
			}
			if strings.HasPrefix(filepath.Base(ev.Name), base) || filepath.Clean(ev.Name) == filepath.Clean(w.dir) {
				w.wake()
			}
		case _, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			w.wake()
		}
	}
}

// wake leaves a wake-up pending, if none is.
func (w *waker) wake() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// wait returns at the next event or tick, or with ctx's error once ctx is
// done. At a tick it watches the folder again if the watch was lost (the
// folder was missing, or removed and made anew).
func (w *waker) wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-w.kick:
	case <-w.tick.C:
		if w.fs != nil && len(w.fs.WatchList()) == 0 {
			_ = w.fs.Add(w.dir)
		}
	}
	return nil
}

// close stops the ticker and the watcher and waits for the event
// goroutine to end.
func (w *waker) close() {
	w.tick.Stop()
	if w.fs != nil {
		_ = w.fs.Close()
		<-w.done
	}
}
