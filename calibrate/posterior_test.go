package calibrate

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
