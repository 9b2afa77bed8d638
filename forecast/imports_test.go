package forecast_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestNoEngine keeps the rule of docs/architecture.md: forecast and detect
// work on real data as on simulated, so neither depends, even indirectly,
// on the engine, the scenario reader, the runner, the replay or the report
// writers.
func TestNoEngine(t *testing.T) {
	t.Parallel()
	for _, pkg := range []string{"wormwatch/forecast", "wormwatch/detect"} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Skipf("go list: %v", err)
		}
		deps := strings.Fields(string(out))
		if !slices.Contains(deps, "wormwatch/results") {
			t.Fatalf("go list -deps %s gave %d packages, without wormwatch/results: %v", pkg, len(deps), deps)
		}
		for _, banned := range []string{"wormwatch/sim", "wormwatch/scenario", "wormwatch/runner", "wormwatch/replay", "wormwatch/report", "wormwatch/chart", "wormwatch/page", "wormwatch/compare"} {
			if slices.Contains(deps, banned) {
				t.Errorf("%s depends on %s", pkg, banned)
			}
		}
	}
}
