package worm

// uniform is Code Red v2's strategy: every probe goes to an address drawn
// uniformly from the whole space (a draw in targeting.exclude, or of the
// host itself, is drawn again).
type uniform struct{}

func init() {
	RegisterStrategy(StrategyUniform, 10, "every address equally likely (CRv2)", uniform{})
}

// Components implements Targeter: the whole space.
func (uniform) Components(t Targeting) []Component { return wholeSpace(t) }
