-- 5: no change of the tables. Since this version the service writes the
-- records of batches in a newer encoding (serve's records version 2) and
-- IPv4 sources in the watch log in 4 bytes (watch's recSources2 records);
-- this version tells a program that knows only version 4, which cannot
-- read them, to refuse the data folder (a newer schema) instead of failing
-- on the first record it does not know. Data of version 4 is read as it is.
SELECT 1;
