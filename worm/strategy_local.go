package worm

// local is Code Red II's local preference: a probe goes to the host's own
// /8 with probability Own8, to its own /16 with probability Own16, and
// anywhere otherwise (see Local).
type local struct{}

func init() {
	RegisterStrategy(StrategyLocal, 30, "preference for the host's own /8 and /16 (CRII)", local{})
}

// Components implements Targeter: the whole space, the own /8 and the own
// /16, with the shares of targeting.local.
func (local) Components(t Targeting) []Component {
	l := t.Local
	return []Component{{0, 1 - l.Own8 - l.Own16}, {8, l.Own8}, {16, l.Own16}}
}

// Check implements TargetChecker: the shares to the own /8 and /16 leave a
// non-negative share for the rest of the space.
func (local) Check(t Targeting, _ CheckEnv) *KeyError {
	if l := t.Local; l.Own8+l.Own16 > 1+1e-9 {
		return keyErr("targeting.local.own16", "own8 %v + own16 %v is more than 1: together they are the share of probes that stay near the host", l.Own8, l.Own16)
	}
	return nil
}

// Local is CRII-style local preference: each probe goes to the host's own
// /8 with probability Own8, to its own /16 with probability Own16, and
// anywhere otherwise. Prefix lengths are counted from the top of the space,
// so in a 20-bit space a "/8" holds 4,096 addresses.
type Local struct {
	Own8  float64 `toml:"own8" default:"0.5" min:"0" max:"1" doc:"share of probes to an address in the host's own /8 (CRII: 1/2)"`
	Own16 float64 `toml:"own16" default:"0.375" min:"0" max:"1" doc:"share of probes to an address in the host's own /16 (CRII: 3/8); the rest (CRII: 1/8) go anywhere"`
}
