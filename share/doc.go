// Package share turns what wormwatch found and forecast into documents that
// other organisations' tools import:
//
//   - STIX 2.1 bundles (WriteSTIX): an indicator per worm family with a STIX
//     pattern on the request URL, a sighting per family with its count and
//     first and last seen, the sources as observed-data over ipv4-addr
//     objects, a TLP marking and an identity for wormwatch;
//   - CSAF 2.0 security advisories (WriteCSAF) for the hole Code Red used
//     (CVE-2001-0500, MS01-033), with the outbreak's forecast in the notes,
//     and a short page for people in HTML and Markdown (WriteHTML,
//     WriteMarkdown), all from an Outlook read from a run or replay folder
//     (ReadFolder).
//
// Every identifier is derived from content (UUIDv5), and every time stamp
// from the data, so the same input always gives byte-identical documents.
// The package never imports the engine: it works on detections from real logs
// as well as on simulated results. docs/share.md documents the mappings.
package share
