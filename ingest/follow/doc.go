// Package follow follows a log file as `tail -F` does, for a long-running
// service: exactly (no line lost, none repeated, never half a line) and
// resumably (a restart continues from a stored Position).
//
// A Follower follows one path. Next returns a Chunk: whole lines, each
// ending in '\n', and the Position just after them, which the caller
// stores with whatever it made of the lines (in one transaction); New with
// that Position continues exactly there. A line still being written (no
// '\n' yet) is held until its '\n' comes; the last line of a file that has
// been rotated away is whole by then, and is delivered with a '\n' added.
// FollowAll follows several paths, one goroutine each, on one channel;
// Run is the loop of one of them, for a caller that hands the chunks on
// its own way.
// It follows paths, not globs or folders: a folder of logs is its files,
// named by the caller, each followed with its own rotation.
//
// # Positions
//
// A Position names a file by its device and inode and by a fingerprint:
// the SHA-256 of its first bytes (up to HeadSize, 1 KiB, and at least as
// many as were consumed), with the offset just after the last line
// consumed. The fingerprint recognises the file after a restart, tells a
// truncated and rewritten file from the one that was read, and finds a
// copy of it (copytruncate) or its gzip'ed version, which have other
// inodes. Position has a text form (MarshalText, ParsePosition) for a
// store. A Position whose file had fewer than HeadSize bytes when it was
// made has a fingerprint of that many bytes only: two logs that begin with
// the same few bytes can then be mistaken for one another (log lines begin
// with a time stamp, so this takes two files started in the same second).
//
// # Rotation
//
// A Follower reads its file through an open descriptor and, at the end of
// what there is, looks at the path (at once when fsnotify reports an event
// in the folder, and every Options.Poll, 250 ms by default, whatever
// happens, because fsnotify misses events on some file systems: the
// reading never depends on an event).
//
//   - Rename and create (logrotate's default): the old file is read
//     through its descriptor to its end, and left for the new file at the
//     path once the new file has its first byte. Until then the writer may
//     still be writing to the old file (logrotate creates the new file, then
//     tells the server to reopen its logs): those lines are read. A line
//     written to the old file after the new one had its first byte and the
//     Follower had moved to it is lost, as with tail -F; a single writer that
//     reopens its log never does that.
//   - Delete and recreate: the same, the deleted file being read through
//     its descriptor.
//   - Copytruncate: the file shrinks below what was read, or its first bytes
//     change (it was truncated and rewritten past that point). The Follower
//     looks among the rotated siblings for the copy (its first bytes and
//     length), reads what it had not read from there, then reads the file
//     at the path from its start. Without a copy (or with one shorter than
//     what was seen of the file: the lines logrotate itself loses between
//     its copy and its truncation), the bytes are reported as a Gap. A
//     file truncated and rewritten between two looks before the Follower
//     read any of it is not noticed: the lines are in the copy only.
//   - A file that appears later, or a folder: looked for at every event and
//     every Poll.
//
// # Restart
//
// New with a stored Position looks, in this order, for its file: at the
// path (same inode, same first bytes, at least Offset bytes); among the
// rotated siblings with the same inode and first bytes (renamed); among
// the rotated siblings, newest first, with the same first bytes (a copy,
// or gzip'ed: a .gz file is unpacked to compare, and to skip to Offset).
// It reads the rest of that file, then every rotated sibling newer than
// it, whole and oldest first, then the file at the path. The rotated
// siblings of PATH are the regular files of its folder named
//
//	PATH.N       PATH.N.gz        N of 1 to 4 digits: the larger, the older (logrotate, savelog)
//	PATH-STAMP   PATH-STAMP.gz    STAMP: digits, '-' and '_' with at least 6 digits,
//	PATH.STAMP   PATH.STAMP.gz    a date or time: the larger, the newer (logrotate's dateext)
//
// stamped files being older than numbered ones (a folder uses one scheme).
// When NAME and NAME.gz both exist (gzip at work), NAME is read. Other
// compressions (.bz2, .xz, .zst) are not read.
//
// What cannot be recovered: a stored Position whose file was deleted (or
// compressed other than with gzip) while the service was down, a rotated
// file deleted before its turn, or data lost by copytruncate itself. The
// first is reported as a Gap of an unknown number of bytes (Bytes -1) with
// the first chunk, and reading starts at the beginning of the file at the
// path: the rotated files between the lost one and the path cannot be
// placed and are not read. A Position with no fingerprint (Head 0, made by
// hand) is recognised by its inode only.
//
// # Bounds
//
// A line longer than Options.MaxLine (detect's --max-line; 64 KiB by
// default) is skipped or cut to MaxLine bytes (Options.Long), as it streams
// past: it is never held whole. A Chunk holds at most Options.ChunkSize
// bytes (256 KiB by default, and at least MaxLine+1), which is the
// Follower's buffer: a Follower's memory is that buffer and 1 KiB.
//
// # Context and resources
//
// Next waits as long as it takes, and returns at once when its context is
// done (unpacking a gzip'ed file to a stored offset looks at the context
// every 64 KiB). Close releases every descriptor, the fsnotify watch and
// its goroutine.
package follow
