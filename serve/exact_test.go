package serve

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"wormwatch/forecast"
	"wormwatch/internal/ipv4text"
	"wormwatch/pool"
	"wormwatch/serve/servetest"
)

// The exact pool tests: three /16 telescopes (their blocks below) that
// push their sources, of a synthetic outbreak whose sources grow
// logistically from a few to 3000 over srcIntervals minutes; a source
// probes each telescope in an interval with probability 0.3, 1 to 3
// times, so that many sources reach two or three telescopes in the same
// interval and every one over the hours.
var (
	srcBlocks = []string{"10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16"}
	srcT0     = time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)
)

const srcIntervals = 120

// srcProbe is one probe of the test data: interval, member, source.
type srcProbe struct {
	ivl, member int
	src         uint32
}

// srcProbes draws the test data (fixed seed), in interval order.
func srcProbes() []srcProbe {
	rng := rand.New(rand.NewPCG(2001, 719))
	var out []srcProbe
	for i := range srcIntervals {
		n := int(3000 / (1 + 500*math.Exp(-0.1*float64(i))))
		for s := range max(n, 2) {
			src := uint32(0xC6000000) + uint32(s)*7919 // sources outside the blocks
			for m := range srcBlocks {
				if i%17 == 5 && m == 1 { // intervals member 2 sees nothing
					continue
				}
				if rng.Float64() < 0.3 {
					for range 1 + rng.IntN(3) {
						out = append(out, srcProbe{i, m, src})
					}
				}
			}
		}
	}
	return out
}

// sourcesCSV writes member m's sources of intervals [from, to) as a
// sources push: one row per source per interval, an interval with none
// as a row without a source.
func sourcesCSV(ps []srcProbe, m, from, to int) []byte {
	var b bytes.Buffer
	b.WriteString("time,source,probes\n")
	for i := from; i < to; i++ {
		counts := map[uint32]int{}
		var order []uint32
		for _, p := range ps {
			if p.ivl == i && p.member == m {
				if counts[p.src] == 0 {
					order = append(order, p.src)
				}
				counts[p.src]++
			}
		}
		at := srcT0.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)
		if len(order) == 0 {
			fmt.Fprintf(&b, "%s,,0\n", at)
		}
		for _, s := range order {
			fmt.Fprintf(&b, "%s,%s,%d\n", at, ipv4text.Format(s), counts[s])
		}
	}
	return b.Bytes()
}

