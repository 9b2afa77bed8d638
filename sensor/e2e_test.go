package sensor_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"

	"wormwatch/internal/param"
	"wormwatch/report"
	"wormwatch/scenario"
	"wormwatch/sensor"
	"wormwatch/sim"
	"wormwatch/worm"
)

// e2eScenario is a small outbreak (2,000 hosts in a 2^20 space, a fixed
// rate of 5 probes per second, uniform scanning, 30-minute DHCP leases)
// with a /8 telescope that captures 5 minutes from 10:40 and a web server.
func e2eScenario() *scenario.Scenario {
	sc := &scenario.Scenario{}
	param.Defaults(sc)
	sc.Name = "sensor-e2e"
	sc.Start = time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)
	sc.End = sc.Start.Add(2 * time.Hour)
	sc.Bin = param.Duration(time.Minute)
	sc.Space.Bits = 20
	sc.Population.Hosts = 2000
	sc.Population.Placement = "uniform"
	sc.Population.Clock.WrongShare = 0
	sc.Population.DHCPLease = param.Duration(30 * time.Minute)
	var w worm.Params
	param.Defaults(&w)
	w.Name = "w"
	w.Rate.Model = "fixed"
	w.Rate.Fixed = 5
	w.Targeting.Strategy = "uniform"
	sc.Worms = []worm.Params{w}
	sc.Sensors = []sensor.Params{
		{Name: "ucsd", Kind: "telescope", Prefix: "44.0.0.0/8", Capture: param.Duration(5 * time.Minute), CaptureStart: sc.Start.Add(40 * time.Minute)},
		{Name: "www", Kind: "webserver", Prefix: "128.2.3.4"},
	}
	return sc
}

// TestEndToEnd runs the engine with a telescope and a web server, writes
// the results folder, and reads it back: the capture holds three SYNs per
// recorded probe, as many probes as the telescope's series counts in the
// capture window; the web server's log has one line per probe of its
// series, bin by bin.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	sc := e2eScenario()
	res, err := sim.Run(context.Background(), sc, 1, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	if err := report.WriteRun(dir, res, []byte("# test\n"), "test"); err != nil {
		t.Fatal(err)
	}
	var tel, web *sim.SensorSeries
	for i := range res.Sensors {
		switch res.Sensors[i].Name {
		case "ucsd":
			tel = &res.Sensors[i]
		case "www":
			web = &res.Sensors[i]
		}
	}
	if tel == nil || web == nil || !tel.Records || !web.Records {
		t.Fatalf("sensors %+v: want ucsd and www, both recording", res.Sensors)
	}
	bin := time.Duration(sc.Bin)
	from, to := sc.Start.Add(40*time.Minute), sc.Start.Add(45*time.Minute)

	t.Run("telescope", func(t *testing.T) {
		rows := readSensorCSV(t, filepath.Join(dir, "sensors", "ucsd.csv"), 1<<12)
		if len(rows) != 120 {
			t.Fatalf("%d rows, want 120", len(rows))
		}
		var inWindow int64
		for _, r := range rows {
			if !r.time.Before(from) && !r.time.Add(bin).After(to) {
				inWindow += r.probes
			}
		}
		f, err := os.Open(filepath.Join(dir, "sensors", "ucsd.pcap"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		pr, err := pcapgo.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		var packets int
		for {
			_, ci, err := pr.ReadPacketData()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if ci.Timestamp.Before(from) || !ci.Timestamp.Before(to.Add(9*time.Second+time.Microsecond)) {
				t.Fatalf("packet at %v outside the window [%v, %v) + 9 s of retransmissions", ci.Timestamp, from, to)
			}
			packets++
		}
		t.Logf("%d packets, %d probes in the window", packets, inWindow)
		switch {
		case packets == 0:
			t.Fatal("no packets captured: the test shows nothing")
		case packets != 3*len(tel.Probes):
			t.Errorf("%d packets, want 3 x %d recorded probes", packets, len(tel.Probes))
		case int64(len(tel.Probes)) != inWindow:
			t.Errorf("%d probes captured, the series counts %d in the window", len(tel.Probes), inWindow)
		}
	})

	t.Run("webserver", func(t *testing.T) {
		rows := readSensorCSV(t, filepath.Join(dir, "sensors", "www.csv"), 1)
		f, err := os.Open(filepath.Join(dir, "sensors", "www.log"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		stamp := regexp.MustCompile(`^(\S+) - - \[([^\]]+)\] "GET /default\.ida\?N{224}`)
		perBin := map[int64]int64{} // by the bin's Unix time (map keys of time.Time compare locations too)
		srcPerBin := map[int64]map[string]bool{}
		sc := bufio.NewScanner(f)
		lines := 0
		for sc.Scan() {
			m := stamp.FindStringSubmatch(sc.Text())
			if m == nil {
				t.Fatalf("line %d: %.80q: not a Code Red probe in combined format", lines+1, sc.Text())
			}
			ts, err := time.Parse("02/Jan/2006:15:04:05 -0700", m[2])
			if err != nil {
				t.Fatal(err)
			}
			b := ts.Truncate(bin).Unix()
			perBin[b]++
			if srcPerBin[b] == nil {
				srcPerBin[b] = map[string]bool{}
			}
			srcPerBin[b][m[1]] = true
			lines++
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		var total int64
		for _, r := range rows {
			total += r.probes
			if b := r.time.Unix(); perBin[b] != r.probes || int64(len(srcPerBin[b])) != r.sources {
				t.Errorf("bin %v: the series has %d probes from %d sources, the log %d from %d", r.time.Format("15:04"), r.probes, r.sources, perBin[b], len(srcPerBin[b]))
			}
		}
		t.Logf("%d log lines", lines)
		switch {
		case lines == 0:
			t.Fatal("the web server logged nothing: the test shows nothing")
		case int64(lines) != total:
			t.Errorf("%d log lines, the series counts %d probes", lines, total)
		case lines != len(web.Probes):
			t.Errorf("%d log lines, %d recorded probes", lines, len(web.Probes))
		}
	})
}

type csvRow struct {
	time                          time.Time
	probes, sources, newSrc, cumS int64
}

// readSensorCSV reads sensors/<name>.csv, checking its header and the size
// column.
func readSensorCSV(t *testing.T, path string, size int64) []csvRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 || len(recs[0]) != 6 || recs[0][0] != "time" || recs[0][1] != "probes" || recs[0][5] != "size" {
		t.Fatalf("%s: header %v", path, recs[:min(len(recs), 1)])
	}
	var out []csvRow
	for i, rec := range recs[1:] {
		ts, err := time.Parse(time.RFC3339, rec[0])
		if err != nil {
			t.Fatalf("%s: line %d: %v", path, i+2, err)
		}
		var n [5]int64
		for k := range n {
			if n[k], err = strconv.ParseInt(rec[k+1], 10, 64); err != nil {
				t.Fatalf("%s: line %d: column %d: %v", path, i+2, k+2, err)
			}
		}
		if n[4] != size {
			t.Fatalf("%s: line %d: size %d, want %d", path, i+2, n[4], size)
		}
		out = append(out, csvRow{ts, n[0], n[1], n[2], n[3]})
	}
	return out
}
