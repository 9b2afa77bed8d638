package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"wormwatch/detect"
	"wormwatch/forecast"
	"wormwatch/internal/names"
	"wormwatch/store"
)

// noParams answers 400 and returns false when the request has query
// parameters (the endpoint takes none).
func noParams(w http.ResponseWriter, r *http.Request) bool {
	if _, err := queryParams(r.URL.Query()); err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return false
	}
	return true
}

// onLoop runs f on the ingest loop, answering 503 (and returning false)
// when the service is stopping or the request ended.
func (s *Service) onLoop(w http.ResponseWriter, r *http.Request, f func()) bool {
	if err := s.l.do(r.Context(), s.done, f); err != nil {
		writeError(w, http.StatusServiceUnavailable, "%v", err)
		return false
	}
	return true
}

// handleDetect answers what wormwatch detect --format json prints for the
// inputs read so far.
func (s *Service) handleDetect(w http.ResponseWriter, r *http.Request) {
	if !noParams(w, r) {
		return
	}
	var body []byte
	var err error
	if !s.onLoop(w, r, func() { body, err = s.l.detectJSON(r.Context()) }) {
		return
	}
	if errors.Is(err, detect.ErrNoLines) {
		writeError(w, http.StatusServiceUnavailable, "nothing read yet: no input has held a log line or a packet")
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	writeBody(w, http.StatusOK, "application/json", body)
}

// detectJSON returns detect's report of everything counted so far, as
// wormwatch detect --format json writes it; the same bytes while nothing
// changed.
func (l *loop) detectJSON(ctx context.Context) ([]byte, error) {
	if l.detectCache != nil && l.detectVersion == l.version {
		return l.detectCache, nil
	}
	rep, err := l.a.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer rep.Close()
	var b bytes.Buffer
	if err := rep.WriteJSON(&b); err != nil {
		return nil, err
	}
	l.detectCache, l.detectVersion = b.Bytes(), l.version
	return l.detectCache, nil
}

// handleForecast answers what wormwatch forecast --format json prints for
// a series: its rows closed and open, up to the last interval with a
// record (the sensor series detect --series writes of the same records),
// or a remote sensor's rows as pushed, with the configuration's forecast
// settings. The "file" of the JSON is the series' key.
func (s *Service) handleForecast(w http.ResponseWriter, r *http.Request) {
	key, err := parseForecastQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	var rows []store.Row
	var size uint64
	found := false
	if !s.onLoop(w, r, func() { rows, size, found = s.l.liveRows(key) }) {
		return
	}
	if !found { // a pool with remote sensors: its rows as made
		if !s.onLoop(w, r, func() { rows, size, found = s.l.poolRows(key) }) {
			return
		}
	}
	if !found { // a remote sensor's series: its rows as pushed
		sk, err := s.st.Series(r.Context(), key)
		if err == nil && sk.Origin == "remote" {
			rows, err = s.st.Rows(r.Context(), key, time.Time{}, time.Time{}, 0)
			size, found = sk.Size, err == nil
		}
	}
	if !found {
		writeError(w, http.StatusNotFound, "no series %s (GET /api/v1/series lists them)", key)
		return
	}
	select { // two analyses at a time: each costs O(rows) and a fit
	case forecastSlots <- struct{}{}:
		defer func() { <-forecastSlots }()
	case <-r.Context().Done():
		return
	}
	cfg := s.cfg.Load()
	body, err := forecastJSON(r.Context(), key, rows, size, cfg.Forecast.Options(cfg.Service.SpaceBits))
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "%s: %v", key, err)
		return
	}
	writeBody(w, http.StatusOK, "application/json", body)
}

// forecastSlots bounds the forecasts the API makes at once.
var forecastSlots = make(chan struct{}, 2)

// liveRows returns a series' rows closed and open, up to the last with
// probes, and its size.
func (l *loop) liveRows(key string) (rows []store.Row, size uint64, found bool) {
	for i, info := range l.w.Series() {
		if info.Key.String() != key {
			continue
		}
		for _, r := range l.w.Rows(i) {
			rows = append(rows, storeRow(r))
		}
		for _, r := range l.w.Pending(i) {
			rows = append(rows, storeRow(r))
		}
		for len(rows) > 0 && rows[len(rows)-1].Probes == 0 {
			rows = rows[:len(rows)-1]
		}
		return rows, info.Size, true
	}
	return nil, 0, false
}

