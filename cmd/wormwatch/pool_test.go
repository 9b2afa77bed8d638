package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"wormwatch/pool/study"
)

// poolSmall is a study of codered2-july19 scaled to 2^24 addresses and
// 1,406 hosts (Code Red's K), 4 members, 2 seeds: it runs in well under a
// second.
var poolSmall = []string{"--set", "space.bits=24", "--set", "population.hosts=1406", "--members", "1,2,4", "--slash24", "1", "--seeds", "2"}

func TestCLIPool(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := mustRun(t, dir, join([]string{"pool", "--out", "p"}, poolSmall)...)
	for _, want := range []string{"Pooled sensors: codered2-july19, 4 members per run, each a /16 and 1 /24s", "pooled alarm", "N pooled", "results: p"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout does not say %q:\n%s", want, r.stdout)
		}
	}
	text := readFile(t, filepath.Join(dir, "p", study.TextFile))
	if !strings.HasPrefix(r.stdout, string(text)) {
		t.Errorf("%s is not the table printed", study.TextFile)
	}
	f, err := os.Open(filepath.Join(dir, "p", study.CSVFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], study.CSVColumns) {
		t.Errorf("header %v, want %v", rows[0], study.CSVColumns)
	}
	// Per seed: pools of 1, 2 and 4 (4 + 2 + 1), each with its exact and
	// summed series and its members, a row per time after the alarm (3)
	// or one when the pool has no alarm.
	if n := len(rows) - 1; n < 2*(4*3+2*4+1*6) || n > 3*2*(4*3+2*4+1*6) {
		t.Errorf("%d rows", n)
	}
	var s struct {
		Counts []int `json:"counts"`
		Lines  []struct {
			Count int `json:"count"`
			Pools int `json:"pools"`
		} `json:"lines"`
		Seeds []struct {
			Seed    uint64 `json:"seed"`
			Members []struct {
				Prefixes []string `json:"prefixes"`
			} `json:"members"`
		} `json:"seeds"`
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "p", study.JSONFile)), &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Lines) != 3 || s.Lines[1].Count != 2 || s.Lines[1].Pools != 4 || len(s.Seeds) != 2 || len(s.Seeds[1].Members) != 4 || len(s.Seeds[1].Members[0].Prefixes) != 2 {
		t.Errorf("pool.json: %+v", s)
	}
	again := mustRun(t, dir, join([]string{"pool", "--out", "q"}, poolSmall)...)
	if strings.Replace(again.stdout, "results: q", "results: p", 1) != r.stdout {
		t.Error("the same study twice printed different tables")
	}
}

func TestCLIPoolBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "exists"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--members", "0"}, "0 members"},
		{[]string{"--members", "2,2"}, "2 members is given twice"},
		{[]string{"--members", "x"}, "invalid argument"},
		{[]string{"--slash24", "17"}, "17 /24s per member"},
		{[]string{"--after", "-1h"}, "after the alarm"},
		{[]string{"--seeds", "0"}, "--seeds 0"},
		{[]string{"--set", "population.nope=1"}, "population.nope"},
		{[]string{"--alarm-z", "0"}, "--alarm-z"},
		{[]string{"--out", "exists"}, "exists"},
		{[]string{"no-such-scenario"}, "no-such-scenario"},
	} {
		args := join([]string{"pool"}, tc.args, []string{"--set", "space.bits=24", "--set", "population.hosts=1406", "--members", "1"})
		if !slices.Contains(tc.args, "--out") {
			args = append(args, "--out", "o")
		}
		if slices.Contains(tc.args, "--members") {
			args = slices.Delete(args, len(args)-4, len(args)-2) // theirs, not the default's
		}
		r := wormwatch(t, dir, args...)
		if r.code != 2 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and one line saying %q", tc.args, r.code, r.stderr, tc.want)
		}
		if _, err := os.Stat(filepath.Join(dir, "o")); err == nil {
			t.Errorf("%v: left the folder o", tc.args)
		}
	}
}
