package serve

import (
	"bytes"
	"context"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"wormwatch/detect"
)

// FuzzQueries gives the API's parsers of query parameters any query:
// none panics, and what they accept holds to their bounds.
func FuzzQueries(f *testing.F) {
	for _, s := range []string{"", "from=2001-07-19T10:00:00Z&to=2001-07-20T00:00:00Z&limit=10&format=csv", "limit=0", "limit=1&limit=2",
		"sensor=web&family=codered2", "sensor=web&port=tcp/80", "sensor=web&port=udp/065535", "after=12&series=web/port/tcp/80", "x=%zz", "after=-1", "from=1e9",
		"state=dead&channel=webhook&limit=10", "state=sent&before=17", "channel=stix&before=0"} {
		f.Add(s, "")
	}
	f.Add("", "17")
	f.Fuzz(func(t *testing.T, raw, lastID string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		if rq, err := parseRowsQuery(q); err == nil {
			if rq.limit < 1 || rq.limit > MaxRowsLimit {
				t.Fatalf("%q: limit %d", raw, rq.limit)
			}
			if !rq.from.IsZero() && !rq.to.IsZero() && !rq.from.Before(rq.to) {
				t.Fatalf("%q: from %v not before to %v", raw, rq.from, rq.to)
			}
		}
		if key, err := parseForecastQuery(q); err == nil {
			if err := checkSeriesKey(key); err != nil {
				t.Fatalf("%q: key %q accepted, but %v", raw, key, err)
			}
		}
		if tq, err := parseAlarmsQuery(q); err == nil {
			if tq.AfterID < 0 || tq.Limit < 1 || tq.Limit > MaxTransitionsLimit || tq.Series != "" && checkSeriesKey(tq.Series) != nil {
				t.Fatalf("%q: %+v", raw, tq)
			}
		}
		if after, ok, err := parseLastEventID(lastID, q); err == nil && ok && after < 0 {
			t.Fatalf("%q %q: after %d", raw, lastID, after)
		}
		if dq, err := parseDeliveriesQuery(q); err == nil {
			if !slices.Contains([]string{"", "pending", "sent", "dead"}, dq.State) || !slices.Contains([]string{"", "webhook", "stix", "csaf"}, dq.Channel) ||
				dq.BeforeID < 0 || dq.Limit < 1 || dq.Limit > MaxDeliveriesLimit {
				t.Fatalf("%q: %+v", raw, dq)
			}
		}
	})
}

// FuzzIDs gives the parser of the outbox's IDs (in paths and in before=)
// and the forms of the documents' own ids any text: an ID is accepted
// exactly when it is the decimal form of a number from 1 (no sign, no
// leading zero, no space), and a document id only in its one form.
func FuzzIDs(f *testing.F) {
	for _, s := range []string{"1", "42", "0", "01", "-1", "+1", " 1", "1 ", "1e3", "0x10", "9223372036854775807", "9223372036854775808", "99999999999999999999", "",
		"bundle--0f2e4a1c-9d7b-5e3f-8a6b-1c2d3e4f5a6b", "WORMWATCH-LIVE-0123456789AB", "WORMWATCH-LIVE-0123456789ab", "../etc/passwd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		n, err := parseID(v)
		if want := strconv.FormatInt(n, 10) == v && n >= 1; (err == nil) != want {
			t.Fatalf("parseID(%q) = %d, %v", v, n, err)
		}
		for _, form := range []*regexp.Regexp{stixIDForm, csafIDForm} {
			if form.MatchString(v) && (len(v) != 44 && len(v) != 27 || strings.ContainsAny(v, "/.%\\ \n")) {
				t.Fatalf("%q accepted as a document id", v)
			}
		}
	})
}

