package alert

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a webhook delivery besides Content-Type.
const (
	// HeaderDelivery is the delivery's id in the outbox: a receiver that
	// has seen it already drops the repeat (a delivery is retried until it
	// is acknowledged, so it can arrive twice).
	HeaderDelivery = "X-Wormwatch-Delivery"
	// HeaderEvent is the event: opened, changed, closed or watching.
	HeaderEvent = "X-Wormwatch-Event"
	// HeaderTimestamp is when the try was signed, in Unix seconds.
	HeaderTimestamp = "X-Wormwatch-Timestamp"
	// HeaderSignature is "sha256=" and the hex HMAC-SHA256, keyed with the
	// webhook's secret, of the timestamp, ".", and the body.
	HeaderSignature = "X-Wormwatch-Signature"
)

// DefaultTolerance is how far a delivery's timestamp may be from the
// receiver's clock for Verify with tolerance 0.
const DefaultTolerance = 5 * time.Minute

// Sign returns the value of the X-Wormwatch-Signature header for a body
// signed at timestamp (Unix seconds, as in X-Wormwatch-Timestamp):
// "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Errors of Verify.
var (
	ErrNoSignature  = errors.New("no X-Wormwatch-Signature or X-Wormwatch-Timestamp header")
	ErrBadSignature = errors.New("the signature does not match the body")
	ErrStale        = errors.New("the timestamp is too far from now (a replay?)")
)

// Verify checks a delivery as a receiver gets it: the headers h and the
// raw body, before any parsing. The signature must be Sign's with secret
// (compared in constant time), and the timestamp within tolerance of now
// (0: DefaultTolerance; negative: not checked), so a recorded delivery
// cannot be replayed later. A receiver should also drop a delivery id it
// has already accepted.
func Verify(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts, sig := h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if ts == "" || sig == "" {
		return ErrNoSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q: not Unix seconds", ts)
	}
	if tolerance == 0 {
		tolerance = DefaultTolerance
	}
	if tolerance > 0 {
		if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
			return fmt.Errorf("%w: %s off", ErrStale, d.Round(time.Second))
		}
	}
	want := Sign(secret, ts, body)
	for s := range strings.SplitSeq(sig, ",") {
		if hmac.Equal([]byte(strings.TrimSpace(s)), []byte(want)) {
			return nil
		}
	}
	return ErrBadSignature
}
