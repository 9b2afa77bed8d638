package metrics_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"wormwatch/serve/servetest"
)

// prometheusBinary returns the path of Prometheus's server: the test
// fails when it is missing (.ci/run installs Debian's prometheus
// package), unless WORMWATCH_NO_PROMETHEUS=1 says to skip it.
func prometheusBinary(t *testing.T) string {
	t.Helper()
	if os.Getenv("WORMWATCH_NO_PROMETHEUS") == "1" {
		t.Skip("WORMWATCH_NO_PROMETHEUS=1: the integration test with a real Prometheus server is skipped")
	}
	path, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatalf("the prometheus server is not installed (%v): run bash .ci/run, which installs Debian's prometheus package (apt-get install prometheus), or set WORMWATCH_NO_PROMETHEUS=1 to skip this test", err)
	}
	return path
}

// freePort returns a port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// promServer is a Prometheus server run by the test.
type promServer struct {
	url string
	out *servetest.LockedBuffer // its log
}

// startPrometheus starts a Prometheus server on a free loopback port,
// scraping target's /metrics every second, with its storage in a folder
// of the test; it waits until the server is ready, and stops it cleanly
// (SIGTERM, then its exit) when the test ends.
func startPrometheus(t *testing.T, bin, target string) *promServer {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "prometheus.yml")
	yml := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: wormwatch
    metrics_path: /metrics
    static_configs:
      - targets: [%q]
`, target)
	if err := os.WriteFile(conf, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	p := &promServer{url: "http://127.0.0.1:" + strconv.Itoa(port), out: new(servetest.LockedBuffer)}
	cmd := exec.Command(bin,
		"--config.file="+conf,
		"--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port),
		"--log.level=warn",
	)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting prometheus: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("prometheus did not stop cleanly: %v\n%s", err, p.out.String())
			}
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Errorf("prometheus did not stop within 15 s of SIGTERM: killed\n%s", p.out.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("prometheus exited before it was ready: %v\n%s", err, p.out.String())
		default:
		}
		if resp, err := http.Get(p.url + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready after 20 s\n%s", p.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// query asks Prometheus's HTTP query API for an instant vector and
// returns the values of its samples by their labels' text.
func (p *promServer) query(t *testing.T, q string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(p.url + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	if out.Status != "success" || out.Data.ResultType != "vector" {
		t.Fatalf("query %s: %s %s (%s)", q, out.Status, out.Error, out.Data.ResultType)
	}
	vals := map[string]float64{}
	for _, r := range out.Data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("query %s: value %v", q, r.Value)
		}
		var labels []string
		for k, v := range r.Metric {
			labels = append(labels, k+"="+v)
		}
		slices.Sort(labels)
		vals[strings.Join(labels, ",")] = v
	}
	return vals
}

// waitQuery asks q until it returns one sample of value want, failing
// after 30 s.
func (p *promServer) waitQuery(t *testing.T, q string, want float64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var got map[string]float64
	for {
		got = p.query(t, q)
		if len(got) == 1 {
			for _, v := range got {
				if v == want {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v after 30 s, want one sample of %v\nprometheus's log:\n%s", q, got, want, p.out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestPrometheusScrapesServe runs a real Prometheus server (Debian's
// package) that scrapes a service on loopback every second, appends lines
// to the log the service follows in two rounds, and reads the lines-read
// counter back through Prometheus's query API until it equals the lines
// appended; it also reads the target's up, the alarm states by state and
// the ingest rate, as the PromQL examples of docs/serve.md do.
func TestPrometheusScrapesServe(t *testing.T) {
	t.Parallel()
	bin := prometheusBinary(t)
	r := startService(t)
	p := startPrometheus(t, bin, strings.TrimPrefix(r.url, "http://"))
	p.waitQuery(t, `up{job="wormwatch"}`, 1)
	const q = `wormwatch_input_lines_read_total{job="wormwatch",input="web"}`
	p.waitQuery(t, q, 0)
	t0 := time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)
	want := 0
	for i, n := range []int{25, 40} {
		data, _ := logLines(n, t0.Add(time.Duration(i)*5*time.Minute), 7*time.Second, want)
		servetest.AppendFile(t, r.log, data)
		want += n
		start := time.Now()
		p.waitQuery(t, q, float64(want))
		t.Logf("round %d: Prometheus reads %d lines %v after they were appended", i+1, want, time.Since(start).Round(time.Millisecond))
	}
	p.waitQuery(t, `sum(wormwatch_series_in_state{job="wormwatch"}) - count(wormwatch_series_state{job="wormwatch"})`, 0)
	if got := p.query(t, `wormwatch_series_state{job="wormwatch"} >= 2`); len(got) != 0 {
		t.Errorf("series in alarm or subsiding after a few minutes of a small log: %v", got)
	}
	if got := p.query(t, `rate(wormwatch_input_lines_read_total{job="wormwatch"}[1m])`); len(got) != 1 {
		t.Errorf("the ingest rate: %v, want one sample", got)
	}
}
