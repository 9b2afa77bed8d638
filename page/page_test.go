package page_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"wormwatch/chart"
	"wormwatch/chart/charttest"
	"wormwatch/page"
	"wormwatch/results"
)

type fixture struct {
	r    *results.Replay
	figs []chart.Figure
	html string
}

// shared renders the synthetic result's figures and report once for all
// tests (rendering takes about a second).
var shared = sync.OnceValues(func() (fixture, error) {
	r := charttest.Result(charttest.Options{})
	figs, err := chart.All(r)
	if err != nil {
		return fixture{}, err
	}
	var buf bytes.Buffer
	if err := page.Write(&buf, r, figs); err != nil {
		return fixture{}, err
	}
	return fixture{r: r, figs: figs, html: buf.String()}, nil
})

func synthetic(t *testing.T) (*results.Replay, []chart.Figure) {
	t.Helper()
	f, err := shared()
	if err != nil {
		t.Fatal(err)
	}
	return f.r, f.figs
}

func report(t *testing.T) string {
	t.Helper()
	f, err := shared()
	if err != nil {
		t.Fatal(err)
	}
	return f.html
}

// imgRE finds each figure's image: its id, and its data URI's type and
// base64 payload.
var imgRE = regexp.MustCompile(`<figure id="fig-([a-z0-9._-]+)"[^>]*>\s*<img src="data:(image/[a-z+]+);base64,([A-Za-z0-9+/=]+)"`)

func TestReportEmbedsEveryFigure(t *testing.T) {
	t.Parallel()
	_, figs := synthetic(t)
	doc := report(t)
	got := map[string][]byte{}
	types := map[string]string{}
	for _, m := range imgRE.FindAllStringSubmatch(doc, -1) {
		b, err := base64.StdEncoding.DecodeString(m[3])
		if err != nil {
			t.Fatalf("figure %s: bad base64: %v", m[1], err)
		}
		got[m[1]] = b
		types[m[1]] = m[2]
	}
	if len(got) != len(figs) {
		t.Errorf("found %d embedded figures, want %d", len(got), len(figs))
	}
	for _, f := range figs {
		b, ok := got[f.Name]
		if !ok {
			t.Errorf("figure %s is not embedded", f.Name)
			continue
		}
		want, typ := f.SVG, "image/svg+xml"
		if strings.HasPrefix(f.Name, chart.MapPrefix) {
			want, typ = f.PNG, "image/png"
		}
		if types[f.Name] != typ || !bytes.Equal(b, want) {
			t.Errorf("figure %s: embedded %s of %d bytes, want the figure's %s (%d bytes)", f.Name, types[f.Name], len(b), typ, len(want))
		}
		if !strings.Contains(doc, html.EscapeString(f.Caption)) {
			t.Errorf("figure %s: caption missing", f.Name)
		}
	}
}

func TestReportValidationTables(t *testing.T) {
	t.Parallel()
	r, _ := synthetic(t)
	doc := report(t)
	rows := regexp.MustCompile(`(?s)<tr class="check">(.*?)</tr>`).FindAllStringSubmatch(doc, -1)
	if len(rows) != len(r.Validation.Checks) {
		t.Fatalf("%d check rows, want %d", len(rows), len(r.Validation.Checks))
	}
	for i, c := range r.Validation.Checks {
		row := rows[i][1]
		for _, want := range []string{html.EscapeString(c.Name), html.EscapeString(c.Source), html.EscapeString(c.Note)} {
			if !strings.Contains(row, want) {
				t.Errorf("check %d row lacks %q:\n%s", i, want, row)
			}
		}
		yes, no := strings.Contains(row, `class="yes"`), strings.Contains(row, `class="no"`)
		if yes != c.Inside || no == c.Inside {
			t.Errorf("check %q: inside %v, but the row says yes=%v no=%v", c.Name, c.Inside, yes, no)
		}
	}
	// The synthetic checks: 359,104 published, the first inside, the second not.
	if !strings.Contains(rows[0][1], "359,104") {
		t.Errorf("the first check row does not show 359,104:\n%s", rows[0][1])
	}
	for _, want := range []string{`id="logistic-table"`, "1.7 – 2.6 per hour", "19 Jul 2001 17:00", `id="traffic-table"`,
		"3.40 × 10<sup>11</sup>", "Peak scan traffic"} {
		if !strings.Contains(doc, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if n := strings.Count(doc, `<tr class="quantity">`); n != len(r.Validation.Traffic) {
		t.Errorf("%d traffic rows, want %d", n, len(r.Validation.Traffic))
	}
}

func TestReportIsSelfContained(t *testing.T) {
	t.Parallel()
	doc := report(t)
	if n := len(doc); n > 10<<20 {
		t.Errorf("report.html is %d bytes, want under 10 MB", n)
	}
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)\b(src|href|action|poster|srcset|xlink:href)\s*=\s*["']?\s*(https?:)?//`),
		regexp.MustCompile(`(?i)url\(\s*["']?\s*(https?:)?//`),
		regexp.MustCompile(`(?i)@import`),
		regexp.MustCompile(`(?i)<(link|iframe|object|embed|base)\b`),
	} {
		if m := re.FindString(doc); m != "" {
			t.Errorf("report.html refers to something outside itself: %q", m)
		}
	}
	// Scripts: exactly our one inline script, no src.
	if n := strings.Count(strings.ToLower(doc), "<script"); n != 1 {
		t.Errorf("%d <script> tags, want 1", n)
	}
	// The CSP must allow the inline style and script by their hashes, or the
	// browser would drop them.
	csp := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]+)">`).FindStringSubmatch(doc)
	if csp == nil {
		t.Fatal("no Content-Security-Policy")
	}
	policy := html.UnescapeString(csp[1])
	for _, tag := range []string{"style", "script"} {
		m := regexp.MustCompile(`(?s)<` + tag + `>(.*?)</` + tag + `>`).FindStringSubmatch(doc)
		if m == nil {
			t.Fatalf("no inline <%s>", tag)
		}
		sum := sha256.Sum256([]byte(m[1]))
		if h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(policy, tag+"-src "+h) {
			t.Errorf("the policy %q does not allow the inline %s (hash %s)", policy, tag, h)
		}
	}
	if !strings.Contains(policy, "default-src 'none'") {
		t.Errorf("the policy %q does not forbid other sources", policy)
	}
}

