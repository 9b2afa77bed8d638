package param

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration that reads and writes as text in scenario
// files ("21s", "90m", "36h", "3d"). The suffix "d" (24 hours) is accepted
// on top of time.ParseDuration's units because worm calendars speak in days.
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Seconds returns the duration in seconds.
func (d Duration) Seconds() float64 { return time.Duration(d).Seconds() }

// String formats the duration the way ParseDuration reads it.
func (d Duration) String() string {
	td := time.Duration(d)
	if td != 0 && td%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", td/(24*time.Hour))
	}
	s := td.String()
	// time.Duration prints "1h0m0s"; trim the zero tails for readability.
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// ParseDuration reads "3d", "36h", "21s", "1h30m", "1.5d", "2d12h", "-3d"
// and the like: time.ParseDuration's syntax, with an optional leading
// number of days.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration (want a number with a unit, like \"21s\" or \"3d\")")
	}
	bad := func() (Duration, error) {
		return 0, fmt.Errorf("duration %q: want a number with a unit (ns, us, ms, s, m, h, d), like \"21s\" or \"3d\"", s)
	}
	body, neg := s, false
	if body[0] == '-' || body[0] == '+' {
		neg, body = body[0] == '-', body[1:]
	}
	var days float64
	if i := strings.IndexByte(body, 'd'); i >= 0 {
		var err error
		days, err = strconv.ParseFloat(body[:i], 64)
		if err != nil || i == 0 || strings.ContainsAny(body[:i], "eEpPxX_+-") {
			return bad()
		}
		body = body[i+1:]
	}
	var rest time.Duration
	if body != "" {
		if body[0] == '-' || body[0] == '+' {
			return bad()
		}
		var err error
		if rest, err = time.ParseDuration(body); err != nil {
			return bad()
		}
	}
	total := days*float64(24*time.Hour) + float64(rest)
	if math.IsNaN(total) || total >= math.MaxInt64 {
		return 0, fmt.Errorf("duration %q is too long", s)
	}
	if neg {
		total = -total
	}
	return Duration(math.Round(total)), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }
