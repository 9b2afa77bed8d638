package worm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"wormwatch/internal/ctxpoll"
	"wormwatch/internal/param"
	"wormwatch/ipv4"
)

// Strategy names how an infected host picks the target of each probe
// (targeting.strategy): one of the strategies registered with
// RegisterStrategy. Each strategy lives in a file of its own
// (strategy_*.go); docs/extending.md walks through adding one.
type Strategy string

// The built-in strategies.
const (
	StrategyUniform     Strategy = "uniform"     // every address equally likely (strategy_uniform.go)
	StrategySequence    Strategy = "sequence"    // CRv1's shared pseudo-random walk (strategy_sequence.go)
	StrategyLocal       Strategy = "local"       // CRII's preference for the own /8 and /16 (strategy_local.go)
	StrategyHitList     Strategy = "hitlist"     // a list of addresses first (strategy_hitlist.go)
	StrategyPermutation Strategy = "permutation" // ZMap-style cyclic group (strategy_permutation.go)
	StrategySequential  Strategy = "sequential"  // upward from a start address (strategy_sequential.go)
)

// strategies holds every registered strategy.
var strategies = param.NewRegistry[Strategy, Targeter]("targeting strategy")

// RegisterStrategy makes a strategy known to scenario files, the checks,
// the documentation and both engines: name is what targeting.strategy
// takes, order its place among the allowed values (the built-ins take 10
// to 60), doc one line for docs/scenario.md and the comments of resolved
// scenarios. Call it from an init function; a name registered twice
// panics.
func RegisterStrategy(name Strategy, order int, doc string, t Targeter) {
	strategies.Register(name, order, doc, t)
}

// Enum lists the registered strategies (see param.Enumerated).
func (Strategy) Enum() []string { return strategies.Names() }

// ParamDoc documents the registered strategies, for targeting.strategy.
func (Strategy) ParamDoc() string { return strategies.Doc() }

// Targeter is what a strategy does. Every strategy gives the random target
// distribution its hosts use when they do not walk. A strategy may also
// implement TargetChecker (rules between its keys and the scenario) and
// Walker (its hosts walk an order of addresses instead of drawing each
// target afresh).
type Targeter interface {
	// Components returns the components of the random target
	// distribution of the variant with targeting t: with probability
	// Weight a probe goes to a uniform address of the host's own block of
	// prefix length Level. Weights add up to 1; components of weight 0
	// are dropped by Compile.
	Components(t Targeting) []Component
}

// TargetChecker is implemented by strategies whose keys have rules that
// their tags cannot state. The scenario reader calls Check after every key
// passed its own checks.
type TargetChecker interface {
	// Check returns the first rule that t breaks, or nil.
	Check(t Targeting, env CheckEnv) *KeyError
}

// CheckEnv is what a strategy's check knows of the scenario.
type CheckEnv struct {
	Space ipv4.Space // the address space
	Hosts int        // hosts the population places; -1 when known only by placing (a FIFO)
}

// KeyError is a broken rule at one key.
type KeyError struct {
	Key string // the key, relative to the worm's table: "targeting.local.own16"
	Msg string // what is wrong
}

// Error formats the error as "key: message".
func (e *KeyError) Error() string { return e.Key + ": " + e.Msg }

