package notify

import (
	"cmp"
	"context"
	"errors"
	"os"
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
// file is made in memory and written with one call; the files are written
// by WriteWorkers goroutines and flushed to disk together (one sync of the
// file system, not one per file), then the folder is renamed into place.
func (l *Letter) Write(ctx context.Context, dir string, notices []Notice) error {
	stems := Stems(notices)
	return atomicfile.WriteDir(dir, func(root *os.Root) error {
		d, err := openFolder(root)
		if err != nil {
			return err
		}
		defer d.close()
		workers := cmp.Or(WriteWorkers, 4)
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() { errs[w] = l.writeEvery(ctx, d, notices, stems, w, workers) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		if err := d.create(IndexName, l.index(nil, notices, stems)); err != nil {
			return err
		}
		return d.sync()
	})
}

// WriteWorkers is how many goroutines Write creates files with; 0: 4. The
// kernel creates the files of one folder one at a time (its lock), so
// more goroutines than processors let some make the next files' text
// while others wait for it (BenchmarkWrite measures 1 to 8).
var WriteWorkers = 0

// writeEvery writes the files of notices from, from+step, from+2*step...
func (l *Letter) writeEvery(ctx context.Context, d *folder, notices []Notice, stems []string, from, step int) error {
	r := l.render()
	var b []byte
	for i := from; i < len(notices); i += step {
		if (i/step)%64 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		n := &notices[i]
		b = r.text(b[:0], n)
		if err := d.create(stems[i]+".txt", b); err != nil {
			return err
		}
		b = r.csv(b[:0], n)
		if err := d.create(stems[i]+".csv", b); err != nil {
			return err
		}
	}
	return nil
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
