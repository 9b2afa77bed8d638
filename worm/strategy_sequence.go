package worm

import (
	"math/rand/v2"

	"wormwatch/internal/ctxpoll"
	"wormwatch/ipv4"
)

// sequence is CRv1's bug: the pseudo-random generator is seeded with a
// constant, so every infected host walks the same sequence of addresses
// from its beginning. The sequence is a keyed Feistel permutation of the
// space (see Feistel).
type sequence struct{}

func init() {
	RegisterStrategy(StrategySequence, 20, "one shared pseudo-random walk that every new host starts from the beginning (CRv1's constant seed)", sequence{})
}

// Components implements Targeter: a host that is not walking (never, for
// this strategy) would scan the whole space.
func (sequence) Components(t Targeting) []Component { return wholeSpace(t) }

// NewWalk implements Walker: the Feistel permutation keyed by
// targeting.sequence.key, or by key when that is 0.
func (sequence) NewWalk(v *Variant, key uint64, _ *ipv4.Hosts, _ *rand.Rand, _ *ctxpoll.Poller) (Walk, error) {
	if k := v.P.Targeting.Sequence.Key; k != 0 {
		key = k
	}
	return NewFeistel(v.Space.Bits, key), nil
}

// Rules implements Walker: one fixed order, walked by every host whole.
func (sequence) Rules(Targeting) WalkRules { return WalkRules{FixedOrder: true} }

// Begin implements Walker: every host starts the same walk from its
// beginning.
func (sequence) Begin(*WalkStart) (cur, rem uint64, ok bool) { return 0, NoEnd, true }

// Sequence is CRv1's bug: the pseudo-random generator is seeded with a
// constant, so every infected host probes the same sequence of addresses
// from the same start.
type Sequence struct {
	Key uint64 `toml:"key" doc:"key of the shared walk; 0 derives it from the run seed, so seeds differ in which addresses come first"`
}
