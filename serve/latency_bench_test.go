//go:build unix

package serve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"wormwatch/serve/servetest"
)

// BenchmarkLatency measures the delay from a line appended to a followed
// log to (a) the metric wormwatch_input_lines_read_total on /metrics
// counting it and (b) the first update on the event stream (what the
// dashboard draws) whose counters count its record: 300 appends of one
// line each, 20 a second, to a log whose format was chosen before (200
// lines), with commits every 1 s, 500 ms (the default), 250 ms and 100 ms,
// and the default poll (250 ms: the follower is woken by inotify before).
// /metrics is read every 2 ms, so (a) is late by up to that much. It
// reports the 50th and 99th percentiles and the maximum of each, in
// milliseconds. Run with
//
//	go test ./serve -run XXX -bench Latency -benchtime 1x
func BenchmarkLatency(b *testing.B) {
	for _, every := range []string{"1s", "500ms", "250ms", "100ms"} {
		b.Run("commit="+every, func(b *testing.B) {
			var metric, event []time.Duration
			for range b.N {
				m, e := measureLatency(b, every, 300, 50*time.Millisecond)
				metric, event = append(metric, m...), append(event, e...)
			}
			for _, q := range []struct {
				name string
				d    []time.Duration
			}{{"metric", metric}, {"event", event}} {
				slices.Sort(q.d)
				b.ReportMetric(ms(q.d[len(q.d)/2]), q.name+"-p50-ms")
				b.ReportMetric(ms(q.d[len(q.d)*99/100]), q.name+"-p99-ms")
				b.ReportMetric(ms(q.d[len(q.d)-1]), q.name+"-max-ms")
			}
		})
	}
}

// ms returns d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// latencyLine returns the i-th line of the latency log: a Code Red probe
// from its own source, a second after the one before.
func latencyLine(i int) string {
	t := time.Date(2001, 7, 19, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	return fmt.Sprintf("10.%d.%d.%d - - [%s] \"%s\" 404 - \"-\" \"-\"\n", i/62500, i/250%250, i%250+1, t.Format("02/Jan/2006:15:04:05 -0700"), servetest.CodeRedRequest)
}

// observation is when an observer saw a count.
type observation struct {
	at time.Time
	n  int64
}

// measureLatency runs a service with the commit interval every, appends n
// lines one at a time every gap, and returns the delays to the metric and
// to the event stream of each.
func measureLatency(b *testing.B, every string, n int, gap time.Duration) (metric, event []time.Duration) {
	const pre = 200
	dir := b.TempDir()
	path := filepath.Join(dir, "access.log")
	var head strings.Builder
	for i := range pre {
		head.WriteString(latencyLine(i))
	}
	writeFile(b, path, []byte(head.String()))
	cfg := testConfig(b, filepath.Join(dir, "data"), []Input{logInput(b, path, "name=web", "size=65536")},
		"service.commit_interval="+every, "service.poll=250ms")
	r := start(b, cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	servetest.WaitFor(b, "the first lines", func() bool { return r.status(b).Counters.Records == pre })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var metrics, events []observation
	seen := func(list *[]observation, v int64) {
		mu.Lock()
		defer mu.Unlock()
		if k := len(*list); k == 0 || (*list)[k-1].n != v {
			*list = append(*list, observation{time.Now(), v})
		}
	}
	ready := make(chan struct{})
	go followEvents(ctx, r.url+"/api/v1/events", ready, func(v int64) { seen(&events, v) })
	<-ready
	go pollMetric(ctx, r.url+"/metrics", `wormwatch_input_lines_read_total{input="web"}`, func(v int64) { seen(&metrics, v) })
	written := make([]time.Time, n)
	for i := range n {
		servetest.AppendFile(b, path, []byte(latencyLine(pre+i)))
		written[i] = time.Now()
		time.Sleep(gap)
	}
	last := int64(pre + n)
	servetest.WaitFor(b, "the last line on /metrics and the event stream", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(metrics) > 0 && metrics[len(metrics)-1].n >= last && len(events) > 0 && events[len(events)-1].n >= last
	})
	cancel()
	mu.Lock()
	defer mu.Unlock()
	return delays(written, pre, metrics), delays(written, pre, events)
}

// delays returns, for each line written (line pre+i at written[i]), the
// time from its write to the first observation counting it.
func delays(written []time.Time, pre int, obs []observation) []time.Duration {
	out := make([]time.Duration, len(written))
	j := 0
	for i, w := range written {
		for obs[j].n < int64(pre+i+1) {
			j++
		}
		out[i] = obs[j].at.Sub(w)
	}
	return out
}

// followEvents reads the event stream at url until ctx is done, calling
// got with the records counted by each update; ready is closed once the
// stream is open.
func followEvents(ctx context.Context, url string, ready chan<- struct{}, got func(int64)) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	close(ready)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		data, ok := bytes.CutPrefix(sc.Bytes(), []byte("data: "))
		if !ok {
			continue
		}
		var u struct {
			Counters struct {
				Records int64 `json:"records"`
			} `json:"counters"`
		}
		if json.Unmarshal(data, &u) == nil {
			got(u.Counters.Records)
		}
	}
}

// pollMetric reads the metric line named by prefix from url every 2 ms
// until ctx is done, calling got with its value.
func pollMetric(ctx context.Context, url, prefix string, got func(int64)) {
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for line := range strings.Lines(string(body)) {
			if rest, ok := strings.CutPrefix(line, prefix+" "); ok {
				if v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64); err == nil {
					got(int64(v))
				}
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
}
