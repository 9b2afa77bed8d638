// Package watch is the online analysis of wormwatch serve: records from
// sensors in, per sensor and class (every counted record, each signature
// family; connection attempts per port once detect has them) a sensor
// series of fixed intervals, the early-warning filter of package forecast
// fed as each interval closes, and an alarm state machine whose
// transitions are events. It does no I/O and has no clock of its own: time
// comes from the records (and from Advance), so the same records give the
// same series, steps and events whether they come at once or in pieces,
// live or in batch. docs/serve.md ("watch") says the same with the
// settings.
//
// # Series
//
// Each series has the columns of a sensor series (docs/output.md): per
// interval, the probes (records), the distinct sources, the sources seen
// for the first time, and the cumulative sources; the counts are exact.
// A series starts at the interval of its first record and has a row for
// every interval after it, zero rows included.
//
// # When intervals close
//
// Each sensor has a clock: the latest interval of its records. An
// interval closes when a record of an interval Lateness or more after it
// arrives (Lateness 1: when a record of any later interval arrives), or
// when Advance(t) says every record before t has arrived (the intervals
// that end at or before t close), or at Flush (every interval up to the
// latest record's). A record of an open interval counts exactly: the
// Lateness intervals before the latest keep their sets of sources. A
// record of an interval already closed is late: it is counted in the late
// counters and in the probes of its interval's row (of each of its series
// that has that row), and nowhere else: its source is not in that row's
// sources, and if it was the source's first sighting, the source counts
// as new when it is next seen. The filter's rows do not get the late
// probes (it does not use probes).
//
// # The filter and the state machine
//
// When a row closes, the series' forecast.Monitor takes it (the same code
// as forecast.Analyze) and the state machine moves on the step (see
// State): quiet, watching (the step's Trend), alarm (the alarm rule
// fired), subsiding (Subside without a trend after it), and quiet again
// after Quiet more; then the filter restarts on the next row, counting the
// sources seen from there on as a sensor started then would, so that a
// second wave (Code Red's restart on 1 August) raises a new alarm.
//
// # Series of rows
//
// RowSeries is a series fed with its rows instead of records: a remote
// sensor's series as the sensor counted and sent it. Each row goes
// through the same filter and state machine (and the same rule, with the
// durations counted in its own intervals); its rows are its whole state.
// A restart after quiet counts, for want of the sources, the rows' new
// sources from there on.
//
// # Sensor size
//
// A sensor declared far too small for what it sees (a /16 telescope given
// as one address) drives the filter's estimates to overflow; SeriesInfo
// then carries the filter's forecast.SizeError.
//
// # Snapshots
//
// Checkpoint, Full and Restore save and restore everything a Watch holds:
// a restored Watch goes on exactly as the saved one would have. See
// Snapshot for the parts and their sizes.
//
// # Memory
//
// A Watch keeps per sensor its distinct sources (about 20 bytes each for
// an IPv4 address in canonical form, about 60 plus the text otherwise),
// per series and source about 40 bytes (24 in a table by source id, which
// a series takes once it has a quarter of its sensor's sources), and per
// series its rows and the filter's steps (about 220 bytes a row, at most
// forecast.MaxRows rows). Settings.MaxSeries and Settings.MaxSources cap
// the series and the sources; a record past a cap is refused with an
// error, as is one that would make a series longer than forecast.MaxRows.
package watch
