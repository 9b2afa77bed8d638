package detect

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"wormwatch/internal/param"
)

// The families the issue and worm-signatures.md ask for.
var wantFamilies = []string{"codered1", "codered2", "nimda", "webdav-search", "slapper", "ida-idq", "root-exe", "cmd-exe", "unicode-traversal"}

func TestBuiltin(t *testing.T) {
	t.Parallel()
	fams := Builtin()
	var names []string
	for _, f := range fams {
		names = append(names, f.Name)
		if strings.TrimSpace(f.Description) == "" || len(f.References) == 0 || f.Title == "" {
			t.Errorf("%s: needs a title, a description and references", f.Name)
		}
		if f.Pattern() == "" {
			t.Errorf("%s: no STIX pattern", f.Name)
		}
	}
	if !slices.Equal(names, wantFamilies) {
		t.Errorf("built-in families %v, want %v", names, wantFamilies)
	}
}

// matchNames returns the names of the families a line matches.
func matchNames(t *testing.T, m *Matcher, line string) []string {
	t.Helper()
	var rec Record
	rec.reset()
	if why := parseCLF([]byte(line), &rec, false, nil); why != ok {
		t.Fatalf("%s: %v", line, why)
	}
	var out []string
	for _, i := range m.Match(&rec, nil) {
		out = append(out, m.Families()[i].Name)
	}
	return out
}

// TestBuiltinMatch checks each family on lines built from
// worm-signatures.md, including the shapes the sample logs lack (Code Red
// I, the WebDAV SEARCH overflow whose ~8 KB lines were removed from them,
// Slapper).
func TestBuiltinMatch(t *testing.T) {
	t.Parallel()
	m, err := NewMatcher(Builtin())
	if err != nil {
		t.Fatal(err)
	}
	const when = "01/Aug/2001:10:00:00"
	// A WebDAV SEARCH overflow line as Apache logs it: "SEARCH /" and about
	// 8 KB of escaped binary, answered 414.
	var payload strings.Builder
	for i := range 2000 {
		payload.WriteString(`\x` + "0123456789abcdef"[i%16:i%16+1] + "0")
	}
	tests := []struct {
		name string
		line string
		want []string
	}{
		{"Code Red I", clf("1.1.1.1", when, "GET "+codeRed("N")+" HTTP/1.0", 404), []string{"codered1", "ida-idq"}},
		{"Code Red II", clf("1.1.1.1", when, "GET "+codeRed("X")+" HTTP/1.0", 404), []string{"codered2", "ida-idq"}},
		{"Code Red with other padding", clf("1.1.1.1", when, "GET "+codeRed("Z")+" HTTP/1.0", 404), []string{"ida-idq"}},
		{"Code Red I with 223 N", clf("1.1.1.1", when, "GET /default.ida?"+strings.Repeat("N", 223)+crTail+" HTTP/1.0", 404), []string{"ida-idq"}},
		{"short .ida query", clf("1.1.1.1", when, "GET /default.ida?x HTTP/1.0", 404), nil},
		{"long .IDQ query", clf("1.1.1.1", when, "GET /a.IDQ?"+strings.Repeat("a", 200)+" HTTP/1.0", 404), []string{"ida-idq"}},
		{"Nimda root.exe", clf("1.1.1.1", when, "GET /scripts/root.exe?/c+dir HTTP/1.0", 404), []string{"nimda", "root-exe"}},
		{"Nimda cmd.exe with traversal", clf("1.1.1.1", when, "GET /scripts/..%c0%af../winnt/system32/cmd.exe?/c+dir HTTP/1.0", 404), []string{"nimda", "cmd-exe", "unicode-traversal"}},
		{"Nimda as IIS logs it", clf("1.1.1.1", when, "GET /scripts/..%5c../winnt/system32/cmd.exe?/c+dir HTTP/1.0", 404), []string{"nimda", "cmd-exe", "unicode-traversal"}},
		{"cmd.exe scanner, not Nimda", clf("1.1.1.1", when, "GET /scripts/..%255c%255c../winnt/system32/cmd.exe?/c+dir", 404), []string{"cmd-exe", "unicode-traversal"}},
		{"CMD.EXE in capitals", clf("1.1.1.1", when, "GET /scripts/..%C0%AF../winnt/system32/CMD.EXE?/c+dir HTTP/1.0", 404), []string{"cmd-exe", "unicode-traversal"}},
		{"WebDAV SEARCH overflow", clf("1.1.1.1", when, "SEARCH /"+payload.String()+" HTTP/1.1", 414), []string{"webdav-search"}},
		{"short SEARCH", clf("1.1.1.1", when, "SEARCH / HTTP/1.1", 207), nil},
		{"Slapper", clf("1.1.1.1", when, "GET / HTTP/1.1", 400), []string{"slapper"}},
		{"GET / answered 200", clf("1.1.1.1", when, "GET / HTTP/1.1", 200), nil},
		{"GET / HTTP/1.0 answered 400", clf("1.1.1.1", when, "GET / HTTP/1.0", 400), nil},
		{"GET / 400 from a browser", `1.1.1.1 - - [01/Aug/2001:10:00:00 +0000] "GET / HTTP/1.1" 400 226 "-" "Mozilla/5.0"`, nil},
		{"an ordinary page", clf("1.1.1.1", when, "GET /index.html HTTP/1.1", 200), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, _ := NewMatcher(Builtin()) // a Matcher is not safe for concurrent use
			if got := matchNames(t, m, tc.line); !slices.Equal(got, tc.want) {
				t.Errorf("matched %v, want %v", got, tc.want)
			}
		})
	}
	_ = m
}

