package calibrate

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"wormwatch/internal/param"
	"wormwatch/scenario"
)

// TestReadPosterior: the posterior read back from a calibration's folder
// (or its posterior/ folder) holds the last generation's particles and
// weights; draws are the same for the same seed and come in proportion to
// the weights (each particle's share of 40,000 draws within 5 standard
// deviations); a damaged folder is an error naming the file.
func TestReadPosterior(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	res := runTo(t, mustPlan(t, "small.toml", small), dir, 2)
	post := res.Posterior()
	for _, d := range []string{dir, filepath.Join(dir, PosteriorDir)} {
		p, err := ReadPosterior(d)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Keys) != 1 || p.Keys[0] != "worm.rate.fixed" || len(p.Particles) != len(post.Particles) {
			t.Fatalf("keys %v, %d particles; want [worm.rate.fixed], %d", p.Keys, len(p.Particles), len(post.Particles))
		}
		sum := 0.0
		for i, x := range p.Particles {
			if x[0] != post.Particles[i].Theta[0] || math.Abs(p.Weights[i]-post.Particles[i].Weight) > 1e-12 {
				t.Fatalf("particle %d: %v weight %g, want %v weight %g", i, x, p.Weights[i], post.Particles[i].Theta, post.Particles[i].Weight)
			}
			sum += p.Weights[i]
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("weights sum to %g", sum)
		}
	}
	p, err := ReadPosterior(dir)
	if err != nil {
		t.Fatal(err)
	}
	const n = 40000
	count := make([]int, len(p.Weights))
	for s := uint64(1); s <= n; s++ {
		i, sets := p.Draw(s)
		if j, again := p.Draw(s); j != i || strings.Join(again, " ") != strings.Join(sets, " ") {
			t.Fatalf("seed %d drew particle %d, then %d", s, i, j)
		}
		if want := "worm.rate.fixed=" + setText(p.Particles[i][0]); len(sets) != 1 || sets[0] != want {
			t.Fatalf("seed %d: %v, want [%s]", s, sets, want)
		}
		count[i]++
	}
	for i, w := range p.Weights {
		sd := math.Sqrt(n * w * (1 - w))
		if math.Abs(float64(count[i])-n*w) > 5*sd+1e-9 {
			t.Errorf("particle %d: drawn %d times of %d, want %.0f (5 sd = %.0f)", i, count[i], n, n*w, 5*sd)
		}
	}
	// A posterior whose parquet lost a parameter's column is refused,
	// naming the file.
	bad := t.TempDir()
	manifest, err := os.ReadFile(filepath.Join(dir, PosteriorDir, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(bad, ManifestFile), []byte(strings.ReplaceAll(string(manifest), `"worm.rate.fixed"`, `"worm.rate.threads"`)), 0o644)
	data, _ := os.ReadFile(filepath.Join(dir, PosteriorDir, PosteriorFile))
	os.WriteFile(filepath.Join(bad, PosteriorFile), data, 0o644)
	if _, err := ReadPosterior(bad); err == nil || !strings.Contains(err.Error(), PosteriorFile) || !strings.Contains(err.Error(), "worm.rate.threads") {
		t.Errorf("a posterior without the manifest's column: %v", err)
	}
	if _, err := ReadPosterior(t.TempDir()); err == nil || !strings.Contains(err.Error(), ManifestFile) {
		t.Errorf("an empty folder: %v", err)
	}
}

