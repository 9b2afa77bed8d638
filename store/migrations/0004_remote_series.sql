-- 4: series pushed over HTTP by remote sensors beside those the service
-- counts itself, and transitions read by time.
ALTER TABLE series ADD COLUMN origin TEXT NOT NULL DEFAULT 'watch' CHECK (origin IN ('watch', 'remote'));
CREATE INDEX transitions_time ON transitions (time_ns, id);
