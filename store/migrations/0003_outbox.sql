-- 3: the outbox of alert deliveries (webhooks, STIX bundles, CSAF
-- drafts), written in the transaction of the transition that causes them
-- and worked off by a deliverer.
CREATE TABLE deliveries (
	id            INTEGER PRIMARY KEY,
	transition_id INTEGER REFERENCES transitions (id),
	channel       TEXT NOT NULL,             -- webhook, stix, csaf, ...
	target        TEXT NOT NULL,             -- where to: a URL, a folder's name, ...
	payload       BLOB NOT NULL,
	state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead')),
	attempts      INTEGER NOT NULL DEFAULT 0,
	next_ns       INTEGER NOT NULL,          -- not before this time
	last_error    TEXT NOT NULL DEFAULT '',
	created_ns    INTEGER NOT NULL,
	updated_ns    INTEGER NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (state, next_ns);
