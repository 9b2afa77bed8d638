package forecast_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wormwatch/forecast"
	"wormwatch/internal/paramcli"
)

// TestDocUpToDate fails when the tables of keys in docs/forecast.md do not
// match the tags of Settings and Reemergence.
func TestDocUpToDate(t *testing.T) {
	t.Parallel()
	have, err := os.ReadFile(filepath.Join("..", "docs", "forecast.md"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := forecast.UpdateDoc(have)
	if err != nil || !bytes.Equal(have, want) {
		t.Fatalf("docs/forecast.md is out of date (%v); regenerate it with: go run ./forecast/gendoc", err)
	}
	for _, v := range []any{new(forecast.Settings), new(forecast.Reemergence)} {
		for _, key := range paramcli.Keys(v) {
			if !bytes.Contains(have, []byte("| `"+key+"` |")) {
				t.Errorf("docs/forecast.md has no row for %s", key)
			}
		}
	}
}

// TestStateKeys: the 19 keys of the re-emergence state, in the order of
// the JSON output's state.
func TestStateKeys(t *testing.T) {
	t.Parallel()
	got := strings.Join(paramcli.Keys(new(forecast.Reemergence)), ",")
	want := "now,restart,infected,unpatched_share,carrier_share,other_vulnerable,patch_rate,campaign_rate,campaign_from,k,k_population,wake_median,wake_sigma,wrong_clocks,clock_min,clock_max,horizon,visible,max_size"
	if got != want {
		t.Errorf("keys\n got %s\nwant %s", got, want)
	}
}
