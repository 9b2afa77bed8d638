package sensor

import (
	"fmt"
	"math"
	"time"

	"wormwatch/internal/param"
	"wormwatch/ipv4"
)

// Kind names what a sensor is (sensor.kind): one of the kinds registered
// in kinds.
type Kind string

// The kinds of sensors.
const (
	KindTelescope Kind = "telescope" // a block of unused addresses
	KindWebServer Kind = "webserver" // one web server that logs what it gets
)

// kind is what one kind of sensor does.
type kind struct {
	// oneAddress: the sensor watches a single address.
	oneAddress bool
	// window returns the stretch of the run (seconds from its start,
	// which is at start and lasts end seconds) in which the sensor
	// records every probe it gets, or ok = false for none.
	window func(p Params, start time.Time, end float64) (from, to float64, ok bool)
}

// kinds are the kinds of sensors, in the order the documentation lists
// them.
var kinds = param.NewRegistry[Kind, kind]("sensor kind")

func init() {
	kinds.Register(KindTelescope, 0, "a block of unused addresses that records every probe sent into it", kind{window: captureWindow})
	kinds.Register(KindWebServer, 1, "one web server that logs every probe it receives (sensors/<name>.log, Apache combined format)", kind{
		oneAddress: true,
		window:     func(Params, time.Time, float64) (float64, float64, bool) { return 0, math.Inf(1), true },
	})
}

// Enum lists the kinds of sensors (see param.Enumerated).
func (Kind) Enum() []string { return kinds.Names() }

// ParamDoc documents the kinds of sensors, for sensor.kind.
func (Kind) ParamDoc() string { return kinds.Doc() }

// captureWindow is a telescope's capture: capture long from
// capture_start (empty: the run's start), cut at the run's end; none when
// capture is 0.
func captureWindow(p Params, start time.Time, end float64) (from, to float64, ok bool) {
	if p.Capture <= 0 {
		return 0, 0, false
	}
	if !p.CaptureStart.IsZero() {
		from = p.CaptureStart.Sub(start).Seconds()
	}
	return from, math.Min(from+p.Capture.Seconds(), end), true
}

// CheckPrefix returns the block sensor p watches in space sp, or an error
// when its prefix does not read or holds more than one address for a kind
// that watches one (a web server).
func CheckPrefix(p Params, sp ipv4.Space) (ipv4.Range, error) {
	k, err := kinds.Get(p.Kind)
	if err != nil {
		return ipv4.Range{}, err
	}
	r, err := sp.ParsePrefix(p.Prefix)
	if err != nil {
		return r, err
	}
	if k.oneAddress && r.Len() != 1 {
		return r, fmt.Errorf("a web server has one address, and %s covers %d in a %d-bit space (want an address, or a /%d)", p.Prefix, r.Len(), sp.Bits, sp.Bits)
	}
	return r, nil
}
