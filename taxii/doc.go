// Package taxii is wormwatch's TAXII 2.1 server for a sharing alliance:
// member organisations with credentials, trust groups, collections with
// read and write rights per group, and TLP 2.0 enforced on every read.
//
// # Resources
//
// Handler serves, under /taxii2/ (Prefix): discovery (/taxii2/), one API
// root (/taxii2/ROOT/), its collections, each collection's objects (GET,
// POST), objects by id (GET, DELETE), their versions, the manifest, and
// the status resources of POSTs, with the media type
// application/taxii+json;version=2.1 (406 when the Accept header does not
// admit it, 415 for a POST of another type), pagination by limit, next
// and more with the X-TAXII-Date-Added-First and -Last headers, and the
// filters added_after and match[id], match[type], match[version],
// match[spec_version]. /taxii2/audit/ serves the audit log to admins.
//
// Every posted object is validated against the OASIS STIX 2.1 JSON
// schemas (embedded in stixschemas/) and the server's rules (a type of
// STIX 2.1, spec_version 2.1, markings that refer to known definitions,
// recipients that are members); each object refused is listed with its
// reason in the POST's status resource, and the others are stored.
//
// # Who sees what
//
// A version is served at the more restrictive of its TLP marking (TLP 2.0
// or 1.0 marking-definition ids) and its collection's floor. Its poster's
// organisation always sees it; otherwise CLEAR goes to every member who
// may read the collection, GREEN to the community (members of kind member,
// not guests), AMBER to those who share with the poster a group that reads
// the collection, AMBER+STRICT to nobody else, RED to the members its
// x_tlp_recipients property names. A member never learns of a version it
// may not see: lists skip it and an object with no version it may see is
// 404, like one that does not exist.
//
// # Storage
//
// The objects are held in memory (an index and their bytes) for reading,
// and in SQLite (modernc.org/sqlite, WAL) for durability: a POST is
// answered only after its commit, so an acknowledged object survives
// kill -9. The audit log (who, what, when, and which object versions each
// request served or wrote) is in the same database: writes record their
// entry in their own transaction, reads theirs by group commit before they
// are answered. Server.Audit queries it.
//
// A page of objects is written from the objects' bytes in memory, which
// lie there comma-separated as in an envelope, with no copy; requests for
// pages are answered a few at a time (4 per processor), first come first
// served, the others waiting their turn.
package taxii