func TestReportEscapesText(t *testing.T) {
	t.Parallel()
	r, _ := synthetic(t)
	doc := report(t)
	if !strings.Contains(string(r.ScenarioTOML), "<script>") {
		t.Fatal("the synthetic scenario should hold markup to escape")
	}
	if strings.Contains(doc, "<script>alert") {
		t.Error("the scenario TOML is not escaped")
	}
	if !strings.Contains(doc, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") {
		t.Error("the escaped scenario TOML is missing")
	}
	if !strings.Contains(doc, "Code Red summer 2001 &lt;synthetic&gt; &amp; &#34;test&#34;") {
		t.Error("the description is missing or not escaped")
	}
	for _, want := range []string{"<details>", "1-20, 40-41 (22 seeds)", "version 0.1.0-test", `id="map-slider"`} {
		if !strings.Contains(doc, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}

func TestWriteRejects(t *testing.T) {
	t.Parallel()
	r, figs := synthetic(t)
	good := figs[0]
	tests := []struct {
		name string
		r    *results.Replay
		figs []chart.Figure
		want string
	}{
		{"no result", nil, nil, "no replay result"},
		{"path in name", r, []chart.Figure{{Name: "../x", PNG: good.PNG, SVG: good.SVG}}, `"../x"`},
		{"upper case", r, []chart.Figure{{Name: "Infected", PNG: good.PNG, SVG: good.SVG}}, `"Infected"`},
		{"duplicate", r, []chart.Figure{good, good}, "two figures are named"},
		{"empty figure", r, []chart.Figure{{Name: "x"}}, "neither PNG nor SVG"},
		{"bad map PNG", r, []chart.Figure{{Name: chart.MapPrefix + "x", PNG: []byte("not a png")}}, "PNG"},
		{"bad SVG", r, []chart.Figure{{Name: "x", SVG: []byte("<html></html>")}}, "want <svg>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			err := page.Write(&buf, tc.r, tc.figs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes despite the error", buf.Len())
			}
		})
	}
}

func TestWriteFigures(t *testing.T) {
	t.Parallel()
	_, figs := synthetic(t)
	dir := filepath.Join(t.TempDir(), "figures")
	if err := page.WriteFigures(dir, figs); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2*len(figs) {
		t.Errorf("%d files, want %d (a PNG and an SVG per figure)", len(entries), 2*len(figs))
	}
	for _, f := range figs {
		for ext, want := range map[string][]byte{".png": f.PNG, ".svg": f.SVG} {
			got, err := os.ReadFile(filepath.Join(dir, f.Name+ext))
			if err != nil {
				t.Error(err)
				continue
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s%s differs from the figure", f.Name, ext)
			}
		}
	}
	err = page.WriteFigures(dir, []chart.Figure{{Name: "a/b", PNG: []byte{1}}})
	if err == nil || !strings.Contains(err.Error(), `"a/b"`) {
		t.Errorf("a name with a slash: error %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a rejected figure left %s/a behind", dir)
	}
}
