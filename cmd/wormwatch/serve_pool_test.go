package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"wormwatch/forecast"
	"wormwatch/pool"
)

// TestServePoolKill9 pushes the day of three members' telescopes of a
// simulated Code Red v2 outbreak (serve's test data) to wormwatch serve,
// whose pool joins the three, each member in pieces at its own pace,
// killing the service with SIGKILL at random moments (some while a push
// is under way) and starting it again each time; each member goes on
// from its last acknowledged push, sending a few rows again. After each
// restart the pool has as many rows as the member with the fewest
// committed (it waits for every member: lag 0). At the end the pool's
// series is pool.Sum of the three files, byte for byte as CSV, and its
// transitions are those of that sum pushed whole as a remote sensor's
// series (none lost, none twice).
func TestServePoolKill9(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	members := []string{"m1", "m2", "m3"}
	var header string
	var rows [][]string
	for _, m := range members {
		data, err := os.ReadFile("../../serve/testdata/pool-codered2-" + m + ".csv")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitAfter(string(data), "\n")
		header = lines[0]
		rows = append(rows, lines[1:len(lines)-1])
	}
	sum := summedCSV(t, members)
	writePoolConfig(t, dir, append(members, "ref"), "[[pool]]\nname = \"alliance\"\nsensors = [\"m1\", \"m2\", \"m3\"]\n")
	rng := rand.New(rand.NewPCG(8, 13))
	n := len(rows[0])
	acked := make([]int, len(members))
	for kill := 0; slices.Min(acked) < n*3/4; kill++ {
		s := startServer(t, dir, "--config", "serve.toml")
		checkPoolRows(t, s, kill)
		for range 1 + rng.IntN(4) {
			i := rng.IntN(len(members))
			if acked[i] == n {
				continue
			}
			from, to := max(acked[i]-rng.IntN(4), 0), min(acked[i]+2+rng.IntN(60), n)
			if code, body := pushCSV(s, members[i], header, rows[i][from:to]); code != 200 {
				t.Fatalf("push of rows %d to %d of %s: %d %s\n%s", from+1, to, members[i], code, body, s.stderr)
			}
			acked[i] = to
		}
		if rng.IntN(2) == 0 { // a push cut by the kill: committed or not
			i := rng.IntN(len(members))
			go pushCSV(s, members[i], header, rows[i][acked[i]:min(acked[i]+2+rng.IntN(60), n)])
		}
		time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond) // the moment of the kill, not a wait for anything
		s.signal(t, syscall.SIGKILL)
		t.Logf("kill %d: rows acknowledged %v", kill+1, acked)
	}
	s := startServer(t, dir, "--config", "serve.toml")
	checkPoolRows(t, s, -1)
	for i, m := range members {
		if code, body := pushCSV(s, m, header, rows[i][acked[i]-3:]); code != 200 {
			t.Fatalf("the rest of %s: %d %s", m, code, body)
		}
	}
	if code, body := pushCSV(s, "ref", "", []string{sum}); code != 200 {
		t.Fatalf("the sum pushed whole: %d %s", code, body)
	}
	if got := string(s.get(t, "/api/v1/series/alliance?format=csv&limit=100000")); got != sum {
		t.Fatalf("the pool's series is not pool.Sum of the members' files: %d bytes, the sum %d", len(got), len(sum))
	}
	pooled, ref := pushTransitions(t, s, "alliance"), pushTransitions(t, s, "ref")
	if len(ref) < 2 || !slices.Equal(pooled, ref) {
		t.Fatalf("the pool's transitions with kills:\n%s\nof the sum pushed whole:\n%s", strings.Join(pooled, "\n"), strings.Join(ref, "\n"))
	}
	if code := s.signal(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM: exit status %d, want 0:\n%s", code, s.stderr)
	}
}

// summedCSV returns pool.Sum of the members' files as the sensor series
// CSV (what the service writes of a series).
func summedCSV(t *testing.T, members []string) string {
	t.Helper()
	var series [][]pool.Row
	var size uint64
	for _, m := range members {
		s, err := forecast.ReadSeriesFile(context.Background(), "../../serve/testdata/pool-codered2-"+m+".csv")
		if err != nil {
			t.Fatal(err)
		}
		series, size = append(series, s.Rows), size+s.Size
	}
	sum, err := pool.Sum(series...)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("time,probes,sources,new_sources,cumulative_sources,size\n")
	for _, r := range sum {
		fmt.Fprintf(&b, "%s,%d,%d,%d,%d,%d\n", r.Time.UTC().Format(time.RFC3339), r.Probes, r.Sources, r.NewSources, r.CumulativeSources, size)
	}
	return b.String()
}

// writePoolConfig writes dir/serve.toml: the remote sensors (with
// pushToken) and the pools' tables.
func writePoolConfig(t *testing.T, dir string, remotes []string, pools string) {
	t.Helper()
	tok := filepath.Join(dir, "push.token")
	if err := os.WriteFile(tok, []byte(pushToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := "[service]\nlisten = \"127.0.0.1:0\"\ndata = \"data\"\ncommit_interval = \"30ms\"\nclock = false\n"
	for _, s := range remotes {
		cfg += fmt.Sprintf("\n[[remote]]\nsensor = %q\ntoken_file = %q\n", s, tok)
	}
	if err := os.WriteFile(filepath.Join(dir, "serve.toml"), []byte(cfg+"\n"+pools), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkPoolRows checks, after a start, that the pool has as many rows as
// the member with the fewest committed.
func checkPoolRows(t *testing.T, s *server, kill int) {
	t.Helper()
	var st struct {
		Remotes []struct {
			Sensor string
			Rows   int
		}
		Pools []struct {
			Name string
			Rows int
		}
	}
	if err := json.Unmarshal(s.get(t, "/api/v1/status"), &st); err != nil {
		t.Fatal(err)
	}
	least := -1
	for _, r := range st.Remotes {
		if r.Sensor != "ref" && (least < 0 || r.Rows < least) {
			least = r.Rows
		}
	}
	if len(st.Remotes) < 3 {
		least = 0
	}
	if len(st.Pools) != 1 || st.Pools[0].Rows != least {
		t.Fatalf("after kill %d: the pool %+v, the members %+v: want %d rows", kill, st.Pools, st.Remotes, least)
	}
}