// forecastJSON writes rows as the sensor series CSV, reads it as forecast
// reads a file called key, analyses it and writes the JSON.
func forecastJSON(ctx context.Context, key string, rows []store.Row, size uint64, opt forecast.Options) ([]byte, error) {
	var csv bytes.Buffer
	if err := writeSeriesCSV(&csv, rows, size); err != nil {
		return nil, err
	}
	ser, err := forecast.ReadSeries(ctx, &csv, key)
	if err != nil {
		return nil, err
	}
	a, err := forecast.Analyze(ctx, ser, opt)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	err = a.WriteJSON(&out)
	return out.Bytes(), err
}

// seriesJSON describes a series in the API's JSON.
type seriesJSON struct {
	Key             string  `json:"key"`
	Sensor          string  `json:"sensor"`
	Kind            string  `json:"kind"`
	Name            string  `json:"name"`
	Size            uint64  `json:"size"`
	IntervalSeconds float64 `json:"interval_seconds"`
	Origin          string  `json:"origin"`
}

// toSeriesJSON converts a store series.
func toSeriesJSON(k store.SeriesKey) seriesJSON {
	return seriesJSON{Key: k.Key, Sensor: k.Sensor, Kind: k.Kind, Name: k.Name, Size: k.Size, IntervalSeconds: k.Interval.Seconds(), Origin: k.Origin}
}