// TestBuiltinIIS checks that Code Red II in an IIS log (stem and query
// split) matches like in an Apache log.
func TestBuiltinIIS(t *testing.T) {
	t.Parallel()
	recs, _, err := readAll(t, []byte(iisLog), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := NewMatcher(Builtin())
	var got [][]string
	for i := range recs {
		var names []string
		for _, fi := range m.Match(&recs[i], nil) {
			names = append(names, m.Families()[fi].Name)
		}
		got = append(got, names)
	}
	want := [][]string{nil, {"codered2", "ida-idq"}, nil}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("IIS records matched %v, want %v", got, want)
	}
}

func TestUserSignatures(t *testing.T) {
	t.Parallel()
	doc := `
# A new family, a replaced one and a disabled one.
[[family]]
name = "openwebmail"
description = "OpenWebMail probes"
references = [{ source = "cve", id = "CVE-2003-1463" }]
[[family.match]]
status = [404]
path = { suffix = ["/openwebmail.pl"], nocase = true }

[[family]]
name = "nimda"
description = "Nimda, as a user narrows it: root.exe only"
event_gap = "5m"
[[family.match]]
target = { regexp = '^/(scripts|MSADC)/root\.exe\?/c\+dir$' }

[[family]]
name = "slapper"
disabled = true
`
	extra, err := ParseSignatures("mine.toml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	fams := Merge(Builtin(), extra)
	m, err := NewMatcher(fams)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range m.Families() {
		names = append(names, f.Name)
	}
	want := []string{"codered1", "codered2", "nimda", "webdav-search", "ida-idq", "root-exe", "cmd-exe", "unicode-traversal", "openwebmail"}
	if !slices.Equal(names, want) {
		t.Errorf("families %v, want %v", names, want)
	}
	const when = "01/Aug/2004:10:00:00"
	tests := []struct {
		line string
		want []string
	}{
		{clf("1.1.1.1", when, "GET /cgi-bin/openwebmail/OpenWebMail.pl HTTP/1.0", 404), []string{"openwebmail"}},
		{clf("1.1.1.1", when, "GET /cgi-bin/openwebmail/openwebmail.pl HTTP/1.0", 200), nil},
		{clf("1.1.1.1", when, "GET /MSADC/root.exe?/c+dir HTTP/1.0", 404), []string{"nimda", "root-exe"}},
		{clf("1.1.1.1", when, "GET /c/winnt/system32/cmd.exe?/c+dir HTTP/1.0", 404), []string{"cmd-exe"}},
		{clf("1.1.1.1", when, "GET / HTTP/1.1", 400), nil},
	}
	for _, tc := range tests {
		if got := matchNames(t, m, tc.line); !slices.Equal(got, tc.want) {
			t.Errorf("%s: matched %v, want %v", tc.line, got, tc.want)
		}
	}
}

func TestSignatureErrors(t *testing.T) {
	t.Parallel()
	const head = "[[family]]\nname = \"x\"\ndescription = \"d\"\n"
	tests := []struct {
		name, doc string
		line      int // 0: not checked
		msg       string
	}{
		{"syntax", "[[family]\nname = 1", 1, "line 1:"},
		{"unknown key", head + "[[family.match]]\ntarget = { contain = [\"a\"] }\n", 5, "family.x.match.0.target.contain: unknown key; did you mean family.x.match.0.target.contains?"},
		{"wrong type", head + "event_gap = 5\n[[family.match]]\nstatus = [400]\n", 4, "event_gap"},
		{"bad kind", head + "kind = \"virus\"\n[[family.match]]\nstatus = [400]\n", 4, "worm, rule"},
		{"bad regexp", head + "[[family.match]]\ntarget = { regexp = \"(\" }\n", 5, "regexp \"(\""},
		{"empty literal", head + "[[family.match]]\ntarget = { contains = [\"\"] }\n", 5, "empty literal"},
		{"rule without condition", head + "[[family.match]]\n", 4, "no condition"},
		{"family without rule", head, 1, "no [[family.match]] rule"},
		{"bad name", "[[family]]\nname = \"Code Red\"\ndescription = \"d\"\n[[family.match]]\nstatus = [400]\n", 2, "family.0.name: \"Code Red\": want lowercase letters"},
		{"name with a dot", "[[family]]\nname = \"a.b\"\ndescription = \"d\"\n[[family.match]]\nmethod = { equals = [\"GET\"] }\n", 2, "name: \"a.b\": want lowercase letters"},
		{"name too long", "[[family]]\nname = \"" + strings.Repeat("a", 65) + "\"\ndescription = \"d\"\n[[family.match]]\nmethod = { equals = [\"GET\"] }\n", 2, "name of 65 characters is too long"},
		{"disabled with a bad name", "[[family]]\nname = \"../x\"\ndisabled = true\n", 2, "name: \"../x\""},
		{"no description", "[[family]]\nname = \"x\"\n[[family.match]]\nstatus = [400]\n", 1, "family.x.description: is empty"},
		{"bad stix pattern", head + "stix_pattern = \"[url:value = 'x'\"\n[[family.match]]\nmethod = { equals = [\"GET\"] }\n", 4, "family.x.stix_pattern: STIX pattern \"[url:value = 'x'\": at offset 16 (end of pattern): expected \"]\""},
		{"stix pattern not STIX", head + "[[family.match]]\nmethod = { equals = [\"GET\"] }\n" + "[[family]]\nname = \"y\"\ndescription = \"d\"\nstix_pattern = \"cmd.exe\"\n[[family.match]]\nstatus = [400]\n", 9, "family.y.stix_pattern: STIX pattern \"cmd.exe\""},
		{"status out of range", head + "[[family.match]]\nstatus = [1000]\n", 5, "status"},
		{"max below min", head + "[[family.match]]\ntarget = { min_length = 10, max_length = 5 }\n", 5, "max_length 5 is below min_length 10"},
		{"twice", head + "[[family.match]]\nmethod = { equals = [\"GET\"] }\n" + head + "[[family.match]]\nmethod = { equals = [\"PUT\"] }\n", 7, "family.1.name: family \"x\" is declared twice (first at line 1)"},
		{"no family", "# nothing\n", 0, "no [[family]] table"},
		{"no pattern derivable", head + "[[family.match]]\nstatus = [400]\n", 1, "family.x.stix_pattern: none can be derived from the match rules"},
		{"too big", strings.Repeat("#", MaxSignatureBytes+1), 0, "a signatures file holds at most 33554432"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseSignatures("mine.toml", []byte(tc.doc))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "mine.toml: ") || !strings.Contains(msg, tc.msg) || strings.Contains(msg, "\n") {
				t.Errorf("error %q, want one line starting with mine.toml and holding %q", msg, tc.msg)
			}
			var fe *param.FieldError
			if tc.line > 0 && (!errors.As(err, &fe) || fe.Line != tc.line) {
				t.Errorf("error %q: want line %d", msg, tc.line)
			}
		})
	}
	if _, err := LoadSignatures(filepath.Join(t.TempDir(), "none.toml")); err == nil || !strings.Contains(err.Error(), "none.toml: no such file") {
		t.Errorf("a missing file: %v", err)
	}
	if _, err := NewMatcher([]Family{{Name: "a", Disabled: true}}); err == nil {
		t.Error("every family disabled: no error")
	}
}

