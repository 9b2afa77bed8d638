package param

import (
	"cmp"
	"reflect"
	"slices"
	"strings"
)

// suggest proposes keys of struct type t, as paths relative to it, for an
// unknown key seg (followed by the parts rest, if the user wrote more): the
// keys whose last part or whole path is nearest to what was written, when
// near enough to be a likely typo or a key put in the wrong table.
func suggest(t reflect.Type, seg string, rest []string) []string {
	typed := strings.ToLower(join(seg, rest...))
	last := strings.ToLower(seg)
	type cand struct {
		path  string
		d     int
		depth int
		order int
	}
	var cs []cand
	var walk func(t reflect.Type, prefix string, depth int)
	walk = func(t reflect.Type, prefix string, depth int) {
		for _, f := range fields(t) {
			p := join(prefix, f.name)
			cs = append(cs, cand{p, min(distance(last, f.name), distance(typed, p)), depth, len(cs)})
			if f.kind == kTable {
				walk(f.typ, p, depth+1)
			}
		}
	}
	walk(t, "", 0)
	limit := max(1, len(seg)/3)
	slices.SortFunc(cs, func(a, b cand) int {
		return cmp.Or(cmp.Compare(a.d, b.d), cmp.Compare(a.depth, b.depth), cmp.Compare(a.order, b.order))
	})
	var out []string
	for _, c := range cs {
		if c.d > limit || c.d > cs[0].d || len(out) == 3 {
			break
		}
		out = append(out, c.path)
	}
	return out
}

// distance is the optimal string alignment distance between a and b
// (insertions, deletions, substitutions and transpositions of adjacent
// bytes). Hand-written: the standard library has none, and these dozen
// lines do not justify a dependency.
func distance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
