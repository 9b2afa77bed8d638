package serve

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"

	"wormwatch/forecast"
	"wormwatch/internal/ipv4text"
)

// FuzzParseSources gives parseSources any body: it never panics; a body
// it takes gives intervals one interval apart on the service's intervals,
// no more than forecast's cap, each source once in its interval with 1
// probe or more; written again as a push, they read back the same. A body
// it refuses is refused with the line and the field where it can be told.
func FuzzParseSources(f *testing.F) {
	f.Add([]byte("time,source,probes\n2001-07-19T10:00:00Z,192.0.2.7,3\n2001-07-19T10:00:00Z,198.51.100.1,1\n2001-07-19T10:01:00Z,,0\n"))
	f.Add([]byte("time,source,probes\n2001-07-19T10:00:00Z,1.2.3.4,1\n2001-07-19T10:00:00Z,1.2.3.4,2\n"))
	f.Add([]byte("time,source,probes\n2001-07-19T10:00:30Z,1.2.3.4,1\n"))
	f.Add([]byte("time,source,probes\n\"2001-07-19T10:00:00Z\",\"1.2.3.4\",\"9223372036854775807\"\n2001-07-19T10:00:00Z,1.2.3.5,9223372036854775807\n"))
	f.Add([]byte("time,source,probes\n1970-01-01T00:00:00Z,,0\n1970-01-01T00:01:00Z,,0\n2261-12-31T23:59:00Z,,0\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		ivls, err := parseSources(body, time.Minute)
		if err != nil {
			return
		}
		if len(ivls) == 0 || len(ivls) > forecast.MaxRows {
			t.Fatalf("%d intervals taken", len(ivls))
		}
		var again bytes.Buffer
		again.WriteString("time,source,probes\n")
		for i, si := range ivls {
			if si.Time.UnixNano()%int64(time.Minute) != 0 || (i > 0 && si.Time.Sub(ivls[i-1].Time) != time.Minute) {
				t.Fatalf("interval %d at %s, after %v", i, si.Time, ivls[max(i-1, 0)].Time)
			}
			seen := map[uint32]bool{}
			at := si.Time.Format(time.RFC3339)
			if len(si.Sources) == 0 {
				fmt.Fprintf(&again, "%s,,0\n", at)
			}
			for _, s := range si.Sources {
				if seen[s.Src] || s.Probes < 1 {
					t.Fatalf("interval %s: source %d again or with %d probes", at, s.Src, s.Probes)
				}
				seen[s.Src] = true
				fmt.Fprintf(&again, "%s,%s,%d\n", at, ipv4text.Format(s.Src), s.Probes)
			}
		}
		back, err := parseSources(again.Bytes(), time.Minute)
		if err != nil || !reflect.DeepEqual(back, ivls) {
			t.Fatalf("written again and read back: %v\n%+v\n%+v", err, back, ivls)
		}
	})
}
