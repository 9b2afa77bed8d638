// Package notify tells network owners that their machines are infected:
// item 5 of the sharing alliance (issue 10), "Telling owners".
//
// From detections (a detect.Report, detect's JSON report, members' STIX
// sightings) it gathers the infected sources (Source), finds the owner of
// each address (Owners: the operator's table of prefixes with abuse
// contacts, longest prefix first, then RIR delegation files in the RIR
// statistics exchange format), leaves out what the opt-out list names, and
// groups the rest into one Notice per owner (Plan). A notice is written as
// plain text for a person (what was seen, when, from which addresses, what
// it means, how to clean and patch, the advisory links) and as CSV with
// one row per address in the columns of Shadowserver's "Honeypot HTTP
// Scanner Events" report (Write, WriteText, WriteCSV), and sent as one
// e-mail with the CSV attached over SMTP with STARTTLS (Sender): at most
// Rate messages a second, every address reported once per window (State,
// kept in SQLite across runs), every message recorded in a ledger.
//
// Bad input (an owner table, a delegation file, an opt-out list, a report
// or bundle) is an *InputError naming the file, line and field.
//
// Job is a whole run, one copy of those steps: the owners and opt-out list
// read once (NewJob), then at each Run the notices planned, those of
// addresses reported in the window left out, written into a new folder
// and sent. `wormwatch notify` runs one; `wormwatch serve` keeps one for
// its [notify] table and runs it on request and on a schedule, on what its
// detect analyzer counted and the sightings of its TAXII server
// (ReadObjects) (docs/share.md, "Telling owners").
//
// The package reads detect's report but never the engine: it works on real
// detections.
package notify
