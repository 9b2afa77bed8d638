package serve

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"wormwatch/forecast"
	"wormwatch/internal/names"
	"wormwatch/results"
	"wormwatch/store"
)

// The bounds of the API's queries.
const (
	DefaultRowsLimit        = 100_000          // rows of a series by default
	MaxRowsLimit            = forecast.MaxRows // rows of a series at most
	DefaultTransitionsLimit = 1_000
	MaxTransitionsLimit     = 100_000
)

// queryParams checks that q holds only the keys allowed, each once, and
// returns a getter of their values.
func queryParams(q url.Values, allowed ...string) (func(string) string, error) {
	for k, v := range q {
		if !slices.Contains(allowed, k) {
			if len(allowed) == 0 {
				return nil, fmt.Errorf("unknown parameter %q (this endpoint takes none)", k)
			}
			return nil, fmt.Errorf("unknown parameter %q (allowed: %s)", k, strings.Join(allowed, ", "))
		}
		if len(v) > 1 {
			return nil, fmt.Errorf("parameter %q given %d times: give it once", k, len(v))
		}
	}
	return q.Get, nil
}

// rowsQuery are the parameters of GET /api/v1/series/{key}.
type rowsQuery struct {
	from, to time.Time // zero: no bound
	limit    int
	csv      bool
}

// parseRowsQuery reads from, to (RFC 3339 times), limit and format (json
// or csv).
func parseRowsQuery(q url.Values) (rowsQuery, error) {
	rq := rowsQuery{limit: DefaultRowsLimit}
	get, err := queryParams(q, "from", "to", "limit", "format")
	if err != nil {
		return rq, err
	}
	for _, p := range []struct {
		key string
		t   *time.Time
	}{{"from", &rq.from}, {"to", &rq.to}} {
		if v := get(p.key); v != "" {
			if *p.t, err = parseTime(v); err != nil {
				return rq, fmt.Errorf("%s=%s: %v", p.key, v, err)
			}
		}
	}
	if !rq.from.IsZero() && !rq.to.IsZero() && !rq.from.Before(rq.to) {
		return rq, fmt.Errorf("from=%s is not before to=%s", get("from"), get("to"))
	}
	if rq.limit, err = parseLimit(get("limit"), DefaultRowsLimit, MaxRowsLimit); err != nil {
		return rq, err
	}
	switch get("format") {
	case "", "json":
	case "csv":
		rq.csv = true
	default:
		return rq, fmt.Errorf("format=%s: allowed: json, csv", get("format"))
	}
	return rq, nil
}

// parseTime reads an RFC 3339 time within the times a series holds.
func parseTime(v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return t, errors.New("want an RFC 3339 time (2001-07-19T12:00:00Z)")
	}
	if t.Before(forecast.MinTime) || !t.Before(forecast.MaxTime) {
		return t, fmt.Errorf("want a time from %s to before %s", forecast.MinTime.Format(time.RFC3339), forecast.MaxTime.Format(time.RFC3339))
	}
	return t.UTC(), nil
}

// parseLimit reads a limit from 1 to most; "" is def.
func parseLimit(v string, def, most int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		return 0, fmt.Errorf("limit=%s: want a whole number from 1 to %d", v, most)
	}
	return n, nil
}

// parseForecastQuery reads the series of GET /api/v1/forecast: sensor,
// and family or port (tcp/80, udp/53), and returns its key.
func parseForecastQuery(q url.Values) (string, error) {
	get, err := queryParams(q, "sensor", "family", "port")
	if err != nil {
		return "", err
	}
	sensor, fam, port := get("sensor"), get("family"), get("port")
	if sensor == "" {
		return "", errors.New("sensor: missing (sensor=NAME, and family=F or port=tcp/80 for a series other than all its records)")
	}
	if err := names.Check(sensor); err != nil {
		return "", fmt.Errorf("sensor=%s: %v", sensor, err)
	}
	switch {
	case fam != "" && port != "":
		return "", errors.New("give family or port, not both")
	case fam != "":
		if err := names.Check(fam); err != nil {
			return "", fmt.Errorf("family=%s: %v", fam, err)
		}
		return sensor + "/family/" + fam, nil
	case port != "":
		p, err := parsePort(port)
		if err != nil {
			return "", fmt.Errorf("port=%s: %v", port, err)
		}
		return sensor + "/port/" + p, nil
	}
	return sensor, nil
}

// parsePort reads tcp/PORT or udp/PORT and returns it in its canonical
// form (no leading zeros).
func parsePort(v string) (string, error) {
	tr, p, ok := strings.Cut(v, "/")
	if !ok || tr != "tcp" && tr != "udp" {
		return "", errors.New("want tcp/PORT or udp/PORT")
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return "", errors.New("want a port from 0 to 65535")
	}
	return tr + "/" + strconv.FormatUint(n, 10), nil
}

// parseAlarmsQuery reads after (a transition ID), series (a key) and
// limit.
func parseAlarmsQuery(q url.Values) (store.TransitionQuery, error) {
	tq := store.TransitionQuery{}
	get, err := queryParams(q, "after", "series", "limit")
	if err != nil {
		return tq, err
	}
	if v := get("after"); v != "" {
		if tq.AfterID, err = strconv.ParseInt(v, 10, 64); err != nil || tq.AfterID < 0 {
			return tq, fmt.Errorf("after=%s: want a transition's ID (0 or more)", v)
		}
	}
	if v := get("series"); v != "" {
		if err := checkSeriesKey(v); err != nil {
			return tq, fmt.Errorf("series=%s: %v", v, err)
		}
		tq.Series = v
	}
	tq.Limit, err = parseLimit(get("limit"), DefaultTransitionsLimit, MaxTransitionsLimit)
	return tq, err
}

