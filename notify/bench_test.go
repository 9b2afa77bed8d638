package notify

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// The size of a notification run the issue asks to take under 10 s:
// 1,000,000 detected sources and 50,000 owners.
const (
	benchSources = 1_000_000
	benchOwners  = 50_000
)

// benchData makes an owner table of benchOwners owners and detect's JSON
// report of benchSources sources over it (benchFull).
func benchData() (table, report []byte) { return benchFull.table(), benchFull.report() }

// benchSize is the shape of benchData: owners 0 to big-1 hold a /16 each
// (from 11.0.0.0), the next small owners a /22 each (after them), the last
// 10*big owners a /24 inside the /16s (ten in each: the longest prefix
// wins). Half the sources fall in the /16s, 45% in the /22s and 5% in
// 100.0.0.0/8, which no one holds; their families are Code Red II (70%),
// Code Red (20%) or Nimda (10%), their times within one day.
type benchSize struct{ big, small, sources int }

// benchFull is the size of BenchmarkNotify: 50,000 owners, 1,000,000
// sources.
var benchFull = benchSize{big: 500, small: 44_500, sources: benchSources}

// The address space of benchData: the owners' /16s from benchBase.
const benchBase = uint32(11 << 24)

// smallBase is where the /22s start.
func (z benchSize) smallBase() uint32 { return benchBase + uint32(z.big)<<16 }

// table makes the owner table.
func (z benchSize) table() []byte {
	var t bytes.Buffer
	t.WriteString("prefix,owner,contact,asn\n")
	for i := range z.big + z.small + 10*z.big {
		var p string
		switch {
		case i < z.big:
			p = fmt.Sprintf("%v/16", addr4(benchBase+uint32(i)<<16))
		case i < z.big+z.small:
			p = fmt.Sprintf("%v/22", addr4(z.smallBase()+uint32(i-z.big)<<10))
		default:
			j := i - z.big - z.small // ten /24s in each /16
			p = fmt.Sprintf("%v/24", addr4(benchBase+uint32(j/10)<<16+uint32(j%10*20)<<8))
		}
		fmt.Fprintf(&t, "%s,Owner %d,abuse@owner%d.example,%d\n", p, i, i, 64512+i%1000)
	}
	return t.Bytes()
}

// report makes the report.
func (z benchSize) report() []byte {
	r := rand.New(rand.NewPCG(2001, 719))
	var rep bytes.Buffer
	rep.WriteString(`{"schema": "wormwatch-detect/1", "families": {}, "sources": [`)
	day := time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)
	fams := []string{`["codered2","ida-idq"]`, `["codered1","ida-idq"]`, `["nimda","root-exe","cmd-exe","unicode-traversal"]`}
	for i := range z.sources {
		var a uint32
		switch x := r.IntN(100); {
		case x < 50:
			a = benchBase + r.Uint32N(uint32(z.big)<<16)
		case x < 95:
			a = z.smallBase() + r.Uint32N(uint32(z.small)<<10)
		default:
			a = 100<<24 + r.Uint32N(1<<24)
		}
		f := 0
		if x := r.IntN(10); x >= 7 {
			f = 1 + x/9
		}
		first := day.Add(time.Duration(r.IntN(14*3600)) * time.Second)
		last := first.Add(time.Duration(r.IntN(3600)) * time.Second)
		if i > 0 {
			rep.WriteByte(',')
		}
		fmt.Fprintf(&rep, "\n    {\"source\":\"%v\",\"first_seen\":\"%s\",\"last_seen\":\"%s\",\"lines\":%d,\"families\":%s}",
			addr4(a), first.Format(time.RFC3339), last.Format(time.RFC3339), 1+r.IntN(50), fams[f])
	}
	rep.WriteString("],\n  \"hourly\": []\n}\n")
	return rep.Bytes()
}

