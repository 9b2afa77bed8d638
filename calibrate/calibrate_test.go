package calibrate

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// runTo runs the plan in a new folder and writes its posterior folder.
func runTo(t *testing.T, p *Plan, dir string, workers int) *Result {
	t.Helper()
	res, err := Run(context.Background(), p, dir, Options{Run: directRun, Workers: workers, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Write(dir); err != nil {
		t.Fatal(err)
	}
	return res
}

// sameFolders fails unless the two calibration folders hold the same files
// with the same bytes (state.json, every generation, the posterior folder).
func sameFolders(t *testing.T, a, b string) {
	t.Helper()
	var names []string
	for _, sub := range []string{".", PosteriorDir} {
		ents, err := os.ReadDir(filepath.Join(a, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if !e.IsDir() {
				names = append(names, filepath.Join(sub, e.Name()))
			}
		}
	}
	if len(names) < 10 {
		t.Fatalf("%s holds only %v", a, names)
	}
	for _, n := range names {
		x, err := os.ReadFile(filepath.Join(a, n))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, n))
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs", n)
		}
	}
}

// TestWorkersDeterminism: the whole calibration folder (generations, state,
// posterior samples, predictive, report) is byte-identical with 1 and 3
// workers.
func TestWorkersDeterminism(t *testing.T) {
	t.Parallel()
	p := mustPlan(t, "small.toml", small)
	a, b := t.TempDir(), t.TempDir()
	ra := runTo(t, p, a, 1)
	runTo(t, mustPlan(t, "small.toml", small), b, 3)
	sameFolders(t, a, b)
	if len(ra.Generations) != 4 || ra.Stop != StopMaxGenerations {
		t.Errorf("%d generations, stop %q; want 4, max_generations", len(ra.Generations), ra.Stop)
	}
	// The tolerances shrink, and every particle is within its generation's.
	for i, g := range ra.Generations[1:] {
		if !(g.Tolerance < ra.Generations[i].Tolerance) {
			t.Errorf("generation %d: tolerance %g not below %g", g.Index, g.Tolerance, ra.Generations[i].Tolerance)
		}
		var sum float64
		for _, pt := range g.Particles {
			if pt.Distance > g.Tolerance {
				t.Errorf("generation %d: a particle at distance %g > tolerance %g", g.Index, pt.Distance, g.Tolerance)
			}
			sum += pt.Weight
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("generation %d: weights sum to %g", g.Index, sum)
		}
	}
}