// FuzzPush gives the parser of remote pushes any body: it never panics,
// and a series it accepts is a sensor series forecast would read
// (increasing times, equally spaced, counts that fit), which writes back
// as CSV and reads again the same.
func FuzzPush(f *testing.F) {
	f.Add("text/csv", []byte("time,probes,sources,new_sources,cumulative_sources,size\n2001-07-19T10:00:00Z,3,2,2,2,65536\n2001-07-19T10:01:00Z,5,3,1,3,65536\n"), int64(0))
	f.Add("application/json", []byte(`{"size": 1, "interval_seconds": 60, "rows": [{"time": "2001-07-19T10:01:00Z", "probes": 6, "sources": 3, "new_sources": 3, "cumulative_sources": 3}]}`), int64(0))
	f.Add("application/json; charset=utf-8", []byte(`{"size": 1, "rows": [{"time": "2001-07-19T10:01:00.5Z"}]}`), int64(60))
	f.Add("", []byte("size,time,probes,sources,new_sources,cumulative_sources\n1,2001-07-19T10:00:00Z,1,1,1,1\n"), int64(300))
	f.Fuzz(func(t *testing.T, ct string, body []byte, seconds int64) {
		interval := time.Duration(seconds) * time.Second
		sr, err := parsePush(context.Background(), "far", ct, body, interval, 1<<20)
		if err != nil {
			return
		}
		k := sr.Series
		if len(sr.Rows) == 0 || k.Interval < time.Second || k.Interval%time.Second != 0 || k.Size < 1 || k.Origin != "remote" || k.Key != "far" {
			t.Fatalf("accepted %+v with %d rows", k, len(sr.Rows))
		}
		for i, r := range sr.Rows {
			if r.NewSources < 0 || r.Sources < r.NewSources || r.Probes < r.Sources || i > 0 && !r.Time.Equal(sr.Rows[i-1].Time.Add(k.Interval)) {
				t.Fatalf("row %d accepted: %+v", i, r)
			}
		}
		var csv bytes.Buffer
		if err := writeSeriesCSV(&csv, sr.Rows, k.Size); err != nil {
			t.Fatal(err)
		}
		again, err := parsePush(context.Background(), "far", "text/csv", csv.Bytes(), k.Interval, 1<<20)
		if err != nil || !slices.Equal(again.Rows, sr.Rows) || again.Series != k {
			t.Fatalf("written back and read again: %v", err)
		}
	})
}

// FuzzRecords gives the decoder of stored records any bytes: it never
// panics, and records encoded then decoded come back the same.
func FuzzRecords(f *testing.F) {
	var l recordLog
	l.add(&detect.Record{Time: time.Unix(1e9, 5), Source: []byte("10.1.2.3")}, []int{0, 3})
	l.add(&detect.Record{Time: time.Unix(1e9, 7), Source: []byte("10.1.2.4"), Attempt: true, Transport: detect.TCP, DstPort: 445}, nil)
	l.add(&detect.Record{Time: time.Unix(2e9, 0), Source: []byte("h")}, nil)
	f.Add(l.take())
	f.Add([]byte{1, 1, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		var got []detect.Record
		var fams [][]int
		err := decodeRecords(data, func(rec *detect.Record, fs []int) error {
			got = append(got, cloneRecord(rec))
			fams = append(fams, slices.Clone(fs))
			return nil
		})
		if err != nil {
			return
		}
		var l recordLog
		for i := range got {
			if got[i].Attempt || len(fams[i]) > 0 {
				l.add(&got[i], fams[i])
			}
		}
		n := 0
		if err := decodeRecords(l.take(), func(rec *detect.Record, fs []int) error {
			for got[n].Attempt == false && len(fams[n]) == 0 {
				n++ // spans are not re-encoded here
			}
			if !rec.Time.Equal(got[n].Time) || !bytes.Equal(rec.Source, got[n].Source) || rec.Attempt != got[n].Attempt || !slices.Equal(fs, fams[n]) {
				t.Fatalf("record %d: %+v %v, want %+v %v", n, rec, fs, got[n], fams[n])
			}
			n++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
}
