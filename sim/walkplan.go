package sim

import (
	"math/rand/v2"

	"wormwatch/internal/ctxpoll"
	"wormwatch/ipv4"
	"wormwatch/worm"
)

// walkPlan is what both engines share about a walking variant: its walk
// and where the walk of each newly infected host starts.
type walkPlan struct {
	vi          int
	v           *worm.Variant
	walk        worm.Walk
	n           uint64 // probes per cycle
	cyclic      bool
	restart     bool // permutation: a probe that finds a host it infected restarts the walk
	partitioned bool // an infector hands half of its share of the walk to each host it infects
	base        uint64
	seedNext    uint64
}

func newWalkPlan(vi int, v *worm.Variant, hosts *ipv4.Hosts, rng *rand.Rand, stop *ctxpoll.Poller) (*walkPlan, error) {
	walk, err := worm.NewWalk(v, rng.Uint64(), hosts, rng, stop)
	if err != nil {
		return nil, err
	}
	t := v.P.Targeting
	p := &walkPlan{
		vi: vi, v: v, walk: walk, n: walk.Len(), cyclic: walk.Cyclic(),
		restart:     t.Strategy == "permutation" && t.Permutation.OnInfected == "restart",
		partitioned: (t.Strategy == "permutation" && t.Permutation.Partitioned) || (t.Strategy == "hitlist" && t.HitList.Partitioned),
	}
	if p.cyclic {
		p.base = rng.Uint64N(p.n)
	}
	return p, nil
}

func (p *walkPlan) advance(a, k uint64) uint64 {
	if p.cyclic {
		return (a + k%p.n) % p.n
	}
	return a + k
}

// begin returns where the walk of host h, just infected by infector (-1 for
// a seed), starts and how many probes its share holds (noEnd: all of a
// cyclic walk), or ok=false if the host scans at random from the start.
// child says the infector handed over the share (childCur, childRem).
func (p *walkPlan) begin(w *world, rng *rand.Rand, h, infector int32, child bool, childCur, childRem uint64) (cur, rem uint64, ok bool) {
	t := p.v.P.Targeting
	switch t.Strategy {
	case "sequence":
		// CRv1: every host starts the same walk from its beginning.
		return 0, noEnd, true
	case "sequential":
		if rng.Float64() < t.Sequential.LocalStart {
			lo, _ := p.v.Scope(w.h[h].addr, 16)
			return lo, noEnd, true
		}
		return rng.Uint64N(p.n), noEnd, true
	}
	switch {
	case infector < 0 && (p.partitioned || t.Strategy == "hitlist"):
		// The seeds share the walk in equal parts.
		k := uint64(w.seedK[p.vi])
		i := p.seedNext
		p.seedNext++
		lo, hi := i*p.n/k, (i+1)*p.n/k
		cur, rem = p.advance(p.base, lo), hi-lo
	case infector < 0 || (t.Strategy == "permutation" && !p.partitioned):
		cur, rem = rng.Uint64N(p.n), noEnd
	case child:
		cur, rem = childCur, childRem
	default:
		return 0, 0, false // infected by a host with no share to hand on
	}
	return cur, rem, rem > 0
}
