package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wormwatch/ipv4"
	"wormwatch/sensor"
	"wormwatch/sensor/capture"
)

// TestDetectCapture runs detect on what the simulator's sensors write, a
// telescope's pcap (three SYNs per probe), gzip'ed, and checks the
// attempts, the JSON's attempts key, the attempts table, the text and a
// series of SYNs to port 80.
func TestDetectCapture(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sp := ipv4.Space{Bits: 32}
	block, err := sp.ParsePrefix("44.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	var probes []sensor.Probe
	for i := range 600 {
		probes = append(probes, sensor.Probe{Seconds: 5 * float64(i), Src: uint32(0x0a000000 + i%40), Dst: uint32(block.Lo + uint64(i*7919)%block.Len())})
	}
	start := time.Date(2001, 7, 19, 12, 0, 0, 0, time.UTC)
	var pcap bytes.Buffer
	if err := capture.WritePcap(&pcap, probes, sp, start, 3); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(pcap.Bytes())
	zw.Close()
	if err := os.WriteFile(filepath.Join(dir, "ucsd.pcap.gz"), gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, dir, "detect", "--format", "json", "--series", "syn80.csv", "--series-of", "syn:80", "--interval", "10m", "--sensor-size", "16777216", "ucsd.pcap.gz")
	var j struct {
		Inputs []struct {
			Format  string `json:"format"`
			Gzip    bool   `json:"gzip"`
			Packets struct {
				Packets, SYNs int64
			} `json:"packets"`
		} `json:"inputs"`
		Attempts struct {
			Count, Sources int64
			Ports          []struct {
				Transport string `json:"transport"`
				Port      int    `json:"port"`
				Attempts  int64  `json:"attempts"`
			} `json:"ports"`
		} `json:"attempts"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &j); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if len(j.Inputs) != 1 || j.Inputs[0].Format != "pcap" || !j.Inputs[0].Gzip || j.Inputs[0].Packets.SYNs != 1800 ||
		j.Attempts.Count != 1800 || j.Attempts.Sources != 40 || len(j.Attempts.Ports) != 1 || j.Attempts.Ports[0].Port != 80 || j.Attempts.Ports[0].Transport != "tcp" {
		t.Errorf("inputs %+v, attempts %+v", j.Inputs, j.Attempts)
	}
	rows := readCSV(t, filepath.Join(dir, "syn80.csv"))
	var probesSum int64
	for _, row := range rows {
		probesSum += atoi(t, row["probes"])
		if row["size"] != "16777216" {
			t.Fatalf("size %s", row["size"])
		}
	}
	// 600 probes 5 s apart from 12:00 and their retransmissions (+3 s,
	// +9 s): 12:00 to 12:50, six rows of 10 minutes.
	if probesSum != 1800 || len(rows) != 6 || rows[len(rows)-1]["cumulative_sources"] != "40" {
		t.Errorf("series: %d rows, %d probes: %v", len(rows), probesSum, rows)
	}
	// The attempts table; the text.
	r = mustRun(t, dir, "detect", "--format", "csv", "--table", "attempts", "ucsd.pcap.gz")
	if want := "transport,port,attempts,sources,first_seen,last_seen\ntcp,80,1800,40,2001-07-19T12:00:00Z,2001-07-19T12:50:04Z\n"; r.stdout != want {
		t.Errorf("attempts table:\n%s\nwant\n%s", r.stdout, want)
	}
	r = mustRun(t, dir, "detect", "ucsd.pcap.gz")
	for _, want := range []string{"Read 1 input (1,800 packets: 1,800 TCP SYNs, 0 HTTP requests)", "1,800 from 40 sources to 1 port"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("text lacks %q:\n%s", want, r.stdout)
		}
	}
	// Bad flags.
	for _, tc := range []struct{ args, msg string }{
		{"--series-of syn:80 ucsd.pcap.gz", "--series-of applies only with --series"},
		{"--series s.csv --series-of syn ucsd.pcap.gz", `--series-of "syn": want auto, requests, attempts`},
		{"--http-ports 70000 ucsd.pcap.gz", "--http-ports 70000: want ports from 0 to 65535"},
	} {
		r := wormwatch(t, dir, append([]string{"detect"}, strings.Fields(tc.args)...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("%s: exit %d, %s; want 2 and %q", tc.args, r.code, r.stderr, tc.msg)
		}
	}
}