// TestResumeEqualsUninterrupted: a calibration stopped in the middle of its
// third generation (generations 0 and 1 stored), then resumed with other
// workers, ends with the same folder, byte for byte, as one run without a
// stop.
func TestResumeEqualsUninterrupted(t *testing.T) {
	t.Parallel()
	whole := t.TempDir()
	runTo(t, mustPlan(t, "small.toml", small), whole, 2)

	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := Run(ctx, mustPlan(t, "small.toml", small), dir, Options{Run: directRun, Workers: 2, Version: "test",
		Progress: func(gen, accepted, _, _ int) {
			if gen == 2 && accepted >= 5 {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v, want context.Canceled", err)
	}
	st, err := ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Generations) != 2 || st.Stop != "" {
		t.Fatalf("after the stop: %d generations stored, stop %q; want 2 and none", len(st.Generations), st.Stop)
	}
	if _, err := os.Stat(filepath.Join(dir, GenFile(2))); err == nil {
		t.Errorf("the unfinished generation 2 was stored")
	}
	runTo(t, mustPlan(t, "small.toml", small), dir, 1)
	sameFolders(t, whole, dir)

	// A folder made from other inputs is refused.
	other := strings.Replace(small, "sd = 0.1", "sd = 0.2", 1)
	d2 := t.TempDir()
	if _, err := Run(ctx, mustPlan(t, "small.toml", small), d2, Options{Run: directRun}); err == nil {
		t.Fatal("a cancelled context ran")
	}
	if _, err := Run(context.Background(), mustPlan(t, "small.toml", other), d2, Options{Run: directRun}); err == nil || !strings.Contains(err.Error(), "other inputs") {
		t.Errorf("resume with a changed file: %v, want an error about other inputs", err)
	}
}

// TestPosteriorParquet: posterior.parquet holds one row per particle with
// the weights summing to 1 and each parameter within its bounds.
func TestPosteriorParquet(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	res := runTo(t, mustPlan(t, "small.toml", small), dir, 2)
	f, err := os.Open(filepath.Join(dir, PosteriorDir, PosteriorFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type row struct {
		Particle int64   `parquet:"particle"`
		Weight   float64 `parquet:"weight"`
		Distance float64 `parquet:"distance"`
		Rate     float64 `parquet:"worm.rate.fixed"`
	}
	rows, err := parquet.Read[row](f, mustSize(t, f))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != res.Plan.Spec.Particles {
		t.Fatalf("%d rows, want %d", len(rows), res.Plan.Spec.Particles)
	}
	var sum float64
	for i, r := range rows {
		sum += r.Weight
		if r.Rate < 0.2 || r.Rate > 5 || r.Rate != res.Posterior().Particles[i].Theta[0] {
			t.Errorf("row %d: rate %g (particle %g)", i, r.Rate, res.Posterior().Particles[i].Theta[0])
		}
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("weights sum to %g", sum)
	}
	for _, name := range []string{ReportFile, ValidationFile, PredictiveFile, "marginals.png", "target-infected.png", "target-ever.png"} {
		if fi, err := os.Stat(filepath.Join(dir, PosteriorDir, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	// report.html is self-contained: a Content-Security-Policy that forbids
	// other sources, no address outside the page, every figure embedded.
	h, _ := os.ReadFile(filepath.Join(dir, PosteriorDir, ReportFile))
	html := string(h)
	if !strings.Contains(html, `http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;`) {
		t.Errorf("report.html has no Content-Security-Policy forbidding other sources")
	}
	for _, bad := range []string{"http://", "https://", "<script"} {
		if strings.Contains(html, bad) {
			t.Errorf("report.html contains %q", bad)
		}
	}
	if n := strings.Count(html, `src="data:image/`); n != 3 {
		t.Errorf("report.html embeds %d figures, want 3 (marginals, two targets)", n)
	}
	for _, want := range []string{"<code>worm.rate.fixed</code>", "<td>ever</td><td>—</td><td>200</td>", "max_generations = 4 reached"} {
		if !strings.Contains(html, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	v, _ := os.ReadFile(filepath.Join(dir, PosteriorDir, ValidationFile))
	if lines := strings.Split(strings.TrimSpace(string(v)), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "ever,1,,200,") {
		t.Errorf("validation.csv:\n%s\nwant a header and the row of target ever", v)
	}
}

func mustSize(t *testing.T, f *os.File) int64 {
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestIntegerParam: an integer key (population.hosts) takes the nearest
// integer with integer = true; without it the plan is refused at the
// param's key, before anything runs.
func TestIntegerParam(t *testing.T) {
	t.Parallel()
	doc := strings.Replace(small, `key = "worm.rate.fixed"
prior = "log-uniform"
min = 0.2
max = 5.0`, `key = "population.hosts"
prior = "uniform"
min = 150.0
max = 250.0
integer = true`, 1)
	doc = strings.Replace(doc, "particles = 40", "particles = 8", 1)
	doc = strings.Replace(doc, "max_generations = 4", "max_generations = 2", 1)
	if _, err := Run(context.Background(), mustPlan(t, "int.toml", doc), t.TempDir(), Options{Run: directRun}); err != nil {
		t.Errorf("integer = true: %v", err)
	}
	s, err := ParseFile("int.toml", []byte(strings.Replace(doc, "integer = true", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewPlan(s)
	if err == nil || !strings.HasPrefix(err.Error(), "int.toml:10: param[1].key: --set population.hosts=187.19: population.hosts: want an integer") || !strings.Contains(err.Error(), "integer = true") {
		t.Errorf("without integer = true: %v, want the scenario's refusal at the key", err)
	}
}

// TestExtendEqualsLonger: a calibration whose file stops it after 2
// generations, extended to 4 (Extend, as `--resume DIR --max-generations
// 4` does), holds the generations and the posterior of one whose file
// says 4, byte for byte; an extension to no more generations, or of a
// folder made from other inputs, is refused and changes nothing.
func TestExtendEqualsLonger(t *testing.T) {
	t.Parallel()
	whole := t.TempDir()
	runTo(t, mustPlan(t, "small.toml", small), whole, 2)

	short := strings.Replace(small, "max_generations = 4", "max_generations = 2", 1)
	dir := t.TempDir()
	if res := runTo(t, mustPlan(t, "small.toml", short), dir, 2); len(res.Generations) != 2 {
		t.Fatalf("%d generations, want 2", len(res.Generations))
	}
	if err := Extend(dir, mustPlan(t, "small.toml", short), 2); err == nil {
		t.Error("an extension to the generations it has was accepted")
	}
	if err := Extend(dir, mustPlan(t, "small.toml", strings.Replace(short, "sd = 0.1", "sd = 0.2", 1)), 4); err == nil || !strings.Contains(err.Error(), "other inputs") {
		t.Errorf("an extension with other inputs: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, PosteriorDir)); err != nil {
		t.Fatalf("a refused extension removed the posterior: %v", err)
	}
	if err := Extend(dir, mustPlan(t, "small.toml", short), 4); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, PosteriorDir)); err == nil {
		t.Error("the extended calibration's old posterior is still there")
	}
	res := runTo(t, mustPlan(t, "small.toml", short), dir, 1)
	if len(res.Generations) != 4 || res.Stop != StopMaxGenerations {
		t.Errorf("extended: %d generations, stop %q; want 4, max_generations", len(res.Generations), res.Stop)
	}
	for _, name := range []string{GenFile(0), GenFile(3), filepath.Join(PosteriorDir, PosteriorFile), filepath.Join(PosteriorDir, "parameters.csv"), filepath.Join(PosteriorDir, "predictive.csv")} {
		a, errA := os.ReadFile(filepath.Join(whole, name))
		b, errB := os.ReadFile(filepath.Join(dir, name))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs between the extended calibration and the longer one (%v, %v)", name, errA, errB)
		}
	}
}
