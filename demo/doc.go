// Package demo makes the data of `wormwatch serve --demo`: a simulated Code
// Red telescope fed live, in accelerated time, so that a newcomer sees the
// alarm fire within two minutes with no data of their own.
//
// It works in two steps, so that the service reads the demo exactly as it
// reads real data (a followed log file) and never imports the engine:
//
//   - Generate runs the built-in scenario codered2-july19 (Code Red v2 on
//     19 July 2001) in-process for one seed, with a honeynet sensor: a /16
//     whose every address answers on port 80 and logs the request it gets
//     (as an active telescope such as iSink did), so that each of the
//     worm's probes into the block becomes one line
//     "GET /default.ida?NNNN..." of an Apache combined log. It takes about
//     two seconds and writes the whole day's log as the source file.
//   - Feed appends the source's lines to the live file in accelerated time
//     (DefaultSpeed simulated seconds per second of wall time), in batches,
//     keeping their 2001 timestamps: the service's analysis takes its time
//     from the records, never from the wall clock. It can rotate the live
//     file (rename and create) to show that following survives it, and loop.
//
// With the service's default watch settings, at the default speed and lead,
// the honeynet's alarm fires about a minute after the feed starts (the
// package's tests check that it lies between 30 and 90 seconds).
package demo
