package compare

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestNoEngineToDraw keeps the rule of docs/architecture.md: no package
// above the engine is needed to draw, compare or share. chart, page,
// compare and share must not depend, even indirectly, on the replay, the
// runner, the report writers, the engine or the scenario reader.
func TestNoEngineToDraw(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "wormwatch/chart", "wormwatch/page", "wormwatch/compare", "wormwatch/share").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "wormwatch/results") {
		t.Fatalf("go list -deps gave %d packages, without wormwatch/results: %v", len(deps), deps)
	}
	for _, banned := range []string{"wormwatch/replay", "wormwatch/runner", "wormwatch/report", "wormwatch/sim", "wormwatch/scenario"} {
		if slices.Contains(deps, banned) {
			t.Errorf("chart, page, compare or share depends on %s", banned)
		}
	}
}
