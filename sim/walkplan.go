package sim

import (
	"fmt"
	"math/rand/v2"

	"wormwatch/internal/ctxpoll"
	"wormwatch/ipv4"
	"wormwatch/worm"
)

// walkPlan is what both engines share about a walking variant: its walk
// and where the walk of each newly infected host starts (its strategy's
// worm.Walker).
type walkPlan struct {
	vi          int
	v           *worm.Variant
	strategy    worm.Walker
	walk        worm.Walk
	n           uint64 // probes per cycle
	cyclic      bool
	restart     bool // a probe that finds a host the variant infected restarts the walk (or ends a partitioned share)
	partitioned bool // an infector hands half of its share of the walk to each host it infects
	base        uint64
	seedNext    uint64
}

func newWalkPlan(vi int, v *worm.Variant, hosts *ipv4.Hosts, rng *rand.Rand, stop *ctxpoll.Poller) (*walkPlan, error) {
	strategy, ok := v.Walker()
	if !ok {
		return nil, fmt.Errorf("worm %s: strategy %q does not walk", v.Name, v.P.Targeting.Strategy)
	}
	walk, err := worm.NewWalk(v, rng.Uint64(), hosts, rng, stop)
	if err != nil {
		return nil, err
	}
	rules := strategy.Rules(v.P.Targeting)
	p := &walkPlan{
		vi: vi, v: v, strategy: strategy, walk: walk, n: walk.Len(), cyclic: walk.Cyclic(),
		restart: rules.Restart, partitioned: rules.Partitioned,
	}
	if p.cyclic {
		p.base = rng.Uint64N(p.n)
	}
	return p, nil
}

func (p *walkPlan) advance(a, k uint64) uint64 { return worm.Advance(a, k, p.n, p.cyclic) }

// begin returns where the walk of host h, just infected by infector (-1 for
// a seed), starts and how many probes its share holds (noEnd: all of a
// cyclic walk), or ok=false if the host scans at random from the start.
// child says the infector handed over the share (childCur, childRem).
func (p *walkPlan) begin(w *world, rng *rand.Rand, h, infector int32, child bool, childCur, childRem uint64) (cur, rem uint64, ok bool) {
	s := worm.NewWalkStart(p.v, p.walk, p.base, uint64(w.seedK[p.vi]), &p.seedNext)
	s.Addr, s.Seed, s.Rand = w.h[h].addr, infector < 0, rng
	s.Handed, s.HandedCur, s.HandedRem = child, childCur, childRem
	return p.strategy.Begin(&s)
}
