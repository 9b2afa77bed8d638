package sim

import (
	"fmt"
	"math/rand/v2"

	"wormwatch/internal/param"
)

// Engine names (Options.Engine): the engines registered in engines. They
// are plain strings because they come from the command line (--engine)
// and go to the outputs (summary.json's engine) as text.
const (
	EngineFast  = "fast"
	EngineProbe = "probe"
)

// MaxProbeEngineBits is the largest space the per-probe engine accepts.
const MaxProbeEngineBits = 24

// engine is one way of generating the infections of a run.
type engine struct {
	// limit, if set, refuses a space of bits the engine cannot run.
	limit func(bits int) error
	// start builds the generator of world w; walkRNG is the run's walk
	// stream.
	start func(w *world, walkRNG *rand.Rand) (generator, error)
}

// engines are the engines, in the order Engines lists them.
var engines = param.NewRegistry[string, engine]("engine")

func init() {
	engines.Register(EngineFast, 0, "thinned: draws only the probes that infect, exact in distribution", engine{
		start: func(w *world, walkRNG *rand.Rand) (generator, error) { return newFast(w, walkRNG) },
	})
	engines.Register(EngineProbe, 1, "per probe: draws every probe, the oracle of the fast engine", engine{
		limit: func(bits int) error {
			if bits > MaxProbeEngineBits {
				return fmt.Errorf("the per-probe engine simulates every probe and is limited to spaces of at most 2^%d addresses; this scenario has 2^%d (use --set space.bits=%d or the fast engine)", MaxProbeEngineBits, bits, MaxProbeEngineBits)
			}
			return nil
		},
		start: func(w *world, walkRNG *rand.Rand) (generator, error) { return newProbe(w, walkRNG) },
	})
}

// Engines lists the names of the engines.
func Engines() []string { return engines.Names() }

// CheckEngine returns the error Run gives for engine name (empty: the fast
// engine) and a space of bits: an unknown engine, or a space too large for
// it.
func CheckEngine(name string, bits int) error {
	_, err := engineFor(name, bits)
	return err
}

// engineFor returns the engine of a run.
func engineFor(name string, bits int) (engine, error) {
	if name == "" {
		name = EngineFast
	}
	e, err := engines.Get(name)
	if err != nil {
		return e, err
	}
	if e.limit != nil {
		if err := e.limit(bits); err != nil {
			return e, err
		}
	}
	return e, nil
}

// generator produces the infections of a run. The world tells it about
// every change of who scans and who is susceptible, integrates time through
// it, and asks it for the next infection.
type generator interface {
	// step draws the generator's next event after the world's time. If it
	// comes before limit, step advances the world to it, performs it and
	// returns true; otherwise it returns false and changes nothing (the
	// draws are memoryless, so nothing is lost by drawing again later).
	step(limit float64) bool
	// advance accounts for the time from t0 to t1 with no state change.
	advance(t0, t1 float64)
	// infected tells that host h was just infected by infector (-1 for a
	// seed), before its calendar starts it scanning.
	infected(h, infector int32, t float64)
	scanStart(h int32, t float64)
	scanStop(h int32, t float64)
	suscAdd(h int32)
	suscRemove(h int32)
	// retired tells that infected host h was patched or removed.
	retired(h int32)
	// activate tells that variant vi starts (its seeds are about to be
	// infected).
	activate(vi int)
	// binProbes returns the probes variant v sent since the last call.
	binProbes(v int) int64
}