// handleSeriesList lists the series stored.
func (s *Service) handleSeriesList(w http.ResponseWriter, r *http.Request) {
	if !noParams(w, r) {
		return
	}
	list, err := s.st.SeriesList(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	out := struct {
		Series []seriesJSON `json:"series"`
	}{Series: []seriesJSON{}}
	for _, k := range list {
		out.Series = append(out.Series, toSeriesJSON(k))
	}
	writeJSON(w, http.StatusOK, out)
}

// handleSeries answers GET /api/v1/series/{key...} (a series' rows) and
// POST /api/v1/series/{sensor} (a remote sensor's push).
func (s *Service) handleSeries(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		s.handlePush(w, r)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
	if !allowed(r.Method, http.MethodGet) {
		methodNotAllowed(w, r, "GET, POST")
		return
	}
	if !s.authorized(r, s.cfg.Load().Token) {
		unauthorized(w)
		return
	}
	s.handleRows(w, r)
}

// handleRows answers the committed rows of a series, as JSON or as the
// sensor series CSV.
func (s *Service) handleRows(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if err := checkSeriesKey(key); err != nil {
		writeError(w, http.StatusBadRequest, "series %q: %v", key, err)
		return
	}
	q, err := parseRowsQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	sk, err := s.st.Series(r.Context(), key)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no series %s (GET /api/v1/series lists them)", key)
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	rows, err := s.st.Rows(r.Context(), key, q.from, q.to, q.limit)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	if q.csv {
		var b bytes.Buffer
		writeSeriesCSV(&b, rows, sk.Size)
		writeBody(w, http.StatusOK, "text/csv; charset=utf-8", b.Bytes())
		return
	}
	out := struct {
		Series seriesJSON `json:"series"`
		Rows   []RowJSON  `json:"rows"`
	}{Series: toSeriesJSON(sk), Rows: []RowJSON{}}
	for _, row := range rows {
		out.Rows = append(out.Rows, rowJSON("", row))
	}
	writeJSON(w, http.StatusOK, out)
}

// handlePush takes a remote sensor's series (origin remote), with the
// sensor's token: its new rows go through the watch's filter and alarm
// state machine (remote.go) and are committed before the answer.
func (s *Service) handlePush(w http.ResponseWriter, r *http.Request) {
	cfg, sensor, ok := s.pushSensor(w, r, "a push goes to /api/v1/series/SENSOR")
	if !ok {
		return
	}
	q := r.URL.Query()
	get, err := queryParams(q, "interval")
	var interval time.Duration
	if err == nil && get("interval") != "" {
		if interval, err = time.ParseDuration(get("interval")); err != nil || interval < time.Second {
			err = fmt.Errorf("interval=%s: want a duration of whole seconds, at least 1s (1m)", get("interval"))
		}
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	s.push(w, r, sensor, interval, cfg.Service.MaxPushBytes)
}

// push reads, checks and stores a push.
func (s *Service) push(w http.ResponseWriter, r *http.Request, sensor string, interval time.Duration, limit int64) {
	body, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		writeError(w, http.StatusRequestEntityTooLarge, "the body is larger than %d bytes (max_push_bytes)", limit)
		return
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "reading the body: %v", err)
		return
	}
	have, err := s.st.Series(r.Context(), sensor)
	found := err == nil
	switch {
	case found && have.Origin != "remote":
		writeError(w, http.StatusConflict, "series %s is counted by this service: a remote sensor needs a name of its own", sensor)
		return
	case found && interval == 0:
		interval = have.Interval
	case !found && !errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	sr, err := parsePush(r.Context(), sensor, r.Header.Get("Content-Type"), body, interval, limit)
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if found && (have.Interval != sr.Series.Interval || have.Size != sr.Series.Size) {
		writeError(w, http.StatusConflict, "series %s has interval %v and size %d: the push has %v and %d", sensor, have.Interval, have.Size, sr.Series.Interval, sr.Series.Size)
		return
	}
	s.answerPush(w, r, "series pushed", "rows", sensor, func() (pushOutcome, *pushError) { return s.l.pushRows(r.Context(), sr) })
}

// answerPush runs a push on the ingest loop and answers it: the outcome
// as JSON, logged as msg (its rows counted as rowsKey), or the push's
// error.
func (s *Service) answerPush(w http.ResponseWriter, r *http.Request, msg, rowsKey, sensor string, push func() (pushOutcome, *pushError)) {
	var out pushOutcome
	var perr *pushError
	if !s.onLoop(w, r, func() { out, perr = push() }) {
		return
	}
	if perr != nil {
		writeError(w, perr.status, "%v", perr.err)
		return
	}
	s.log.Info(msg, "sensor", sensor, rowsKey, out.Rows, "added", out.Added, "unchanged", out.Unchanged, "state", out.State)
	writeJSON(w, http.StatusOK, out)
}

// pushSensor checks a push's sensor and token (the sensor a [[remote]],
// the request bearing its token) and caps its body; where says where a
// push goes, in the error for a bad name. When it answers the request
// itself, ok is false.
func (s *Service) pushSensor(w http.ResponseWriter, r *http.Request, where string) (cfg *Config, sensor string, ok bool) {
	cfg = s.cfg.Load()
	r.Body = http.MaxBytesReader(w, r.Body, cfg.Service.MaxPushBytes)
	sensor = r.PathValue("key")
	if err := names.Check(sensor); err != nil {
		writeError(w, http.StatusBadRequest, "sensor %q: %v (%s)", sensor, err, where)
		return nil, "", false
	}
	tok, known := cfg.PushTokens[sensor]
	if !known {
		writeError(w, http.StatusForbidden, "sensor %s may not push: it is no [[remote]] of the configuration", sensor)
		return nil, "", false
	}
	if !s.authorized(r, tok) {
		unauthorized(w)
		return nil, "", false
	}
	return cfg, sensor, true
}

// handleSourcesPush takes the sources of a remote sensor that pushes them
// (POST /api/v1/sources/{sensor}, srcparse.go), with the sensor's token:
// the rows they make go through the watch's filter and alarm state
// machine, and rows and sources are committed before the answer.
func (s *Service) handleSourcesPush(w http.ResponseWriter, r *http.Request) {
	if !allowed(r.Method, http.MethodPost) {
		methodNotAllowed(w, r, "POST")
		return
	}
	cfg, sensor, ok := s.pushSensor(w, r, "a push of sources goes to /api/v1/sources/SENSOR")
	if !ok {
		return
	}
	if !cfg.remote(sensor).Sources {
		writeError(w, http.StatusConflict, "sensor %s pushes its series (POST /api/v1/series/%s): its [[remote]] has no sources = true", sensor, sensor)
		return
	}
	if !noParams(w, r) {
		return
	}
	body, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		writeError(w, http.StatusRequestEntityTooLarge, "the body is larger than %d bytes (max_push_bytes)", cfg.Service.MaxPushBytes)
		return
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "reading the body: %v", err)
		return
	}
	ivls, err := parseSources(body, cfg.Watch.Interval.D())
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	s.answerPush(w, r, "sources pushed", "intervals", sensor, func() (pushOutcome, *pushError) { return s.l.pushSources(r.Context(), sensor, ivls) })
}

