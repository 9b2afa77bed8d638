-- 1: what a restart needs to go on exactly: the inputs with their
-- positions and reader states, the detect records of every batch, and the
-- watch's snapshot (an append-only log and a hot part).
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE inputs (
	id       INTEGER PRIMARY KEY,            -- the order inputs were first seen: their order in reports
	key      TEXT NOT NULL UNIQUE,           -- kind and path: the input's identity
	name     TEXT NOT NULL,                  -- its name in reports
	sensor   TEXT NOT NULL,                  -- the sensor its records count for
	position TEXT NOT NULL DEFAULT '',       -- where the results stored end (ingest/follow Position text); '' from the start
	reader   BLOB,                           -- the reader's state at that position (detect.LineReader.MarshalState)
	report   BLOB                            -- its entry in reports (detect.Input as JSON), for an input no longer read
);

CREATE TABLE batches (
	id         INTEGER PRIMARY KEY,
	created_ns INTEGER NOT NULL,
	records    BLOB NOT NULL                 -- the records that count in detect's report, in the order read
);

CREATE TABLE watch_log (
	id   INTEGER PRIMARY KEY,
	data BLOB NOT NULL                       -- watch.Snapshot.Log parts, in order
);

CREATE TABLE watch_hot (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	data BLOB NOT NULL                       -- watch.Snapshot.Hot, the latest
);
