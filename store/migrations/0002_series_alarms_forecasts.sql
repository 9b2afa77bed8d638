-- 2: the results the API serves: series rows, alarm transitions and
-- forecasts.
CREATE TABLE series (
	id          INTEGER PRIMARY KEY,
	key         TEXT NOT NULL UNIQUE,        -- SENSOR, SENSOR/family/NAME or SENSOR/port/tcp/80
	sensor      TEXT NOT NULL,
	kind        TEXT NOT NULL,               -- all, family or port
	name        TEXT NOT NULL,               -- the family, tcp/80, or '' for all
	size        INTEGER NOT NULL,            -- the sensor's addresses
	interval_ns INTEGER NOT NULL
);

CREATE TABLE series_rows (
	series_id          INTEGER NOT NULL REFERENCES series (id),
	time_ns            INTEGER NOT NULL,     -- start of the interval
	probes             INTEGER NOT NULL,
	sources            INTEGER NOT NULL,
	new_sources        INTEGER NOT NULL,
	cumulative_sources INTEGER NOT NULL,
	PRIMARY KEY (series_id, time_ns)
) WITHOUT ROWID;

CREATE TABLE transitions (
	id           INTEGER PRIMARY KEY,
	series_id    INTEGER NOT NULL REFERENCES series (id),
	time_ns      INTEGER NOT NULL,           -- end of the interval whose step made the change
	from_state   TEXT NOT NULL,
	to_state     TEXT NOT NULL,
	detail       TEXT NOT NULL,              -- JSON: the step's estimates and the filter's alarm
	committed_ns INTEGER NOT NULL
);
CREATE INDEX transitions_series ON transitions (series_id, id);

CREATE TABLE forecasts (
	id           INTEGER PRIMARY KEY,
	series_id    INTEGER NOT NULL REFERENCES series (id),
	time_ns      INTEGER NOT NULL,           -- end of the last row analysed
	state        TEXT NOT NULL,              -- the series' state then
	analysis     TEXT NOT NULL,              -- JSON, as wormwatch forecast --format json writes it
	committed_ns INTEGER NOT NULL
);
CREATE INDEX forecasts_series ON forecasts (series_id, id);
