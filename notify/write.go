package notify

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
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
// (WriteCSV), with the stems of Stems, and index.csv listing them. The
// files are written by as many goroutines as there are processors (at
// most 4) and flushed to disk together (one sync of the file system, not
// one per file), then the folder is renamed into place.
func (l *Letter) Write(ctx context.Context, dir string, notices []Notice) error {
	stems := Stems(notices)
	return atomicfile.WriteDir(dir, func(root *os.Root) error {
		workers := min(runtime.GOMAXPROCS(0), 4)
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() { errs[w] = l.writeEvery(ctx, root, notices, stems, w, workers) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		if err := create(root, IndexName, func(w io.Writer) error { return l.writeIndex(w, notices, stems) }); err != nil {
			return err
		}
		return syncAll(root)
	})
}

// writeEvery writes the files of notices from, from+step, from+2*step...
func (l *Letter) writeEvery(ctx context.Context, root *os.Root, notices []Notice, stems []string, from, step int) error {
	for i := from; i < len(notices); i += step {
		if (i/step)%64 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		n := &notices[i]
		if err := create(root, stems[i]+".txt", func(w io.Writer) error { return l.WriteText(w, n) }); err != nil {
			return err
		}
		if err := create(root, stems[i]+".csv", func(w io.Writer) error { return l.WriteCSV(w, n) }); err != nil {
			return err
		}
	}
	return nil
}

// create writes a new file under root through fn, buffered, and closes it
// (synced first where syncAll cannot sync the whole folder at once).
func create(root *os.Root, name string, fn func(io.Writer) error) error {
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	bw := bufio.NewWriterSize(f, 32<<10)
	if err = fn(bw); err == nil {
		err = bw.Flush()
	}
	if err == nil && !syncfs {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// writeIndex writes index.csv.
func (l *Letter) writeIndex(w io.Writer, notices []Notice, stems []string) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(strings.Join(IndexColumns, ",") + "\n")
	var b []byte
	for i := range notices {
		n := &notices[i]
		b = appendField(b[:0], n.Owner.Name)
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
		bw.Write(b)
	}
	return bw.Flush()
}