// checkSeriesKey checks the form of a series key: SENSOR,
// SENSOR/family/NAME or SENSOR/port/tcp/80.
func checkSeriesKey(key string) error {
	parts := strings.Split(key, "/")
	if err := names.Check(parts[0]); err != nil {
		return err
	}
	switch {
	case len(parts) == 1:
		return nil
	case len(parts) == 3 && parts[1] == "family":
		return names.Check(parts[2])
	case len(parts) == 4 && parts[1] == "port":
		p, err := parsePort(parts[2] + "/" + parts[3])
		if err == nil && p != parts[2]+"/"+parts[3] {
			err = errors.New("want the port without leading zeros")
		}
		return err
	}
	return errors.New("want SENSOR, SENSOR/family/NAME or SENSOR/port/tcp/PORT")
}

// parseLastEventID reads where an event stream resumes: the Last-Event-ID
// header (a commit number), or the parameter after; ok is false when
// neither is given (the stream starts at the next commit).
func parseLastEventID(header string, q url.Values) (after int64, ok bool, err error) {
	get, err := queryParams(q, "after")
	if err != nil {
		return 0, false, err
	}
	v, what := header, "Last-Event-ID"
	if v == "" {
		v, what = get("after"), "after"
	}
	if v == "" {
		return 0, false, nil
	}
	after, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || after < 0 {
		return 0, false, fmt.Errorf("%s %q: want a commit number (0 or more)", what, v)
	}
	return after, true, nil
}

// pushJSON is a pushed series as JSON.
type pushJSON struct {
	Size            uint64    `json:"size"`
	IntervalSeconds float64   `json:"interval_seconds"`
	Rows            []RowJSON `json:"rows"`
}

// pushLimits are the bounds of a pushed series: forecast's, from one row.
func pushLimits(maxBytes int64) results.SeriesLimits {
	lim := forecast.SeriesLimits
	lim.Reader, lim.MinRows, lim.MaxBytes = "serve", 1, maxBytes
	return lim
}

// parsePush reads a remote sensor's push: the sensor series CSV that
// detect --series writes (text/csv, or any type but JSON), or JSON
// (application/json: size, interval_seconds and rows). interval is the
// series' interval when the body cannot tell it (one row of CSV); 0 when
// not known. Every row is checked as forecast checks a series.
func parsePush(ctx context.Context, sensor, contentType string, body []byte, interval time.Duration, maxBytes int64) (store.SeriesRows, error) {
	var sr store.SeriesRows
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/json" {
		var err error
		if body, interval, err = pushToCSV(body, interval); err != nil {
			return sr, err
		}
	}
	s, err := results.ReadSensorSeries(ctx, bytes.NewReader(body), sensor, pushLimits(maxBytes))
	if err != nil {
		return sr, err
	}
	if s.Interval != 0 {
		interval = s.Interval
	}
	if interval <= 0 {
		return sr, errors.New("one row, and no interval known for this series: give ?interval=1m (or push two rows at least)")
	}
	if interval%time.Second != 0 {
		return sr, fmt.Errorf("interval %v: want whole seconds", interval)
	}
	sr.Series = store.SeriesKey{Key: sensor, Sensor: sensor, Kind: "all", Size: s.Size, Interval: interval, Origin: "remote"}
	for _, r := range s.Rows {
		sr.Rows = append(sr.Rows, store.Row{Time: r.Time, Probes: r.Probes, Sources: r.Sources, NewSources: r.NewSources, CumulativeSources: r.CumulativeSources})
	}
	return sr, nil
}

// pushToCSV turns a JSON push into the CSV that is checked, and returns
// its interval (or the one given).
func pushToCSV(body []byte, interval time.Duration) ([]byte, time.Duration, error) {
	var p pushJSON
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, 0, fmt.Errorf("JSON: %v (want {\"size\": N, \"interval_seconds\": S, \"rows\": [{\"time\": ..., \"probes\": ..., \"sources\": ..., \"new_sources\": ..., \"cumulative_sources\": ...}]})", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, 0, errors.New("JSON: more after the object")
	}
	if p.IntervalSeconds != 0 {
		d := time.Duration(p.IntervalSeconds * float64(time.Second))
		if p.IntervalSeconds < 1 || p.IntervalSeconds > forecast.MaxSpan.Seconds() || d%time.Second != 0 {
			return nil, 0, fmt.Errorf("interval_seconds %v: want whole seconds from 1 to %v", p.IntervalSeconds, forecast.MaxSpan.Seconds())
		}
		interval = d
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(results.SensorColumns)
	i64 := func(n int64) string { return strconv.FormatInt(n, 10) }
	for i, r := range p.Rows {
		if r.Time.Truncate(time.Second) != r.Time {
			return nil, 0, fmt.Errorf("rows[%d].time %s: want whole seconds", i, r.Time.Format(time.RFC3339Nano))
		}
		w.Write([]string{r.Time.UTC().Format(time.RFC3339), i64(r.Probes), i64(r.Sources), i64(r.NewSources), i64(r.CumulativeSources), strconv.FormatUint(p.Size, 10)})
	}
	w.Flush()
	return b.Bytes(), interval, nil
}

// writeSeriesCSV writes rows as a sensor series CSV (docs/output.md),
// the size in every row.
func writeSeriesCSV(w io.Writer, rows []store.Row, size uint64) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(results.SensorColumns); err != nil {
		return err
	}
	sz := strconv.FormatUint(size, 10)
	i64 := func(n int64) string { return strconv.FormatInt(n, 10) }
	for _, r := range rows {
		if err := cw.Write([]string{r.Time.UTC().Format(time.RFC3339), i64(r.Probes), i64(r.Sources), i64(r.NewSources), i64(r.CumulativeSources), sz}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
