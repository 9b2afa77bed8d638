package follow

import (
	"cmp"
	"context"
	"fmt"
	"os"
)

// resume finds the file of the stored Position p and opens it at p.Offset:
// the path's file when it is still p's (same inode, same first bytes, long
// enough), else a rotated sibling (see locate). The siblings newer than it
// are queued to be read whole, before the path's file. Found nowhere, a
// Gap is reported and the path's file is read from its start.
func (f *Follower) resume(ctx context.Context, p Position) error {
	file, fi, err := openPath(f.path)
	if err != nil {
		return err
	}
	if file != nil {
		if sameID(fi, p) && fileMatches(file, fi.Size(), p) {
			f.cur, err = openPlain(f.path, file, fi, p.Offset)
			return err
		}
		file.Close()
	}
	found, err := f.rotatedFrom(ctx, p)
	if err != nil {
		return err
	}
	if !found {
		f.gap = cmp.Or(f.gap, &Gap{After: p, Bytes: -1, Why: fmt.Sprintf("the file of the stored position is neither at %s nor among its rotated files (deleted, or compressed other than with gzip, while not followed); reading resumes at the start of %s", f.path, f.path)})
		file, fi, err := openPath(f.path)
		if err != nil || file == nil {
			return err
		}
		f.cur, err = openPlain(f.path, file, fi, 0)
		return err
	}
	return nil
}

// rotatedFrom looks among the path's rotated siblings for the file of p
// (see locate). Found, it becomes cur, opened at p.Offset, and the
// siblings newer than it are queued; it reports whether it was found. It
// changes nothing when it returns an error (ctx's).
func (f *Follower) rotatedFrom(ctx context.Context, p Position) (bool, error) {
	sibs := siblings(f.path)
	i := locate(sibs, p)
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if i < 0 {
		return false, nil
	}
	s, err := openSibling(ctx, sibs[i], fileID{dev: p.Dev, ino: p.Ino}, p.Offset)
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		// A gzip'ed file unpacking to less than p.Offset, or that cannot be
		// unpacked: what was not read of it is lost; the newer files are not.
		f.gap = &Gap{After: p, Bytes: -1, Why: err.Error()}
	}
	queue, err := openNewer(ctx, sibs[i+1:])
	if err != nil {
		if s != nil {
			s.close()
		}
		return false, err
	}
	if s == nil && len(queue) > 0 {
		s, queue = queue[0], queue[1:]
	}
	if s == nil {
		return false, nil
	}
	f.cur, f.queue = s, queue
	return true, nil
}

// newer returns the rotated siblings newer than the file of p, opened at
// their start: the files that came after it at the path, when it is no
// longer there. It returns none when p's file is not among the siblings.
func (f *Follower) newer(ctx context.Context, p Position) ([]*source, error) {
	sibs := siblings(f.path)
	i := locate(sibs, p)
	if err := ctx.Err(); err != nil || i < 0 {
		return nil, err
	}
	return openNewer(ctx, sibs[i+1:])
}

// openNewer opens sibs at their start (skipping those gone since they were
// listed); it closes them all when ctx is done.
func openNewer(ctx context.Context, sibs []sibling) ([]*source, error) {
	var out []*source
	for _, sib := range sibs {
		s, err := openSibling(ctx, sib, fileID{}, 0)
		if ctx.Err() != nil {
			for _, s := range out {
				s.close()
			}
			return nil, ctx.Err()
		}
		if err == nil && s != nil {
			out = append(out, s)
		}
	}
	return out, nil
}

// openSibling opens a rotated sibling at offset at; a gzip'ed one carries
// id in its Positions (the inode of the file it was, when known). It
// returns nil, nil when the file is gone.
func openSibling(ctx context.Context, sib sibling, id fileID, at int64) (*source, error) {
	file, fi, err := openPath(sib.name)
	if err != nil || file == nil {
		return nil, err
	}
	var s *source
	if sib.gz {
		s, err = openGzip(ctx, sib.name, file, fi, id, at)
	} else {
		s, err = openPlain(sib.name, file, fi, at)
	}
	if err != nil {
		return nil, err
	}
	s.rotated = true
	return s, nil
}

// locate returns the index in sibs of the file of p, or -1: a plain file
// with p's inode and first bytes (renamed), else, newest first, a file with
// p's first bytes (a copy, or gzip'ed: unpacked to compare). Every file
// must also be long enough for p.Offset (a gzip'ed one is checked when it is
// opened). With no fingerprint (p.Head 0) only the inode is looked at.
func locate(sibs []sibling, p Position) int {
	for i := len(sibs) - 1; i >= 0; i-- {
		if !sibs[i].gz && matches(sibs[i], p, true) {
			return i
		}
	}
	for i := len(sibs) - 1; i >= 0 && p.Head > 0; i-- {
		if matches(sibs[i], p, false) {
			return i
		}
	}
	return -1
}

// matches reports whether sib is the file of p: by inode and first bytes
// (byInode) or by first bytes alone.
func matches(sib sibling, p Position, byInode bool) bool {
	if byInode {
		if fi, err := os.Stat(sib.name); err != nil || !sameID(fi, p) {
			return false
		}
	}
	file, fi, err := openPath(sib.name)
	if err != nil || file == nil {
		return false
	}
	defer file.Close()
	if sib.gz {
		return !byInode && p.Head > 0 && gzipMatches(file, p)
	}
	return (!byInode || sameID(fi, p)) && fileMatches(file, fi.Size(), p)
}

// sameID reports whether fi is the file of p by device and inode.
func sameID(fi os.FileInfo, p Position) bool {
	return p.Ino != 0 && idOf(fi) == fileID{dev: p.Dev, ino: p.Ino}
}
