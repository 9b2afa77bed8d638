-- The TAXII server's objects: one row per version posted to a collection.
-- seq orders them (the order of date_added); deleted versions keep their
-- row without their data, so that the audit log can still name them.
CREATE TABLE objects (
  seq        INTEGER PRIMARY KEY,
  collection TEXT    NOT NULL,
  id         TEXT    NOT NULL,
  version    TEXT    NOT NULL,  -- modified, created or date_added, as the object writes it
  version_ns INTEGER NOT NULL,
  date_added INTEGER NOT NULL,  -- microseconds since 1970, unique and increasing with seq
  type       TEXT    NOT NULL,
  tlp        INTEGER NOT NULL,  -- 0 clear .. 4 red, as served (the collection's floor applied)
  poster     TEXT    NOT NULL,  -- the member that posted it
  recipients TEXT    NOT NULL DEFAULT '', -- RED: member names, comma-separated
  data       BLOB,              -- the object, compact JSON; NULL once deleted
  deleted    INTEGER            -- when it was deleted (microseconds), NULL while present
);
CREATE INDEX objects_id ON objects (id); -- the audit log's queries by object; (collection, id, version) is unique by the server's checks

-- Status resources of POSTs, as served (JSON), readable by their poster.
CREATE TABLE statuses (
  id         TEXT PRIMARY KEY,
  poster     TEXT    NOT NULL,
  collection TEXT    NOT NULL,
  requested  INTEGER NOT NULL,  -- microseconds
  body       BLOB    NOT NULL
);

-- The audit log: one row per request answered, who, what, when.
CREATE TABLE audit (
  seq        INTEGER PRIMARY KEY,
  at         INTEGER NOT NULL,  -- microseconds
  member     TEXT    NOT NULL,  -- '' when not authenticated
  credential TEXT    NOT NULL,  -- basic, bearer, certificate or ''
  remote     TEXT    NOT NULL,
  action     TEXT    NOT NULL,
  collection TEXT    NOT NULL DEFAULT '',
  object     TEXT    NOT NULL DEFAULT '',
  query      TEXT    NOT NULL DEFAULT '',
  status     INTEGER NOT NULL,
  count      INTEGER NOT NULL DEFAULT 0,
  seq_min    INTEGER,           -- the object versions served or written: their seqs,
  seq_max    INTEGER,           -- from seq_min to seq_max,
  seqs       BLOB               -- packed by packSeqs (taxii/db.go): a format byte, then uvarint deltas or runs
);
CREATE INDEX audit_member ON audit (member, seq);
CREATE INDEX audit_collection ON audit (collection, seq);
CREATE INDEX audit_objects ON audit (seq_max, seq_min);
