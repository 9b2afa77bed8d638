package notify

import (
	"cmp"
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"wormwatch/internal/atomicfile"
)

// IndexName is the file of a notices folder that lists its notices.
const IndexName = "index.csv"

// IndexColumns are the columns of index.csv, one row per notice.
var IndexColumns = []string{"owner", "contact", "addresses", "requests", "first_seen", "last_seen", "families", "text", "csv"}

// Stems returns the file stem of each notice: its owner's Key in lower
// case with every run of characters other than a-z and 0-9 made one '-'
// (at most 60 bytes, "owner" when nothing is left), and -2, -3, ... after
// a stem an earlier notice took. Notices in the same order give the same
// stems.
func Stems(notices []Notice) []string {
	out := make([]string, len(notices))
	taken := map[string]bool{IndexName[:len(IndexName)-4]: true}
	for i := range notices {
		base := slug(notices[i].Owner.Key)
		s := base
		for k := 2; taken[s]; k++ {
			s = base + "-" + strconv.Itoa(k)
		}
		taken[s] = true
		out[i] = s
	}
	return out
}

// slug makes a file stem of a name.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			if b.Len() >= 60 {
				break
			}
			continue
		}
		dash = true
	}
	if b.Len() == 0 {
		return "owner"
	}
	return b.String()
}

// Write writes the notices into the folder dir, whole or not at all (dir
// must not exist): per notice STEM.txt (WriteText) and STEM.csv
// (WriteCSV), with the stems of Stems, and index.csv listing them. Each
// file is made in memory (by as many goroutines as there are processors)
// and written with one call by WriteWorkers goroutines; the files are
// flushed to disk together (one sync of the file system, not one per
// file), then the folder is renamed into place.
func (l *Letter) Write(ctx context.Context, dir string, notices []Notice) error {
	stems := Stems(notices)
	return atomicfile.WriteDir(dir, func(root *os.Root) error {
		d, err := openFolder(root)
		if err != nil {
			return err
		}
		defer d.close()
		if err := l.writeAll(ctx, d, notices, stems); err != nil {
			return err
		}
		if err := d.create(IndexName, l.index(nil, notices, stems)); err != nil {
			return err
		}
		return d.sync()
	})
}

// WriteWorkers is how many goroutines Write creates files with; 0: 1. The
// kernel creates the files of one folder one at a time (it locks the
// folder), so more than one mostly wait, and spin, for the lock
// (BenchmarkWrite measures 1, 2 and 4).
var WriteWorkers = 0

// file is a file made in memory, to be created.
type file struct {
	name string
	data *[]byte
}

// writeAll makes the notices' files in memory on every processor and
// creates them with WriteWorkers goroutines; the buffers go round.
func (l *Letter) writeAll(ctx context.Context, d *folder, notices []Notice, stems []string) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	makers, creators := runtime.GOMAXPROCS(0), cmp.Or(WriteWorkers, 1)
	files := make(chan file, 4*makers)
	free := sync.Pool{New: func() any { return new([]byte) }}
	var made, created sync.WaitGroup
	for m := range makers {
		made.Go(func() { l.makeEvery(ctx, notices, stems, m, makers, files, &free) })
	}
	for range creators {
		created.Go(func() {
			for f := range files {
				if ctx.Err() == nil {
					if err := d.create(f.name, *f.data); err != nil {
						cancel(err)
					}
				}
				free.Put(f.data)
			}
		})
	}
	made.Wait()
	close(files)
	created.Wait()
	return context.Cause(ctx)
}

// makeEvery makes the files of notices from, from+step, from+2*step...
// and sends them to files, until ctx is done.
func (l *Letter) makeEvery(ctx context.Context, notices []Notice, stems []string, from, step int, files chan<- file, free *sync.Pool) {
	r := l.render()
	send := func(name string, fill func([]byte) []byte) bool {
		b := free.Get().(*[]byte)
		*b = fill((*b)[:0])
		select {
		case files <- file{name, b}:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for i := from; i < len(notices); i += step {
		n := &notices[i]
		if !send(stems[i]+".txt", func(b []byte) []byte { return r.text(b, n) }) ||
			!send(stems[i]+".csv", func(b []byte) []byte { return r.csv(b, n) }) {
			return
		}
	}
}

// index appends index.csv to b.
func (l *Letter) index(b []byte, notices []Notice, stems []string) []byte {
	b = append(b, strings.Join(IndexColumns, ",")+"\n"...)
	for i := range notices {
		n := &notices[i]
		b = appendField(b, n.Owner.Name)
		b = append(b, ',')
		b = appendField(b, n.Owner.Contact)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(len(n.Sources)), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, n.Count, 10)
		b = append(b, ',')
		b = n.FirstSeen.UTC().AppendFormat(b, shadowTime)
		b = append(b, ',')
		b = n.LastSeen.UTC().AppendFormat(b, shadowTime)
		b = append(b, ',')
		b = appendField(b, strings.Join(n.Families, ";"))
		b = append(b, ',')
		b = append(b, stems[i]+".txt,"+stems[i]+".csv\n"...)
	}
	return b
}
