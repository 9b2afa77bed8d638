// Package csafsite is a CSAF 2.0 trusted provider (OASIS CSAF 2.0, section
// 7): it serves security advisories the way the standard asks of the role
// csaf_trusted_provider, so that the BSI's csaf_checker finds no error and
// csaf_downloader fetches every advisory and verifies it.
//
// # What it serves
//
// Under /.well-known/csaf/: provider-metadata.json (the role, the
// publisher, the distributions, the OpenPGP key and its fingerprint), the
// ROLIE service document service.json, the public key openpgp/FPR.asc, and
// the TLP folder white/ with index.txt, changes.csv, the ROLIE feed
// csaf-feed-tlp-white.json and its category document, and one folder per
// year of initial release holding each advisory, its .sha256 and .sha512
// files and its detached OpenPGP signature .asc. Every folder has an HTML
// listing. /.well-known/security.txt carries the CSAF field, and the host
// csaf.data.security.HOST answers provider-metadata.json at /.
//
// # Where the advisories come from
//
// From the operator's folder (Config.Folder, read at each start) and from
// Publish at run time. Every document is checked before it is served:
// UTF-8 JSON without repeated member names, valid against the CSAF 2.0 JSON
// schema (with the BSI's validator, github.com/gocsaf/csaf/v3/csaf, the one
// the checker uses), TLP:WHITE (the site is public: AMBER and RED need access
// control, GREEN stays within its community), not a draft. A published
// advisory is written to the data folder (<data>/csaf/advisories/white/
// YEAR/NAME.json) with internal/atomicfile, so a kill -9 at any moment
// leaves it whole or absent; a new revision replaces it when its
// current_release_date is later.
//
// # Signatures
//
// Every advisory is signed when it is loaded or published, with the key of
// Config.KeyFile (an armored private key, optionally encrypted) or, when
// none is configured, an Ed25519 key generated at the first start and kept
// in <data>/csaf/signing-key.asc (mode 0600, in a 0700 folder). Signatures
// are made again at each start (go-crypto salts each one, so the .asc bytes
// change while staying valid for the same key).
//
// # Mounting
//
// New opens a site from a Config (the [csaf] table, declared with package
// param's tags) and a data folder; Handler serves it, and Patterns lists the
// net/http.ServeMux patterns to mount it under. TLS is the server's:
// base_url must be https.
package csafsite