// BenchmarkNotify is one notification run of benchSources sources and
// benchOwners owners, as `wormwatch notify --owners TABLE --detect-json
// REPORT --out DIR` does it, without SMTP: read the owner table, read the
// report, plan, write the notices folder (text and CSV per owner, synced
// to disk). It reports each stage's seconds. With
// WORMWATCH_NOTIFY_BENCHDATA=DIR it also leaves the table and report in
// DIR (owners.csv, found.json), to time the command itself. cpu-s/op is
// the CPU time of the process (user and system) per run: the wall time on
// a shared machine waits for the CPU and the disk.
func BenchmarkNotify(b *testing.B) {
	table, report := benchData()
	if dir := os.Getenv("WORMWATCH_NOTIFY_BENCHDATA"); dir != "" {
		for name, data := range map[string][]byte{"owners.csv": table, "found.json": report} {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	tmp := b.TempDir() // the folders are removed at the end: a removal between runs (discards, the journal) slows the next
	var stages [4]time.Duration
	var notices, addrs int
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		as, err := ParseTable(bytes.NewReader(table), "owners.csv")
		if err != nil {
			b.Fatal(err)
		}
		owners, err := NewOwners(as, nil)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		d, err := ReadReport(bytes.NewReader(report), "found.json", "wormwatch")
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		ns, _ := Plan(d.Sources, owners, PlanOptions{})
		t3 := time.Now()
		l := &Letter{Org: "Example CERT", Families: d.Families}
		if err := l.Write(b.Context(), filepath.Join(tmp, strconv.Itoa(i)), ns); err != nil {
			b.Fatal(err)
		}
		t4 := time.Now()
		for j, d := range []time.Duration{t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), t4.Sub(t3)} {
			stages[j] += d
		}
		notices, addrs = len(ns), 0
		for _, n := range ns {
			addrs += len(n.Sources)
		}
	}
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	for j, name := range []string{"table-s", "report-s", "plan-s", "write-s"} {
		b.ReportMetric(stages[j].Seconds()/float64(b.N), name)
	}
	b.ReportMetric(float64(notices), "notices")
	b.ReportMetric(float64(addrs), "addresses")
}

// BenchmarkLookup is the owner of one address among benchOwners owners.
func BenchmarkLookup(b *testing.B) {
	as, err := ParseTable(bytes.NewReader(benchFull.table()), "owners.csv")
	if err != nil {
		b.Fatal(err)
	}
	o, err := NewOwners(as, nil)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	addrs := make([]Source, 1<<16)
	for i := range addrs {
		addrs[i].Addr = addr4(11<<24 + r.Uint32N(3<<24))
	}
	b.ResetTimer()
	for i := range b.N {
		o.Lookup(addrs[i&(1<<16-1)].Addr)
	}
}

// BenchmarkReadReport reads detect's JSON report of benchSources sources.
func BenchmarkReadReport(b *testing.B) {
	report := benchFull.report()
	b.SetBytes(int64(len(report)))
	b.ResetTimer()
	for range b.N {
		if _, err := ReadReport(bytes.NewReader(report), "found.json", "wormwatch"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWrite writes the notices folder of benchData (99,813 files),
// creating the files with 1, 2 and 4 goroutines (WriteWorkers).
func BenchmarkWrite(b *testing.B) {
	table, report := benchData()
	as, err := ParseTable(bytes.NewReader(table), "owners.csv")
	if err != nil {
		b.Fatal(err)
	}
	owners, err := NewOwners(as, nil)
	if err != nil {
		b.Fatal(err)
	}
	d, err := ReadReport(bytes.NewReader(report), "found.json", "wormwatch")
	if err != nil {
		b.Fatal(err)
	}
	ns, _ := Plan(d.Sources, owners, PlanOptions{})
	defer func(w int) { WriteWorkers = w }(WriteWorkers)
	for _, workers := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			WriteWorkers = workers
			tmp := b.TempDir()
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := range b.N {
				l := &Letter{Org: "Example CERT", Families: d.Families}
				if err := l.Write(b.Context(), filepath.Join(tmp, strconv.Itoa(i)), ns); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}