// TestDurationParam: a duration key calibrated with a unit. The scenario
// receives θ with its unit in decimal notation (no exponent, which the
// scenario's durations refuse), also inside an inline table
// (worm.crv2.calendar.wake_delay.mean of codered-2001); the posterior
// (calibration.json, parameters.csv, posterior.parquet's metadata,
// report.html) carries the unit, and Draw gives back the duration each
// particle's simulation received.
func TestDurationParam(t *testing.T) {
	t.Parallel()
	wake := `scenario = "codered-2001"
[[param]]
key = "worm.crv2.calendar.wake_delay.mean"
prior = "uniform"
min = 0.5
max = 6.0
unit = "h"
[[target]]
name = "ever"
stat = "ever_infected"
role = "calibrate"
value = 1000.0
error = "relative"
sd = 0.1
`
	p := mustPlan(t, "wake.toml", wake)
	if got := p.Spec.Params[0].text(1.5); got != "1.5h" {
		t.Errorf("θ = 1.5: %q, want 1.5h", got)
	}
	if got := p.Spec.Params[0].axis(); got != "worm.crv2.calendar.wake_delay.mean (h)" {
		t.Errorf("axis label %q", got)
	}
	_, resolved, err := scenario.Load("codered-2001", []string{"worm.crv2.calendar.wake_delay.mean=" + p.Spec.Params[0].text(1.5)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(resolved), "mean = \"1h30m\"") {
		t.Error("wake_delay.mean=1.5h: the resolved scenario has no mean = \"1h30m\"")
	}
	for _, c := range []struct {
		theta float64
		unit  string
		want  string
	}{{1e-7, "s", "0.0000001s"}, {2.5e6, "s", "2500000s"}, {13.25, "d", "13.25d"}, {0.1, "m", "0.1m"}} {
		got := valueText(c.theta, false, c.unit)
		if got != c.want {
			t.Errorf("valueText(%g, %s) = %q, want %q", c.theta, c.unit, got, c.want)
		}
		if _, err := param.ParseDuration(got); err != nil {
			t.Errorf("%q: %v", got, err)
		}
	}

	reboot := strings.NewReplacer("worm.rate.fixed", "defense.reboot.mean_interval", "prior = \"log-uniform\"", "prior = \"uniform\"",
		"min = 0.2", "min = 0.5", "max = 5.0", "max = 10.0\nunit = \"h\"", "particles = 40", "particles = 16", "max_generations = 4", "max_generations = 2").Replace(small)
	dir := t.TempDir()
	res := runTo(t, mustPlan(t, "reboot.toml", reboot), dir, 2)
	post, err := ReadPosterior(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(post.Units) != 1 || post.Units[0] != "h" {
		t.Fatalf("posterior units %q, want [h]", post.Units)
	}
	for s := uint64(1); s <= 20; s++ {
		i, sets := post.Draw(s)
		want := "defense.reboot.mean_interval=" + strconv.FormatFloat(res.Posterior().Particles[i].Theta[0], 'f', -1, 64) + "h"
		if len(sets) != 1 || sets[0] != want {
			t.Fatalf("seed %d: %v, want [%s]", s, sets, want)
		}
		if _, _, err := scenario.Load("fast-uniform", []string{sets[0]}); err != nil {
			t.Fatalf("seed %d: %v", s, err)
		}
	}
	csvData, _ := os.ReadFile(filepath.Join(dir, PosteriorDir, ParametersFile))
	if lines := strings.Split(string(csvData), "\n"); !strings.HasSuffix(lines[0], ",unit") || !strings.HasSuffix(lines[1], ",h") {
		t.Errorf("parameters.csv without the unit:\n%s", csvData)
	}
	html, _ := os.ReadFile(filepath.Join(dir, PosteriorDir, ReportFile))
	if !strings.Contains(string(html), "<td>hours (h)</td>") {
		t.Error("report.html does not name the unit")
	}
	// posterior.parquet carries the unit: a manifest that drops it no
	// longer matches.
	bad := t.TempDir()
	manifest, _ := os.ReadFile(filepath.Join(dir, PosteriorDir, ManifestFile))
	os.WriteFile(filepath.Join(bad, ManifestFile), []byte(strings.Replace(string(manifest), `"unit": "h"`, `"unit": "m"`, 1)), 0o644)
	data, _ := os.ReadFile(filepath.Join(dir, PosteriorDir, PosteriorFile))
	os.WriteFile(filepath.Join(bad, PosteriorFile), data, 0o644)
	if _, err := ReadPosterior(bad); err == nil || !strings.Contains(err.Error(), `unit "h"`) {
		t.Errorf("a manifest whose unit disagrees with posterior.parquet: %v", err)
	}
}
