package scale

import (
	"slices"
	"testing"
)

// TestShardSeeds: the shards of a seed list hold every seed exactly once,
// in the list's order within each shard, for shard counts below, at and
// above the number of seeds.
func TestShardSeeds(t *testing.T) {
	seeds := []uint64{4, 9, 1, 7, 3, 8, 2}
	if got := ShardSeeds(seeds, 1, 3); !slices.Equal(got, []uint64{9, 3}) { // positions 1 and 4
		t.Errorf("shard 1/3 = %v; want [9 3]", got)
	}
	for n := 1; n <= 9; n++ {
		var all []uint64
		for i := range n {
			sh := ShardSeeds(seeds, i, n)
			for k := 1; k < len(sh); k++ {
				if slices.Index(seeds, sh[k-1]) > slices.Index(seeds, sh[k]) {
					t.Errorf("shard %d/%d = %v: out of the list's order", i, n, sh)
				}
			}
			all = append(all, sh...)
		}
		slices.Sort(all)
		want := slices.Sorted(slices.Values(seeds))
		if !slices.Equal(all, want) {
			t.Errorf("%d shards hold %v; want each of %v once", n, all, want)
		}
	}
}

func TestParseShard(t *testing.T) {
	for _, c := range []struct {
		in   string
		i, n int
		ok   bool
	}{
		{"0/1", 0, 1, true}, {"3/8", 3, 8, true}, {"7/8", 7, 8, true},
		{"8/8", 0, 0, false}, {"-1/8", 0, 0, false}, {"0/0", 0, 0, false},
		{"1", 0, 0, false}, {"a/2", 0, 0, false}, {"1/2/3", 0, 0, false}, {"", 0, 0, false},
	} {
		i, n, err := ParseShard(c.in)
		if (err == nil) != c.ok || (c.ok && (i != c.i || n != c.n)) {
			t.Errorf("ParseShard(%q) = %d, %d, %v", c.in, i, n, err)
		}
	}
}
