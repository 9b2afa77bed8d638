package worm

import (
	"math/rand/v2"

	"wormwatch/internal/ctxpoll"
	"wormwatch/ipv4"
)

// hitlist is a Warhol-style hit-list worm (see HitList): the seeds carry a
// list of addresses and scan it first; a host whose share of the list is
// used up scans uniformly.
type hitlist struct{}

func init() {
	RegisterStrategy(StrategyHitList, 40, "a list of addresses first, then uniform", hitlist{})
}

// Components implements Targeter: after its list, a host scans the whole
// space.
func (hitlist) Components(t Targeting) []Component { return wholeSpace(t) }

// Check implements TargetChecker: the list fits the space, and its entries
// that are not hosts fit in the addresses without one.
func (hitlist) Check(t Targeting, env CheckEnv) *KeyError {
	if uint64(t.HitList.Size) > env.Space.Size() {
		return keyErr("targeting.hitlist.size", "%d is more than the %d addresses of the %d-bit space", t.HitList.Size, env.Space.Size(), env.Space.Bits)
	}
	if env.Hosts >= 0 {
		if err := CheckHitList(t.HitList, env.Hosts, env.Space.Size()); err != nil {
			return keyErr("targeting.hitlist.size", "%v", err)
		}
	}
	return nil
}

// NewWalk implements Walker: the list, drawn from rng (see NewHitList).
func (hitlist) NewWalk(v *Variant, _ uint64, hosts *ipv4.Hosts, rng *rand.Rand, stop *ctxpoll.Poller) (Walk, error) {
	return NewHitList(v.P.Targeting.HitList, hosts, rng, stop)
}

// Rules implements Walker: targeting.hitlist.partitioned.
func (hitlist) Rules(t Targeting) WalkRules { return WalkRules{Partitioned: t.HitList.Partitioned} }

// Begin implements Walker: the seeds split the list; a host they infect
// walks what its infector handed it (partitioned), else scans at random.
func (hitlist) Begin(s *WalkStart) (cur, rem uint64, ok bool) { return beginShared(s, true, false) }

// HitList is a Warhol-style hit-list worm: the seeds carry a list of
// addresses, scan it first, and (when partitioned) hand half of what is left
// of their share to each host they infect; a host whose share is used up
// scans uniformly.
type HitList struct {
	Size            int     `toml:"size" default:"10000" min:"1" max:"100000000" doc:"addresses on the list"`
	VulnerableShare float64 `toml:"vulnerable_share" default:"1" min:"0" max:"1" doc:"share of list entries that are hosts of the vulnerable population (the rest are addresses that do not run the target)"`
	Partitioned     bool    `toml:"partitioned" default:"true" doc:"an infector hands half of its remaining list to each host it infects; false: only the seeds scan the list"`
}
