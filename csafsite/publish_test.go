package csafsite

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"wormwatch/internal/atomicfile"
)

// edit returns doc changed by fn (on its decoded JSON).
func edit(t *testing.T, doc []byte, fn func(doc, tracking map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	d := m["document"].(map[string]any)
	fn(d, d["tracking"].(map[string]any))
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// storeFiles lists the files under a site's data folder, with their
// contents.
func storeFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			files[p] = string(b)
		}
		return err
	})
	return files
}

// TestPublishRefused: each bad document is refused with ErrRefused and an
// error that says what is wrong, and neither the site nor its data folder
// changes.
func TestPublishRefused(t *testing.T) {
	folder, _ := exampleFolder(t)
	cfg := testConfig()
	cfg.Folder = folder
	s, data := newSite(t, cfg)
	good := wormAdvisory(t, "codered2-july19", time.Date(2001, 7, 20, 0, 0, 0, 0, time.UTC))
	if _, err := s.Publish(revise(t, good, time.Date(2001, 7, 21, 0, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
	example, _ := os.ReadFile(filepath.Join(folder, "bsi-2022-0001.json"))
	cases := []struct {
		name, want string
		doc        []byte
	}{
		{"not JSON", "not JSON", []byte(`{"document": `)},
		{"trailing data", "more data after the document", append(slices.Clone(good), []byte("{}")...)},
		{"repeated member", `member "category" given twice in /document/`, []byte(`{"document": {"category": "a", "category": "b"}}`)},
		{"not UTF-8", "not UTF-8", bytes.Replace(good, []byte("Code Red"), []byte("Code \xffRed"), 1)},
		{"nested too deep", "nested more than 1000 levels", []byte(strings.Repeat("[", 2000) + strings.Repeat("]", 2000))},
		{"no title", "missing property 'title'", edit(t, good, func(d, _ map[string]any) { delete(d, "title") })},
		{"CSAF 2.1", "csaf_version", edit(t, good, func(d, _ map[string]any) { d["csaf_version"] = "2.1" })},
		{"TLP:AMBER", `TLP "AMBER": this site serves TLP:WHITE only`, edit(t, good, func(d, _ map[string]any) {
			d["distribution"].(map[string]any)["tlp"].(map[string]any)["label"] = "AMBER"
		})},
		{"unlabeled", `TLP "": this site serves TLP:WHITE only`, edit(t, good, func(d, _ map[string]any) { delete(d, "distribution") })},
		{"draft", "status is draft", edit(t, good, func(_, tr map[string]any) { tr["status"] = "draft" })},
		{"dates reversed", "is before initial_release_date", edit(t, good, func(_, tr map[string]any) { tr["current_release_date"] = "2001-01-01T00:00:00Z" })},
		{"older revision", "a new revision needs a later one", good},
		{"same name, other id", "has the file name", edit(t, good, func(_, tr map[string]any) { tr["id"] = strings.ToLower(tr["id"].(string)) })},
		{"the operator's", "comes from the operator's folder", edit(t, example, func(_, tr map[string]any) { tr["current_release_date"] = "2030-01-01T00:00:00Z" })},
	}
	small := testConfig()
	small.MaxBytes = 1024
	before, files := s.snap.Load(), storeFiles(t, data)
	for _, c := range cases {
		_, err := s.Publish(c.doc)
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want ErrRefused with %q", c.name, err, c.want)
		}
	}
	if _, err := parse(good, small.MaxBytes); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "more than max_bytes (1024)") {
		t.Errorf("too large: %v", err)
	}
	if s.snap.Load() != before {
		t.Error("a refused document changed the site")
	}
	if after := storeFiles(t, data); !mapsEqual(files, after) {
		t.Error("a refused document changed the data folder")
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || v != w {
			return false
		}
	}
	return true
}

// TestRevisions: publishing the same bytes again changes nothing; a later
// revision replaces the advisory, in a new year folder when its initial
// release date moved, and the old file goes; the data folder then holds
// exactly the advisories served.
func TestRevisions(t *testing.T) {
	s, data := newSite(t, testConfig())
	v1 := wormAdvisory(t, "codered2-july19", time.Date(2001, 12, 31, 23, 0, 0, 0, time.UTC))
	u1, err := s.Publish(v1)
	if err != nil {
		t.Fatal(err)
	}
	snap := s.snap.Load()
	if u, err := s.Publish(v1); err != nil || u != u1 || s.snap.Load() != snap {
		t.Fatalf("publishing again: %s %v, site changed %v", u, err, s.snap.Load() != snap)
	}
	v2 := edit(t, revise(t, v1, time.Date(2002, 1, 2, 0, 0, 0, 0, time.UTC)), func(_, tr map[string]any) {
		tr["initial_release_date"] = "2002-01-01T00:00:00Z"
	})
	u2, err := s.Publish(v2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(u1, "/white/2001/") || !strings.Contains(u2, "/white/2002/") || s.Len() != 1 {
		t.Fatalf("URLs %s then %s, %d advisories", u1, u2, s.Len())
	}
	files := storeFiles(t, filepath.Join(data, Folder, "advisories"))
	if len(files) != 1 || files[filepath.Join(data, Folder, "advisories", "white", "2002", filepath.Base(u2))] != string(v2) {
		t.Errorf("data folder holds %d files, want the revision only", len(files))
	}
	if res, _ := get(t, s.Handler(), testHost, local(t, u1)); res.StatusCode != 404 {
		t.Errorf("the old URL answers %s", res.Status)
	}
}

// TestRestart: a site opened again on the same data folder serves the same
// advisories with the same key; a revision left beside its older version
// (a stop between writing it and removing the old file) wins, and the
// older file is removed.
func TestRestart(t *testing.T) {
	cfg := testConfig()
	s, data := newSite(t, cfg)
	v1 := wormAdvisory(t, "a", time.Date(2001, 7, 20, 0, 0, 0, 0, time.UTC))
	if _, err := s.Publish(v1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Publish(wormAdvisory(t, "b", time.Date(2026, 7, 20, 0, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
	// A revision in next year's folder, the older file still there.
	v2 := edit(t, revise(t, v1, time.Date(2002, 1, 2, 0, 0, 0, 0, time.UTC)), func(_, tr map[string]any) {
		tr["initial_release_date"] = "2002-01-01T00:00:00Z"
	})
	a, err := parse(v2, cfg.MaxBytes)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(data, Folder, "advisories", "white", "2002", a.name)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, v2, 0o644); err != nil {
		t.Fatal(err)
	}
	partial := filepath.Join(filepath.Dir(p), "."+a.name+atomicfile.PartialInfix+"0123456789abcdef")
	if err := os.WriteFile(partial, v2[:100], 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := New(cfg, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(partial); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a temporary file left by a kill is still there: %v", err)
	}
	if r.Fingerprint() != s.Fingerprint() || r.Len() != 2 {
		t.Fatalf("reopened: key %s (was %s), %d advisories", r.Fingerprint(), s.Fingerprint(), r.Len())
	}
	if body := getOK(t, r.Handler(), tlpDir+a.path(), typeJSON); !bytes.Equal(body, v2) {
		t.Error("the revision is not served")
	}
	if _, err := os.Stat(filepath.Join(data, Folder, "advisories", "white", "2001", a.name)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the older revision's file is still there: %v", err)
	}
}

// TestOpenErrors: New names the file of a bad advisory in the operator's
// folder, and a tracking id found twice.
func TestOpenErrors(t *testing.T) {
	folder, _ := exampleFolder(t)
	cfg := testConfig()
	cfg.Folder = folder
	bad := filepath.Join(folder, "sub", "draft.json")
	os.MkdirAll(filepath.Dir(bad), 0o755)
	os.WriteFile(bad, edit(t, wormAdvisory(t, "x", time.Now()), func(_, tr map[string]any) { tr["status"] = "draft" }), 0o644)
	if _, err := New(cfg, t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "draft") {
		t.Errorf("draft in the folder: %v", err)
	}
	os.Remove(bad)
	b, _ := os.ReadFile(filepath.Join(folder, "bsi-2022-0001.json"))
	os.WriteFile(filepath.Join(folder, "sub", "copy.json"), b, 0o644)
	if _, err := New(cfg, t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "copy.json") || !strings.Contains(err.Error(), "keep one") {
		t.Errorf("an advisory twice: %v", err)
	}
}

// TestConcurrent publishes from several goroutines while others read the
// feed and index.txt: every publication lands, and a reader always sees
// index.txt and the feed of one moment (as many lines as entries). Run it
// with -race.
func TestConcurrent(t *testing.T) {
	s, _ := newSite(t, testConfig())
	const writers, each = 4, 10
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				sn := s.snap.Load()
				lines := bytes.Count(sn.files[tlpDir+"index.txt"].body, []byte("\n"))
				if entries := bytes.Count(sn.files[feedPath].body, []byte(`"rel": "self"`)) - 1; lines != len(sn.entries) || entries != lines {
					t.Errorf("a snapshot with %d index lines, %d feed entries and %d advisories", lines, entries, len(sn.entries))
					return
				}
			}
		}()
	}
	var pub sync.WaitGroup
	for w := range writers {
		pub.Add(1)
		go func() {
			defer pub.Done()
			for i := range each {
				if _, err := s.Publish(wormAdvisory(t, fmt.Sprintf("w%d-%d", w, i), time.Date(2001, 7, 19, w, i, 0, 0, time.UTC))); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	pub.Wait()
	close(stop)
	wg.Wait()
	if s.Len() != writers*each {
		t.Errorf("%d advisories, want %d", s.Len(), writers*each)
	}
}
