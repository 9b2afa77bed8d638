package watch_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"wormwatch/detect"
	"wormwatch/forecast"
	"wormwatch/watch"
)

// op is one call to a Watch: a record of a sensor with its families, or
// (advance set) Advance(t).
type op struct {
	sensor  int
	t       time.Time
	src     string
	fams    []int
	advance bool
}

// sensors are the sensors every test Watch has: a /16 and a /8.
var sensors = []struct {
	name string
	size uint64
}{{"ucsd-16", 1 << 16}, {"ucsd-8", 1 << 24}}

var families = []string{"code-red", "scan"}

// newWatch returns a Watch with the test sensors.
func newWatch(t testing.TB, set watch.Settings) *watch.Watch {
	t.Helper()
	w, err := watch.New(watch.Config{Settings: set, Families: families})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sensors {
		if _, err := w.AddSensor(s.name, s.size); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// apply makes the calls of ops.
func apply(t testing.TB, w *watch.Watch, ops []op) {
	t.Helper()
	var rec detect.Record
	for i, o := range ops {
		if o.advance {
			if err := w.Advance(o.t); err != nil {
				t.Fatalf("op %d: %v", i, err)
			}
			continue
		}
		rec.Time, rec.Source = o.t, []byte(o.src)
		if err := w.Add(o.sensor, &rec, o.fams); err != nil {
			t.Fatalf("op %d: %v", i, err)
		}
	}
}

// dump writes out everything a Watch shows, floats bit for bit: the
// series, their rows, the filters' steps, the open intervals, the events
// not yet taken (without taking them) and the counts.
func dump(w *watch.Watch) string {
	var b strings.Builder
	for _, s := range w.Series() {
		fmt.Fprintf(&b, "series %+v\n", s)
		for _, r := range w.Rows(s.Index) {
			fmt.Fprintf(&b, "  row %+v\n", r)
		}
		for _, st := range w.Steps(s.Index) {
			fmt.Fprintf(&b, "  step %s\n", stepText(st))
		}
		for _, r := range w.Pending(s.Index) {
			fmt.Fprintf(&b, "  pending %+v\n", r)
		}
	}
	fmt.Fprintf(&b, "stats %+v\n", w.Stats())
	return b.String()
}

// state encodes what dump writes, in binary, much faster: the tests
// compare it, and the text only when it differs.
func state(w *watch.Watch) []byte {
	var b []byte
	i64 := func(v int64) { b = binary.AppendVarint(b, v) }
	row := func(r forecast.Row) {
		i64(r.Time.UnixNano())
		i64(r.Probes)
		i64(r.Sources)
		i64(r.NewSources)
		i64(r.CumulativeSources)
	}
	for _, s := range w.Series() {
		b = fmt.Appendf(b, "%+v", s)
		for _, r := range w.Rows(s.Index) {
			row(r)
		}
		for _, st := range w.Steps(s.Index) {
			i64(st.Time.UnixNano())
			i64(st.Seen)
			for _, x := range []float64{st.Observed, st.Infected, st.InfectedSD, st.K, st.KSE, st.N, st.NLow, st.NHigh} {
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
			}
			if st.Trend {
				b = append(b, 1)
			}
		}
		for _, r := range w.Pending(s.Index) {
			row(r)
		}
	}
	return fmt.Appendf(b, "%+v", w.Stats())
}

// sameState fails the test with the first difference when two watches
// differ.
func sameState(t testing.TB, got, want *watch.Watch, what string) {
	t.Helper()
	if !bytes.Equal(state(got), state(want)) {
		t.Fatalf("%s: the watches differ:\n%s", what, firstDiff(dump(got), dump(want)))
	}
}

func stepText(st forecast.Step) string {
	f := func(x float64) string { return fmt.Sprintf("%x", math.Float64bits(x)) }
	return fmt.Sprintf("%s seen %d obs %s inf %s sd %s k %s kse %s n %s %s %s trend %v", st.Time.Format(time.RFC3339),
		st.Seen, f(st.Observed), f(st.Infected), f(st.InfectedSD), f(st.K), f(st.KSE), f(st.N), f(st.NLow), f(st.NHigh), st.Trend)
}

func eventText(e watch.Event) string {
	s := fmt.Sprintf("%s %s %s->%s %s", e.Time.Format(time.RFC3339), e.Key, e.From, e.To, stepText(e.Step))
	if a := e.Alarm; a != nil {
		s += fmt.Sprintf(" alarm %s #%d onset %s seen %d inf %x k %x", a.Time.Format(time.RFC3339), a.Index, a.Onset.Format(time.RFC3339),
			a.Seen, math.Float64bits(a.Infected), math.Float64bits(a.K))
	}
	return s
}

// events takes the Watch's events as text.
func events(w *watch.Watch) []string {
	var out []string
	for _, e := range w.Events(nil) {
		out = append(out, eventText(e))
	}
	return out
}

// expand turns a sensor series into records of one family that give
// exactly its rows: per row, NewSources fresh sources, Sources - NewSources
// drawn from those seen before, and the rest of the probes from the row's
// sources, at times spread over the interval. jitter moves each record's
// place in the order by up to that fraction of an interval (its time stays
// in its interval), so that records come out of order by less than one
// interval.
func expand(rows []forecast.Row, interval time.Duration, sensor int, fams []int, prefix string, seed uint64, jitter float64) []op {
	rng := rand.New(rand.NewPCG(seed, 0x7761746368))
	var seen []string
	type keyed struct {
		key float64
		o   op
	}
	var out []keyed
	for _, r := range rows {
		var cur []string
		for range r.NewSources {
			cur = append(cur, fmt.Sprintf("%s.%d.%d.%d", prefix, len(seen)/62500, len(seen)/250%250, len(seen)%250))
			seen = append(seen, cur[len(cur)-1])
		}
		old := seen[:len(seen)-int(r.NewSources)]
		for _, i := range rand.New(rand.NewPCG(seed, uint64(r.Time.Unix()))).Perm(len(old))[:r.Sources-r.NewSources] {
			cur = append(cur, old[i])
		}
		srcs := slices.Clone(cur)
		for range r.Probes - r.Sources {
			srcs = append(srcs, cur[rng.IntN(len(cur))])
		}
		for _, s := range srcs {
			f := rng.Float64()
			t := r.Time.Add(time.Duration(f * float64(interval)))
			out = append(out, keyed{float64(t.UnixNano()) + jitter*rng.Float64()*float64(interval), op{sensor: sensor, t: t, src: s, fams: fams}})
		}
	}
	slices.SortStableFunc(out, func(a, b keyed) int {
		if a.key < b.key {
			return -1
		}
		if a.key > b.key {
			return 1
		}
		return 0
	})
	ops := make([]op, len(out))
	for i, k := range out {
		ops[i] = k.o
	}
	return ops
}

// readCodeRed reads the simulated Code Red /16 telescope's series.
func readCodeRed(t testing.TB) *forecast.Series {
	t.Helper()
	s, err := forecast.ReadSeriesFile(context.Background(), "testdata/codered2-ucsd-16.csv")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fromFirst returns the rows from the first with a probe.
func fromFirst(rows []forecast.Row) []forecast.Row {
	for i, r := range rows {
		if r.Probes > 0 {
			return rows[i:]
		}
	}
	return nil
}

// waves are records of a synthetic worm in two waves on both sensors,
// with background scanners: the first wave (family code-red) starts at
// 01:00 and its hosts stop scanning at 09:00 (as Code Red's stopped on day
// 20); a second worm of other hosts starts at 40:00; background scanners
// (family scan) come and go all along, seen by both sensors. Each record
// is counted by one sensor (the /8 sees a host's probes at 256 times the
// /16's rate).
func waves(seed uint64, hours float64) []op {
	rng := rand.New(rand.NewPCG(seed, 0x7761766573))
	start := time.Date(2001, 7, 19, 0, 0, 0, 0, time.UTC)
	type wave struct {
		from, stop, k, n float64 // hours; per hour; hosts
		prefix           string
		hosts            float64
	}
	ws := []*wave{{from: 1, stop: 9, k: 1.5, n: 20000, prefix: "10.1"}, {from: 40, stop: 1e9, k: 1.5, n: 20000, prefix: "10.2"}}
	mu16 := 0.5 / 60 // probes per minute a host sends into the /16
	var ops []op
	pois := func(m float64) int {
		// Knuth's method for small means, normal above
		if m > 30 {
			return max(int(math.Round(m+math.Sqrt(m)*rng.NormFloat64())), 0)
		}
		l, k, p := math.Exp(-m), 0, 1.0
		for {
			p *= rng.Float64()
			if p <= l {
				return k
			}
			k++
		}
	}
	type ev struct {
		t time.Time
		o op
	}
	for m := 0; float64(m) < hours*60; m++ {
		h := float64(m) / 60
		var batch []ev
		emit := func(sensor int, src string, fams []int) {
			t := start.Add(time.Duration((float64(m) + rng.Float64()) * float64(time.Minute)))
			batch = append(batch, ev{t, op{sensor: sensor, t: t, src: src, fams: fams}})
		}
		for _, w := range ws {
			if h < w.from || h >= w.stop {
				continue
			}
			if w.hosts == 0 {
				w.hosts = 1
			}
			w.hosts += float64(pois(w.k / 60 * w.hosts * (1 - w.hosts/w.n)))
			w.hosts = math.Min(w.hosts, w.n)
			n := int(w.hosts)
			for range pois(float64(n) * mu16) {
				h := rng.IntN(n)
				emit(0, fmt.Sprintf("%s.%d.%d", w.prefix, h/250, h%250), []int{0})
			}
			for range pois(float64(n) * mu16 * 256 / 64) { // a sample of the /8's: 1 in 64
				h := rng.IntN(n)
				emit(1, fmt.Sprintf("%s.%d.%d", w.prefix, h/250, h%250), []int{0})
			}
		}
		// background: 30 scanners at any time, each 0.2 probes a minute
		// into either sensor, renewed at 5 an hour
		for range pois(30 * 0.2) {
			id := rng.IntN(30) + int(h*5)
			emit(rng.IntN(2), fmt.Sprintf("192.0.%d.%d", id/250, id%250), []int{1})
		}
		slices.SortFunc(batch, func(a, b ev) int { return a.t.Compare(b.t) })
		for _, e := range batch {
			ops = append(ops, e.o)
		}
	}
	return ops
}
