package worm

import (
	"math/rand/v2"

	"wormwatch/internal/ctxpoll"
	"wormwatch/ipv4"
)

// sequential scans upward from a start address, wrapping at the end of the
// space, as Blaster did (see Sequential).
type sequential struct{}

func init() {
	RegisterStrategy(StrategySequential, 60, "upward from a start address, often near the host (Blaster-like)", sequential{})
}

// Components implements Targeter: the whole space (a sequential host
// always walks).
func (sequential) Components(t Targeting) []Component { return wholeSpace(t) }

// NewWalk implements Walker: the identity order 0, 1, 2, ...
func (sequential) NewWalk(v *Variant, _ uint64, _ *ipv4.Hosts, _ *rand.Rand, _ *ctxpoll.Poller) (Walk, error) {
	return Identity{N: v.Space.Size()}, nil
}

// Rules implements Walker: one fixed order, walked by every host whole.
func (sequential) Rules(Targeting) WalkRules { return WalkRules{FixedOrder: true} }

// Begin implements Walker: with probability local_start at the bottom of
// the host's own /16, else at a uniform random address.
func (sequential) Begin(s *WalkStart) (cur, rem uint64, ok bool) {
	if s.Rand.Float64() < s.Variant.P.Targeting.Sequential.LocalStart {
		lo, _ := s.Variant.Scope(s.Addr, 16)
		return lo, NoEnd, true
	}
	return s.Rand.Uint64N(s.Len), NoEnd, true
}

// Sequential scans upward from a start address, wrapping at the end of the
// space. Blaster chose a start near itself with probability 0.4.
type Sequential struct {
	LocalStart float64 `toml:"local_start" default:"0.4" min:"0" max:"1" doc:"probability that the walk starts at the bottom of the host's own /16 (else at a uniform random address)"`
}
