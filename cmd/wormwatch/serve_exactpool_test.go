package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"wormwatch/internal/ipv4text"
	"wormwatch/pool"
)

// TestServeExactPoolKill9: three members that push their sources
// ([[remote]] sources = true) while the binary is killed with SIGKILL
// again and again; after each start the exact pool has as many rows as
// its slowest member's committed, and at the end its series is
// pool.Union's of all the members' probes, byte for byte, though sources
// reach two and three members in the same interval (pool.Sum's would be
// larger).
func TestServeExactPoolKill9(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	members := []string{"m1", "m2", "m3"}
	const n = 90
	lines, want := exactPoolData(t, len(members), n)
	tok := filepath.Join(dir, "push.token")
	if err := os.WriteFile(tok, []byte(pushToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := "[service]\nlisten = \"127.0.0.1:0\"\ndata = \"data\"\ncommit_interval = \"30ms\"\nclock = false\n"
	for i, m := range members {
		cfg += fmt.Sprintf("\n[[remote]]\nsensor = %q\ntoken_file = %q\nsources = true\nblock = \"10.%d.0.0/16\"\n", m, tok, i+1)
	}
	cfg += "\n[[pool]]\nname = \"alliance\"\nsensors = [\"m1\", \"m2\", \"m3\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "serve.toml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 14))
	acked := make([]int, len(members))
	for kill := 0; slices.Min(acked) < n*3/4; kill++ {
		s := startServer(t, dir, "--config", "serve.toml")
		checkPoolRows(t, s, kill)
		for range 1 + rng.IntN(4) {
			i := rng.IntN(len(members))
			if acked[i] == n {
				continue
			}
			from, to := max(acked[i]-rng.IntN(3), 0), min(acked[i]+1+rng.IntN(15), n)
			if code, body := pushSources(s, members[i], lines[i][from:to]); code != 200 {
				t.Fatalf("push of intervals %d to %d of %s: %d %s\n%s", from, to, members[i], code, body, s.stderr)
			}
			acked[i] = to
		}
		if rng.IntN(2) == 0 { // a push cut by the kill: committed or not
			i := rng.IntN(len(members))
			go pushSources(s, members[i], lines[i][acked[i]:min(acked[i]+1+rng.IntN(15), n)])
		}
		time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond) // the moment of the kill, not a wait for anything
		s.signal(t, syscall.SIGKILL)
		t.Logf("kill %d: intervals acknowledged %v", kill+1, acked)
	}
	s := startServer(t, dir, "--config", "serve.toml")
	checkPoolRows(t, s, -1)
	for i, m := range members {
		if code, body := pushSources(s, m, lines[i][acked[i]-2:]); code != 200 {
			t.Fatalf("the rest of %s: %d %s", m, code, body)
		}
	}
	if got := string(s.get(t, "/api/v1/series/alliance?format=csv&limit=100000")); got != want {
		t.Fatalf("the pool's series is not pool.Union's of the members' probes:\n%s\nwant:\n%s", got, want)
	}
	if code := s.signal(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM: exit status %d, want 0:\n%s", code, s.stderr)
	}
}

// exactPoolData draws the members' sources of n one-minute intervals
// (fixed seed; up to 400 sources an interval, each reaching a member with
// probability 0.4, 1 to 3 probes): each member's push body of each
// interval, and pool.Union's series of all the probes as the service
// writes it (its CSV). It checks that pool.Sum of the members' own rows
// counts more sources, so that the union is not the sum.
func exactPoolData(t *testing.T, members, n int) (lines [][]string, want string) {
	t.Helper()
	t0 := time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(2001, 7))
	var blocks []pool.Block
	var own []*pool.Union
	for m := range members {
		b := pool.Block{Name: fmt.Sprint(m), Lo: uint64(10<<24 | (m+1)<<16), Hi: uint64(10<<24|(m+1)<<16) + 1<<16}
		blocks = append(blocks, b)
		u, _ := pool.NewUnion([]pool.Block{b}, t0, time.Minute)
		own = append(own, u)
	}
	u, err := pool.NewUnion(blocks, t0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	lines = make([][]string, members)
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)
		bodies := make([]strings.Builder, members)
		for s := range 1 + i*4 + rng.IntN(10) {
			src := uint32(0xC0000200) + uint32(s)*104729
			for m := range members {
				if rng.Float64() < 0.4 {
					k := 1 + rng.IntN(3)
					for range k {
						u.Add(m, src)
						own[m].Add(0, src)
					}
					fmt.Fprintf(&bodies[m], "%s,%s,%d\n", at, ipv4text.Format(src), k)
				}
			}
		}
		for m := range members {
			if bodies[m].Len() == 0 {
				fmt.Fprintf(&bodies[m], "%s,,0\n", at)
			}
			lines[m] = append(lines[m], bodies[m].String())
			own[m].Close()
		}
		u.Close()
	}
	var ownRows [][]pool.Row
	for _, o := range own {
		ownRows = append(ownRows, o.Rows())
	}
	sum, err := pool.Sum(ownRows...)
	if err != nil || sum[n-1].CumulativeSources <= u.Rows()[n-1].CumulativeSources {
		t.Fatalf("pool.Sum's cumulative sources are not more than the union's: %v", err)
	}
	var b strings.Builder
	b.WriteString("time,probes,sources,new_sources,cumulative_sources,size\n")
	for _, r := range u.Rows() {
		fmt.Fprintf(&b, "%s,%d,%d,%d,%d,%d\n", r.Time.UTC().Format(time.RFC3339), r.Probes, r.Sources, r.NewSources, r.CumulativeSources, members<<16)
	}
	return lines, b.String()
}

// pushSources posts a member's intervals as a sources push.
func pushSources(s *server, sensor string, intervals []string) (int, []byte) {
	req, err := http.NewRequest("POST", s.url+"/api/v1/sources/"+sensor, strings.NewReader("time,source,probes\n"+strings.Join(intervals, "")))
	if err != nil {
		return 0, []byte(err.Error())
	}
	req.Header.Set("Authorization", "Bearer "+pushToken)
	resp, err := serveClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}