// keyErr returns a *KeyError with a formatted message.
func keyErr(key, format string, args ...any) *KeyError {
	return &KeyError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Walker is implemented by strategies whose hosts walk an order of
// addresses (a shared sequence, a permutation, a hit-list): the m-th probe
// of a walking host goes to the m-th address of the walk. Both engines use
// it: the per-probe engine steps along the walk, the fast engine jumps
// between the positions that hold hosts.
type Walker interface {
	// NewWalk builds the variant's walk for one run. key is drawn from
	// the run's walk stream for it; rng is that stream, for what else is
	// random about the walk (a hit-list's contents); hosts is the
	// population. The walk must implement Stepper as well. A cancelled
	// stop (which may be nil) ends a long construction with its error.
	NewWalk(v *Variant, key uint64, hosts *ipv4.Hosts, rng *rand.Rand, stop *ctxpoll.Poller) (Walk, error)
	// Rules says how the hosts of a variant with targeting t share the
	// walk.
	Rules(t Targeting) WalkRules
	// Begin returns where the walk of a newly infected host starts and
	// how many probes its share holds (NoEnd: unbounded), or ok = false
	// when the host scans at random from the start. Every random draw it
	// makes comes from s.Rand.
	Begin(s *WalkStart) (cur, rem uint64, ok bool)
}

// WalkRules say how the hosts of a walking variant share its walk.
type WalkRules struct {
	// Restart: a probe that finds a host this variant infected sends the
	// prober to a uniform random point of the walk (permutation
	// scanning); with Partitioned, its share ends instead.
	Restart bool
	// Partitioned: an infector hands the second half of what is left of
	// its share to each host it infects.
	Partitioned bool
	// FixedOrder: the walk is one fixed order of the whole space, so
	// excluded addresses cannot be skipped (targeting.exclude is refused).
	FixedOrder bool
}

// NoEnd is the share of a walk that has no end: the host walks until it
// stops scanning.
const NoEnd = math.MaxUint64

// WalkStart is what a walking strategy knows when the walk of a newly
// infected host begins.
type WalkStart struct {
	Variant *Variant
	Addr    uint32     // the host's address
	Seed    bool       // a seed of the variant (no infector)
	Len     uint64     // probes in one cycle of the walk
	Rand    *rand.Rand // the engine's stream for walk starts
	// Handed says the infector handed the host part of its share, from
	// HandedCur for HandedRem probes (WalkRules.Partitioned).
	Handed               bool
	HandedCur, HandedRem uint64

	seeds    uint64  // the variant's seeds
	base     uint64  // where the seeds' shares start
	seedNext *uint64 // the next seed's share
	cyclic   bool
}

// NewWalkStart returns the start of a host's walk of a variant whose
// seeds (seeds of them) share the walk from base, next counting the
// shares handed out so far (see SeedShare).
func NewWalkStart(v *Variant, w Walk, base, seeds uint64, next *uint64) WalkStart {
	return WalkStart{Variant: v, Len: w.Len(), seeds: seeds, base: base, seedNext: next, cyclic: w.Cyclic()}
}

// SeedShare returns the next seed's share when the seeds split the walk in
// equal parts: where it starts and how many probes it holds.
func (s *WalkStart) SeedShare() (cur, rem uint64) {
	i := *s.seedNext
	*s.seedNext++
	lo, hi := i*s.Len/s.seeds, (i+1)*s.Len/s.seeds
	return Advance(s.base, lo, s.Len, s.cyclic), hi - lo
}

// Advance returns the index k probes after index a of a walk of n probes
// per cycle (wrapping when cyclic).
func Advance(a, k, n uint64, cyclic bool) uint64 {
	if cyclic {
		return (a + k%n) % n
	}
	return a + k
}

// beginShared is how hit-list and permutation walks start: the seeds split
// the walk when seedsShare, a host starts at a uniform random point when it
// is a seed (not splitting) or randomStart, and else walks the share its
// infector handed it, if any.
func beginShared(s *WalkStart, seedsShare, randomStart bool) (cur, rem uint64, ok bool) {
	switch {
	case s.Seed && seedsShare:
		cur, rem = s.SeedShare()
	case s.Seed || randomStart:
		cur, rem = s.Rand.Uint64N(s.Len), NoEnd
	case s.Handed:
		cur, rem = s.HandedCur, s.HandedRem
	default:
		return 0, 0, false // infected by a host with no share to hand on
	}
	return cur, rem, rem > 0
}

// wholeSpace is the random target distribution of a uniform scanner.
func wholeSpace(Targeting) []Component { return []Component{{0, 1}} }

// targeterOf returns the registered behaviour of strategy s.
func targeterOf(s Strategy) (Targeter, error) { return strategies.Get(s) }

// CheckTargeting checks the rules between the keys of a worm's targeting
// table and the scenario that the tags cannot state: the strategy's own
// (TargetChecker). CheckExclude checks targeting.exclude against the
// strategy.
func CheckTargeting(t Targeting, env CheckEnv) *KeyError {
	tg, err := targeterOf(t.Strategy)
	if err != nil {
		return &KeyError{Key: "targeting.strategy", Msg: err.Error()}
	}
	if c, ok := tg.(TargetChecker); ok {
		return c.Check(t, env)
	}
	return nil
}

// CheckExclude refuses excluded prefixes with a strategy that walks one
// fixed order of the space: skipping addresses would change the walk.
// Only strategies that draw each address afresh (or walk a list) can skip
// them.
func CheckExclude(t Targeting) *KeyError {
	tg, err := targeterOf(t.Strategy)
	if err != nil {
		return &KeyError{Key: "targeting.strategy", Msg: err.Error()}
	}
	if w, ok := tg.(Walker); ok && w.Rules(t).FixedOrder && len(t.Exclude) > 0 {
		return keyErr("targeting.exclude", "not supported with strategy %q: it walks one fixed order of the space, and skipping addresses would change the walk; exclude works with %s (remove exclude)", t.Strategy, excluders())
	}
	return nil
}

// excluders lists the strategies that can skip excluded addresses.
func excluders() string {
	var names []string
	strategies.Each(func(name Strategy, _ string, tg Targeter) {
		if w, ok := tg.(Walker); !ok || !w.Rules(Targeting{Strategy: name}).FixedOrder {
			names = append(names, string(name))
		}
	})
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