// handleAlarms answers the alarm transitions stored.
func (s *Service) handleAlarms(w http.ResponseWriter, r *http.Request) {
	q, err := parseAlarmsQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	ts, err := s.st.Transitions(r.Context(), q)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	out := struct {
		Transitions []TransitionJSON `json:"transitions"`
	}{Transitions: []TransitionJSON{}}
	for _, t := range ts {
		out.Transitions = append(out.Transitions, transitionJSON(t))
	}
	writeJSON(w, http.StatusOK, out)
}

// handleHealth answers that the process is alive.
func (s *Service) handleHealth(w http.ResponseWriter, r *http.Request) {
	if noParams(w, r) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}
}

// handleReady answers 200 when the state is restored, the store answers
// and every input is open (a file that does not exist yet counts as
// open: it is waited for), else 503 with the problems.
func (s *Service) handleReady(w http.ResponseWriter, r *http.Request) {
	if !noParams(w, r) {
		return
	}
	var problems []string
	if !s.ready.Load() {
		problems = append(problems, "not running: starting or stopping")
	} else if !s.onLoop(w, r, func() { problems = s.l.inputProblems() }) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.st.Ping(ctx); err != nil {
		problems = append(problems, "store: "+err.Error())
	}
	if len(problems) > 0 {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "problems": problems})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready"})
}

// inputProblems lists the inputs that cannot be read now.
func (l *loop) inputProblems() []string {
	var out []string
	for _, src := range l.sources {
		if src.err != "" {
			out = append(out, fmt.Sprintf("input %s (%s): %s", src.cfg.Name, src.cfg.Path, src.err))
		}
	}
	return out
}

// inputJSON is an input in the status.
type inputJSON struct {
	Name     string `json:"name"` // in detect's report
	Key      string `json:"key"`
	Sensor   string `json:"sensor"`
	Reading  bool   `json:"reading"`  // configured and read now
	Records  int64  `json:"records"`  // counted since the service started
	Lines    int64  `json:"lines"`    // in reports
	Position string `json:"position"` // as committed
	Error    string `json:"error,omitempty"`
}

// handleStatus answers the inputs, with their committed positions, and
// the counters.
func (s *Service) handleStatus(w http.ResponseWriter, r *http.Request) {
	if !noParams(w, r) {
		return
	}
	var out struct {
		Started  time.Time     `json:"started"`
		Inputs   []inputJSON   `json:"inputs"`
		Remotes  []remoteJSON  `json:"remotes"`  // the remote sensors' series (remote.go)
		Pools    []poolJSON    `json:"pools"`    // the pools with remote sensors (pools.go)
		Warnings []warningJSON `json:"warnings"` // sensors whose size is far too small for what they saw
		Counters Counters      `json:"counters"`
	}
	cfg := s.cfg.Load()
	if !s.onLoop(w, r, func() {
		out.Inputs, out.Counters = s.l.status(), s.l.counters()
		out.Remotes, out.Pools, out.Warnings = s.l.remoteStatus(cfg), s.l.poolStatus(), s.l.sizeWarnings()
	}) {
		return
	}
	out.Started = s.start.UTC()
	writeJSON(w, http.StatusOK, out)
}

// status describes the inputs.
func (l *loop) status() []inputJSON {
	out := []inputJSON{}
	for _, in := range l.inputs {
		j := inputJSON{Name: in.name, Key: in.key, Sensor: in.stored.Sensor, Records: in.records, Lines: in.Input().Lines, Position: in.stored.Position}
		if src := in.src; src != nil && l.sources[src.cfg.key()] == src {
			j.Reading, j.Error = true, src.err
		}
		out = append(out, j)
	}
	return out
}
