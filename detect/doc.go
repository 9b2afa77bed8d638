// Package detect finds Internet worms in web-server access logs.
//
// It reads Apache and nginx logs in the combined and common formats and IIS
// logs in the W3C extended format (plain or gzip, files, folders or a
// stream), normalises every line to a Record (time, source, method, path,
// query, status, bytes, user agent, referer) and matches it against a table
// of signatures kept as data: the embedded signatures.toml (Code Red I and
// II, Nimda, the WebDAV SEARCH overflow, Slapper and the generic Snort
// shapes), to which a user's own file adds or overrides families.
//
// An Analyzer reads any number of inputs in bounded memory (a buffer per
// input; per-source tables in flat arrays that are spilled to a temporary
// file past Options.Memory and merged exactly at the end; hourly and series
// counts bounded by the range of times) and returns a Report: per family
// lines, distinct sources and events, a per-source table, hourly counts and,
// on request, a sensor series in the schema of a simulated telescope. Lines
// it cannot read (too long, binary junk, invalid UTF-8, a truncated last
// line, a field that does not parse) are counted by reason, never fatal.
//
// detect never imports the simulation engine: it works on real data.
package detect