// TestPattern checks derived STIX patterns.
func TestPattern(t *testing.T) {
	t.Parallel()
	fams := Builtin()
	byName := map[string]Family{}
	for _, f := range fams {
		byName[f.Name] = f
	}
	tests := []struct {
		name string
		f    Family
		want string
	}{
		{"contains, nocase", byName["cmd-exe"],
			`[url:value MATCHES '(?i)cmd\\.exe'] OR [network-traffic:extensions.'http-request-ext'.request_value MATCHES '(?i)cmd\\.exe']`},
		{"method only", byName["webdav-search"], `[network-traffic:extensions.'http-request-ext'.request_method IN ('search')]`},
		{"given", byName["slapper"], byName["slapper"].STIXPattern},
		{"equals on a path with a quote, and a method", Family{Match: []Rule{{Method: Cond{Equals: []string{"GET"}}, Path: Cond{Equals: []string{"/it's"}}}}},
			`[url:value MATCHES '^[^:/?#]+://[^/?#]*/it\'s(?:\\?|#|$)'] OR [network-traffic:extensions.'http-request-ext'.request_value MATCHES '^/it\'s(?:\\?|#|$)' AND network-traffic:extensions.'http-request-ext'.request_method IN ('get')]`},
		{"nothing to say", Family{Match: []Rule{{Status: []int{400}}}}, ""},
	}
	for _, tc := range tests {
		if got := tc.f.Pattern(); got != tc.want {
			t.Errorf("%s:\n got  %s\n want %s", tc.name, got, tc.want)
		}
	}
}

