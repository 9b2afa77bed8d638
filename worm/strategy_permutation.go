package worm

import (
	"math/rand/v2"

	"wormwatch/internal/ctxpoll"
	"wormwatch/ipv4"
)

// permutation is permutation scanning (Staniford, Paxson and Weaver) over
// ZMap's cyclic group (see Cyclic and Permutation).
type permutation struct{}

func init() {
	RegisterStrategy(StrategyPermutation, 50, "a shared full-cycle permutation of the space (ZMap-style cyclic group)", permutation{})
}

// Components implements Targeter: what a host whose segment is used up
// scans, the whole space.
func (permutation) Components(t Targeting) []Component { return wholeSpace(t) }

// NewWalk implements Walker: the cyclic group of the space, its generator
// and start drawn from a stream keyed by key.
func (permutation) NewWalk(v *Variant, key uint64, _ *ipv4.Hosts, _ *rand.Rand, _ *ctxpoll.Poller) (Walk, error) {
	return NewCyclic(v.Space.Bits, rand.New(rand.NewPCG(key, 0x9e3779b97f4a7c15)))
}

// Rules implements Walker: targeting.permutation.on_infected and
// partitioned.
func (permutation) Rules(t Targeting) WalkRules {
	p := t.Permutation
	return WalkRules{Restart: p.OnInfected == OnInfectedRestart, Partitioned: p.Partitioned, FixedOrder: true}
}

// Begin implements Walker: partitioned, the seeds split the permutation
// and every other host walks what its infector handed it; else every host
// starts at a uniform random point.
func (permutation) Begin(s *WalkStart) (cur, rem uint64, ok bool) {
	part := s.Variant.P.Targeting.Permutation.Partitioned
	return beginShared(s, part, !part)
}

// Permutation is permutation scanning over one full-cycle permutation of
// the address space, the multiplicative group modulo a prime just above the
// space size (as ZMap walks IPv4).
type Permutation struct {
	OnInfected  OnInfected `toml:"on_infected" default:"restart" doc:"what a host does when a probe finds an already-infected host: restart at a random point of the permutation (Staniford et al.'s permutation scanning) or continue"`
	Partitioned bool       `toml:"partitioned" default:"false" doc:"the permutation is split among hosts: an infector hands the second half of its remaining segment to the host it infects; a host whose segment is used up scans uniformly"`
}
