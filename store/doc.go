// Package store is the embedded store of wormwatch serve: one SQLite
// database under the service's data folder (--data DIR), made on first use
// with nothing to install or set up.
//
// # Why SQLite, and why this driver
//
// SQLite through modernc.org/sqlite, a translation of SQLite's C sources
// to Go: the program stays one static binary, built without cgo. SQLite
// rather than a key-value store (bbolt) because the service and the work
// after it (the dashboard, alert deliveries, the TAXII server and the
// sharing alliance) ask questions of the data, "the rows of this series
// between two times", "the transitions since this one", "the deliveries
// due now", that are SQL queries over indexed tables, not scans of keys.
// The whole state is one file (and, while the service runs, its -wal and
// -shm companions), which a person can copy, back up and open with the
// sqlite3 shell. The database runs in WAL mode: readers (the HTTP API)
// read a consistent state beside the one writer (the ingest loop) without
// waiting for it, and a commit is one append to the log. A process killed
// at any moment (kill -9, a crash) leaves the database as of its last
// commit: SQLite replays or discards the log when it is next opened.
// synchronous=NORMAL makes a commit durable against the process dying;
// against a power cut the last commits may be lost, never half of one,
// and since every commit holds results together with the input positions
// that produced them, what is lost is read again.
//
// # The one rule
//
// Commit writes a Batch in one transaction: the results of a batch of input
// (the records detect's report counts, the watch's snapshot, series rows,
// alarm transitions, forecasts, outbox entries) and the positions of the
// inputs after the lines that produced them, with the readers' states at
// those positions. A kill -9 can therefore neither lose nor repeat a
// record: after a restart the inputs resume at the stored positions, and
// the state is the stored one.
//
// # Schema and migrations
//
// The schema is built by numbered migrations (migrations/NNNN_name.sql,
// embedded), each applied in its own transaction together with the
// database's PRAGMA user_version, which says how many have been applied.
// Open applies those missing, so a data folder made by an older wormwatch
// is brought up to date, and refuses one made by a newer wormwatch. A
// migration may change no table: version 5 marks the newer encodings of
// the blobs (serve's records, the watch log) that a program of version 4
// could not read, so that such a program refuses the folder. The tables:
//
//	meta         key-value facts about the data (the signature families the matches refer to)
//	inputs       per input: identity, name in reports, sensor, position, reader state, last report entry
//	batches      per commit: the records that count in detect's report (matched requests, attempts,
//	             the span of the others), from which the detect analyzer is rebuilt at start
//	watch_log    the watch's append-only snapshot log (watch.Snapshot.Log), compacted by a full save
//	watch_hot    the watch's hot part (watch.Snapshot.Hot)
//	series       per series: key, sensor, kind, name, size, interval, origin (watch or remote)
//	series_rows  per series and interval: probes, sources, new_sources, cumulative_sources
//	transitions  the alarm state machines' transitions, with the step's estimates
//	forecasts    forecasts made as series closed rows in alarm, as forecast --format json writes them
//	deliveries   the outbox of alert deliveries (state pending, sent or dead; attempts; next try)
//
// A Store is safe for concurrent use: writes go through one connection,
// reads through a pool of read-only ones.
package store
