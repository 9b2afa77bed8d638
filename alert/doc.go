// Package alert delivers the alarm transitions of wormwatch serve: when a
// series' alarm opens, changes or closes (and, on request, when it starts
// or stops watching a trend), a signed JSON POST to each webhook that asks
// for it, a STIX 2.1 bundle (an indicator and a sighting, written by
// package share) and a draft CSAF 2.0 advisory (share's document types).
//
// # The outbox
//
// Nothing is sent from the ingest loop. Plan (or AddDeliveries) turns the
// transitions of a batch into outbox entries (store.Delivery) that the
// store commits in the transaction of the transitions themselves
// (store.Batch.Deliveries, linked by TransitionIndex): a transition is
// stored with its deliveries or not at all, and a kill -9 loses neither.
// The STIX bundles and CSAF drafts are documents for the page and the API,
// stored as Sent at once; the webhook deliveries are Pending, and a
// Deliverer works them off: it POSTs those that are due (store.Due),
// records every try (store.Settle), waits longer after each failure
// (exponential backoff with jitter, a receiver's Retry-After honoured),
// and leaves a delivery that failed Config.MaxAttempts times, or was
// refused for good (a 4xx other than 408, 425 and 429, a redirect), as a
// dead letter (store.Dead) for the page to list and Redeliver to try
// again.
//
// Delivery is at least once: a receiver may get a delivery again (the
// service stopped after the POST and before recording it); the
// X-Wormwatch-Delivery header and the payload's delivery_id are the key to
// drop the repeat.
//
// # Signatures
//
// Each POST carries X-Wormwatch-Timestamp (Unix seconds) and
// X-Wormwatch-Signature: "sha256=" and the hex HMAC-SHA256, keyed with the
// webhook's secret, of the timestamp, a dot and the body. Verify checks
// both; docs/serve.md ("Alerts") shows the check in Go and with openssl.
//
// # Wiring
//
// serve embeds Config as its [alert] table; Hook is its BatchHook (the
// deliveries of each batch's new transitions, planned before the commit);
// a Deliverer on serve's store runs beside the ingest loop, woken after
// each commit (Wake), and takes a reloaded configuration (SetConfig).
package alert
