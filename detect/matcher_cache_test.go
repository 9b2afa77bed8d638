package detect

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestMatchCache matches every line of the sample logs twice (the second
// time mostly from the cache), and lines made to share a target but not
// the rest, and checks each result against matching without the cache.
func TestMatchCache(t *testing.T) {
	m, err := NewMatcher(Builtin())
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := NewMatcher(Builtin())
	if err != nil {
		t.Fatal(err)
	}
	check := func(rec *Record) {
		t.Helper()
		got := m.Match(rec, nil)
		want := fresh.match(rec, nil)
		if !slices.Equal(got, want) {
			t.Fatalf("line %d %q: the cache says %v, matching %v", rec.Pos, rec.Target, got, want)
		}
	}
	hits := 0
	for range 2 {
		for _, name := range []string{"honeynet2004_access_log.22", "honeynet2004_access_log.10"} {
			f, err := os.Open(filepath.Join(sampleDir, name))
			if err != nil {
				t.Fatal(err)
			}
			rd, err := NewReader(name, f, ReaderOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for {
				rec, err := rd.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if _, hit := m.cache.entry(rec); hit {
					hits++
				}
				check(rec)
				// The same target with another status, user agent or method.
				alt := *rec
				alt.Status, alt.UserAgent = 400, nil
				check(&alt)
				alt.Method = []byte("SEARCH")
				check(&alt)
			}
			f.Close()
		}
	}
	if hits == 0 {
		t.Error("no line was answered from the cache")
	}
	// Path and query of their own (IIS logs them apart), equal to a split
	// target's bytes or not.
	rec := Record{Method: []byte("GET"), Target: []byte("/a.ida?x"), Path: []byte("/a.ida"), Query: []byte("x"), Status: 404}
	check(&rec)
	rec.SetRequest([]byte("GET /a.ida?x HTTP/1.0"))
	check(&rec)
	rec.Path = []byte("/scripts/root.exe")
	check(&rec)
}
