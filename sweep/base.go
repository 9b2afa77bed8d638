package sweep

import (
	"errors"
	"path/filepath"
	"strings"

	"wormwatch/scenario"
)

// Base is what a sweep file and a calibration file (package calibrate)
// both start with: the scenario, the --set assignments applied before
// anything else, and the engine. Both embed it, so its keys are top-level
// keys of either file.
type Base struct {
	Scenario string   `toml:"scenario"` // built-in name, or a path relative to the file
	Set      []string `toml:"set"`      // --set assignments applied first
	Engine   string   `toml:"engine"`   // "fast" (default) or "probe"
}

// Check sets Base's defaults and checks what can be checked without the
// scenario; fail makes the error of a key.
func (b *Base) Check(fail func(key, format string, a ...any) error) error {
	if b.Scenario == "" {
		return fail("scenario", "missing: give scenario = \"NAME\" (a built-in, see 'wormwatch scenario list') or a path to a scenario file")
	}
	switch b.Engine {
	case "":
		b.Engine = "fast"
	case "fast", "probe":
	default:
		return fail("engine", "%q: want fast or probe", b.Engine)
	}
	for i, a := range b.Set {
		if k, _, ok := strings.Cut(a, "="); !ok || strings.TrimSpace(k) == "" {
			return fail("set", "element %d, %q: want key=value", i+1, a)
		}
	}
	return nil
}

// Load loads the scenario of a file named file (a built-in's name, or a
// path read relative to the file's folder) with Base's set. It returns
// what to load it again by (the name or path) and the folder the
// scenario's relative paths are read from ("" for a built-in); a scenario
// that does not load is fail's error at "set" (an assignment it refuses)
// or "scenario".
func (b *Base) Load(file string, fail func(key, format string, a ...any) error) (sc *scenario.Scenario, resolved []byte, name, baseDir string, err error) {
	name = b.Scenario
	if _, err := scenario.Builtin(name); err != nil || strings.ContainsAny(name, `/\`) || strings.HasSuffix(name, ".toml") {
		if !filepath.IsAbs(name) {
			name = filepath.Join(filepath.Dir(file), name)
		}
		baseDir = filepath.Dir(name)
	}
	sc, resolved, err = scenario.Load(name, b.Set)
	if err != nil {
		var se *scenario.Error
		if errors.As(err, &se) && se.Set != "" {
			return nil, nil, "", "", fail("set", "%v", err)
		}
		return nil, nil, "", "", fail("scenario", "%v", err)
	}
	return sc, resolved, name, baseDir, nil
}