// unionOf counts the rows of the members' union from the probes one by
// one (Union.Add), over intervals [0, n); members are indexes of
// srcBlocks.
func unionOf(t *testing.T, ps []srcProbe, n int, members ...int) []forecast.Row {
	t.Helper()
	var blocks []pool.Block
	for _, m := range members {
		blocks = append(blocks, pool.Block{Name: fmt.Sprint(m), Lo: uint64(m) << 16, Hi: uint64(m+1) << 16})
	}
	u, err := pool.NewUnion(blocks, srcT0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	for i := range n {
		for ; k < len(ps) && ps[k].ivl == i; k++ {
			if j := slices.Index(members, ps[k].member); j >= 0 {
				if err := u.Add(j, ps[k].src); err != nil {
					t.Fatal(err)
				}
			}
		}
		u.Close()
	}
	var out []forecast.Row
	for _, r := range u.Rows() {
		out = append(out, forecast.Row(r))
	}
	return out
}

// srcConfig loads a configuration of the three members pushing sources
// and the pools' tables given.
func srcConfig(t *testing.T, dir, data, pools string) (*Config, error) {
	t.Helper()
	tok := filepath.Join(dir, "push.token")
	if err := os.WriteFile(tok, []byte(remoteToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var conf bytes.Buffer
	for i, s := range poolMembers {
		fmt.Fprintf(&conf, "[[remote]]\nsensor = %q\ntoken_file = %q\nsources = true\nblock = %q\n", s, tok, srcBlocks[i])
	}
	conf.WriteString(pools)
	path := filepath.Join(dir, "serve.toml")
	if err := os.WriteFile(path, conf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load(path, Overrides{Sets: servetest.Sets(data)})
}

// srcService runs srcConfig's service.
func srcService(t *testing.T, dir, data, pools string) *running {
	t.Helper()
	cfg, err := srcConfig(t, dir, data, pools)
	if err != nil {
		t.Fatal(err)
	}
	return start(t, cfg, Options{})
}

// pushSrc posts a sources push and returns the status and body.
func pushSrc(t *testing.T, r *running, sensor string, body []byte) (int, []byte) {
	t.Helper()
	return servetest.Request(t, http.DefaultClient, "POST", r.url+"/api/v1/sources/"+sensor, bytes.NewReader(body),
		"Authorization", "Bearer "+remoteToken, "Content-Type", "text/csv")
}

// pushSrcOK posts member m's intervals [from, to) and checks the answer.
func pushSrcOK(t *testing.T, r *running, ps []srcProbe, m, from, to int) {
	t.Helper()
	if code, body := pushSrc(t, r, poolMembers[m], sourcesCSV(ps, m, from, to)); code != 200 {
		t.Fatalf("push of %s [%d, %d): %d %s", poolMembers[m], from, to, code, body)
	}
}

const exactTable = "[[pool]]\nname = \"alliance\"\nsensors = [\"m1\", \"m2\", \"m3\"]\n[[pool]]\nname = \"pair\"\nsensors = [\"m1\", \"m3\"]\n"

// TestExactPool: three members push their sources in pieces (some
// intervals again); each member's series is its own sources' (a Union of
// its block), and the pools' rows are pool.Union's of the members'
// probes counted one by one, bit for bit, where pool.Sum of the members'
// series counts more sources; the status says the pools count the union;
// the sources kept in memory are dropped once the pools made their rows.
func TestExactPool(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ps := srcProbes()
	r := srcService(t, dir, filepath.Join(dir, "data"), exactTable)
	cuts := [][]int{{0, 40, 90, srcIntervals}, {0, 70, srcIntervals}, {0, 10, 20, 100, srcIntervals}}
	for step := range 5 {
		for m, c := range cuts {
			if step+1 < len(c) {
				pushSrcOK(t, r, ps, m, max(0, c[step]-2), c[step+1]) // two intervals again
			}
		}
	}
	var members [][]pool.Row
	for m, name := range poolMembers {
		own := unionOf(t, ps, srcIntervals, m)
		if got := storedRows(t, r, name); !equalRows(got, rowsJSON(own)) {
			t.Fatalf("member %s: its rows are not its sources' (%d rows, want %d)", name, len(got), len(own))
		}
		members = append(members, own)
	}
	checkExact(t, r, ps, "alliance", members, 0, 1, 2)
	checkExact(t, r, ps, "pair", [][]pool.Row{members[0], members[2]}, 0, 2)
	for _, p := range poolsOf(t, r) {
		if p.Counted != "union" || p.Rows != srcIntervals {
			t.Errorf("pool %s in the status: %+v", p.Name, p)
		}
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	for _, name := range poolMembers { // every pool made every row: no sources are needed any more
		if n := len(r.svc.l.remote.byName[name].src.held); n != 0 {
			t.Errorf("member %s: the sources of %d intervals kept after the pools made their rows", name, n)
		}
	}
}

// checkExact checks that pool name's rows are pool.Union's of the
// members' probes, and that pool.Sum of their rows differs in sources.
func checkExact(t *testing.T, r *running, ps []srcProbe, name string, members [][]pool.Row, idx ...int) {
	t.Helper()
	want := unionOf(t, ps, srcIntervals, idx...)
	if got := storedRows(t, r, name); !equalRows(got, rowsJSON(want)) {
		t.Fatalf("pool %s: its rows (%d) are not pool.Union's (%d)", name, len(got), len(want))
	}
	sum, err := pool.Sum(members...)
	if err != nil {
		t.Fatal(err)
	}
	more := 0
	for i := range sum {
		if sum[i].Probes != want[i].Probes {
			t.Fatalf("pool %s, row %d: probes %d, the sum's %d", name, i, want[i].Probes, sum[i].Probes)
		}
		if sum[i].Sources > want[i].Sources {
			more++
		}
	}
	if more < srcIntervals/2 || sum[len(sum)-1].CumulativeSources <= want[len(want)-1].CumulativeSources {
		t.Fatalf("pool %s: pool.Sum counts more sources in %d rows only (cumulative %d, the union's %d)", name, more,
			sum[len(sum)-1].CumulativeSources, want[len(want)-1].CumulativeSources)
	}
}

// TestExactPoolRestart: a service stopped with the members at different
// intervals restarts with the same member and pool rows, transitions and
// status; the pushes after it (some intervals again) make the rows of
// pool.Union over all the probes.
func TestExactPoolRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	ps := srcProbes()
	r := srcService(t, dir, data, exactTable)
	cuts := []int{80, 60, 95}
	for m, c := range cuts {
		pushSrcOK(t, r, ps, m, 0, c)
	}
	before, beforeTr, beforeSt := storedRows(t, r, "alliance"), transitionsOf(t, r, "alliance"), poolsOf(t, r)
	if len(before) != 60 {
		t.Fatalf("before the restart: %d rows, want 60", len(before))
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	r = srcService(t, dir, data, exactTable)
	st := poolsOf(t, r)
	if got := storedRows(t, r, "alliance"); !equalRows(got, before) || !slices.Equal(transitionsOf(t, r, "alliance"), beforeTr) ||
		st[0].Rows != beforeSt[0].Rows || st[0].State != beforeSt[0].State || !slices.Equal(st[0].WaitingFor, []string{"m2"}) {
		t.Fatalf("after the restart: %d rows, %+v; before %d rows, %+v", len(got), st[0], len(before), beforeSt[0])
	}
	for m, c := range cuts {
		pushSrcOK(t, r, ps, m, c-3, srcIntervals)
	}
	want := unionOf(t, ps, srcIntervals, 0, 1, 2)
	if got := storedRows(t, r, "alliance"); !equalRows(got, rowsJSON(want)) {
		t.Fatalf("after the restart, the pool's rows (%d) are not pool.Union's (%d)", len(got), len(want))
	}
	if got := storedRows(t, r, "m2"); !equalRows(got, rowsJSON(unionOf(t, ps, srcIntervals, 1))) {
		t.Fatal("after the restart, m2's rows are not its sources'")
	}
	if got, exp := transitionsOf(t, r, "alliance"), expectedTransitions(t, &forecast.Series{Name: "alliance", Size: 3 << 16, Interval: time.Minute, Rows: want}); !slices.Equal(got, exp) {
		t.Errorf("the pool's transitions across the restart:\n%s\nof a RowSeries fed the union:\n%s", strings.Join(got, "\n"), strings.Join(exp, "\n"))
	}
}

// TestSourcesPushRefused: a bad body is a 400 naming the line and the
// field, and stores nothing; an interval changed, or not following the
// last, is a 409; a series push of a sources member and a sources push
// of a series member are 409s.
func TestSourcesPushRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := srcService(t, dir, filepath.Join(dir, "data"), exactTable)
	const h = "time,source,probes\n"
	for _, c := range []struct{ body, want string }{
		{"", "line 1: no header"},
		{"time,src,probes\n2001-07-19T10:00:00Z,1.2.3.4,1\n", `line 1: header "time,src,probes"`},
		{h, "no rows"},
		{h + "2001-07-19T10:00:00Z,1.2.3.4,1\n2001-07-19T10:00:30Z,1.2.3.5,1\n", "line 3: field time 2001-07-19T10:00:30Z: not the start of an interval"},
		{h + "2001-07-19T10:00:00Z,1.2.3.4,1\nyesterday,1.2.3.5,1\n", `line 3: field time "yesterday"`},
		{h + "2001-07-19T10:00:00Z,1.2.3.4,1\n2001-07-19T10:00:00Z,1.2.3.04,1\n", `line 3: field source "1.2.3.04"`},
		{h + "2001-07-19T10:00:00Z,1.2.3.4,1\n2001-07-19T10:00:00Z,1.2.3.4,2\n", "line 3: field source 1.2.3.4: given twice"},
		{h + "2001-07-19T10:00:00Z,1.2.3.4,-1\n", `line 2: field probes "-1"`},
		{h + "2001-07-19T10:00:00Z,1.2.3.4,0\n", "line 2: field probes 0"},
		{h + "2001-07-19T10:00:00Z,,2\n", "line 2: field probes 2: a row with no source"},
		{h + "2001-07-19T10:01:00Z,1.2.3.4,1\n2001-07-19T10:00:00Z,1.2.3.5,1\n", "line 3: field time 2001-07-19T10:00:00Z: before the row above's"},
		{h + "2001-07-19T10:00:00Z,1.2.3.4\n", "line 2: wrong number of fields"},
		{h + "2300-07-19T10:00:00Z,1.2.3.4,1\n", "line 2: field time 2300-07-19T10:00:00Z: want a time from 1970-01-01 to 2262-01-01"},
		{h + "2001-07-19T10:00:00Z,1.2.3.4,1\n2001-07-19T10:02:00Z,1.2.3.5,1\n", "line 3: field time 2001-07-19T10:02:00Z: the interval of 2001-07-19T10:01:00Z has no row"},
	} {
		code, body := pushSrc(t, r, "m1", []byte(c.body))
		if code != 400 || !strings.Contains(errorOf(t, body), c.want) {
			t.Errorf("body %q: %d %s, want 400 with %q", c.body, code, body, c.want)
		}
	}
	if code, body := r.get(t, "/api/v1/series/m1"); code != 404 {
		t.Fatalf("after refused pushes, m1's series: %d %s", code, body)
	}
	ok := h + "2001-07-19T10:00:00Z,1.2.3.4,2\n2001-07-19T10:01:00Z,,0\n"
	if code, body := pushSrc(t, r, "m1", []byte(ok)); code != 200 {
		t.Fatalf("a good push: %d %s", code, body)
	}
	for _, c := range []struct{ body, want string }{
		{h + "2001-07-19T10:00:00Z,1.2.3.4,3\n", "interval 2001-07-19T10:00:00Z: 3 probes from 1 sources, received before 2 from 1"},
		{h + "2001-07-19T10:03:00Z,1.2.3.4,3\n", "the next interval of the series is 2001-07-19T10:02:00Z"},
		{h + "2001-07-19T09:59:00Z,1.2.3.4,3\n", "before the series' first"},
	} {
		if code, body := pushSrc(t, r, "m1", []byte(c.body)); code != 409 || !strings.Contains(errorOf(t, body), c.want) {
			t.Errorf("body %q: %d %s, want 409 with %q", c.body, code, body, c.want)
		}
	}
	if code, body := push(t, r, "m1", "text/csv", []byte("time,probes,sources,new_sources,cumulative_sources,size\n2001-07-19T10:02:00Z,1,1,1,1,65536\n")); code != 409 || !strings.Contains(string(body), "pushes its sources") {
		t.Errorf("a series push of a sources member: %d %s", code, body)
	}
	if got := storedRows(t, r, "m1"); len(got) != 2 || got[0].Probes != 2 || got[1].Probes != 0 {
		t.Errorf("m1's rows after the refusals: %+v", got)
	}
}

// TestSourcesConfig: the mistakes of a member pushing sources and of an
// exact pool are configuration errors naming the key.
func TestSourcesConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tok := filepath.Join(dir, "push.token")
	if err := os.WriteFile(tok, []byte(remoteToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rem := func(name, extra string) string {
		return fmt.Sprintf("[[remote]]\nsensor = %q\ntoken_file = %q\n%s\n", name, tok, extra)
	}
	two := rem("a", "sources = true\nblock = \"10.0.0.0/16\"") + rem("b", "sources = true\nblock = \"10.0.128.0/17\"")
	for _, c := range []struct{ conf, want string }{
		{rem("a", "sources = true"), `remote.0.block: "": want the IPv4 block`},
		{rem("a", "sources = true\nblock = \"10.0.0.1/16\""), `remote.0.block: "10.0.0.1/16"`},
		{rem("a", "sources = true\nblock = \"2001:db8::/32\""), `remote.0.block: "2001:db8::/32"`},
		{rem("a", "block = \"10.0.0.0/16\""), "remote.0.block: \"10.0.0.0/16\": only a remote sensor with sources = true"},
		{two + "[[pool]]\nname = \"p\"\nsensors = [\"a\", \"b\"]\n", "pool.p.sensors: sensors a and b overlap"},
		{rem("a", "sources = true\nblock = \"10.0.0.0/16\"") + rem("b", "sources = true\nblock = \"10.1.0.0/16\"") + "[[pool]]\nname = \"p\"\nsensors = [\"a\", \"b\"]\nlag = \"5m\"\n", "pool.p.lag: 5m0s: a pool whose sensors all push their sources"},
	} {
		path := filepath.Join(dir, "serve.toml")
		if err := os.WriteFile(path, []byte(c.conf), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path, Overrides{Sets: servetest.Sets(filepath.Join(dir, "data"))})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.conf, err, c.want)
		}
	}
}

// TestExactPoolReload: a reload that turns a member's sources off and
// moves another's block keeps the sources and blocks of the running
// configuration (they apply at the next start): the member still pushes
// its sources, and the exact pool goes on with pool.Union's rows.
func TestExactPoolReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ps := srcProbes()
	r := srcService(t, dir, filepath.Join(dir, "data"), exactTable)
	for m := range poolMembers {
		pushSrcOK(t, r, ps, m, 0, 50)
	}
	tok := filepath.Join(dir, "push.token")
	next := fmt.Sprintf("[[remote]]\nsensor = \"m1\"\ntoken_file = %q\n[[remote]]\nsensor = \"m2\"\ntoken_file = %q\nsources = true\nblock = \"10.9.0.0/16\"\n", tok, tok) +
		fmt.Sprintf("[[remote]]\nsensor = \"m3\"\ntoken_file = %q\nsources = true\nblock = \"10.3.0.0/16\"\n", tok) + exactTable
	path := filepath.Join(dir, "next.toml")
	if err := os.WriteFile(path, []byte(next), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, Overrides{Sets: servetest.Sets(filepath.Join(dir, "data"))})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.svc.Reload(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	for m := range poolMembers {
		pushSrcOK(t, r, ps, m, 48, srcIntervals)
	}
	if got, want := storedRows(t, r, "alliance"), unionOf(t, ps, srcIntervals, 0, 1, 2); !equalRows(got, rowsJSON(want)) {
		t.Fatalf("after the reload, the pool's rows (%d) are not pool.Union's (%d)", len(got), len(want))
	}
	if p := poolsOf(t, r); p[0].Counted != "union" || p[0].Error != "" {
		t.Fatalf("after the reload: %+v", p[0])
	}
}

// TestMixedSourcesPool: a pool of two members that push their sources and
// one that pushes its series is pool.Sum of their series (its status
// says sum), not their union.
func TestMixedSourcesPool(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ps := srcProbes()
	tok := filepath.Join(dir, "push.token")
	if err := os.WriteFile(tok, []byte(remoteToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf("[[remote]]\nsensor = \"m1\"\ntoken_file = %q\nsources = true\nblock = %q\n", tok, srcBlocks[0]) +
		fmt.Sprintf("[[remote]]\nsensor = \"m2\"\ntoken_file = %q\nsources = true\nblock = %q\n", tok, srcBlocks[1]) +
		fmt.Sprintf("[[remote]]\nsensor = \"m3\"\ntoken_file = %q\n", tok) + "[[pool]]\nname = \"alliance\"\nsensors = [\"m1\", \"m2\", \"m3\"]\n"
	path := filepath.Join(dir, "serve.toml")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, Overrides{Sets: servetest.Sets(filepath.Join(dir, "data"))})
	if err != nil {
		t.Fatal(err)
	}
	r := start(t, cfg, Options{})
	pushSrcOK(t, r, ps, 0, 0, srcIntervals)
	pushSrcOK(t, r, ps, 1, 0, srcIntervals)
	m3 := unionOf(t, ps, srcIntervals, 2)
	if code, body := push(t, r, "m3", "text/csv", rowsCSV(t, m3, 1<<16)); code != 200 {
		t.Fatalf("m3's series: %d %s", code, body)
	}
	sum, err := pool.Sum(unionOf(t, ps, srcIntervals, 0), unionOf(t, ps, srcIntervals, 1), m3)
	if err != nil {
		t.Fatal(err)
	}
	if got := storedRows(t, r, "alliance"); !equalRows(got, rowsJSON(sum)) || equalRows(got, rowsJSON(unionOf(t, ps, srcIntervals, 0, 1, 2))) {
		t.Fatalf("the mixed pool's rows (%d) are not pool.Sum's of its members' series (or are the union's)", len(got))
	}
	if p := poolsOf(t, r); p[0].Counted != "sum" {
		t.Fatalf("the mixed pool in the status: %+v", p[0])
	}
}
