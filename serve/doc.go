// Package serve is the live service of wormwatch (wormwatch serve): it
// follows web-server and Zeek logs and reads packet captures as they come,
// counts what detect counts and what watch computes (series, the
// early-warning filter, alarm states), commits the results with the
// inputs' positions to the store in one transaction every commit
// interval, and answers an HTTP API: the same JSON as wormwatch detect
// and wormwatch forecast, the series and their rows, the alarm
// transitions, a stream of updates (Server-Sent Events), pushes of remote
// sensors' series, health and readiness.
//
// It is wiring only: the readers are detect's and ingest/packet's, the
// followers ingest/follow's, the analysis watch's and detect's, the state
// store's. docs/serve.md is the user's page (configuration, inputs, the
// API, restart semantics, signals).
//
// # One writer
//
// One goroutine per input reads (a follower's chunks of lines, a
// capture's records) and hands its chunks to the ingest loop, the one
// goroutine that owns the readers' states, the signature matcher, the
// detect analyzer and the watch. Every commit interval the loop builds a
// store.Batch (positions, reader states, the records that count in detect's
// report, the watch's checkpoint, closed rows, transitions, forecasts)
// and commits it in one transaction: a process killed at any moment
// restarts from the last commit and reads again what came after it,
// so nothing is lost and nothing counted twice. After each commit an
// Update goes to the subscribers (the event stream).
//
// # Time
//
// The watch has no clock: its intervals close when records of later
// intervals arrive. A live sensor that falls quiet would keep its last
// intervals open, so on each commit the loop advances each sensor whose
// latest record is recent (within Settings.ClockWindow of the wall clock)
// to the wall clock less Settings.ClockDelay. Old logs read now (a 2001 log
// in 2026) are never advanced: their series close as batch would close
// them.
package serve
