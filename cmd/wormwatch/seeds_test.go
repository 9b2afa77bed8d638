package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParseSeeds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      string
		want    []uint64
		wantN   int    // instead of want: the seeds 0 to wantN-1
		wantErr string // empty: no error
	}{
		{in: "3", want: []uint64{1, 2, 3}},
		{in: "1", want: []uint64{1}},
		{in: "5-7", want: []uint64{5, 6, 7}},
		{in: "9-9", want: []uint64{9}},
		{in: "1,4,7", want: []uint64{1, 4, 7}},
		{in: "7,1", want: []uint64{7, 1}},
		{in: "0,2-3", want: []uint64{0, 2, 3}},
		{in: " 2 , 4-5 ", want: []uint64{2, 4, 5}},
		{in: "18446744073709551615", wantErr: "a count of 18446744073709551615 seeds; at most 1000000"},
		{in: "0", wantErr: "count from 1 to 1000000"},
		{in: "1000001", wantErr: "a count of 1000001 seeds; at most 1000000"},
		// Issue 7, item 11: a range too long is said to be too long, not "not a range".
		{in: "1-100000000", wantErr: "more than 1000000 seeds; at most 1000000"},
		{in: "0-18446744073709551615", wantErr: "more than 1000000 seeds"},
		{in: "1-600000,700000-1100000", wantErr: "more than 1000000 seeds"},
		{in: "3-1", wantErr: `"3-1" is not a range`},
		{in: "0-999999", wantN: 1_000_000},
		{in: "0-1000000", wantErr: "more than 1000000 seeds"},
		{in: "a", wantErr: `"a" is not a seed`},
		{in: "", wantErr: `"" is not a seed`},
		{in: "1,,2", wantErr: `"" is not a seed`},
		{in: "-3", wantErr: `"-3" is not a range`},
		{in: "1,2,1", wantErr: "seed 1 is given twice"},
		{in: "1-3,2", wantErr: "seed 2 is given twice"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseSeeds(c.in)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("parseSeeds(%q) = %d seeds, %v; want an error with %q", c.in, len(got), err, c.wantErr)
				}
				return
			}
			if c.wantN > 0 {
				if err != nil || len(got) != c.wantN || got[0] != 0 || got[len(got)-1] != uint64(c.wantN-1) {
					t.Fatalf("parseSeeds(%q) = %d seeds, %v; want 0 to %d", c.in, len(got), err, c.wantN-1)
				}
				return
			}
			if err != nil || !slices.Equal(got, c.want) {
				t.Fatalf("parseSeeds(%q) = %v, %v; want %v", c.in, got, err, c.want)
			}
		})
	}
}

// FuzzParseSeeds: whatever the input, parseSeeds does not panic; what it
// accepts is a non-empty list of distinct seeds that reads back the same
// when written as a comma list.
func FuzzParseSeeds(f *testing.F) {
	for _, s := range []string{"20", "1-100", "1,5,9", "3-1", "1,1", " 4 ,2-3", "-", ",", "18446744073709551615", "1-9999", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		seeds, err := parseSeeds(s)
		if err != nil {
			return
		}
		if len(seeds) == 0 {
			t.Fatalf("parseSeeds(%q): no seeds and no error", s)
		}
		seen := map[uint64]bool{}
		parts := make([]string, len(seeds))
		for i, n := range seeds {
			if seen[n] {
				t.Fatalf("parseSeeds(%q): seed %d twice", s, n)
			}
			seen[n] = true
			parts[i] = strconv.FormatUint(n, 10)
		}
		if len(seeds) == 1 {
			return // a lone number reads as a count, not as a seed
		}
		again, err := parseSeeds(strings.Join(parts, ","))
		if err != nil || !slices.Equal(again, seeds) {
			t.Fatalf("parseSeeds(%q) = %v, but its comma list reads %v, %v", s, seeds, again, err)
		}
	})
}
