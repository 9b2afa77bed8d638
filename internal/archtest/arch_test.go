package archtest

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "wormwatch"

// pkg is what go list says of one package.
type pkg struct {
	ImportPath string
	Standard   bool
	Imports    []string
	Deps       []string
}

// graph lists the module's packages (and, for Deps, everything below).
func graph(t *testing.T) map[string]pkg {
	t.Helper()
	touchSources(t)
	cmd := exec.Command("go", "list", "-json", "wormwatch/...")
	cmd.Dir = "../.."
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("go list: %v\n%s", err, errOut.String())
	}
	g := map[string]pkg{}
	dec := json.NewDecoder(&out)
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		g[p.ImportPath] = p
	}
	if len(g) < 30 {
		t.Fatalf("go list gave %d packages of the module; expected the whole module", len(g))
	}
	return g
}

// touchSources opens every Go file of the module, so that go test's cache,
// which tracks the files a test opens (not those go list reads), runs the
// test again whenever an import may have changed.
func touchSources(t *testing.T) {
	t.Helper()
	err := filepath.WalkDir("../..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != "../.." {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			f.Close()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// own returns the module packages among paths, without the module prefix.
func own(paths []string) []string {
	var out []string
	for _, p := range paths {
		if rest, ok := strings.CutPrefix(p, module+"/"); ok {
			out = append(out, rest)
		}
	}
	return out
}

// floor says which module packages a package may import directly, by the
// floor it stands on (docs/architecture.md). A package not listed here
// fails the test: a new package must be given its place.
var floor = map[string][]string{
	// Floor 0, the foundation: the standard library and one another only.
	"internal/atomicfile": nil, "internal/flock": nil, "internal/ctxpoll": nil, "internal/infile": nil, "internal/param": nil,
	"internal/randx": nil, "internal/satint": nil, "internal/stattest": nil, "internal/thousands": nil, "internal/timespan": nil, "internal/radix": nil,
	"internal/version": nil, "internal/archtest": nil, "internal/ipv4text": nil, "results": nil, "scenario/builtin/reference": nil, "scenario/builtin/posterior": nil,
	"internal/shardset":      nil,
	"sim/reference":          nil, // the exact minimal simulator of the plain case: standard library only
	"internal/names":         {"internal/param"},
	"internal/outpath":       {"internal/atomicfile"},
	"internal/gendoc":        {"internal/atomicfile"},
	"internal/chrometest":    nil,
	"internal/smtptest":      nil,
	"internal/paramcli":      {"internal/param"},
	"internal/tomlfile":      {"internal/infile", "internal/param"},
	"share/schematest":       nil,
	"forecast/eval":          nil,
	"chart/charttest":        {"results"},
	"detect/internal/biglog": nil,
	// Floor 1, the model of the world: addresses, worms, sensors, defences.
	"ipv4":           {"internal/ctxpoll", "internal/infile", "internal/param"},
	"worm":           {"internal/ctxpoll", "internal/names", "internal/param", "ipv4"},
	"sensor":         {"internal/ctxpoll", "internal/names", "internal/param", "internal/randx", "internal/satint", "ipv4"},
	"sensor/capture": {"ipv4", "sensor"},
	"defense":        {"internal/names", "internal/param"},
	// Floor 2: the scenario reader composes floor 1; outcome holds a run's result types.
	"scenario":        {"defense", "internal/infile", "internal/names", "internal/param", "ipv4", "sensor", "worm"},
	"scenario/gendoc": {"internal/gendoc", "scenario"},
	"sim/outcome":     {"sensor"},
	// Floor 3: the engine.
	"sim": {"defense", "internal/ctxpoll", "internal/param", "internal/radix", "internal/randx", "internal/satint", "ipv4", "scenario", "sensor", "sim/outcome", "worm"},
	// Floor 4: what is made of runs, without running them.
	"report": {"internal/atomicfile", "internal/names", "ipv4", "results", "sensor", "sensor/capture", "sim/outcome"},
	"replay": {"internal/atomicfile", "internal/thousands", "results", "scenario", "scenario/builtin/reference", "sim"},
	// The data side: real data as well as simulated; never the engine.
	"share":           {"internal/atomicfile", "internal/outpath", "internal/thousands", "results"},
	"detect":          {"internal/ctxpoll", "internal/ipv4text", "internal/names", "internal/param", "internal/thousands", "internal/timespan", "results", "share"},
	"forecast":        {"internal/ctxpoll", "internal/infile", "internal/names", "internal/param", "internal/paramcli", "internal/thousands", "results"},
	"forecast/gendoc": {"forecast", "internal/gendoc"},
	"watch":           {"detect", "forecast", "internal/ipv4text", "internal/param"},
	"pool":            {"results"},
	"ingest/follow":   nil,
	"store":           {"internal/flock"},
	"taxii":           {"internal/flock", "internal/names", "internal/param"},
	"alert":           {"detect", "forecast", "internal/names", "internal/param", "internal/thousands", "internal/version", "share", "store"},
	"notify":          {"detect", "internal/atomicfile", "internal/ipv4text", "internal/thousands", "internal/timespan"},
	"serve":           {"alert", "csafsite", "detect", "forecast", "ingest/follow", "ingest/packet", "internal/infile", "internal/ipv4text", "internal/names", "internal/param", "internal/paramcli", "notify", "pool", "results", "serve/dashboard", "serve/metrics", "share", "store", "taxii", "watch"},
	"serve/metrics":   {"detect", "results", "watch"},
	"csafsite":        {"internal/atomicfile", "internal/param", "share"},
	"serve/dashboard": nil,
	"serve/gendoc":    {"internal/gendoc", "serve"},
	"serve/servetest": {"forecast"},
	"ingest/packet":   {"detect"},
	"chart":           {"internal/thousands", "ipv4", "results", "scenario/builtin/reference"},
	"page":            {"chart", "internal/atomicfile", "internal/names", "internal/thousands", "results"},
	"compare":         {"chart", "internal/atomicfile", "internal/names", "internal/thousands", "page", "results"},
	// Floor 5: the jobs the command line runs.
	"runner": {"chart", "internal/atomicfile", "internal/thousands", "page", "replay", "report", "results", "scenario", "sim"},
	// sweep runs a scenario over a design of its keys; like replay it does
	// not run seeds itself (its caller passes runner.Simulate), and draws its
	// heat maps with chart.
	"sweep": {"chart", "internal/atomicfile", "internal/infile", "internal/param", "internal/shardset", "internal/tomlfile", "report", "results", "scenario", "sim"},
	// calibrate fits scenario keys to observations by ABC-SMC; it runs
	// simulations through sweep's RunFunc (runner.Simulate from the command
	// line), and writes its report with chart and page.
	"calibrate": {"chart", "internal/atomicfile", "internal/infile", "internal/param", "internal/tomlfile", "page", "report", "scenario", "sim", "sweep"},
	// scale runs a job's seeds, or a sweep's and a calibration's runs
	// (sweep.RunFunc), on workers through NATS JetStream (the
	// engine and the writer of run folders, as runner does; runner does
	// not import it, cmd/wormwatch joins them).
	"scale": {"internal/atomicfile", "internal/shardset", "replay", "report", "results", "scenario", "sim", "sweep"},
	// pool/study runs the study of `wormwatch pool`: the engine with the
	// members' telescopes, then pool's unions and forecast's filter.
	"pool/study": {"forecast", "internal/atomicfile", "internal/param", "internal/thousands", "ipv4", "pool", "scenario", "sensor", "sim"},
	// demo runs a scenario and writes a log that serve --demo follows; only
	// cmd/wormwatch imports it (no other floor lists it), never serve.
	"demo": {"internal/atomicfile", "ipv4", "scenario", "sensor/capture", "sim"},
	// The top: flags, progress, exit codes.
	"cmd/wormwatch":                   {"*"},
	"detect/internal/biglog/mkbiglog": {"detect/internal/biglog"},
	// scripts/scalingplot draws BENCHMARKS.md's scaling curve from scripts/scaling.sh's CSV.
	"scripts/scalingplot": {"chart"},
}

// TestImportRules checks every module import against floor.
func TestImportRules(t *testing.T) {
	for path, p := range graph(t) {
		name := strings.TrimPrefix(path, module+"/")
		allowed, known := floor[name]
		if !known {
			t.Errorf("%s has no place in the import rules (floor in arch_test.go, and docs/architecture.md)", name)
			continue
		}
		if slices.Contains(allowed, "*") {
			continue
		}
		for _, imp := range own(p.Imports) {
			if !slices.Contains(allowed, imp) {
				t.Errorf("%s imports %s, which its floor does not allow", name, imp)
			}
		}
	}
}

// TestNoEngineOnTheDataSide keeps detect, forecast, watch, pool, ingest/follow,
// store, alert, notify, serve, share, csafsite, taxii, chart, page and compare free, even indirectly, of the engine, the
// scenario reader and what runs them: they work on real data as on
// simulated.
func TestNoEngineOnTheDataSide(t *testing.T) {
	g := graph(t)
	for _, side := range []string{"detect", "forecast", "watch", "pool", "ingest/follow", "store", "alert", "notify", "serve", "share", "csafsite", "taxii", "chart", "page", "compare"} {
		deps := own(g[module+"/"+side].Deps)
		for _, banned := range []string{"sim", "sim/outcome", "scenario", "worm", "defense", "sensor", "runner", "replay", "report", "demo"} {
			if slices.Contains(deps, banned) {
				t.Errorf("%s depends on %s", side, banned)
			}
		}
	}
}

// TestScenarioWithoutGopacket: reading a scenario pulls no packet library.
func TestScenarioWithoutGopacket(t *testing.T) {
	for _, d := range graph(t)[module+"/scenario"].Deps {
		if strings.Contains(d, "gopacket") {
			t.Errorf("scenario depends on %s", d)
		}
	}
}

// TestDepth keeps the module's import graph at most 8 levels deep (a
// package that imports nothing of the module is level 1).
func TestDepth(t *testing.T) {
	g := graph(t)
	depth := map[string]int{}
	var level func(string) int
	level = func(p string) int {
		if d, ok := depth[p]; ok {
			return d
		}
		d := 1
		for _, imp := range g[p].Imports {
			if strings.HasPrefix(imp, module+"/") {
				d = max(d, level(imp)+1)
			}
		}
		depth[p] = d
		return d
	}
	for p := range g {
		if d := level(p); d > 8 {
			t.Errorf("%s is %d levels deep (at most 8)", p, d)
		}
	}
}