// TestDocSignatureKeys checks that docs/detect.md holds the reference of
// the signature file's keys as param generates it from the declarations,
// so that the two cannot drift apart.
func TestDocSignatureKeys(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := param.Doc(&b, &signatureFile{}); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../docs/detect.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, bytes.TrimSpace(b.Bytes())) {
		t.Errorf("docs/detect.md does not hold the generated key reference; paste this in:\n%s", b.String())
	}
}

// manyFamilies returns a signatures file of n families, each with a
// reference, a rule on the status and a path suffix, and (one in ten) a
// STIX pattern of its own.
func manyFamilies(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "[[family]]\nname = \"fam%d\"\ndescription = \"family %d\"\nreferences = [{ source = \"cve\", id = \"CVE-2001-%d\" }]\n", i, i, i)
		if i%10 == 0 {
			fmt.Fprintf(&b, "stix_pattern = \"[url:value = 'http://x/%d.pl']\"\n", i)
		}
		fmt.Fprintf(&b, "[[family.match]]\nstatus = [404]\npath = { suffix = [\"/x%d.pl\"], nocase = true }\n\n", i)
	}
	return b.Bytes()
}

// TestManySignatures loads 20,000 families (issue 7, item 8: over 150 s
// before) the way detect does: parse and check the file, merge it with the
// built-in table, compile the matcher once and give it to the analyzer.
// It is timed by BenchmarkManySignatures, not here. What it asserts of the
// cost is a count of work, not a time: the heap allocations (objects and
// bytes) of loading 20,000 families against 5,000, which grow 4-fold for
// a loader linear in the number of families (n log n: 4.7-fold) and
// 16-fold for one that allocates per pair of families. A loop quadratic in
// comparisons alone (as Merge's linear search was: 1.3 s of 20,000
// families) allocates nothing and shows in the benchmark only. It does not
// run in parallel: the allocation counts are the process's.
func TestManySignatures(t *testing.T) {
	loadAllocs := func(n int) (objects, size uint64, a *Analyzer, m *Matcher, extra []Family) {
		doc := manyFamilies(n)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		extra, err := ParseSignatures("many.toml", doc)
		if err != nil {
			t.Fatal(err)
		}
		if m, err = NewMatcher(Merge(Builtin(), extra)); err != nil {
			t.Fatal(err)
		}
		if a, err = NewAnalyzer(Options{Matcher: m}); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.Mallocs - before.Mallocs, after.TotalAlloc - before.TotalAlloc, a, m, extra
	}
	objects5k, bytes5k, _, _, _ := loadAllocs(5_000)
	objects, bytes20k, a, m, extra := loadAllocs(20_000)
	t.Logf("allocations: 5,000 families %d objects, %d bytes; 20,000 families %d objects, %d bytes", objects5k, bytes5k, objects, bytes20k)
	for _, g := range []struct {
		what       string
		small, big uint64
	}{{"objects", objects5k, objects}, {"bytes", bytes5k, bytes20k}} {
		if r := float64(g.big) / float64(g.small); r > 6 {
			t.Errorf("loading 20,000 families allocates %.1f times the %s of 5,000 (%d against %d): more than linear (4; quadratic: 16)", r, g.what, g.big, g.small)
		}
	}
	if a.m != m || len(m.Families()) != 20_000+len(wantFamilies) || m.Families()[len(wantFamilies)+19_999].Name != "fam19999" {
		t.Errorf("the analyzer has %d families, its own matcher %v", len(a.m.Families()), a.m != m)
	}
	// The families were checked once, when the file was read: a matcher
	// built from them does not check them again (a family broken after
	// loading goes through, which shows it), but a table built by hand is.
	broken := slices.Clone(extra)
	broken[5].Name = "Not A Name"
	if _, err := NewMatcher(broken); err != nil {
		t.Errorf("checked families were checked again: %v", err)
	}
	broken = append(broken, Family{Name: "Hand Made", Kind: "worm", Description: "d", Match: []Rule{{Method: Cond{Equals: []string{"GET"}}}}})
	if _, err := NewMatcher(broken); err == nil || !strings.Contains(err.Error(), "family.20000: name: \"Hand Made\"") {
		t.Errorf("a table with a family not checked yet: %v", err)
	}
	// Over the cap: refused, naming the first family too many.
	if testing.Short() {
		return
	}
	var over bytes.Buffer
	for i := range MaxFamilies + 1 {
		fmt.Fprintf(&over, "[[family]]\nname = \"f%d\"\ndisabled = true\n", i)
	}
	_, err := ParseSignatures("over.toml", over.Bytes())
	var fe *param.FieldError
	if !errors.As(err, &fe) || fe.Line != 3*MaxFamilies+1 || !strings.Contains(err.Error(), "the file declares 50001 families; a signature table holds at most 50000") {
		t.Errorf("too many families: %v", err)
	}
}

// BenchmarkManySignatures times what TestManySignatures checks: loading
// 20,000 families the way detect does (parse and check the file, merge it
// with the built-in table, compile the matcher, make the analyzer).
func BenchmarkManySignatures(b *testing.B) {
	doc := manyFamilies(20_000)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		extra, err := ParseSignatures("many.toml", doc)
		if err != nil {
			b.Fatal(err)
		}
		m, err := NewMatcher(Merge(Builtin(), extra))
		if err != nil {
			b.Fatal(err)
		}
		a, err := NewAnalyzer(Options{Matcher: m})
		if err != nil {
			b.Fatal(err)
		}
		a.Close()
	}
}

// BenchmarkLoadSignatures measures reading, checking, merging and
// compiling a signatures file of many families.
func BenchmarkLoadSignatures(b *testing.B) {
	for _, n := range []int{1000, 20_000} {
		doc := manyFamilies(n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				extra, err := ParseSignatures("many.toml", doc)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := NewMatcher(Merge(Builtin(), extra)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
